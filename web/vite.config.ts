/// <reference types="vitest/config" />
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

// Vite empties dist/ on every build; the committed dist/.gitignore keeps the folder
// in git (and out of it everything else), so put it back afterwards.
function keepDistGitignore(): Plugin {
  return {
    name: 'keep-dist-gitignore',
    apply: 'build',
    closeBundle() {
      writeFileSync(fileURLToPath(new URL('dist/.gitignore', import.meta.url)), '*\n!.gitignore\n');
    },
  };
}

// `npm run dev` serves the app on :5173 and proxies /api to the Rust server, so the
// browser sees one origin (cookies, CSRF checks) as it does in production.
const apiTarget = process.env.PULSEBOARD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss(), keepDistGitignore()],
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // The dashboard chunk is mostly Recharts (~128 KB gzipped). No manualChunks: a
    // separate Recharts chunk shares modules with the entry and gets preloaded on
    // every page, login included.
    chunkSizeWarningLimit: 500,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
