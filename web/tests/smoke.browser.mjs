// Browser smoke test of the embedded web UI against a running Pulseboard.
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 node tests/smoke.browser.mjs
//
// The server must run with the simulator's settings (`pulseboard simulator` prints
// them). It signs up, connects Stripe through the simulated OAuth flow (after the API-key
// form refused a wrong key), waits for the first sync, creates the
// "SaaS Revenue" dashboard from its template, checks that charts draw real data,
// opens a share link in a fresh browser context, and saves screenshots to
// docs/screenshots/ (SCREENSHOT_DIR overrides). Uses Debian's Chromium
// (CHROMIUM_PATH overrides /usr/bin/chromium); it never downloads a browser.
import {
  BASE,
  SYNC_TIMEOUT,
  assert,
  launchBrowser,
  run,
  shot,
  step,
  unexpectedErrors,
  viewport,
  watchConsole,
  widgetsSettled,
} from './lib.mjs';

const browser = await launchBrowser();
const consoleErrors = [];

const stamp = Date.now().toString(36);
const email = `smoke-${stamp}@example.com`;
const org = `Smoke ${stamp}`;
let shareUrl = '';

await run(browser, async (state) => {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  state.page = page;
  watchConsole(page, consoleErrors);

  await step('the server serves the app, and unknown API paths stay JSON 404s', async () => {
    const api = await page.request.get(`${BASE}/api/does-not-exist`);
    assert(api.status() === 404, `GET /api/does-not-exist answered ${api.status()}`);
    const body = await api.json();
    assert(body?.error?.code === 'not_found', `unexpected 404 body ${JSON.stringify(body)}`);
    const deep = await page.request.get(`${BASE}/settings/integrations?connected=stripe`);
    assert(deep.status() === 200 && (deep.headers()['content-type'] ?? '').includes('text/html'), 'deep link did not get index.html');
    assert(deep.headers()['cache-control'] === 'no-cache', 'index.html must be no-cache');
    // Scripts go out gzipped (the JS budget counts gzipped bytes) and cached for good.
    const script = (await deep.text()).match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    assert(script, 'index.html names no script');
    const js = await page.request.get(`${BASE}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    assert(js.headers()['content-encoding'] === 'gzip', `script served with content-encoding ${js.headers()['content-encoding']}`);
    assert(js.headers()['cache-control']?.includes('immutable'), 'hashed assets must be immutable');
  });

  await step('login page renders; signing up lands on the dashboards', async () => {
    await page.goto(`${BASE}/`);
    await page.waitForURL(/\/login/);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await shot(page, '01-login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill('Smoke Tester');
    await page.getByLabel('Work email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByLabel('Organization').fill(org);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Dashboards' }).waitFor({ timeout: 15_000 });
    await page.getByText('Start from a template').waitFor();
    await shot(page, '02-dashboards-empty');
  });

  await step('a wrong Stripe key is refused with the form’s own message', async () => {
    await page.getByRole('link', { name: 'Integrations', exact: true }).click();
    const stripe = page.locator('[data-provider="stripe"]');
    await stripe.waitFor();
    await stripe.getByText('Or connect with an API key').click();
    await stripe.getByLabel('Restricted API key').fill('sk_live_nope');
    await stripe.getByRole('button', { name: 'Connect with API key' }).click();
    await stripe.getByText('That does not look right').waitFor();
  });

  await step('Stripe connects through OAuth (simulated Stripe Connect) and the first sync finishes', async () => {
    const stripe = page.locator('[data-provider="stripe"]');
    await stripe.getByRole('button', { name: 'Connect Stripe' }).click();
    // Pulseboard → the provider's consent page → the callback → back here.
    await page.waitForURL(/\/settings\/integrations/, { timeout: 20_000 });
    await page.getByText('Stripe connected').waitFor({ timeout: 20_000 });
    await page.locator('[data-testid="sync-jobs"] tr[data-status]').first().waitFor({ timeout: 20_000 });
    await shot(page, '03-integrations-syncing');
    const done = await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="sync-jobs"] tr[data-status]')];
        const s = rows.map((r) => r.getAttribute('data-status'));
        if (s.includes('failed')) return 'failed';
        return s.length > 0 && s.every((x) => x === 'success') ? 'success' : false;
      },
      null,
      { timeout: SYNC_TIMEOUT, polling: 1000 },
    );
    const outcome = await done.jsonValue();
    assert(outcome === 'success', `the sync ended ${outcome}`);
    await stripe.getByText(/last synced/).waitFor();
    await shot(page, '04-integrations-synced', { fullPage: true });
  });

  let dashboardUrl = '';
  await step('“SaaS Revenue” from its template draws charts with data', async () => {
    await page.getByRole('link', { name: 'Dashboards', exact: true }).click();
    await page.getByRole('button', { name: 'New dashboard' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('radio', { name: /SaaS Revenue/ }).check();
    await dialog.getByRole('button', { name: 'Create dashboard' }).click();
    await page.waitForURL(/\/dashboards\/[0-9a-f-]{36}/);
    dashboardUrl = page.url();
    await page.getByRole('heading', { name: 'SaaS Revenue' }).waitFor();
    await widgetsSettled(page);
    const states = await page.locator('[data-widget-state]').evaluateAll((els) => els.map((e) => e.getAttribute('data-widget-state')));
    assert(states.length >= 8, `expected the template's widgets, saw ${states.length}`);
    assert(states.every((s) => s === 'ok'), `widget states: ${states.join(', ')}`);
    // Charts: an area/bar path inside an element with role="img" and a summary.
    for (const type of ['line_chart', 'bar_chart', 'kpi_card']) {
      const n = await page.locator(`[data-widget-type="${type}"] [role="img"] svg path`).count();
      assert(n > 0, `no svg path inside role="img" for ${type}`);
    }
    const area = await page.locator('[data-widget-type="line_chart"] [role="img"] path.recharts-area-area').first().getAttribute('d');
    assert(area && area.length > 40, 'the area chart path is empty');
    const label = await page.locator('[data-widget-type="line_chart"] [role="img"]').first().getAttribute('aria-label');
    assert(label && /from \$[\d,.]+ to \$[\d,.]+/.test(label), `aria-label does not summarise the data: ${label}`);
    const mrr = await page.locator('[data-widget-type="kpi_card"]').first().innerText();
    assert(/\$[\d,]+\.\d\d/.test(mrr), `MRR card shows no amount: ${mrr}`);
    await page.getByText(/Last synced .* ago|Last synced just now/).waitFor();
    await page.mouse.move(0, 0); // no tooltip or hover controls in the picture
    await shot(page, '05-dashboard-saas-revenue', { fullPage: true });
  });

  await step('tooltip shows the exact date and the formatted value', async () => {
    const chart = page.locator('[data-widget-type="line_chart"] [role="img"]').first();
    const box = await chart.boundingBox();
    assert(box, 'no chart box');
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
    const tip = page.locator('.recharts-tooltip-wrapper').first();
    await tip.getByText(/20\d\d/).first().waitFor({ timeout: 5_000 });
    const text = await tip.innerText();
    assert(/\$[\d,]+\.\d\d/.test(text), `tooltip has no formatted value: ${text}`);
    await shot(page, '06-dashboard-tooltip', { clip: { x: Math.max(0, box.x - 40), y: Math.max(0, box.y - 80), width: Math.min(box.width + 80, viewport.width), height: box.height + 120 } });
    await page.mouse.move(5, 5);
  });

  await step('the records behind “Net revenue” add up to the number on its card', async () => {
    const card = page.locator('[data-widget-type="kpi_card"]', { has: page.getByText('Net revenue', { exact: true }) });
    const shown = (await card.innerText()).match(/-?\$[\d,]+\.\d\d/)?.[0];
    assert(shown, `no amount on the card: ${await card.innerText()}`);
    await card.hover();
    await card.getByRole('button', { name: 'Actions for Net revenue' }).click();
    await page.getByRole('menuitem', { name: 'Show the records behind this number' }).click();
    const dialog = page.getByRole('dialog', { name: /Records behind/ });
    await dialog.getByTestId('explain-total').waitFor();
    const total = await dialog.getByTestId('explain-total').innerText();
    assert(total === shown, `the records add up to ${total}, the card shows ${shown}`);
    assert((await dialog.locator('tbody tr').count()) > 5, 'few records listed');
    const link = await dialog.locator('tbody a').first().getAttribute('href');
    assert(link && link.startsWith('https://dashboard.stripe.com/'), `record link: ${link}`);
    const download = page.waitForEvent('download');
    await dialog.getByRole('button', { name: 'Download CSV' }).click();
    assert((await download).suggestedFilename() === 'stripe-net-revenue-records.csv', 'CSV file name');
    await shot(page, 'explain-this-number');
    await page.keyboard.press('Escape');
  });

  await step('a point of the “New customers” chart opens the records behind that day', async () => {
    const chart = page.locator('[data-widget-type="line_chart"]', { has: page.getByText('New customers', { exact: true }) }).locator('[role="img"]');
    await chart.scrollIntoViewIfNeeded();
    const box = await chart.boundingBox();
    assert(box, 'no chart box');
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5);
    const tip = page.locator('.recharts-tooltip-wrapper').filter({ hasText: 'Click for the records behind this point' });
    await tip.waitFor({ timeout: 5_000 });
    const tipText = await tip.innerText();
    await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.5);
    const dialog = page.getByRole('dialog', { name: /Records behind “New customers”, / });
    await dialog.getByTestId('explain-total').waitFor();
    const total = await dialog.getByTestId('explain-total').innerText();
    assert(tipText.includes(total), `the point's records add up to ${total}; the tooltip said ${tipText}`);
    await shot(page, 'explain-chart-point');
    await page.keyboard.press('Escape');
    await page.mouse.move(5, 5);
  });

  await step('the ⓘ on “Net revenue” says how it is computed, from the keyboard', async () => {
    const card = page.locator('[data-widget-type="kpi_card"]', { has: page.getByText('Net revenue', { exact: true }) });
    const info = card.getByRole('button', { name: 'About this metric' });
    await info.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Net revenue' });
    await dialog.getByTestId('metric-definition').waitFor();
    const text = await dialog.innerText();
    for (const heading of ['How it’s computed', 'Read from', 'Counted on', 'Left out']) {
      assert(text.includes(heading.toUpperCase()) || text.includes(heading), `no “${heading}” in: ${text}`);
    }
    assert(/refund/.test(text) && /created/.test(text), `the definition names refunds and the booking instant: ${text}`);
    await shot(page, 'metric-info');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert(await info.evaluate((el) => el === document.activeElement), 'focus went back to the info button');
  });

  await step('time range and comparison change the numbers without a layout jump', async () => {
    const before = await page.locator('[data-widget-type]').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().height)));
    await page.getByLabel('Time range').selectOption('last_90_days');
    await page.waitForURL(/range=last_90_days/);
    await widgetsSettled(page);
    await page.waitForFunction(() => !document.querySelector('[data-widget-type].opacity-60'));
    const after = await page.locator('[data-widget-type]').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().height)));
    assert(JSON.stringify(before) === JSON.stringify(after), `widget heights moved: ${before} → ${after}`);
    await page.getByLabel('Comparison').selectOption('none');
    await widgetsSettled(page);
    await page.getByLabel('Comparison').selectOption('previous_period');
    await page.getByLabel('Time range').selectOption('');
    await widgetsSettled(page);
  });

  await step('Refresh starts a sync and comes back', async () => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => /\/integrations\/[0-9a-f-]+\/sync$/.test(r.url()) && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Refresh' }).click(),
    ]);
    assert([200, 202].includes(response.status()), `POST …/sync answered ${response.status()}`);
    await page.getByText(/Last synced (just now|1 minute ago)/).waitFor({ timeout: SYNC_TIMEOUT });
    assert((await page.getByText('Syncing…').count()) === 0, 'still syncing');
  });

  await step('a share link can be created', async () => {
    await page.getByRole('button', { name: 'Share' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const input = dialog.getByTestId('share-url');
    await input.waitFor();
    shareUrl = await input.inputValue();
    assert(/\/shared\/[A-Za-z0-9_-]+$/.test(shareUrl), `odd share url ${shareUrl}`);
    await shot(page, '07-share-dialog');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  await step('the share link opens read-only in a fresh browser context', async () => {
    const anon = await browser.newContext({ viewport });
    const p = await anon.newPage();
    // The link's host is PULSEBOARD_PUBLIC_URL; open it on the server under test.
    const url = `${BASE}${new URL(shareUrl).pathname}`;
    await p.goto(url);
    await p.getByRole('heading', { name: 'SaaS Revenue' }).waitFor({ timeout: 15_000 });
    await widgetsSettled(p);
    const n = await p.locator('[data-widget-type="line_chart"] [role="img"] svg path').count();
    assert(n > 0, 'the shared page drew no chart');
    assert((await p.getByRole('button', { name: 'Share' }).count()) === 0, 'the shared page offers Share');
    assert((await p.getByText('Read-only').count()) === 1, 'the shared page is not marked read-only');
    await shot(p, '08-shared-dashboard', { fullPage: true });
    await p.goto(`${BASE}/shared/not-a-real-token`);
    await p.getByText('This link does not work').waitFor();
    await anon.close();
  });

  await step('a dashboard for a provider not connected shows “Connect Shopify”', async () => {
    await page.getByRole('link', { name: '← Dashboards' }).click();
    await page.getByRole('button', { name: 'New dashboard' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('radio', { name: /CRO Overview/ }).check();
    await dialog.getByRole('button', { name: 'Create dashboard' }).click();
    await page.getByRole('heading', { name: 'CRO Overview' }).waitFor();
    await widgetsSettled(page);
    const connect = page.getByRole('link', { name: 'Connect Shopify' });
    assert((await connect.count()) > 0, 'no Connect Shopify button');
    // Conversion needs GA4 too: its widgets say which source to connect.
    assert((await page.getByRole('link', { name: 'Connect Google Analytics 4' }).count()) > 0, 'no Connect Google Analytics 4 button');
    // The CRO sources' widgets offer theirs too.
    assert((await page.getByRole('link', { name: 'Connect Intelligems' }).count()) > 0, 'no Connect Intelligems button');
    await shot(page, '09-dashboard-not-connected', { fullPage: true });
    await connect.first().click();
    await page.waitForURL(/\/settings\/integrations/);
    await page.locator('[data-provider="shopify"]').waitFor();
  });

  await step('Shopify connects through OAuth (simulated) and the callback flash shows', async () => {
    const shopify = page.locator('[data-provider="shopify"]');
    await shopify.getByLabel('Shop domain').fill(`smoke-${stamp}.myshopify.com`);
    await shopify.getByRole('button', { name: 'Connect Shopify' }).click();
    await page.waitForURL(/\/settings\/integrations/, { timeout: 20_000 });
    await page.getByText('Shopify connected').waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => !location.search.includes('connected='));
    // The first Shopify backfill is slow against the simulator's cost throttling: it
    // is enough here that its job was queued.
    await page.locator('[data-testid="sync-jobs"] tr', { hasText: 'Shopify' }).first().waitFor({ timeout: 20_000 });
    await page.locator('[data-provider="shopify"]').getByRole('button', { name: 'Disconnect' }).waitFor();
    await shot(page, '10-integrations-oauth-flash');
  });

  await step('GA4 connects without a property and the user picks one after consent', async () => {
    const ga4 = page.locator('[data-provider="ga4"]');
    await ga4.getByRole('button', { name: 'Connect Google Analytics 4' }).click();
    const picker = page.getByRole('dialog', { name: /Pick the Google Analytics 4 property/ });
    await picker.waitFor({ timeout: 20_000 });
    const first = picker.getByRole('radio').first();
    await first.waitFor();
    assert((await picker.getByRole('radio').count()) > 1, 'the picker lists one property or none');
    await first.check();
    await shot(page, '15-ga4-property-picker');
    await picker.getByRole('button', { name: 'Use this property' }).click();
    await page.getByText('Google Analytics 4 connected').waitFor({ timeout: 20_000 });
    await page.locator('[data-testid="sync-jobs"] tr', { hasText: 'Google Analytics 4' }).first().waitFor({ timeout: 20_000 });
  });

  await step('a provider callback error is shown with its message', async () => {
    await page.goto(`${BASE}/settings/integrations?error=access_denied&message=The%20store%20owner%20declined%20access`);
    await page.getByRole('alert').getByText('The store owner declined access').waitFor();
    await page.waitForFunction(() => !location.search.includes('error='));
  });

  await step('a pie chart widget can be added to “SaaS Revenue” and removed again', async () => {
    await page.goto(dashboardUrl);
    await widgetsSettled(page);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Add widget' }).click();
    const add = page.getByRole('dialog');
    await add.getByLabel('Type').selectOption('pie_chart');
    await add.getByLabel('Metric').selectOption('stripe.mrr');
    await add.getByLabel('Breakdown').selectOption('interval');
    await add.getByLabel('Title').fill('MRR by billing interval');
    await add.getByLabel('Section').selectOption({ label: 'Trends' });
    await shot(page, '11-add-widget');
    // The dialog previews the widget as it will look: a pie of the breakdown.
    await add.locator('[data-widget-type="pie_chart"] [role="img"] svg path').first().waitFor();
    await add.getByRole('button', { name: 'Add widget' }).click();
    await add.waitFor({ state: 'detached' });
    const card = page.locator('[data-widget-type="pie_chart"]', { hasText: 'MRR by billing interval' });
    await card.waitFor();
    await widgetsSettled(page);
    assert((await card.getAttribute('data-widget-state')) === 'ok', 'the new widget has no data');
    assert((await card.locator('[role="img"] svg path').count()) > 0, 'the pie chart drew nothing');
    const label = await card.locator('[role="img"]').getAttribute('aria-label');
    assert(label && /month/i.test(label) && /%/.test(label), `pie aria-label: ${label}`);
    await shot(page, '12-pie-widget', { fullPage: true });
    await card.hover();
    await card.getByRole('button', { name: /Remove widget/ }).click();
    await card.waitFor({ state: 'detached' });
  });

  await step('the dashboard list and a phone-sized dashboard read well', async () => {
    await page.goto(`${BASE}/`);
    await page.getByRole('link', { name: /SaaS Revenue/ }).waitFor();
    await shot(page, '13-dashboards-list');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(dashboardUrl);
    await widgetsSettled(page);
    await shot(page, '14-dashboard-mobile', { fullPage: true });
    await page.setViewportSize(viewport);
  });

  await step('the page logged no errors', async () => {
    const real = unexpectedErrors(consoleErrors);
    assert(real.length === 0, real.join('\n'));
  });
});
