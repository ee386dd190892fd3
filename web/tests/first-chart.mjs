// Time to first chart: from navigation start to the first chart's svg path being
// in the DOM, on a real dashboard, in Chromium.
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 node tests/first-chart.mjs EMAIL PASSWORD /dashboards/<id> [RUNS]
//
// (or FIRST_CHART_EMAIL, FIRST_CHART_PASSWORD, FIRST_CHART_PATH, FIRST_CHART_RUNS).
// Each run logs in through the API in a fresh browser context (empty HTTP cache),
// opens the dashboard and records `performance.now()` (whose origin is the start of
// the navigation) at the moment a MutationObserver sees the first
// `[data-widget-type] [role="img"] svg path` with a drawn shape; then it reloads
// once in the same context for the warm-cache figure. It also records when every
// widget is drawn (no widget loading, no skeleton left: the charts that need Recharts
// included). Prints the median and the worst of each, one line per figure. No
// thresholds: this is a measurement.
import { launchBrowser } from './lib.mjs';

const BASE = (process.env.PULSEBOARD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const [argEmail, argPassword, argPath, argRuns] = process.argv.slice(2);
const email = argEmail ?? process.env.FIRST_CHART_EMAIL;
const password = argPassword ?? process.env.FIRST_CHART_PASSWORD;
const path = argPath ?? process.env.FIRST_CHART_PATH;
const runs = Number(argRuns ?? process.env.FIRST_CHART_RUNS ?? 7);
if (!email || !password || !path) {
  console.error('usage: PULSEBOARD_URL=… node tests/first-chart.mjs EMAIL PASSWORD /dashboards/<id> [RUNS]');
  process.exit(2);
}
const url = path.startsWith('http') ? path : `${BASE}${path.startsWith('/') ? '' : '/'}${path}`;

// Runs in the page before any of its scripts.
function watchForFirstChart() {
  const SELECTOR = '[data-widget-type] [role="img"] svg path';
  const drawn = () => [...document.querySelectorAll(SELECTOR)].some((p) => (p.getAttribute('d') ?? '').length > 10);
  const allDrawn = () => {
    const widgets = [...document.querySelectorAll('[data-widget-type]')];
    return (
      widgets.length > 0 &&
      widgets.every((w) => w.getAttribute('data-widget-state') && w.getAttribute('data-widget-state') !== 'loading' && !w.querySelector('[aria-busy="true"]'))
    );
  };
  const mark = () => {
    if (window.__firstChart === undefined && drawn()) window.__firstChart = performance.now();
    if (window.__allDrawn === undefined && allDrawn()) window.__allDrawn = performance.now();
    if (window.__firstChart !== undefined && window.__allDrawn !== undefined) observer.disconnect();
  };
  const observer = new MutationObserver(mark);
  observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['d'] });
}

async function measure(page) {
  await page.waitForFunction(() => window.__firstChart !== undefined && window.__allDrawn !== undefined, null, { timeout: 60_000, polling: 50 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { chart: window.__firstChart, all: window.__allDrawn, ttfb: nav ? nav.responseStart : NaN, dcl: nav ? nav.domContentLoadedEventEnd : NaN };
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => `${Math.round(x)} ms`;

const browser = await launchBrowser();
const cold = [];
const warm = [];
const coldAll = [];
const warmAll = [];
const dcl = [];
let exitCode = 0;
try {
  for (let i = 0; i < runs; i += 1) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const login = await context.request.post(`${BASE}/api/auth/login`, { data: { email, password }, headers: { origin: BASE } });
    if (!login.ok()) throw new Error(`login answered ${login.status()}: ${await login.text()}`);
    await context.addInitScript(watchForFirstChart);
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'commit' });
    const first = await measure(page);
    cold.push(first.chart);
    coldAll.push(first.all);
    dcl.push(first.dcl);
    await page.reload({ waitUntil: 'commit' });
    const second = await measure(page);
    warm.push(second.chart);
    warmAll.push(second.all);
    console.log(
      `run ${i + 1}: cold ${ms(first.chart)}, every widget ${ms(first.all)} (DOMContentLoaded ${ms(first.dcl)}); warm ${ms(second.chart)}, every widget ${ms(second.all)}`,
    );
    await context.close();
  }
  console.log(`time to first chart, cold cache, median: ${ms(median(cold))}`);
  console.log(`time to first chart, cold cache, worst:  ${ms(Math.max(...cold))}`);
  console.log(`time to first chart, warm cache, median: ${ms(median(warm))}`);
  console.log(`time to first chart, warm cache, worst:  ${ms(Math.max(...warm))}`);
  console.log(`every widget drawn, cold cache, median: ${ms(median(coldAll))}`);
  console.log(`every widget drawn, cold cache, worst:  ${ms(Math.max(...coldAll))}`);
  console.log(`every widget drawn, warm cache, median: ${ms(median(warmAll))}`);
  console.log(`every widget drawn, warm cache, worst:  ${ms(Math.max(...warmAll))}`);
  console.log(`DOMContentLoaded, cold cache, median:     ${ms(median(dcl))}`);
  console.log(`(${runs} runs of ${url})`);
} catch (error) {
  exitCode = 1;
  console.error(String(error instanceof Error ? error.message : error));
} finally {
  await browser.close();
}
process.exit(exitCode);
