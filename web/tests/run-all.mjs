// Runs every browser test (`tests/*.browser.mjs`) one after another against the
// same server, smoke test first, and fails if any of them fails.
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 node tests/run-all.mjs [name-filter]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here)
  .filter((f) => f.endsWith('.browser.mjs') && f.includes(filter))
  .sort((a, b) => (a.startsWith('smoke') ? -1 : b.startsWith('smoke') ? 1 : a.localeCompare(b)));

const failed = [];
for (const file of files) {
  console.log(`\n== ${file}`);
  const r = spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(file);
}
console.log(failed.length ? `\nbrowser tests failed: ${failed.join(', ')}` : `\nall ${files.length} browser test files passed`);
process.exit(failed.length ? 1 : 0);
