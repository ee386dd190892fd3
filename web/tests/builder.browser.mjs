// Browser test of the dashboard builder, roles and keyboard use.
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 PULSEBOARD_DATA_DIR=/path/to/server/data \
//     node tests/builder.browser.mjs
//
// Setup goes through the API (sign up, connect Stripe with the simulator's key, wait
// for the sync, "SaaS Revenue" from its template). Then, in the browser: add a widget,
// configure it (metric, range, size) and see it drawn and kept after a reload, move it
// within and across sections with its buttons and by drag and drop, resize it, change the columns, rename the dashboard and
// make it visible to the organization, see a refused save show the server's message
// and no stale layout, duplicate and delete, remove a widget. A viewer (invited by
// email: the invite link is read from the .eml files the server writes under
// PULSEBOARD_DATA_DIR/mail when no mail transport is set) sees the charts and no edit
// controls. Last, the keyboard alone: log in, open the dashboard, add a widget,
// change the time range, open and close the share dialog, with visible focus and
// dialogs that keep and give back focus.
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
  step,
  unexpectedErrors,
  viewport,
  watchConsole,
  widgetsSettled,
} from './lib.mjs';

const PASSWORD = 'correct horse battery staple';

const browser = await launchBrowser();
const consoleErrors = [];
const stamp = Date.now().toString(36);
const ownerEmail = `builder-${stamp}@example.com`;
const viewerEmail = `viewer-${stamp}@example.com`;

/** The widget ids in the order the page shows them, by section. */
function domOrder(page) {
  return page.locator('section[data-section-id]').evaluateAll((sections) =>
    sections.map((s) => [...s.querySelectorAll('[data-widget-id]')].map((w) => w.getAttribute('data-widget-id'))),
  );
}

const apiOrder = (dashboard) => dashboard.layout.sections.map((s) => s.widgets ?? []);


/** Presses Tab (or Shift+Tab) until the focused element matches, at most `max` times. */
async function tabTo(page, predicate, arg, { max = 40, back = false } = {}) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (await page.evaluate(predicate, arg)) return;
  }
  const where = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 160));
  throw new Error(`Tab never reached the wanted element; focus is on ${where}`);
}

/** The focused element shows a focus indicator (outline or ring). */
async function focusVisible(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'nothing focused';
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    const ring = s.boxShadow && s.boxShadow !== 'none';
    return outline || ring ? true : `no focus indicator on ${el.outerHTML.slice(0, 120)}`;
  });
}

await run(browser, async (state) => {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  state.page = page;
  watchConsole(page, consoleErrors);
  page.on('response', (r) => {
    if (r.status() >= 400) console.log(`     (${r.request().method()} ${r.url().replace(BASE, '')} answered ${r.status()})`);
  });

  let slug = '';
  let dashboardId = '';
  let dashboardUrl = '';
  await step('setup through the API: account, Stripe synced, “SaaS Revenue” from its template', async () => {
    const r = await context.request.post(`${BASE}/api/auth/signup`, {
      data: { name: 'Builder Owner', email: ownerEmail, password: PASSWORD, org_name: `Builder ${stamp}` },
      headers: { origin: BASE },
    });
    assert(r.ok(), `signup answered ${r.status()}: ${await r.text()}`);
    slug = (await r.json()).memberships[0].org_slug;
    const [store] = await call(context, 'GET', `/api/orgs/${slug}/stores`);
    await call(context, 'POST', `/api/orgs/${slug}/integrations/stripe/api-key`, { store_id: store.id, fields: { api_key: STRIPE_KEY } });
    const deadline = Date.now() + SYNC_TIMEOUT;
    for (;;) {
      const jobs = await call(context, 'GET', `/api/orgs/${slug}/sync-jobs`);
      const s = jobs.map((j) => j.status);
      assert(!s.includes('failed'), `a sync failed: ${JSON.stringify(jobs)}`);
      if (s.length > 0 && s.every((x) => x === 'success')) break;
      assert(Date.now() < deadline, `sync did not finish: ${s}`);
      await new Promise((res) => setTimeout(res, 1000));
    }
    const d = await call(context, 'POST', `/api/orgs/${slug}/dashboards/from-template`, { template: 'saas_revenue', store_id: store.id });
    dashboardId = d.id;
    dashboardUrl = `${BASE}/dashboards/${d.id}`;
  });

  const getDashboard = () => call(context, 'GET', `/api/orgs/${slug}/dashboards/${dashboardId}`);
  const wrapper = (title) => page.locator('[data-widget-id]', { has: page.locator('[data-widget-type]', { hasText: title }) });

  await step('viewing is clean; Edit opens the builder', async () => {
    await page.goto(dashboardUrl);
    await page.getByRole('heading', { name: 'SaaS Revenue' }).waitFor();
    await widgetsSettled(page);
    assert((await page.getByRole('toolbar').count()) === 0, 'edit toolbars show outside edit mode');
    assert((await page.getByRole('button', { name: 'Delete dashboard' }).count()) === 0, 'Delete shows outside edit mode');
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('region', { name: 'Dashboard builder' }).waitFor();
    assert((await page.getByRole('button', { name: 'Done' }).getAttribute('aria-pressed')) === 'true', 'Done is not pressed');
    const bars = await page.getByRole('toolbar').count();
    const widgets = await page.locator('[data-widget-type]').count();
    assert(bars === widgets && bars >= 8, `expected a toolbar per widget, saw ${bars} for ${widgets}`);
    await page.mouse.move(0, 0);
    await shot(page, '30-builder-edit', { fullPage: true });
  });

  let widgetId = '';
  await step('add a widget from the builder; the picker groups metrics by provider and category', async () => {
    await page.getByRole('region', { name: 'Dashboard builder' }).getByRole('button', { name: 'Add widget' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Add a widget' }).waitFor();
    await dialog.getByLabel('Metric').locator('optgroup').first().waitFor({ state: 'attached' });
    const groups = await dialog.getByLabel('Metric').locator('optgroup').evaluateAll((gs) => gs.map((g) => g.getAttribute('label')));
    assert(groups.includes('Stripe · Revenue') && groups.includes('Stripe · Subscriptions'), `metric groups: ${groups}`);
    await dialog.getByLabel('Type').selectOption('kpi_card');
    await dialog.getByLabel('Metric').selectOption('stripe.new_customers');
    await dialog.getByLabel('Title').fill('Builder KPI');
    await dialog.getByLabel('Range').selectOption('last_30_days');
    await dialog.getByRole('button', { name: 'Add widget' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const card = page.locator('[data-widget-type="kpi_card"]', { hasText: 'Builder KPI' });
    await card.waitFor();
    await widgetsSettled(page);
    assert((await card.getAttribute('data-widget-state')) === 'ok', 'the new widget has no data');
    widgetId = await wrapper('Builder KPI').getAttribute('data-widget-id');
    assert(widgetId, 'no widget id');
  });

  await step('configure it: the dialog is prefilled; metric, range and size change, are drawn and persist', async () => {
    const before = await page.locator('[data-widget-type="kpi_card"]', { hasText: 'Builder KPI' }).innerText();
    await page.getByRole('button', { name: 'Configure Builder KPI' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: /Configure/ }).waitFor();
    assert((await dialog.getByLabel('Metric').inputValue()) === 'stripe.new_customers', 'metric not prefilled');
    assert((await dialog.getByLabel('Title').inputValue()) === 'Builder KPI', 'title not prefilled');
    assert((await dialog.getByLabel('Range').inputValue()) === 'last_30_days', 'range not prefilled');
    assert((await dialog.getByLabel('Size').inputValue()) === 'small', 'size not prefilled');
    assert(await dialog.getByLabel('Type').isDisabled(), 'type should be fixed when configuring');
    await dialog.getByLabel('Metric').selectOption('stripe.gross_revenue');
    await dialog.getByLabel('Range').selectOption('last_90_days');
    await dialog.getByLabel('Aggregation').selectOption('sum');
    await dialog.getByLabel('Size').selectOption('medium');
    await dialog.getByLabel('Title').fill('Gross revenue, 90 days');
    await shot(page, '31-builder-configure');
    await dialog.getByRole('button', { name: 'Save widget' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const card = page.locator('[data-widget-type="kpi_card"]', { hasText: 'Gross revenue, 90 days' });
    await card.waitFor();
    await widgetsSettled(page);
    const after = await card.innerText();
    assert(/\$[\d,]+\.\d\d/.test(after), `the configured card shows no amount: ${after}`);
    assert(after !== before, 'the card did not change');
    assert((await wrapper('Gross revenue, 90 days').getAttribute('class')).includes('lg:col-span-6'), 'medium size not drawn');
    await page.reload();
    await widgetsSettled(page);
    await page.locator('[data-widget-type="kpi_card"]', { hasText: 'Gross revenue, 90 days' }).waitFor();
    const w = (await getDashboard()).widgets.find((x) => x.id === widgetId);
    assert(w.query_config.metric === 'stripe.gross_revenue' && w.query_config.range === 'last_90_days' && w.size === 'medium', `stored: ${JSON.stringify(w)}`);
    assert(w.query_config.aggregation === 'sum', 'aggregation not stored');
  });

  await step('move it within and across sections; the order is saved and survives a reload', async () => {
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const start = await domOrder(page);
    const s0 = start.findIndex((s) => s.includes(widgetId));
    const i0 = start[s0].indexOf(widgetId);
    assert(i0 > 0, `expected the new widget after others in its section: ${JSON.stringify(start)}`);
    const back = page.getByRole('button', { name: 'Move left: Gross revenue, 90 days' });
    await back.click();
    await page.waitForFunction(([id, s, i]) => {
      const sec = document.querySelectorAll('section[data-section-id]')[s];
      return [...sec.querySelectorAll('[data-widget-id]')].map((w) => w.getAttribute('data-widget-id')).indexOf(id) === i - 1;
    }, [widgetId, s0, i0]);
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    assert(focused === 'Move left: Gross revenue, 90 days', `focus after moving: ${focused}`);
    // Forward until it crosses into the next section.
    const forward = page.getByRole('button', { name: 'Move right: Gross revenue, 90 days' });
    for (let n = 0; n < 60; n += 1) {
      const order = await domOrder(page);
      if (order.findIndex((s) => s.includes(widgetId)) > s0) break;
      await forward.click();
      await page.waitForFunction(() => !document.querySelector('[aria-busy="true"][data-action]'));
      await page.waitForTimeout(150);
    }
    await page.getByText('Changes save as you make them.').waitFor();
    const moved = await domOrder(page);
    const s1 = moved.findIndex((s) => s.includes(widgetId));
    assert(s1 === s0 + 1 && moved[s1][0] === widgetId, `did not cross into the next section at its start: ${JSON.stringify(moved)}`);
    await page.waitForFunction(async ([url, want]) => {
      const d = await (await fetch(url)).json();
      return JSON.stringify(d.layout.sections.map((s) => s.widgets ?? [])) === want;
    }, [`/api/orgs/${slug}/dashboards/${dashboardId}`, JSON.stringify(moved)]);
    await page.reload();
    await widgetsSettled(page);
    const reloaded = await domOrder(page);
    assert(JSON.stringify(reloaded) === JSON.stringify(moved), `after reload ${JSON.stringify(reloaded)} ≠ ${JSON.stringify(moved)}`);
    assert(JSON.stringify(apiOrder(await getDashboard())) === JSON.stringify(moved), 'the server has another order');
  });

  await step('resize it and change the columns; both are drawn and saved', async () => {
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByLabel('Size of Gross revenue, 90 days').selectOption('full');
    await page.waitForFunction((id) => document.querySelector(`[data-widget-id="${id}"]`)?.className.includes('lg:col-span-12'), widgetId);
    await page.getByRole('radio', { name: '3 columns' }).check();
    await page.waitForFunction(() => document.querySelector('[data-widget-type="kpi_card"]')?.parentElement?.className.includes('lg:col-span-4'));
    await page.getByText('Changes save as you make them.').waitFor();
    await page.waitForTimeout(300);
    await page.mouse.move(0, 0);
    await shot(page, '32-builder-three-columns', { fullPage: true });
    await page.reload();
    await widgetsSettled(page);
    const d = await getDashboard();
    assert(d.layout.columns === 3, `columns stored ${d.layout.columns}`);
    assert(d.widgets.find((x) => x.id === widgetId).size === 'full', 'size not stored');
    assert((await page.locator(`[data-widget-id="${widgetId}"]`).getAttribute('class')).includes('lg:col-span-12'), 'full width lost after reload');
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('radio', { name: '2 columns' }).check();
    await page.getByText('Changes save as you make them.').waitFor();
  });

  await step('drag a widget onto another: it takes that place, and the order is saved', async () => {
    const [first] = await domOrder(page);
    assert(first.length >= 3, `first section too short: ${first}`);
    const [a, b, c] = first;
    await page.dragAndDrop(`[data-widget-id="${a}"]`, `[data-widget-id="${c}"]`);
    const want = [b, c, a, ...first.slice(3)];
    await page.waitForFunction((w) => {
      const now = [...document.querySelectorAll('section[data-section-id]')][0];
      return JSON.stringify([...now.querySelectorAll('[data-widget-id]')].map((x) => x.getAttribute('data-widget-id'))) === w;
    }, JSON.stringify(want));
    await page.waitForFunction(async ([url, w]) => {
      const d = await (await fetch(url)).json();
      return JSON.stringify(d.layout.sections[0].widgets) === w;
    }, [`/api/orgs/${slug}/dashboards/${dashboardId}`, JSON.stringify(want)]);
  });

  await step('a save the server refuses shows its message and the server’s layout, not the attempted one', async () => {
    const before = await domOrder(page);
    await page.route(`**/api/orgs/${slug}/dashboards/${dashboardId}`, (route) =>
      route.request().method() === 'PATCH'
        ? route.fulfill({ status: 422, contentType: 'application/json', body: JSON.stringify({ error: { code: 'validation', message: 'Simulated refusal: layout not saved' } }) })
        : route.continue(),
    );
    await page.getByRole('button', { name: 'Move left: Gross revenue, 90 days' }).click();
    await page.getByRole('alert').getByText('Simulated refusal: layout not saved').waitFor();
    await page.waitForFunction((want) => {
      const now = [...document.querySelectorAll('section[data-section-id]')].map((s) => [...s.querySelectorAll('[data-widget-id]')].map((w) => w.getAttribute('data-widget-id')));
      return JSON.stringify(now) === want;
    }, JSON.stringify(before));
    await shot(page, '33-builder-save-refused');
    await page.unroute(`**/api/orgs/${slug}/dashboards/${dashboardId}`);
    await page.getByRole('button', { name: 'Dismiss' }).click();
  });

  await step('name and visibility: an empty name shows the server’s message; a good one is saved', async () => {
    await page.getByRole('button', { name: 'Name & visibility' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('   ');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('alert').waitFor();
    const message = await dialog.getByRole('alert').innerText();
    assert(message.trim().length > 0 && !/HTTP/.test(message), `odd error: ${message}`);
    await dialog.getByLabel('Name').fill('Revenue board');
    await dialog.getByRole('radio', { name: /Organization/ }).check();
    await shot(page, '34-builder-settings');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('heading', { name: 'Revenue board' }).waitFor();
    const d = await getDashboard();
    assert(d.name === 'Revenue board' && d.visibility === 'public', `stored ${d.name} / ${d.visibility}`);
  });

  await step('remove a widget; it stays gone after a reload', async () => {
    const title = 'Gross revenue, 90 days';
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `Remove widget ${title}` }).click();
    await page.locator(`[data-widget-id="${widgetId}"]`).waitFor({ state: 'detached' });
    await page.reload();
    await widgetsSettled(page);
    assert((await page.locator(`[data-widget-id="${widgetId}"]`).count()) === 0, 'the widget came back');
    assert(!(await getDashboard()).widgets.some((w) => w.id === widgetId), 'the server still has it');
  });

  await step('duplicate the dashboard, then delete the copy', async () => {
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('button', { name: 'Duplicate' }).click();
    await page.getByRole('heading', { name: 'Copy of Revenue board' }).waitFor();
    assert(!page.url().includes(dashboardId), 'still on the original');
    await widgetsSettled(page);
    const n = await page.locator('[data-widget-type]').count();
    const original = (await getDashboard()).widgets.length;
    assert(n === original, `the copy has ${n} widgets, the original ${original}`);
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete dashboard' }).click();
    await page.waitForURL(`${BASE}/`);
    await page.getByRole('link', { name: /Revenue board/ }).waitFor();
    assert((await page.getByRole('link', { name: /Copy of Revenue board/ }).count()) === 0, 'the copy is still listed');
  });

  await step('the builder on a phone keeps its controls usable', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(dashboardUrl);
    await widgetsSettled(page);
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const region = page.getByRole('region', { name: 'Dashboard builder' });
    await region.waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    await page.mouse.move(0, 0);
    await shot(page, '37-builder-phone');
    await page.setViewportSize(viewport);
  });

  await step('a viewer sees the charts and no edit controls', async () => {
    await call(context, 'POST', `/api/orgs/${slug}/invites`, { email: viewerEmail, role: 'viewer' });
    const token = await inviteTokenFromMail(viewerEmail);
    const vctx = await browser.newContext({ viewport });
    const r = await vctx.request.post(`${BASE}/api/auth/signup`, {
      data: { name: 'View Only', email: viewerEmail, password: PASSWORD, invite_token: token },
      headers: { origin: BASE },
    });
    assert(r.ok(), `viewer signup answered ${r.status()}: ${await r.text()}`);
    const joined = await r.json();
    const role = joined.memberships.find((m) => m.org_slug === slug)?.role;
    assert(role === 'viewer', `joined as ${role}`);
    // An invite grants the organization; the stores' workspace is granted separately.
    const { workspace_id } = await getDashboard();
    await call(context, 'PUT', `/api/orgs/${slug}/workspaces/${workspace_id}/members/${joined.user.id}`, { role: 'viewer' });
    const vp = await vctx.newPage();
    state.page = vp;
    watchConsole(vp, consoleErrors);
    await vp.goto(`${BASE}/`);
    await vp.getByRole('link', { name: /Revenue board/ }).waitFor();
    for (const name of ['New dashboard', 'Use template']) {
      assert((await vp.getByRole('button', { name }).count()) === 0, `the viewer sees “${name}” on the list`);
    }
    await vp.getByRole('link', { name: /Revenue board/ }).click();
    await vp.getByRole('heading', { name: 'Revenue board' }).waitFor();
    await widgetsSettled(vp);
    assert((await vp.locator('[data-widget-type="line_chart"] [role="img"] svg path').count()) > 0, 'no chart for the viewer');
    await vp.locator('[data-widget-type]').first().hover();
    for (const name of [/Add widget/, /^Edit$/, /Remove/, /^Share$/, /Delete/, /Configure/, /Move /, /Duplicate/, /^Refresh$/]) {
      assert((await vp.getByRole('button', { name }).count()) === 0, `the viewer sees a ${name} button`);
    }
    assert((await vp.getByRole('toolbar').count()) === 0, 'the viewer sees edit toolbars');
    const patch = await vctx.request.fetch(`${BASE}/api/orgs/${slug}/dashboards/${dashboardId}`, { method: 'PATCH', data: { name: 'Hacked' }, headers: { origin: BASE } });
    assert(patch.status() === 403, `a viewer's PATCH answered ${patch.status()}`);
    await vp.mouse.move(0, 0);
    await shot(vp, '35-viewer-dashboard', { fullPage: true });
    await vctx.close();
    state.page = page;
  });

  await step('keyboard only: log in, open the dashboard, add a widget, change the range, share dialog', async () => {
    const kctx = await browser.newContext({ viewport });
    const kp = await kctx.newPage();
    state.page = kp;
    watchConsole(kp, consoleErrors);
    await kp.goto(`${BASE}/login`);
    await kp.getByRole('heading', { name: 'Log in' }).waitFor();
    await tabTo(kp, () => document.activeElement?.getAttribute('type') === 'email');
    assert((await focusVisible(kp)) === true, await focusVisible(kp));
    await kp.keyboard.type(ownerEmail);
    await tabTo(kp, () => document.activeElement?.getAttribute('type') === 'password');
    await kp.keyboard.type(PASSWORD);
    await kp.keyboard.press('Enter');
    await kp.getByRole('heading', { name: 'Dashboards' }).waitFor({ timeout: 15_000 });
    await kp.getByRole('link', { name: /Revenue board/ }).waitFor();

    await tabTo(kp, () => /Revenue board/.test(document.activeElement?.textContent ?? '') && document.activeElement?.tagName === 'A');
    assert((await focusVisible(kp)) === true, await focusVisible(kp));
    await kp.keyboard.press('Enter');
    await kp.getByRole('heading', { name: 'Revenue board' }).waitFor();
    await widgetsSettled(kp);

    // Add a widget: Enter on the button, the dialog takes focus and keeps it.
    await tabTo(kp, () => document.activeElement?.textContent?.trim() === 'Add widget');
    assert((await focusVisible(kp)) === true, await focusVisible(kp));
    await kp.keyboard.press('Enter');
    const dialog = kp.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Add a widget' }).waitFor();
    await kp.waitForFunction(() => document.activeElement?.closest('dialog[open]'));
    for (let i = 0; i < 25; i += 1) {
      await kp.keyboard.press('Tab');
      const inside = await kp.evaluate(() => Boolean(document.activeElement?.closest('dialog[open]')));
      assert(inside, `Tab #${i + 1} left the dialog: ${await kp.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))}`);
      const v = await focusVisible(kp);
      assert(v === true, v);
    }
    // Focus the title field and submit with Enter.
    await tabTo(kp, () => document.activeElement?.id === 'w-metric');
    await kp.keyboard.press('ArrowDown');
    await tabTo(kp, () => document.activeElement?.tagName === 'INPUT' && document.activeElement?.closest('dialog[open]') && /Title/.test(document.querySelector(`label[for="${document.activeElement.id}"]`)?.textContent ?? ''));
    await kp.keyboard.type('Typed with the keyboard');
    await kp.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    await kp.locator('[data-widget-type]', { hasText: 'Typed with the keyboard' }).waitFor();
    const back = await kp.evaluate(() => document.activeElement?.textContent?.trim());
    assert(back === 'Add widget', `focus went back to “${back}”, not to Add widget`);

    // Time range: arrow keys on the focused select.
    await tabTo(kp, () => document.activeElement?.id === 'range', null, { back: true });
    assert((await focusVisible(kp)) === true, await focusVisible(kp));
    await kp.keyboard.press('ArrowDown');
    await kp.waitForURL(/range=today/);
    await widgetsSettled(kp);

    // Share: Space opens, Escape closes, focus returns to the button.
    await tabTo(kp, () => document.activeElement?.textContent?.trim() === 'Share');
    await kp.keyboard.press('Space');
    await dialog.getByRole('heading', { name: /Share/ }).waitFor();
    await kp.waitForFunction(() => document.activeElement?.closest('dialog[open]'));
    await shot(kp, '36-keyboard-share-dialog');
    await kp.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    const afterShare = await kp.evaluate(() => document.activeElement?.textContent?.trim());
    assert(afterShare === 'Share', `focus after closing the share dialog: “${afterShare}”`);
    assert((await focusVisible(kp)) === true, await focusVisible(kp));
    await kctx.close();
    state.page = page;
  });

  await step('the pages logged no errors', async () => {
    const real = unexpectedErrors(consoleErrors).filter((e) => !/422|Unprocessable/.test(e));
    assert(real.length === 0, real.join('\n'));
  });
});
