// Browser test of the CRO Overview with data: a store connects Shopify (OAuth),
// Google Analytics 4 (OAuth, its property named up front) and Microsoft Clarity
// (an export token) through the simulator, waits for their first syncs, creates the
// CRO Overview from its template and checks that the conversion rate, the checkout
// funnel (counts, conversion and drop-off), traffic by channel and Clarity's
// engagement render with numbers rather than "Coming soon" or a connect button; then
// connects Judge.me, KnoCommerce, Intelligems and Gorgias (API keys, simulator) and
// checks the review feed, survey summary, experiment card, sentiment gauge and
// heatmap summary with their data, with nothing connected (a second store), and in
// their error state (that store deleted).
// Screenshots: docs/screenshots/cro-overview.png, cro-*.png.
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 node tests/cro.browser.mjs
import { execFileSync } from 'node:child_process';
import { BASE, SHOTS, axeAudit, SYNC_TIMEOUT, assert, call, launchBrowser, run, shot, signUpByApi, step, unexpectedErrors, viewport, watchConsole, widgetsSettled } from './lib.mjs';

// The simulator's defaults (crates/simulator: `defaults::CLARITY_API_TOKEN`,
// `GA4_PROPERTY_ID`, and the shop its GA4 traffic is generated to match).
const CLARITY_TOKEN =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJzaW0tYWNtZS1jb2ZmZWUiLCJzY29wZSI6IkRhdGEuRXhwb3J0In0.c2ltdWxhdGVkLXNpZ25hdHVyZS1hY21lLWNvZmZlZQ';
const GA4_PROPERTY = '312000001';
const SHOP = 'acme-coffee';
// The simulator's keys for the CRO sources (`defaults::…` in crates/simulator).
const CRO_SOURCES = {
  judgeme: { api_key: 'jm_sim_private_b_UmJknnxEONTwVDs', shop_domain: 'acme-coffee' },
  knocommerce: { client_id: 'kno-client-acme-coffee-4f1c', api_key: 'kno_sim_secret_9dQ2vX7mPpL3' },
  intelligems: { api_key: 'ig_sim_4f7c2a9d1e8b3c6a' },
  gorgias: { domain: 'acme-coffee', email: 'ops@acme-coffee.example', api_key: 'gorgias_sim_key_7d3f9a2c' },
};

const browser = await launchBrowser();
const consoleErrors = [];
const stamp = Date.now().toString(36);

await run(browser, async (state) => {
  // bypassCSP: axe is injected as an inline script.
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  state.page = page;
  watchConsole(page, consoleErrors);
  const me = await signUpByApi(context, { name: 'Cro Tester', email: `cro-${stamp}@example.com`, org: `CRO ${stamp}` });
  const slug = me.memberships[0].org_slug;
  const [store] = await call(context, 'GET', `/api/orgs/${slug}/stores`);
  // London days start with UTC days. Clarity reports the 24 hours before a sync on
  // the UTC day before it, and west of UTC that day is still the store's today for
  // the first hours of a UTC day: the CRO Overview's 30-day widgets (today left out)
  // would show a store connected then nothing from Clarity until local midnight.
  await call(context, 'PATCH', `/api/orgs/${slug}/stores/${store.id}`, { timezone: 'Europe/London' });

  await step('Shopify, GA4 and Clarity connect through the simulator', async () => {
    // GA4 and Clarity first: their syncs are quick, and Shopify's backfill (paced
    // by the simulated cost bucket) then holds one worker rather than all.
    await page.goto(`${BASE}/settings/integrations`);
    const ga4 = page.locator('[data-provider="ga4"]');
    await ga4.getByLabel('GA4 property ID').fill(GA4_PROPERTY);
    await ga4.getByRole('button', { name: 'Connect Google Analytics 4' }).click();
    await page.getByText('Google Analytics 4 connected').waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => !location.search.includes('connected='));

    const clarity = page.locator('[data-provider="clarity"]');
    await clarity.getByLabel('Data Export API token').fill(CLARITY_TOKEN);
    await clarity.getByRole('button', { name: 'Connect Microsoft Clarity' }).click();
    await page.getByText('Microsoft Clarity connected').waitFor({ timeout: 20_000 });
    // Before clicking Sync now, the card says how many of the project's calls are left.
    await clarity.locator('[data-call-budget]').getByText(/^\d+ of 10 export calls left today$/).waitFor({ timeout: 20_000 });

    const shopify = page.locator('[data-provider="shopify"]');
    await shopify.getByLabel('Shop domain').fill(SHOP);
    await shopify.getByRole('button', { name: 'Connect Shopify' }).click();
    await page.getByText('Shopify connected').waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => !location.search.includes('connected='));
    // Seven sources are more than the Free plan's three: the operator puts the
    // organization on Pro, as a self-hoster would (`pulseboard plan`).
    execFileSync(process.env.PULSEBOARD_BIN, ['plan', slug, 'pro'], {
      env: { ...process.env, DATABASE_URL: process.env.PULSEBOARD_TEST_DATABASE_URL },
      stdio: 'inherit',
    });
    // The CRO sources by API key, as their connect forms send them.
    for (const [provider, fields] of Object.entries(CRO_SOURCES)) {
      await call(context, 'POST', `/api/orgs/${slug}/integrations/${provider}/api-key`, { store_id: store.id, fields });
    }
  });

  await step('their first syncs finish', async () => {
    // Seven backfills, Shopify's paced by the simulated cost bucket and Gorgias' by
    // its 40 requests per 20 seconds.
    const deadline = Date.now() + Math.max(3 * SYNC_TIMEOUT, 600_000);
    for (;;) {
      const jobs = await call(context, 'GET', `/api/orgs/${slug}/sync-jobs?limit=20`);
      const failed = jobs.filter((j) => j.status === 'failed');
      assert(failed.length === 0, `a sync failed: ${JSON.stringify(failed)}`);
      const providers = new Set(jobs.filter((j) => j.status === 'success').map((j) => j.provider));
      if (['shopify', 'ga4', 'clarity', ...Object.keys(CRO_SOURCES)].every((p) => providers.has(p))) break;
      assert(Date.now() < deadline, `syncs still running: ${JSON.stringify(jobs.map((j) => [j.provider, j.status]))}`);
      await page.waitForTimeout(1000);
    }
  });

  await step('the CRO Overview shows conversion, the funnel, channels and engagement with numbers', async () => {
    await page.goto(`${BASE}/`);
    await page.getByRole('button', { name: 'New dashboard' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('radio', { name: /CRO Overview/ }).check();
    await dialog.getByRole('button', { name: 'Create dashboard' }).click();
    await page.getByRole('heading', { name: 'CRO Overview' }).waitFor();
    await widgetsSettled(page);
    const card = (title) => page.locator('[data-widget-type]', { has: page.getByText(title, { exact: true }) });
    for (const title of [
      'Conversion rate',
      'Orders',
      'Revenue per session',
      'Checkout funnel',
      'Sessions by channel',
      'Scroll depth (Clarity)',
      'Rage clicks (Clarity)',
      'Dead clicks by device (Clarity)',
    ]) {
      const c = card(title);
      assert((await c.count()) === 1, `${title}: ${await c.count()} cards`);
      const widgetState = await c.getAttribute('data-widget-state');
      assert(['ok', 'funnel'].includes(widgetState ?? ''), `${title} is ${widgetState}`);
      const text = await c.innerText();
      assert(!/Coming soon|Connect /.test(text), `${title} says: ${text}`);
      assert(/\d/.test(text), `${title} shows no number: ${text}`);
    }
    const rate = await card('Conversion rate').innerText();
    assert(/\d+(\.\d+)?\s?%/.test(rate), `the conversion rate is not a percentage: ${rate}`);

    // Four steps with counts; each later step says its conversion, the last two
    // from the first step too, and how many dropped.
    const funnel = card('Checkout funnel');
    const steps = funnel.locator('[data-funnel-step]');
    assert((await steps.count()) === 4, `the funnel has ${await steps.count()} steps`);
    for (let i = 1; i < 4; i += 1) {
      const text = await steps.nth(i).innerText();
      assert(new RegExp(`\\d+(\\.\\d)?% of step ${i}`).test(text), `step ${i + 1}: ${text}`);
      if (i > 1) assert(/% of step 1/.test(text), `step ${i + 1} has no conversion from step 1: ${text}`);
      assert(/−[\d,.]+[kKM]? dropped/.test(text), `step ${i + 1} has no drop-off: ${text}`);
    }
    const label = (await funnel.locator('[role="img"]').getAttribute('aria-label')) ?? '';
    assert(/Sessions/.test(label) && /of the step before/.test(label), `funnel label: ${label}`);

    // Traffic by channel draws bars for several channels.
    const channels = card('Sessions by channel');
    assert((await channels.locator('[role="img"] svg path, [role="img"] svg rect').count()) > 2, 'no channel bars');
    // The CRO widgets, each with its own data.
    assert((await page.getByText('Coming soon').count()) === 0, 'a placeholder is left');
    const cro = {
      'Where visitors struggle (Clarity)': 'heatmap',
      'Running experiments (Intelligems)': 'experiments',
      'How did you hear about us? (KnoCommerce)': 'ok',
      'Latest reviews (Judge.me)': 'reviews',
      'Customer sentiment (Judge.me and Gorgias)': 'sentiment',
    };
    for (const [title, state] of Object.entries(cro)) {
      const c = card(title);
      assert((await c.getAttribute('data-widget-state')) === state, `${title} is ${await c.getAttribute('data-widget-state')}`);
      const text = await c.innerText();
      assert(!/Coming soon|Connect /.test(text), `${title} says: ${text}`);
    }
    const reviews = card('Latest reviews (Judge.me)');
    assert((await reviews.getByRole('img', { name: /out of 5 stars/ }).count()) >= 3, 'the review feed shows no stars');
    const experiments = await card('Running experiments (Intelligems)').innerText();
    assert(/\(control\)/.test(experiments) && /chance that .+ converts better than the control/.test(experiments), `experiment card: ${experiments}`);
    const survey = await card('How did you hear about us? (KnoCommerce)').innerText();
    assert(/Instagram/.test(survey) && /\d+(\.\d)? %/.test(survey) && /responses/.test(survey), `survey summary: ${survey}`);
    const gauge = await card('Customer sentiment (Judge.me and Gorgias)').innerText();
    assert(/out of 100/.test(gauge) && /Review rating/.test(gauge) && /CSAT/.test(gauge), `sentiment gauge: ${gauge}`);
    const heatmap = card('Where visitors struggle (Clarity)');
    assert((await heatmap.locator('tbody tr').count()) >= 2, 'the heatmap summary lists no pages');
    // The CRO widgets with their data pass the accessibility scan.
    const violations = [];
    await axeAudit(page, 'CRO Overview with data', violations);
    assert(violations.length === 0, `serious or critical accessibility violations: ${JSON.stringify(violations, null, 1)}`);
    for (const [title, name] of [
      ['Running experiments (Intelligems)', 'cro-experiment-card'],
      ['Latest reviews (Judge.me)', 'cro-review-feed'],
      ['How did you hear about us? (KnoCommerce)', 'cro-survey-summary'],
      ['Customer sentiment (Judge.me and Gorgias)', 'cro-sentiment-gauge'],
      ['Where visitors struggle (Clarity)', 'cro-heatmap-summary'],
    ]) {
      await card(title).screenshot({ path: `${SHOTS}/${name}.png` });
    }
    // The browser tests' simulator keeps five weeks of history, so the previous
    // period is mostly empty and its deltas (+800 %) would only mislead: the
    // screenshot shows the period alone, with no card hovered.
    await page.getByLabel('Comparison').selectOption('none');
    await widgetsSettled(page);
    await page.mouse.move(0, 0);
    await page.waitForTimeout(500);
    await shot(page, 'cro-overview', { fullPage: true });
  });

  await step('with nothing connected the CRO widgets offer their sources, and a deleted store is an error', async () => {
    const bare = await call(context, 'POST', `/api/orgs/${slug}/stores`, { workspace_id: store.workspace_id, name: 'New shop', currency: 'USD', timezone: 'America/New_York' });
    const board = await call(context, 'POST', `/api/orgs/${slug}/dashboards/from-template`, { template: 'cro_overview', store_id: bare.id });
    await page.goto(`${BASE}/dashboards/${board.id}`);
    await widgetsSettled(page);
    const card = (title) => page.locator('[data-widget-type]', { has: page.getByText(title, { exact: true }) });
    for (const [title, provider] of [
      ['Latest reviews (Judge.me)', 'Judge.me'],
      ['Running experiments (Intelligems)', 'Intelligems'],
      ['How did you hear about us? (KnoCommerce)', 'KnoCommerce'],
      ['Customer sentiment (Judge.me and Gorgias)', 'Judge.me'],
      ['Where visitors struggle (Clarity)', 'Microsoft Clarity'],
    ]) {
      const c = card(title);
      assert((await c.getAttribute('data-widget-state')) === 'not_connected', `${title} is ${await c.getAttribute('data-widget-state')}`);
      await c.getByRole('link', { name: `Connect ${provider}` }).waitFor();
    }
    await page.mouse.move(0, 0);
    await shot(page, 'cro-widgets-not-connected', { fullPage: true });

    await call(context, 'DELETE', `/api/orgs/${slug}/stores/${bare.id}`);
    await page.reload();
    await widgetsSettled(page);
    for (const title of ['Latest reviews (Judge.me)', 'Running experiments (Intelligems)', 'Customer sentiment (Judge.me and Gorgias)']) {
      const c = card(title);
      assert((await c.getAttribute('data-widget-state')) === 'error', `${title} is ${await c.getAttribute('data-widget-state')}`);
      await c.getByText('This widget could not load').waitFor();
    }
    await card('Latest reviews (Judge.me)').screenshot({ path: `${SHOTS}/cro-widget-error.png` });
  });

  await step('the page logged no errors', async () => {
    const real = unexpectedErrors(consoleErrors);
    assert(real.length === 0, real.join('\n'));
  });
});
