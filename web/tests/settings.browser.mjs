// Browser test of the settings pages against a running Pulseboard.
//
//   PULSEBOARD_URL=http://127.0.0.1:8080 PULSEBOARD_DATA_DIR=./pulseboard-data node tests/settings.browser.mjs
//
// It signs an owner up, visits every settings page, invites a teammate, reads the
// invitation link from the mail the server wrote (the Mailbox page names the file,
// `{PULSEBOARD_DATA_DIR}/mail/{id}.eml`: the API does not return message bodies),
// signs the teammate up through it in a fresh browser, makes them a viewer and checks
// they see no edit controls, proves an API token works and stops working once revoked,
// creates a workspace and a store, adds the viewer to it, and checks the plan page.
// Screenshots 20–29 go to docs/screenshots/ (SCREENSHOT_DIR overrides). The server must
// run without a mail transport, with PULSEBOARD_DATA_DIR the same directory as the server's.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, assert, decodeQuotedPrintable, launchBrowser, run, shot, signUpByApi, step, unexpectedErrors, viewport, watchConsole } from './lib.mjs';

const DATA_DIR = process.env.PULSEBOARD_DATA_DIR ?? '';
const browser = await launchBrowser();
const consoleErrors = [];

const stamp = Date.now().toString(36);
const owner = { name: 'Olive Owner', email: `owner-${stamp}@example.com`, org: `Settings ${stamp}` };
const mate = { name: 'Theo Teammate', email: `mate-${stamp}@example.com`, password: 'another long passphrase' };
let inviteLink = '';

/** The password reset link mailed to `to` (straight to the transport: no Mailbox entry), waiting for it. */
async function resetLinkFromMailDir(to) {
  assert(DATA_DIR, 'set PULSEBOARD_DATA_DIR to the server’s data directory: the reset link is only in the mail file');
  const dir = join(DATA_DIR, 'mail');
  for (let i = 0; i < 100; i++) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.eml'))) {
      const eml = decodeQuotedPrintable(readFileSync(join(dir, name), 'utf8'));
      const m = /https?:\/\/\S+\/reset-password\/(pbr_[A-Za-z0-9_-]+)/.exec(eml);
      if (m && eml.includes(`To: ${to}`)) return `${BASE}/reset-password/${m[1]}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no reset mail to ${to} in ${dir}`);
}

/** The invitation link in the mail the server wrote for `to`, found through the Mailbox page. */
async function inviteLinkFromMailbox(page, to) {
  assert(DATA_DIR, 'set PULSEBOARD_DATA_DIR to the server’s data directory: the invitation link is only in the mail file');
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Mailbox' }).click();
  await page.getByRole('heading', { name: 'Mailbox', level: 1 }).waitFor();
  const item = page.locator(`[data-kind="invite"][data-to="${to}"]`);
  await item.waitFor();
  await item.getByText('Sent', { exact: true }).waitFor({ timeout: 30_000 });
  const id = await item.getAttribute('data-mail-id');
  assert(id && (await item.innerText()).includes(`mail/${id}.eml`), 'the mailbox row does not name its file');
  const eml = decodeQuotedPrintable(readFileSync(join(DATA_DIR, 'mail', `${id}.eml`), 'utf8'));
  const m = /https?:\/\/\S+\/invite\/(pbi_[A-Za-z0-9_-]+)/.exec(eml);
  assert(m, `no invitation link in the mail:\n${eml}`);
  return `${BASE}/invite/${m[1]}`;
}

/** Requests the page made on purpose to see the server's refusal; the browser logs them as console errors. */
const expectedRefusals = [];
function unexpected() {
  return unexpectedErrors(consoleErrors).filter((e) => {
    const m = /status of (\d{3})/.exec(e);
    return !(m && expectedRefusals.includes(Number(m[1])));
  });
}

await run(browser, async (state) => {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  state.page = page;
  watchConsole(page, consoleErrors);
  await signUpByApi(context, owner);

  await step('Settings is in the header and opens Members with the owner listed', async () => {
    await page.goto(`${BASE}/`);
    await page.getByRole('heading', { name: 'Dashboards' }).waitFor({ timeout: 15_000 });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.waitForURL(/\/settings\/members$/);
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    const row = page.locator(`[data-member="${owner.email}"]`);
    await row.waitFor();
    assert((await row.innerText()).includes(owner.name), 'the owner row does not name the owner');
    assert((await row.getByLabel(`Role for ${owner.name}`).inputValue()) === 'owner', 'the owner is not shown as owner');
    const nav = page.getByRole('navigation', { name: 'Settings' });
    for (const label of ['Integrations', 'Members', 'Workspaces & stores', 'API tokens', 'Plan & usage', 'Slack', 'Mailbox']) {
      assert((await nav.getByRole('link', { name: label, exact: true }).count()) === 1, `no "${label}" in the settings navigation`);
    }
  });

  await step('the last owner cannot demote themselves: the server says why', async () => {
    expectedRefusals.push(409);
    const row = page.locator(`[data-member="${owner.email}"]`);
    await row.getByLabel(`Role for ${owner.name}`).selectOption('admin');
    await row.getByRole('alert').getByText('an organization must keep at least one owner').waitFor();
    assert((await row.getByLabel(`Role for ${owner.name}`).inputValue()) === 'owner', 'the select does not show the role the server kept');
  });

  await step('inviting a teammate by email lists a pending invitation', async () => {
    await page.getByLabel('Email address').fill(mate.email);
    await page.getByLabel('Role', { exact: true }).selectOption('member');
    await page.getByRole('button', { name: 'Send invite' }).click();
    await page.getByText(`Invitation sent to ${mate.email}.`).waitFor();
    await page.locator(`[data-invite="${mate.email}"][data-state="pending"]`).waitFor();
    await page.mouse.move(0, 0);
    await shot(page, '20-settings-members', { fullPage: true });
  });

  await step('the Mailbox lists the invitation and the link is in the mail file', async () => {
    inviteLink = await inviteLinkFromMailbox(page, mate.email);
    await shot(page, '25-settings-mailbox', { fullPage: true });
  });

  await step('a Slack channel is added by its webhook URL, shown only as a hint, and removed', async () => {
    const secret = `s3cr3t${stamp}`;
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Slack' }).click();
    await page.getByRole('heading', { name: 'Slack', level: 1 }).waitFor();
    expectedRefusals.push(422);
    await page.getByLabel('Name').fill('#growth');
    await page.getByLabel('Webhook URL').fill(`https://hooks.slack.com.evil.example/services/T1/B1/${secret}`);
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.getByText('must be a Slack incoming-webhook URL').waitFor();
    await page.getByLabel('Webhook URL').fill(`https://hooks.slack.com/services/T0SMOKE/B0SMOKE/${secret}`);
    await page.getByRole('button', { name: 'Add channel' }).click();
    const row = page.locator('[data-channel="#growth"][data-state="active"]');
    await row.waitFor();
    assert((await row.innerText()).includes('…/T0SMOKE/B0SMOKE/****'), 'the channel does not show its webhook hint');
    assert(!(await page.content()).includes(secret), 'the webhook secret is on the page');
    await shot(page, '29-settings-slack', { fullPage: true });
    await row.getByRole('button', { name: 'Remove #growth' }).click();
    await page.getByRole('button', { name: 'Remove channel' }).click();
    await page.getByText('No Slack channels yet').waitFor();
  });

  const mateContext = await browser.newContext({ viewport });
  const matePage = await mateContext.newPage();
  watchConsole(matePage, consoleErrors);

  await step('a made-up invitation link says so', async () => {
    expectedRefusals.push(404);
    state.page = matePage;
    await matePage.goto(`${BASE}/invite/pbi_not_a_real_token`);
    await matePage.getByRole('heading', { name: 'Invitation not found' }).waitFor();
  });

  await step('the invitee opens the link in a fresh browser, signs up through it and sees the org', async () => {
    await matePage.goto(inviteLink);
    await matePage.getByRole('heading', { name: `Join ${owner.org} on Pulseboard` }).waitFor();
    const facts = await matePage.locator('dl').innerText();
    assert(facts.includes('Member') && facts.includes(mate.email), `the invite summary is wrong: ${facts}`);
    await matePage.mouse.move(0, 0);
    await shot(matePage, '26-invite-accept', { fullPage: true });
    await matePage.getByLabel('Your name').fill(mate.name);
    await matePage.getByLabel('Password').fill(mate.password);
    await matePage.getByRole('button', { name: 'Create account and join' }).click();
    await matePage.getByRole('heading', { name: 'Dashboards' }).waitFor({ timeout: 15_000 });
    const orgShown = await matePage.locator('#org-switcher option:checked').innerText();
    assert(orgShown === owner.org, `the invitee sees ${orgShown}, not ${owner.org}`);
  });

  await step('a used invitation link can no longer be used', async () => {
    expectedRefusals.push(410);
    await matePage.goto(inviteLink);
    await matePage.getByRole('heading', { name: 'This invitation can no longer be used' }).waitFor();
    await matePage.getByText('This invitation has already been used.').waitFor();
  });

  await step('the owner makes the new member a viewer', async () => {
    state.page = page;
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Members' }).click();
    const row = page.locator(`[data-member="${mate.email}"]`);
    await row.waitFor();
    await page.locator(`[data-invite="${mate.email}"][data-state="accepted"]`).waitFor();
    await row.getByLabel(`Role for ${mate.name}`).selectOption('viewer');
    await page.getByText(`${mate.name} is now a viewer.`).waitFor();
  });

  await step('as a viewer, the members page is read-only', async () => {
    state.page = matePage;
    await matePage.goto(`${BASE}/settings/members`);
    await matePage.locator(`[data-member="${owner.email}"]`).waitFor();
    await matePage.getByText('Only owners and admins can invite people').waitFor();
    const controls = await matePage.locator('[data-testid="members"] select, [data-testid="members"] button').count();
    assert(controls === 0, `the viewer sees ${controls} edit controls`);
    assert((await matePage.getByRole('button', { name: 'Send invite' }).count()) === 0, 'the viewer sees the invite form');
    assert((await matePage.getByRole('link', { name: 'Mailbox' }).count()) === 0, 'the viewer sees the Mailbox link');
    const badge = await matePage.locator(`[data-member="${mate.email}"]`).innerText();
    assert(badge.includes('Viewer'), `the viewer's own row does not say Viewer: ${badge}`);
    await matePage.mouse.move(0, 0);
    await shot(matePage, '21-settings-members-viewer', { fullPage: true });
  });

  await step('an API token is shown once, works as a Bearer token, and is refused once revoked', async () => {
    state.page = page;
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
    await page.getByText('No tokens yet').waitFor();
    await page.getByLabel('Token name').fill('Nightly export');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secretBox = page.getByTestId('token-secret');
    await secretBox.waitFor();
    await page.getByText('this is the only time Pulseboard shows it').waitFor();
    const secret = await secretBox.inputValue();
    assert(/^pbt_/.test(secret), `unexpected token format ${secret.slice(0, 6)}…`);
    await page.locator('[data-token="Nightly export"][data-state="active"]').waitFor();
    await page.mouse.move(0, 0);
    await shot(page, '22-settings-tokens', { fullPage: true });

    const ok = await fetch(`${BASE}/api/me`, { headers: { authorization: `Bearer ${secret}` } });
    assert(ok.status === 200, `GET /api/me with the token answered ${ok.status}`);
    const me = await ok.json();
    assert(me.user.email === owner.email, `the token acts as ${me.user.email}`);

    await page.getByRole('button', { name: 'Done' }).click();
    assert((await page.getByTestId('token-secret').count()) === 0, 'the secret is still on the page');
    await page.getByRole('button', { name: 'Revoke Nightly export' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
    await page.locator('[data-token="Nightly export"][data-state="revoked"]').waitFor();
    const refused = await fetch(`${BASE}/api/me`, { headers: { authorization: `Bearer ${secret}` } });
    assert(refused.status === 401, `GET /api/me with the revoked token answered ${refused.status}`);
  });

  await step('a workspace and a store are created; a bad currency is refused next to its field', async () => {
    expectedRefusals.push(422);
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Workspaces & stores' }).click();
    await page.locator('[data-workspace="Default"]').waitFor();
    await page.getByRole('button', { name: 'New workspace' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Workspace name').fill('Client Alpha');
    await dialog.getByRole('button', { name: 'Create workspace' }).click();
    const ws = page.locator('[data-workspace="Client Alpha"]');
    await ws.waitFor();
    await page.getByText('Workspace Client Alpha created.').waitFor();

    await ws.getByRole('button', { name: 'Add store to Client Alpha' }).click();
    await dialog.getByLabel('Store name').fill('Alpha EU shop');
    await dialog.getByLabel('Currency').fill('ZZZ');
    await dialog.getByLabel('Time zone').fill('Europe/Paris');
    await dialog.getByRole('button', { name: 'Create store' }).click();
    const currencyHelp = dialog.getByText(/is not an ISO 4217 currency code/);
    await currencyHelp.waitFor();
    assert((await dialog.getByLabel('Currency').getAttribute('aria-invalid')) === 'true', 'the currency field is not marked invalid');
    await dialog.getByLabel('Currency').fill('EUR');
    await dialog.getByRole('button', { name: 'Create store' }).click();
    const store = ws.locator('[data-store="Alpha EU shop"]');
    await store.waitFor();
    const text = await store.innerText();
    assert(text.includes('EUR') && text.includes('Europe/Paris'), `the new store row reads ${text}`);
    assert((await page.locator('#store-switcher option', { hasText: 'Alpha EU shop' }).count()) === 1, 'the store switcher does not list the new store');
    // With two workspaces the header offers a workspace switcher that narrows the stores.
    const workspaceSwitcher = page.getByRole('combobox', { name: 'Workspace', exact: true });
    await workspaceSwitcher.selectOption({ label: 'Client Alpha' });
    await page.waitForFunction(() => document.querySelectorAll('#store-switcher option').length === 1);
    const only = await page.locator('#store-switcher option').allInnerTexts();
    assert(only[0].includes('Alpha EU shop'), `stores listed for Client Alpha: ${only}`);
    await workspaceSwitcher.selectOption({ label: 'All workspaces' });
    await page.waitForFunction(() => document.querySelectorAll('#store-switcher option').length === 2);
    await page.mouse.move(0, 0);
    await shot(page, '23-settings-workspaces', { fullPage: true });
  });

  await step('adding the viewer to a workspace lets them see its store', async () => {
    const ws = page.locator('[data-workspace="Client Alpha"]');
    await ws.getByRole('button', { name: 'People in Client Alpha' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Nobody is added to this workspace yet.').waitFor();
    await dialog.getByLabel('Add a member of the organization').selectOption({ label: `${mate.name} (${mate.email})` });
    await dialog.getByLabel('As').selectOption('viewer');
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await dialog.locator(`[data-person="${mate.email}"]`).waitFor();
    assert((await dialog.getByLabel(`Workspace role for ${mate.name}`).inputValue()) === 'viewer', 'the workspace role is not viewer');
    await shot(page, '28-settings-workspace-people');
    await dialog.getByRole('button', { name: 'Close' }).click();

    await matePage.goto(`${BASE}/settings/workspaces`);
    await matePage.locator('[data-workspace="Client Alpha"] [data-store="Alpha EU shop"]').waitFor();
    assert((await matePage.locator('[data-workspace="Default"]').count()) === 0, 'the viewer sees a workspace they are not in');
    assert((await matePage.locator('[data-workspace="Client Alpha"] button').count()) === 0, 'the viewer sees workspace edit controls');
    assert((await matePage.locator('#store-switcher option', { hasText: 'Alpha EU shop' }).count()) === 1, 'the viewer’s store switcher does not list the store');
  });

  await step('the plan page shows usage, and the store cap as reached', async () => {
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Plan & usage' }).click();
    await page.getByRole('heading', { name: 'Plan & usage', level: 1 }).waitFor();
    const stores = page.locator('[data-usage="stores"]');
    await stores.waitFor();
    const text = await stores.innerText();
    assert(/2 of 2/.test(text), `stores usage reads ${text}`);
    assert((await stores.getAttribute('data-state')) === 'full', 'two of two stores is not shown as full');
    await page.getByText('Stores limit reached').waitFor();
    assert((await page.getByRole('progressbar').count()) === 3, 'expected three usage bars');
    assert((await page.locator('[data-usage="events"]').innerText()).includes('of 1,000,000'), 'no monthly event cap shown');
    await shot(page, '24-settings-plan', { fullPage: true });
  });

  await step('someone who already has an account accepts an invitation while signed in', async () => {
    const existing = { name: 'Ada Admin', email: `ada-${stamp}@example.com`, org: `Ada ${stamp}` };
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Members' }).click();
    await page.getByLabel('Email address').fill(existing.email);
    await page.getByLabel('Role', { exact: true }).selectOption('admin');
    await page.getByRole('button', { name: 'Send invite' }).click();
    await page.locator(`[data-invite="${existing.email}"][data-state="pending"]`).waitFor();
    const link = await inviteLinkFromMailbox(page, existing.email);

    const adaContext = await browser.newContext({ viewport });
    const adaPage = await adaContext.newPage();
    watchConsole(adaPage, consoleErrors);
    state.page = adaPage;
    await signUpByApi(adaContext, existing);
    await adaPage.goto(link);
    await adaPage.getByText(`Signed in as ${existing.email}`).waitFor();
    await adaPage.getByRole('button', { name: `Accept and join ${owner.org}` }).click();
    await adaPage.getByRole('heading', { name: 'Dashboards' }).waitFor({ timeout: 15_000 });
    const orgShown = await adaPage.locator('#org-switcher option:checked').innerText();
    assert(orgShown === owner.org, `after accepting, the header shows ${orgShown}, not ${owner.org}`);
    assert((await adaPage.locator('#org-switcher option').count()) === 2, 'the new admin does not see both organizations');
    await adaContext.close();
    state.page = page;
  });

  await step('Integrations still lives at /settings/integrations, inside the settings area', async () => {
    await page.goto(`${BASE}/settings/integrations`);
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: 'Settings' }).waitFor();
  });

  await step('on a phone-width screen the settings pages do not scroll sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['members', 'workspaces', 'tokens', 'plan', 'slack', 'mailbox']) {
      await page.goto(`${BASE}/settings/${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `/settings/${path} is ${overflow}px wider than the phone screen`);
      if (path === 'members') await shot(page, '27-settings-members-phone', { fullPage: true });
    }
    await page.setViewportSize(viewport);
  });

  await step('a teammate who forgot their password resets it by email and is signed out everywhere', async () => {
    const resetContext = await browser.newContext({ viewport });
    const rp = await resetContext.newPage();
    await rp.goto(`${BASE}/login`);
    await rp.getByRole('link', { name: 'Forgot your password?' }).click();
    await rp.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await rp.getByLabel('Email').fill(mate.email);
    await rp.getByRole('button', { name: 'Email me a link' }).click();
    await rp.getByText('Check your email').waitFor();
    await shot(rp, '29a-forgot-password');
    await rp.goto(await resetLinkFromMailDir(mate.email));
    await rp.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    mate.password = 'a fresh long passphrase';
    await rp.getByLabel('New password', { exact: true }).fill(mate.password);
    await rp.getByLabel('New password again').fill(mate.password);
    await rp.getByRole('button', { name: 'Set password' }).click();
    await rp.getByText('Log in with your new password.').waitFor();
    await shot(rp, '29b-reset-password-done');
    // The teammate's other browser was signed out.
    const me = await matePage.request.get(`${BASE}/api/me`);
    assert(me.status() === 401, `the old session still works after a reset (${me.status()})`);
    await rp.getByLabel('Email').fill(mate.email);
    await rp.getByLabel('Password').fill(mate.password);
    await rp.getByRole('button', { name: 'Log in' }).click();
    await rp.getByRole('heading', { name: 'Dashboards' }).waitFor({ timeout: 15_000 });
    await resetContext.close();
  });

  await step('no unexpected console errors', async () => {
    const errors = unexpected();
    assert(errors.length === 0, `console errors:\n${errors.join('\n')}`);
  });

  await mateContext.close();
});
