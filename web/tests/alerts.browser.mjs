// Browser test of alerts, notification preferences, the digest preview and Slack
// channels, against a running Pulseboard started with a cron secret:
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 PULSEBOARD_CRON_SECRET=… \
//     [PULSEBOARD_SIMULATOR_URL=http://127.0.0.1:4010] node tests/alerts.browser.mjs
//
// Setup through the API: sign up, connect Stripe with the simulator's key, wait for
// the sync, "SaaS Revenue" from its template. Then in the browser: create an alert
// from a KPI card's menu (the dialog comes prefilled from the widget) and find it on
// the Alerts page through the toast's link; make a rule the synced data already
// crosses, run the hourly check through the cron route, and see it Triggered with
// its firing in the recent list and in its own history; send a test, snooze and
// unsnooze; save notification preferences and preview this week's digest; add a
// Slack channel (a refused URL shows the server's message by the field). A member of
// two organizations follows an alert mail's link (`/alerts?org=…&alert=…`): the app
// switches to that organization and shows the rule, read-only; a viewer has no
// Alerts at all. Needs PULSEBOARD_DATA_DIR for the invitation mails. Writes
// alerts-page.png, alert-dialog.png and notifications.png.
import {
  BASE,
  STRIPE_KEY,
  SYNC_TIMEOUT,
  assert,
  call,
  inviteTokenFromMail,
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

const CRON_SECRET = process.env.PULSEBOARD_CRON_SECRET ?? '';
const SIMULATOR = (process.env.PULSEBOARD_SIMULATOR_URL ?? '').replace(/\/$/, '');

const browser = await launchBrowser();
const consoleErrors = [];
const stamp = Date.now().toString(36);

await run(browser, async (state) => {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  state.page = page;
  watchConsole(page, consoleErrors);
  page.on('response', (r) => {
    if (r.status() >= 400) console.log(`     (${r.request().method()} ${r.url().replace(BASE, '')} answered ${r.status()})`);
  });

  let slug = '';
  let storeId = '';
  let dashboardId = '';
  await step('setup through the API: account, Stripe synced, "SaaS Revenue"', async () => {
    const r = await context.request.post(`${BASE}/api/auth/signup`, {
      data: { name: 'Alert Tester', email: `alerts-${stamp}@example.com`, password: 'correct horse battery staple', org_name: `Alerts ${stamp}` },
      headers: { origin: BASE },
    });
    assert(r.ok(), `signup answered ${r.status()}`);
    slug = (await r.json()).memberships[0].org_slug;
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
    dashboardId = (await call(context, 'POST', `/api/orgs/${slug}/dashboards/from-template`, { template: 'saas_revenue', store_id: store.id })).id;
  });

  await step('the Alerts page explains alerts before there are any', async () => {
    await page.goto(`${BASE}/alerts`);
    await page.getByRole('heading', { name: 'No alerts yet' }).or(page.getByText('No alerts yet')).first().waitFor();
    const text = await page.locator('main').innerText();
    assert(/Create an alert from any KPI or chart on a dashboard/.test(text), 'the empty state says where alerts come from');
    assert((await page.getByRole('link', { name: 'Alerts', exact: true }).count()) === 1, 'the navigation has Alerts');
  });

  let fromWidget = null;
  await step('create an alert from a KPI card: the dialog comes prefilled from the widget', async () => {
    const dashboard = await call(context, 'GET', `/api/orgs/${slug}/dashboards/${dashboardId}`);
    const kpi = dashboard.widgets.find((w) => w.type === 'kpi_card' && w.query_config.metric === 'stripe.net_revenue');
    assert(kpi, 'the template has a Net revenue KPI card');
    await page.goto(`${BASE}/dashboards/${dashboardId}`);
    await widgetsSettled(page);
    // The range picker has Yesterday, and the API answers it.
    await page.locator('#range').selectOption('yesterday');
    await page.waitForURL(/range=yesterday/);
    await widgetsSettled(page);
    assert((await page.locator('[data-widget-state="error"]').count()) === 0, 'every widget answers for yesterday');
    const card = page.locator(`[data-widget-id="${kpi.id}"]`);
    await card.hover();
    await card.getByRole('button', { name: `Actions for ${kpi.title}` }).click();
    await page.getByRole('menuitem', { name: 'Create alert…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an alert' });
    await dialog.getByLabel('Threshold').waitFor();
    assert((await dialog.getByLabel('Metric').inputValue()) === 'stripe.net_revenue', 'the metric is the widget’s');
    assert((await dialog.getByLabel('Store').inputValue()) === kpi.query_config.scope.store, 'the store is the widget’s');
    assert((await dialog.getByLabel('Condition').inputValue()) === 'below', 'a KPI card starts as "drops below"');
    assert((await dialog.getByLabel('Period').inputValue()) === 'yesterday', 'the rule watches the range the dashboard shows');
    const threshold = await dialog.getByLabel('Threshold').inputValue();
    assert(/^\d+(\.\d+)?$/.test(threshold) && Number(threshold) > 0, `a threshold under the current value is suggested (got "${threshold}")`);
    const sentence = await dialog.getByTestId('alert-sentence').innerText();
    assert(/Net revenue .* below \$[\d,]+\.\d\d/.test(sentence), `the rule reads as a sentence in dollars: ${sentence}`);
    // Periods follow the kind: a pace rule can only watch today.
    await dialog.getByLabel('Condition').selectOption('pace');
    assert((await dialog.getByLabel('Period').inputValue()) === 'today', 'pace watches today');
    assert(await dialog.getByLabel('Period').isDisabled(), 'with one valid period the picker is fixed');
    await dialog.getByLabel('Condition').selectOption('below');
    await dialog.getByLabel('Threshold').fill(threshold);
    // The server's field errors show by their field.
    await dialog.getByLabel('Other addresses').fill('not-an-address');
    await dialog.getByRole('button', { name: 'Create alert' }).click();
    await dialog.locator('#a-emails-help.text-red-700').waitFor();
    assert((await dialog.getByLabel('Other addresses').getAttribute('aria-invalid')) === 'true', 'the refused field is marked invalid');
    await dialog.getByLabel('Other addresses').fill('');
    assert((await dialog.locator('#a-emails-help.text-red-700').count()) === 0, 'an edit clears the refusal');
    await dialog.getByLabel('Period').selectOption('yesterday');
    await dialog.getByLabel('Name').fill(`Net revenue slump ${stamp}`);
    await shot(page, 'alert-dialog');
    await dialog.getByRole('button', { name: 'Create alert' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const toast = page.getByTestId('toast');
    await toast.getByText(`Alert “Net revenue slump ${stamp}” created`).waitFor();
    const alerts = await call(context, 'GET', `/api/orgs/${slug}/alerts`);
    fromWidget = alerts.find((a) => a.name === `Net revenue slump ${stamp}`);
    assert(fromWidget, 'the rule was saved');
    assert(fromWidget.dashboard_id === dashboardId, 'it remembers the dashboard it came from');
    assert(fromWidget.kind === 'below' && fromWidget.metric === 'stripe.net_revenue' && fromWidget.period === 'yesterday', 'kind, metric and period as shown');
    assert(fromWidget.threshold === Math.round(Number(threshold) * 100), `the dollars were sent as cents (${fromWidget.threshold} for $${threshold})`);
    await toast.getByRole('link', { name: 'See it on the Alerts page' }).click();
    await page.waitForURL(/\/alerts\?alert=/);
    const row = page.locator(`[data-alert-id="${fromWidget.id}"]`);
    await row.waitFor();
    assert((await row.getByRole('button', { name: /^History/ }).getAttribute('aria-expanded')) === 'true', 'the linked rule opens with its history');
    assert(/Not checked yet/.test(await row.innerText()), 'a new rule is not checked yet');
  });

  await step('the widget menu works from the keyboard and the dialog gives focus back', async () => {
    await page.goto(`${BASE}/dashboards/${dashboardId}`);
    await widgetsSettled(page);
    const menuButton = page.locator('[data-widget-type="line_chart"]').first().getByRole('button', { name: /^Actions for / });
    await menuButton.focus();
    assert(Number(await menuButton.evaluate((b) => getComputedStyle(b).opacity)) === 1, 'the menu button shows when it has focus');
    await page.keyboard.press('Enter');
    const item = page.getByRole('menuitem', { name: 'Create alert…' });
    await item.waitFor();
    assert(await item.evaluate((el) => el === document.activeElement), 'the menu’s first item has focus');
    await page.keyboard.press('Escape');
    await item.waitFor({ state: 'detached' });
    assert(await menuButton.evaluate((el) => el === document.activeElement), 'Escape gives focus back to the menu button');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create an alert' });
    await dialog.getByLabel('Metric').waitFor();
    assert(await dialog.getByLabel('Metric').evaluate((el) => el === document.activeElement), 'the dialog starts on its first field');
    assert((await dialog.getByLabel('Condition').inputValue()) === 'pct_change_below', 'a chart starts as a fall on a week earlier');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert(await menuButton.evaluate((el) => el === document.activeElement), 'closing the dialog gives focus back to the widget’s menu');
  });

  let crossed = null;
  await step('a rule the synced data crosses is Triggered after the hourly check, with its firing listed', async () => {
    assert(CRON_SECRET, 'set PULSEBOARD_CRON_SECRET (the server’s) so the test can run the hourly check');
    crossed = await call(context, 'POST', `/api/orgs/${slug}/alerts`, {
      name: `Any revenue ${stamp}`,
      metric: 'stripe.net_revenue',
      scope: { store: storeId },
      kind: 'above',
      period: 'last_30_days',
      threshold: 100,
    });
    const r = await context.request.post(`${BASE}/api/cron/check-alerts`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    assert(r.ok(), `the check answered ${r.status()}: ${await r.text()}`);
    await page.goto(`${BASE}/alerts?org=${slug}&alert=${crossed.id}`);
    const row = page.locator(`[data-alert-id="${crossed.id}"]`);
    await row.waitFor();
    assert((await row.getAttribute('data-status')) === 'triggered', `the rule is triggered (status ${await row.getAttribute('data-status')})`);
    const text = await row.innerText();
    assert(/Triggered/.test(text), 'its badge says Triggered');
    assert(/Net revenue over the last 30 days above \$1\.00/.test(text), `it reads in words: ${text}`);
    assert(/Checked (just now|\d+ minutes? ago)/.test(text) && /last fired/.test(text), 'it says when it was checked and last fired');
    const spark = row.getByRole('img');
    assert(/Net revenue, last 30 days: from/.test((await spark.getAttribute('aria-label')) ?? ''), 'the sparkline has a summary');
    await row.getByTestId('alert-history').locator('li').first().waitFor();
    await page.getByTestId('recent-events').getByText(`Any revenue ${stamp}`).waitFor();
  });

  await step('send a test, snooze and unsnooze, disable and enable', async () => {
    const row = page.locator(`[data-alert-id="${crossed.id}"]`);
    await row.getByRole('button', { name: /^Send test/ }).click();
    const toast = page.getByTestId('toast');
    await toast.getByText(`Sample sent to alerts-${stamp}@example.com`).waitFor();
    assert(/Right now the rule holds/.test(await toast.innerText()), 'the toast says what the rule would conclude now');
    await shot(page, 'alerts-page', { fullPage: true });
    await toast.getByRole('button', { name: 'Dismiss' }).click();
    await row.getByRole('button', { name: /^Snooze 24 h/ }).click();
    await row.getByText(/Snoozed until/).waitFor();
    await row.getByRole('button', { name: /^Unsnooze/ }).click();
    await row.getByText('Triggered', { exact: true }).waitFor();
    await row.getByRole('button', { name: /^Disable/ }).click();
    await row.getByText('Disabled', { exact: true }).waitFor();
    await row.getByRole('button', { name: /^Enable/ }).click();
    await row.getByRole('button', { name: /^Disable/ }).waitFor();
  });

  await step('a mail link switches a member of two organizations to the right one and shows the rule read-only; a viewer has no Alerts', async () => {
    const memberEmail = `member-${stamp}@example.com`;
    const mctx = await browser.newContext({ viewport });
    const own = (await signUpByApi(mctx, { name: 'Mia Member', email: memberEmail, org: `Mia ${stamp}` })).memberships[0].org_slug;
    await call(context, 'POST', `/api/orgs/${slug}/invites`, { email: memberEmail, role: 'member' });
    await call(mctx, 'POST', '/api/invites/accept', { token: await inviteTokenFromMail(memberEmail) });
    const mp = await mctx.newPage();
    watchConsole(mp, consoleErrors);
    state.page = mp;
    await mp.goto(`${BASE}/`);
    await mp.locator('#org-switcher').selectOption(own);
    await mp.goto(`${BASE}/alerts?org=${slug}&alert=${crossed.id}`);
    const row = mp.locator(`[data-alert-id="${crossed.id}"]`);
    await row.waitFor();
    assert((await mp.locator('#org-switcher').inputValue()) === slug, 'the link switched the organization');
    assert((await row.getByRole('button', { name: /^History/ }).getAttribute('aria-expanded')) === 'true', 'the linked rule shows its history');
    await row.getByTestId('alert-history').locator('li').first().waitFor();
    for (const name of [/^Edit/, /^Send test/, /^Delete/, /^Snooze/]) {
      assert((await row.getByRole('button', { name }).count()) === 0, `a member sees ${name}`);
    }
    assert((await mp.getByRole('button', { name: 'Create alert' }).count()) === 0, 'a member cannot create alerts');
    // The dashboard and settings links of the digest work the same way.
    await mp.locator('#org-switcher').selectOption(own);
    await mp.goto(`${BASE}/settings/notifications?org=${slug}`);
    await mp.getByText(`What Pulseboard mails you about Alerts ${stamp}`).waitFor();
    await mctx.close();

    const viewerEmail = `viewer-${stamp}@example.com`;
    await call(context, 'POST', `/api/orgs/${slug}/invites`, { email: viewerEmail, role: 'viewer' });
    const vctx = await browser.newContext({ viewport });
    const r = await vctx.request.post(`${BASE}/api/auth/signup`, {
      data: { name: 'Vic Viewer', email: viewerEmail, password: 'correct horse battery staple', invite_token: await inviteTokenFromMail(viewerEmail) },
      headers: { origin: BASE },
    });
    assert(r.ok(), `viewer signup answered ${r.status()}`);
    const vp = await vctx.newPage();
    watchConsole(vp, consoleErrors);
    state.page = vp;
    await vp.goto(`${BASE}/settings/notifications`);
    await vp.getByLabel('Weekly digest on Mondays').waitFor();
    assert((await vp.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).count()) === 0, 'a viewer has no Alerts in the navigation');
    assert((await vp.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Slack' }).count()) === 0, 'nor Slack in settings');
    assert((await vp.getByRole('button', { name: 'Preview this week’s digest' }).count()) === 0, 'nor the digest preview');
    await vp.goto(`${BASE}/alerts`);
    await vp.getByRole('heading', { name: 'Page not found' }).waitFor();
    await vctx.close();
    state.page = page;
  });

  await step('edit a rule and delete one (with a confirmation)', async () => {
    const row = page.locator(`[data-alert-id="${fromWidget.id}"]`);
    await row.getByRole('button', { name: /^Edit/ }).click();
    const dialog = page.getByRole('dialog', { name: /^Edit/ });
    await dialog.getByLabel('Threshold').waitFor();
    assert((await dialog.getByLabel('Threshold').inputValue()) === String(fromWidget.threshold / 100), 'the saved cents come back as dollars');
    await dialog.getByLabel('Condition').selectOption('anomaly');
    assert((await dialog.getByLabel('Sensitivity').inputValue()) === '3', 'an anomaly rule starts at the usual sensitivity');
    await dialog.getByRole('button', { name: 'Save alert' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await row.getByText('Net revenue yesterday outside the usual range').waitFor();
    await row.getByRole('button', { name: 'How is “usual” decided?' }).click();
    assert((await row.locator(`#alert-${fromWidget.id}-method`).innerText()).length > 20, 'the anomaly method is explained');
    await row.getByRole('button', { name: /^Delete/ }).click();
    const confirm = page.getByRole('dialog', { name: /^Delete/ });
    await confirm.getByRole('button', { name: 'Delete alert' }).click();
    await row.waitFor({ state: 'detached' });
    // After a delete, focus stays on the page (Create alert), not on the body.
    await page.waitForFunction(() => document.activeElement?.id === 'create-alert', null, { timeout: 10000 });
  });

  await step('notification preferences are saved, and this week’s digest can be previewed', async () => {
    await page.goto(`${BASE}/settings/notifications`);
    const everything = page.getByLabel('Send me the whole dashboard instead of the week’s movers');
    await everything.waitFor();
    assert(await page.getByLabel('Weekly digest on Mondays').isChecked(), 'the digest is on by default');
    assert(!(await everything.isChecked()), 'movers only by default');
    await everything.check();
    await page.getByLabel('Alert emails addressed to me').uncheck();
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    const prefs = await call(context, 'GET', `/api/orgs/${slug}/notifications`);
    assert(prefs.digest && prefs.digest_everything && !prefs.alert_mail, `saved as chosen: ${JSON.stringify(prefs)}`);
    await page.reload();
    await page.getByLabel('Weekly digest on Mondays').waitFor();
    assert(await page.getByLabel('Send me the whole dashboard instead of the week’s movers').isChecked(), 'kept after a reload');
    // Turning the digest off makes "whole dashboard" moot.
    await page.getByLabel('Weekly digest on Mondays').uncheck();
    assert(await page.getByLabel('Send me the whole dashboard instead of the week’s movers').isDisabled(), 'the variant waits for the digest');
    await page.getByLabel('Weekly digest on Mondays').check();

    assert(/next one goes out on Monday, \w+ \d+ at 09:00 UTC/.test(await page.locator('#digest-preview-heading').locator('..').innerText()), 'says when it is sent');
    await page.getByRole('button', { name: 'Preview this week’s digest' }).click();
    const preview = page.getByTestId('digest-preview');
    await preview.waitFor({ timeout: 30_000 });
    const subject = await page.getByTestId('digest-subject').innerText();
    assert(subject.length > 5, 'the subject is shown');
    const frame = preview.locator('iframe');
    assert((await frame.getAttribute('sandbox')) === '', 'the mail is shown in a sandbox without scripts');
    const body = await frame.contentFrame().locator('body').innerText();
    assert(body.length > 40, 'the mail’s HTML is drawn');
    await page.evaluate(() => window.scrollTo(0, 0));
    await frame.contentFrame().locator('img').first().waitFor();
    const broken = await frame.contentFrame().locator('img').evaluateAll((imgs) => imgs.filter((i) => !i.complete || i.naturalWidth === 0).length);
    assert(broken === 0, `${broken} pictures of the mail did not draw`);
    await shot(page, 'notifications', { fullPage: true });
  });

  await step('Slack channels: a refused URL is explained by its field; a webhook is added, listed and removed', async () => {
    await page.goto(`${BASE}/settings/slack`);
    await page.getByText('In Slack: Apps → Incoming Webhooks → Add to channel').waitFor();
    await page.getByText('No Slack channels yet').waitFor();
    await page.getByLabel('Channel name').fill('#growth');
    await page.getByLabel('Webhook URL').fill('https://example.com/not-slack');
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.locator('p.text-red-700').first().waitFor();
    assert((await page.getByLabel('Webhook URL').getAttribute('aria-invalid')) === 'true', 'the webhook field is marked invalid');
    if (!SIMULATOR) {
      console.log('     (PULSEBOARD_SIMULATOR_URL not set: skipping adding a working webhook)');
      return;
    }
    await page.getByLabel('Webhook URL').fill(`${SIMULATOR}/slack/services/T0SIM0001/B0SIM0001/simsecret0123456789abcdef`);
    await page.getByRole('button', { name: 'Add channel' }).click();
    const item = page.locator('[data-channel="#growth"]');
    await item.waitFor();
    assert(!(await item.innerText()).includes('simsecret'), 'the webhook secret is not shown');
    // The alert dialog offers it.
    await page.goto(`${BASE}/alerts`);
    await page.locator('[data-alert-id]').first().waitFor();
    await page.getByRole('button', { name: 'Create alert' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an alert' });
    await dialog.getByLabel('Slack channel').locator('option', { hasText: '#growth' }).waitFor({ state: 'attached' });
    await page.keyboard.press('Escape');
    await page.goto(`${BASE}/settings/slack`);
    await page.locator('[data-channel="#growth"]').getByRole('button', { name: /^Remove/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove channel' }).click();
    await page.getByText('No Slack channels yet').waitFor();
  });

  await step('no console errors', async () => {
    const errors = unexpectedErrors(consoleErrors).filter((e) => !/status of 422/.test(e)); // the refusals the test provokes
    assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  });
});
