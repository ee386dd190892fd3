// Accessibility check of every page with axe-core, against a running Pulseboard.
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 node tests/a11y.browser.mjs
//
// Signs up through the API, connects Stripe with the simulator's key and waits for
// its sync, builds "SaaS Revenue" from its template and shares it; then runs axe on
// the login, signup and invite pages, the dashboard list, the dashboard (viewing,
// editing, and with its dialogs open), the Alerts page (empty, with rules and
// history, the alert dialog, a widget's menu), the digest preview, the Pulse page, the
// not-found page, integrations (with Stripe's webhook setup), every settings page the
// app has, and the public share page. Any violation of impact
// "serious" or "critical" fails the run; all of them are printed, page by page.
import { BASE, STRIPE_KEY, axeAudit, SYNC_TIMEOUT, assert, call, launchBrowser, run, shot, step, viewport, widgetsSettled } from './lib.mjs';

const SETTINGS = ['members', 'workspaces', 'notifications', 'slack', 'password', 'tokens', 'plan', 'mailbox'];

const browser = await launchBrowser();
const stamp = Date.now().toString(36);
const found = [];

/** Runs axe (see lib.mjs), collecting this test's serious and critical violations. */
const audit = (page, name) => axeAudit(page, name, found);

await run(browser, async (state) => {
  const anon = await browser.newContext({ viewport, bypassCSP: true }) // axe is injected as an inline script;
  const ap = await anon.newPage();
  state.page = ap;

  await step('login and signup pages', async () => {
    await ap.goto(`${BASE}/login`);
    await ap.getByRole('heading', { name: 'Log in' }).waitFor();
    await audit(ap, 'login');
    await ap.goto(`${BASE}/signup`);
    await ap.getByRole('button', { name: 'Create account' }).waitFor();
    await audit(ap, 'signup');
    // A form with its errors showing.
    await ap.getByRole('button', { name: 'Create account' }).click();
    await ap.waitForTimeout(300);
    await audit(ap, 'signup (errors)');
    await ap.goto(`${BASE}/invite/pbi_not_a_real_token`);
    await ap.locator('h1, h2').first().waitFor();
    await ap.waitForLoadState('networkidle');
    await audit(ap, 'invite (bad link)');
  });

  const context = await browser.newContext({ viewport, bypassCSP: true }) // axe is injected as an inline script;
  const page = await context.newPage();
  state.page = page;
  let slug = '';
  let dashboardId = '';
  let shareUrl = '';
  await step('setup through the API: account, Stripe synced, a dashboard and a share link', async () => {
    const r = await context.request.post(`${BASE}/api/auth/signup`, {
      data: { name: 'Axe Tester', email: `a11y-${stamp}@example.com`, password: 'correct horse battery staple', org_name: `A11y ${stamp}` },
      headers: { origin: BASE },
    });
    assert(r.ok(), `signup answered ${r.status()}`);
    slug = (await r.json()).memberships[0].org_slug;
    const [store] = await call(context, 'GET', `/api/orgs/${slug}/stores`);
    await call(context, 'POST', `/api/orgs/${slug}/integrations/stripe/api-key`, { store_id: store.id, fields: { api_key: STRIPE_KEY } });
    const deadline = Date.now() + SYNC_TIMEOUT;
    for (;;) {
      const s = (await call(context, 'GET', `/api/orgs/${slug}/sync-jobs`)).map((j) => j.status);
      assert(!s.includes('failed'), 'a sync failed');
      if (s.length > 0 && s.every((x) => x === 'success')) break;
      assert(Date.now() < deadline, `sync did not finish: ${s}`);
      await new Promise((res) => setTimeout(res, 1000));
    }
    dashboardId = (await call(context, 'POST', `/api/orgs/${slug}/dashboards/from-template`, { template: 'saas_revenue', store_id: store.id })).id;
    shareUrl = (await call(context, 'POST', `/api/orgs/${slug}/dashboards/${dashboardId}/shares`, {})).url;
  });

  await step('dashboard list', async () => {
    await page.goto(`${BASE}/`);
    await page.getByRole('link', { name: /SaaS Revenue/ }).waitFor();
    await audit(page, 'dashboard list');
  });

  await step('dashboard: viewing, editing, add-widget and share dialogs', async () => {
    await page.goto(`${BASE}/dashboards/${dashboardId}`);
    await widgetsSettled(page);
    await audit(page, 'dashboard');
    await page.getByRole('button', { name: 'About this metric' }).first().click();
    await page.getByRole('dialog').getByTestId('metric-definition').waitFor();
    await audit(page, 'metric info dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('region', { name: 'Dashboard builder' }).waitFor();
    await audit(page, 'dashboard (editing)');
    await page.getByRole('region', { name: 'Dashboard builder' }).getByRole('button', { name: 'Add widget' }).click();
    await page.getByRole('dialog').getByLabel('Metric').locator('optgroup').first().waitFor({ state: 'attached' });
    await audit(page, 'add-widget dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Name & visibility' }).click();
    await page.getByRole('dialog').getByLabel('Name').waitFor();
    await audit(page, 'dashboard settings dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Create link' }).waitFor();
    await page.waitForTimeout(300);
    await audit(page, 'share dialog');
    await page.keyboard.press('Escape');
  });

  await step('alerts: empty page, the widget menu, the alert dialog, rules with history', async () => {
    await page.goto(`${BASE}/alerts`);
    await page.getByText('No alerts yet').waitFor();
    await page.waitForLoadState('networkidle');
    await audit(page, 'alerts (empty)');
    await page.goto(`${BASE}/dashboards/${dashboardId}`);
    await widgetsSettled(page);
    const card = page.locator('[data-widget-type="kpi_card"]').first();
    await card.hover();
    await card.getByRole('button', { name: /^Actions for / }).click();
    await page.getByRole('menuitem', { name: 'Create alert…' }).waitFor();
    await audit(page, 'widget menu');
    await page.getByRole('menuitem', { name: 'Create alert…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an alert' });
    await dialog.getByLabel('Threshold').waitFor();
    await audit(page, 'alert dialog');
    await dialog.getByLabel('Name').fill('Revenue watch');
    await dialog.getByRole('button', { name: 'Create alert' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const [store] = await call(context, 'GET', `/api/orgs/${slug}/stores`);
    await call(context, 'POST', `/api/orgs/${slug}/alerts`, { name: 'Usual range', metric: 'stripe.net_revenue', scope: { store: store.id }, kind: 'anomaly', threshold: 3 });
    await page.goto(`${BASE}/alerts`);
    await page.locator('[data-alert-id]').first().waitFor();
    await page.getByRole('button', { name: /^History of Revenue watch/ }).click();
    await page.getByRole('button', { name: 'How is “usual” decided?' }).click();
    await page.waitForLoadState('networkidle');
    await audit(page, 'alerts (rules)');
  });

  await step('digest preview', async () => {
    await page.goto(`${BASE}/settings/notifications`);
    await page.getByRole('button', { name: 'Preview this week’s digest' }).click();
    await page.getByTestId('digest-preview').or(page.getByText('Nothing to report this week')).first().waitFor({ timeout: 30_000 });
    await audit(page, 'digest preview');
  });

  await step('pulse page', async () => {
    await page.goto(`${BASE}/pulse`);
    await page.getByRole('heading', { name: 'Pulse', exact: true }).waitFor();
    await page.locator('[data-live-status="live"]').waitFor({ timeout: 15_000 });
    await audit(page, 'pulse');
  });

  await step('not-found page', async () => {
    await page.goto(`${BASE}/no/such/page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await audit(page, 'not found');
  });

  await step('integrations', async () => {
    await page.goto(`${BASE}/settings/integrations`);
    await page.locator('[data-provider="stripe"]').waitFor();
    await page.locator('[data-testid="sync-jobs"] tr[data-status]').first().waitFor();
    await audit(page, 'integrations');
  });

  await step('settings pages', async () => {
    for (const name of SETTINGS) {
      await page.goto(`${BASE}/settings/${name}`);
      await page.locator('main h1, main h2').first().waitFor();
      if ((await page.getByRole('heading', { name: 'Page not found' }).count()) > 0) {
        console.log(`     (no /settings/${name} page yet)`);
        continue;
      }
      await page.waitForLoadState('networkidle');
      await audit(page, `settings/${name}`);
    }
  });

  await step('public share page', async () => {
    await ap.goto(`${BASE}${new URL(shareUrl).pathname}`);
    await ap.getByRole('heading', { name: 'SaaS Revenue' }).waitFor();
    await widgetsSettled(ap);
    await audit(ap, 'shared dashboard');
  });

  await step('no serious or critical accessibility violations', async () => {
    if (found.length) await shot(page, 'a11y-last-page');
    assert(found.length === 0, `${found.length} serious/critical violations (details above): ${found.map((v) => `${v.page}: ${v.id}`).join('; ')}`);
  });
});
