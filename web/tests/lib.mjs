// Shared pieces of the browser tests (`*.browser.mjs`): settings from the
// environment, a step runner that reports each step, screenshots, and a
// Chromium launched from Debian's package (never a downloaded browser).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const BASE = (process.env.PULSEBOARD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
export const SHOTS = resolve(process.env.SCREENSHOT_DIR ?? join(here, '..', '..', 'docs', 'screenshots'));
export const STRIPE_KEY = process.env.SMOKE_STRIPE_KEY ?? 'rk_test_sim_readonly_key';
export const SYNC_TIMEOUT = Number(process.env.SMOKE_SYNC_TIMEOUT_MS ?? 180_000);
export const viewport = { width: 1440, height: 900 };
mkdirSync(SHOTS, { recursive: true });

const results = { passed: 0, failed: 0 };

/** Runs one named step; a failure is reported and rethrown so the run stops. */
export async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.failed += 1;
    console.log(`FAIL ${name}: ${error instanceof Error ? error.message : error}`);
    throw error;
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export async function shot(page, name, options = {}) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), ...options });
}

/** Every widget has left the loading state and charts have finished drawing. */
export async function widgetsSettled(page) {
  await page.waitForSelector('[data-widget-type]', { timeout: 30_000 });
  // Loading data, or waiting for the lazily loaded chart code (a skeleton, aria-busy).
  await page.waitForFunction(
    () => document.querySelectorAll('[data-widget-state="loading"], [data-widget-type] [aria-busy="true"]').length === 0,
    null,
    { timeout: 60_000 },
  );
  await page.waitForTimeout(300); // ResponsiveContainer measures, then draws
}

// Playwright gives each launch a new empty profile (its own --user-data-dir).
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collects console errors and uncaught exceptions of a page. */
export function watchConsole(page, into) {
  page.on('console', (m) => {
    if (m.type() === 'error') into.push(m.text());
  });
  page.on('pageerror', (e) => into.push(String(e)));
}

/** 401s from /api/me before signing in are expected; anything else is a bug. */
export function unexpectedErrors(consoleErrors) {
  return consoleErrors.filter((e) => !/401|Unauthorized/i.test(e));
}

/** A fresh account through the API (no UI), for tests that start signed in. */
export async function signUpByApi(context, { name, email, org, password = 'correct horse battery staple' }) {
  const r = await context.request.post(`${BASE}/api/auth/signup`, {
    data: { name, email, password, org_name: org },
    headers: { origin: BASE },
  });
  assert(r.ok(), `signup answered ${r.status()}: ${await r.text()}`);
  return r.json();
}

/** JSON API call with the context's cookies; throws with the server's answer on failure. */
export async function call(context, method, path, data) {
  const r = await context.request.fetch(`${BASE}${path}`, { method, data, headers: { origin: BASE } });
  if (!r.ok()) throw new Error(`${method} ${path} answered ${r.status()}: ${await r.text()}`);
  return r.status() === 204 ? null : r.json();
}

/** Where the server under test writes mail when no transport is configured. */
export const MAIL_DIR =
  process.env.PULSEBOARD_MAIL_DIR ?? (process.env.PULSEBOARD_DATA_DIR ? join(process.env.PULSEBOARD_DATA_DIR, 'mail') : '');

/** Decodes a quoted-printable body (soft line breaks, =XX bytes). */
export function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The invitation token in the mail the server wrote for `email` (waits up to 30 s). */
export async function inviteTokenFromMail(email) {
  assert(MAIL_DIR, 'set PULSEBOARD_DATA_DIR (the server’s data dir) or PULSEBOARD_MAIL_DIR so the test can read the invite email');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const files = existsSync(MAIL_DIR) ? readdirSync(MAIL_DIR).filter((n) => n.endsWith('.eml')) : [];
    for (const f of files) {
      const raw = readFileSync(join(MAIL_DIR, f), 'utf8');
      if (!raw.includes(`To: ${email}`)) continue;
      const m = /\/invite\/(pbi_[A-Za-z0-9_-]+)/.exec(decodeQuotedPrintable(raw));
      if (m) return m[1];
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no invite email for ${email} in ${MAIL_DIR}`);
}

/** Runs the body, screenshots a failure, closes the browser and exits with the outcome. */
export async function run(browser, body) {
  let exitCode = 0;
  const state = { page: undefined };
  try {
    await body(state);
  } catch (error) {
    exitCode = 1;
    if (state.page) await shot(state.page, `failure-${process.argv[1].split('/').pop()}`, { fullPage: true }).catch(() => {});
    console.log(String(error instanceof Error ? (error.stack ?? error.message) : error));
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${SHOTS}`);
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(exitCode || (results.failed > 0 ? 1 : 0));
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Runs axe on the page as it is; adds serious and critical violations to `found` under `name`. */
export async function axeAudit(page, name, found) {
  await page.waitForTimeout(250); // let colour transitions finish (axe reads computed colours)
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1, 2).join(' ').trim()}`) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of violations) {
    console.log(`     ${v.impact === 'serious' || v.impact === 'critical' ? '!!' : '  '} ${name}: ${v.id} (${v.impact}) ${v.help}`);
    for (const n of v.nodes.slice(0, 4)) console.log(`          ${n}`);
  }
  found.push(...bad.map((v) => ({ page: name, ...v })));
  return bad.length;
}
