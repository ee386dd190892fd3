// Browser test of the CRO Overview with data: a store connects Shopify (OAuth),
// Google Analytics 4 (OAuth, its property named up front) and Microsoft Clarity
// (an export token) through the simulator, waits for their first syncs, creates the
// CRO Overview from its template and checks that the conversion rate, the checkout
// funnel (counts, conversion and drop-off), traffic by channel and Clarity's
// engagement render with numbers rather than "Coming soon" or a connect button.
// Screenshot: docs/screenshots/cro-overview.png.
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 node tests/cro.browser.mjs
import { BASE, SYNC_TIMEOUT, assert, call, launchBrowser, run, shot, signUpByApi, step, unexpectedErrors, viewport, watchConsole, widgetsSettled } from './lib.mjs';

// The simulator's defaults (crates/simulator: `defaults::CLARITY_API_TOKEN`,
// `GA4_PROPERTY_ID`, and the shop its GA4 traffic is generated to match).
const CLARITY_TOKEN =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJzaW0tYWNtZS1jb2ZmZWUiLCJzY29wZSI6IkRhdGEuRXhwb3J0In0.c2ltdWxhdGVkLXNpZ25hdHVyZS1hY21lLWNvZmZlZQ';
const GA4_PROPERTY = '312000001';
const SHOP = 'acme-coffee';

const browser = await launchBrowser();
const consoleErrors = [];
const stamp = Date.now().toString(36);

await run(browser, async (state) => {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  state.page = page;
  watchConsole(page, consoleErrors);
  const me = await signUpByApi(context, { name: 'Cro Tester', email: `cro-${stamp}@example.com`, org: `CRO ${stamp}` });
  const slug = me.memberships[0].org_slug;
  const [store] = await call(context, 'GET', `/api/orgs/${slug}/stores`);
  // The GA4 property reports New York days; so does the store.
  await call(context, 'PATCH', `/api/orgs/${slug}/stores/${store.id}`, { timezone: 'America/New_York' });

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
  });

  await step('their first syncs finish', async () => {
    // Three backfills, Shopify's paced by the simulated cost bucket.
    const deadline = Date.now() + Math.max(3 * SYNC_TIMEOUT, 600_000);
    for (;;) {
      const jobs = await call(context, 'GET', `/api/orgs/${slug}/sync-jobs?limit=20`);
      const failed = jobs.filter((j) => j.status === 'failed');
      assert(failed.length === 0, `a sync failed: ${JSON.stringify(failed)}`);
      const providers = new Set(jobs.filter((j) => j.status === 'success').map((j) => j.provider));
      if (['shopify', 'ga4', 'clarity'].every((p) => providers.has(p))) break;
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
    const steps = funnel.locator('li');
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
    // The providers still to come keep their placeholders.
    assert((await page.getByText('Coming soon').count()) >= 1, 'the Intelligems and other placeholders are gone');
    // The browser tests' simulator keeps five weeks of history, so the previous
    // period is mostly empty and its deltas (+800 %) would only mislead: the
    // screenshot shows the period alone, with no card hovered.
    await page.getByLabel('Comparison').selectOption('none');
    await widgetsSettled(page);
    await page.mouse.move(0, 0);
    await page.waitForTimeout(500);
    await shot(page, 'cro-overview', { fullPage: true });
  });

  await step('the page logged no errors', async () => {
    const real = unexpectedErrors(consoleErrors);
    assert(real.length === 0, real.join('\n'));
  });
});
