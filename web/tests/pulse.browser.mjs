// The live pulse end to end, against a running Pulseboard (seed 002, DESIGN §11).
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 node tests/pulse.browser.mjs
//
// Signs up through the API and connects Stripe with the simulator's key; then, in
// the browser, sets up the Stripe webhook on the Integrations page by pasting a
// whsec_ secret (a malformed one is refused at the field first), and with the Pulse
// page open POSTs signed Stripe events (charges with campaigns, a refund, a replay)
// to the endpoint URL the page showed. The total, the feed and the campaign
// breakdown must update without a reload, a replayed event must count once, the
// integration must show the delivery, and an open dashboard must refetch its data.
// The owner then shares the Pulse: an anonymous TV-sized browser shows it read-only
// and live, until the link is revoked.
// Screenshots: webhook-setup.png, pulse.png and pulse-shared-tv.png.
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  BASE,
  SHOTS,
  STRIPE_KEY,
  SYNC_TIMEOUT,
  assert,
  call,
  launchBrowser,
  run,
  shot,
  signUpByApi,
  step,
  unexpectedErrors,
  viewport,
  watchConsole,
  widgetsSettled,
} from './lib.mjs';

const browser = await launchBrowser();
const stamp = Date.now().toString(36);
const consoleErrors = [];
const secret = `whsec_${randomBytes(24).toString('base64url')}`;

/** A Stripe event as Stripe signs it: `t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))`. */
async function deliver(url, event) {
  const body = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` }, body });
  const text = await r.text();
  assert(r.ok, `the webhook answered ${r.status}: ${text}`);
  return JSON.parse(text);
}

let n = 0;
function charge(amount, campaign) {
  n += 1;
  const now = Math.floor(Date.now() / 1000);
  return {
    id: `evt_pulse_${stamp}_${n}`,
    object: 'event',
    type: 'charge.succeeded',
    created: now,
    data: {
      object: {
        id: `ch_pulse_${stamp}_${n}`,
        object: 'charge',
        amount,
        currency: 'usd',
        created: now,
        invoice: null,
        status: 'succeeded',
        paid: true,
        billing_details: { email: `buyer${n}@example.com` },
        metadata: campaign ? { utm_campaign: campaign } : {},
      },
    },
  };
}

function refund(amount) {
  n += 1;
  const now = Math.floor(Date.now() / 1000);
  return {
    id: `evt_pulse_${stamp}_${n}`,
    object: 'event',
    type: 'refund.created',
    created: now,
    data: { object: { id: `re_pulse_${stamp}_${n}`, object: 'refund', amount, currency: 'usd', created: now, charge: `ch_pulse_${stamp}_1`, status: 'succeeded' } },
  };
}

await run(browser, async (state) => {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  state.page = page;
  watchConsole(page, consoleErrors);
  let slug = '';
  let storeId = '';
  let endpointUrl = '';

  await step('setup through the API: an account with Stripe connected and synced', async () => {
    const me = await signUpByApi(context, { name: 'Pulse Tester', email: `pulse-${stamp}@example.com`, org: `Pulse ${stamp}` });
    slug = me.memberships[0].org_slug;
    const [store] = await call(context, 'GET', `/api/orgs/${slug}/stores`);
    storeId = store.id;
    await call(context, 'POST', `/api/orgs/${slug}/integrations/stripe/api-key`, { store_id: store.id, fields: { api_key: STRIPE_KEY } });
    const deadline = Date.now() + SYNC_TIMEOUT;
    for (;;) {
      const s = (await call(context, 'GET', `/api/orgs/${slug}/sync-jobs`)).map((j) => j.status);
      assert(!s.includes('failed'), 'a sync failed');
      if (s.length > 0 && s.every((x) => x === 'success')) break;
      assert(Date.now() < deadline, `sync did not finish: ${s}`);
      await new Promise((res) => setTimeout(res, 1000));
    }
  });

  await step('the Pulse page, before any sale, says how to connect webhooks', async () => {
    await page.goto(`${BASE}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pulse' }).click();
    await page.getByRole('heading', { name: 'Pulse', exact: true }).waitFor();
    await page.getByText('No sales yet today').waitFor();
    await page.getByText('Set up Stripe webhooks on the Integrations page to see sales the moment they happen').waitFor();
    await page.locator('[data-live-status="live"]').waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'Set up webhooks' }).click();
    await page.waitForURL(/\/settings\/integrations/);
  });

  await step('webhook setup: a malformed secret is refused at the field, a whsec_ secret sets it up', async () => {
    const stripe = page.locator('[data-provider="stripe"]');
    const section = stripe.getByTestId('webhook-setup');
    await section.getByRole('heading', { name: 'Live updates (webhooks)' }).waitFor();
    await section.getByText('Not set up').waitFor();
    const field = section.getByLabel('Stripe signing secret');
    await field.fill('sk_live_wrong');
    await section.getByRole('button', { name: 'Set up webhooks' }).click();
    await section.getByText('That is not a signing secret: it starts with whsec_').waitFor();
    // Right prefix, too short: the server's 422 lands at the same field.
    await field.fill('whsec_x');
    await section.getByRole('button', { name: 'Set up webhooks' }).click();
    await section.getByText(/Paste the endpoint's signing secret, which starts with whsec_/).waitFor();
    assert((await field.getAttribute('aria-invalid')) === 'true', 'the secret field is not marked invalid');
    await field.fill(secret);
    await section.getByRole('button', { name: 'Set up webhooks' }).click();
    const url = section.getByTestId('webhook-url');
    await url.waitFor();
    endpointUrl = await url.inputValue();
    assert(endpointUrl.startsWith(`${BASE}/api/webhooks/stripe/`), `unexpected endpoint URL ${endpointUrl}`);
    await section.getByText('Waiting for the first delivery').waitFor();
    await section.getByText('Nothing received yet.').waitFor();
    const events = await section.getByRole('list', { name: 'Events to send' }).innerText();
    for (const e of ['charge.succeeded', 'invoice.paid', 'refund.created']) assert(events.includes(e), `events list lacks ${e}`);
    const steps = await section.locator('ol li').allInnerTexts();
    assert(steps.length >= 3 && steps.some((s) => s.includes(endpointUrl)), `the steps do not give the URL: ${steps.join(' | ')}`);
    await section.getByRole('button', { name: 'Copy endpoint url' }).waitFor();
    // A tall window, so the sticky header does not cover the card.
    await page.setViewportSize({ width: viewport.width, height: 2000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await stripe.screenshot({ path: join(SHOTS, 'webhook-setup.png') });
    await page.setViewportSize(viewport);
  });

  await step('sales posted to the endpoint appear on the open Pulse page without a reload', async () => {
    await page.goto(`${BASE}/pulse`);
    await page.getByText('No sales yet today').waitFor();
    await page.locator('[data-live-status="live"]').waitFor({ timeout: 15_000 });
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    const total = page.getByTestId('pulse-total');
    const r = await deliver(endpointUrl, charge(4900, 'launch-hn'));
    assert(r.stored === true, 'the first delivery was not stored');
    await page.waitForFunction(() => document.querySelector('[data-testid="pulse-total"]')?.textContent === '$49.00', null, { timeout: 20_000 });
    await page.getByTestId('pulse-feed').locator('li').first().waitFor();
    for (const event of [charge(4900, 'launch-hn'), charge(12_000, 'newsletter'), charge(1500, null)]) await deliver(endpointUrl, event);
    await page.waitForFunction(() => document.querySelector('[data-testid="pulse-total"]')?.textContent === '$233.00', null, { timeout: 20_000 });
    assert((await page.getByTestId('pulse-counts').innerText()).includes('4 sales'), 'the sales count is not 4');
    const amounts = await page.getByTestId('pulse-feed').getByTestId('feed-amount').allInnerTexts();
    // Newest first: the first sale (processed on its own) is at the bottom; the three
    // posted together may be numbered in any order within their batch.
    assert(amounts.length === 4 && amounts[3] === '$49.00', `feed amounts, newest first: ${amounts}`);
    assert(JSON.stringify([...amounts].sort()) === JSON.stringify(['$120.00', '$15.00', '$49.00', '$49.00']), `feed amounts: ${amounts}`);
    const feed = await page.getByTestId('pulse-feed').innerText();
    assert(feed.includes('#launch-hn') && feed.includes('#newsletter') && feed.includes('Stripe') && feed.includes('Sale'), `feed rows: ${feed}`);
    const rows = await page.getByTestId('pulse-campaigns').locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent.trim()).join(' | ')),
    );
    assert(
      JSON.stringify(rows) === JSON.stringify(['newsletter | 1 | $120.00', 'launch-hn | 2 | $98.00', '(no campaign) | 1 | $15.00']),
      `campaign breakdown: ${JSON.stringify(rows)}`,
    );
    assert(Number(await page.getByTestId('pulse-velocity').getAttribute('data-value')) === 23_300, 'the last 60 minutes do not hold all four sales');
    assert(await page.evaluate(() => window.__sameDocument === true), 'the page reloaded');
  });

  await step('a refund counts down in red; a replayed event counts once', async () => {
    const first = charge(9900, 'launch-hn');
    await deliver(endpointUrl, first);
    await deliver(endpointUrl, refund(4900));
    const replay = await deliver(endpointUrl, first);
    assert(replay.stored === false, 'the replayed event was stored again');
    // 233.00 + 99.00 − 49.00
    await page.waitForFunction(() => document.querySelector('[data-testid="pulse-total"]')?.textContent === '$283.00', null, { timeout: 20_000 });
    const refundAmount = page.getByTestId('pulse-feed').getByTestId('feed-amount').filter({ hasText: '−$49.00' });
    assert((await refundAmount.count()) === 1, 'no feed row shows the refund with a minus');
    assert((await refundAmount.getAttribute('class')).includes('text-red-700'), 'the refund is not red');
    assert((await page.getByTestId('pulse-counts').innerText()).includes('1 refund'), 'the refund is not counted');
    assert((await page.getByTestId('pulse-feed').locator('li').count()) === 6, 'the replay added a row');
    await page.waitForTimeout(3000); // the new-row highlight fades
    await shot(page, 'pulse', { fullPage: true });
  });

  await step('the owner shares the Pulse; the link shows it read-only on a TV, live, until revoked', async () => {
    await page.goto(`${BASE}/pulse`);
    await page.getByRole('button', { name: 'Share' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const url = await dialog.getByTestId('pulse-share-url').inputValue();
    assert(url.includes('/shared-pulse/'), `share url: ${url}`);
    // A browser with no session, sized like a TV.
    const tv = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const screen = await tv.newPage();
    const tvErrors = [];
    watchConsole(screen, tvErrors);
    await screen.goto(url);
    await screen.waitForFunction(() => document.querySelector('[data-testid="pulse-total"]')?.textContent === '$283.00', null, { timeout: 20_000 });
    await screen.locator('[data-pulse-mode="tv"]').waitFor();
    await screen.locator('[data-live-status="live"]').waitFor({ timeout: 15_000 });
    for (const name of ['Share', 'Pause', 'Set up webhooks']) {
      assert((await screen.getByRole('button', { name, exact: true }).count()) === 0, `the shared page offers ${name}`);
    }
    assert((await screen.getByRole('navigation', { name: 'Main' }).count()) === 0, 'the shared page shows the app navigation');
    await deliver(endpointUrl, charge(1000, 'office-tv'));
    await screen.waitForFunction(() => document.querySelector('[data-testid="pulse-total"]')?.textContent === '$293.00', null, { timeout: 20_000 });
    assert((await screen.getByTestId('pulse-feed').innerText()).includes('#office-tv'), 'the new sale is not in the shared feed');
    await screen.waitForTimeout(3000); // the new-row highlight fades
    await shot(screen, 'pulse-shared-tv');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await dialog.getByText('No active links.').waitFor();
    await screen.reload();
    await screen.getByText('This link does not work').waitFor();
    // The one expected error: the revoked link's 404.
    const errors = unexpectedErrors(tvErrors).filter((e) => !/status of 404/.test(e));
    assert(errors.length === 0, `console errors on the shared page: ${errors.join(' | ')}`);
    await tv.close();
    await page.keyboard.press('Escape');
  });

  await step('the integration shows the last delivery', async () => {
    await page.goto(`${BASE}/settings/integrations`);
    const section = page.locator('[data-provider="stripe"]').getByTestId('webhook-setup');
    await section.getByTestId('webhook-last-delivery').getByText(/Last delivery just now/).waitFor();
    await section.getByText('Receiving').waitFor();
  });

  await step('an open dashboard refetches its numbers when a sale arrives', async () => {
    const dashboard = await call(context, 'POST', `/api/orgs/${slug}/dashboards/from-template`, { template: 'saas_revenue', store_id: storeId });
    await page.goto(`${BASE}/dashboards/${dashboard.id}`);
    await widgetsSettled(page);
    await page.waitForTimeout(1500); // the shared stream is open
    const refetched = page.waitForResponse((res) => res.url().includes(`/dashboards/${dashboard.id}/data`) && res.ok(), { timeout: 20_000 });
    await deliver(endpointUrl, charge(2500, 'dashboard-check'));
    await refetched;
  });

  await step('no console errors', async () => {
    // The 422 is the too-short secret the setup step sends on purpose.
    const errors = unexpectedErrors(consoleErrors).filter((e) => !/status of 422/.test(e));
    assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  });
});
