// The web UI in a real browser: Debian's headless Chromium driven by playwright-core,
// against a `switchboard serve --demo` whose address is the first argument (tests/ui.rs
// starts it). Screenshots go to the directory named second. Exit status 0 = every check
// passed; each failure is printed with what was seen.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { browserFor } from './lib.mjs';

const base = process.argv[2];
const artifacts = process.argv[3] || 'target/ui-artifacts';
mkdirSync(artifacts, { recursive: true });

// What each demo role's sidebar holds, by the API's rules: the super admin everything, the
// tenant admin everything but tenants and packages, the agent (fpbx_extension and
// call_queues, follow_me) and the end user (fax, fpbx_extension, follow_me) the PBX pages of their
// tokens (their own objects) and their account and records.
const MENUS = {
  admin: ['Dashboard', 'Tenants', 'Users', 'Branding', 'Announcements', 'Activity log', 'Trunks', 'Outbound routes', 'DID numbers', 'Extensions', 'Devices',
    'Device profiles', 'Ring groups', 'Call queues', 'Queue monitor', 'IVR menus', 'Voicemail', 'Conferences', 'Follow me', 'Inbound routes', 'Time conditions', 'Call flows',
    'Call block', 'Music on hold', 'System recordings', 'Feature codes', 'Realtime monitor', 'Route explain', 'Call records', 'Statistics', 'Packages', 'Subscriptions', 'Rate plans',
    'Payments', 'Billing quota', 'Billing usage', 'My account'],
  tenant: ['Dashboard', 'Users', 'Branding', 'Announcements', 'Activity log', 'Trunks', 'Outbound routes', 'DID numbers', 'Extensions', 'Devices',
    'Device profiles', 'Ring groups', 'Call queues', 'Queue monitor', 'IVR menus', 'Voicemail', 'Conferences', 'Follow me', 'Inbound routes', 'Time conditions', 'Call flows',
    'Call block', 'Music on hold', 'System recordings', 'Feature codes', 'Realtime monitor', 'Route explain', 'Send fax', 'Outbound fax', 'Inbound fax', 'Fax documents', 'Bulk fax', 'Cover pages', 'My DIDs', 'Fax settings', 'Contacts', 'Contact groups', 'Import contacts', 'Contact DNC',
    'Call records', 'Statistics', 'Rate plans', 'Payments', 'Billing quota', 'Billing usage', 'My account'],
  agent: ['Dashboard', 'Extensions', 'Call queues', 'Queue monitor', 'Follow me', 'Feature codes', 'Call records', 'Billing quota', 'My account'],
  user: ['Dashboard', 'Extensions', 'Follow me', 'Feature codes', 'Send fax', 'Outbound fax', 'Inbound fax', 'Fax documents', 'Bulk fax', 'Cover pages', 'My DIDs', 'Call records', 'Billing quota',
    'My account'],
};

const { check, open, login, api, finish } = browserFor(base);

for (const who of Object.keys(MENUS)) {
  await check(`${who} signs in and sees exactly their menu`, async () => {
    const { context, page, errors } = await open();
    await login(page, who);
    const items = await page.locator('#nav a').allTextContents();
    assert.deepEqual(items, MENUS[who]);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

await check('a forbidden page reached by URL shows the API\'s refusal', async () => {
  const { context, page } = await open();
  await login(page, 'agent');
  await page.goto('/#/r/trunks');
  const alert = page.locator('.refusal');
  await alert.waitFor();
  const text = await alert.textContent();
  assert.match(text, /^Not allowed: /);
  const api403 = await api('GET', '/trunks', null, 'agent');
  assert.equal(api403.status, 403);
  assert.ok(text.includes(api403.body.message), `${text} vs ${api403.body.message}`);
  await context.close();
});

await check('a tenant admin creates an extension, a ring group and an IVR through the forms', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  // A validation error appears beside its field.
  await page.goto('/#/r/extensions/new');
  await page.getByLabel('Number *').fill('12');
  await page.getByRole('button', { name: 'Save' }).click();
  const err = page.locator('.field[data-field="number"] .error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /digit/);
  assert.equal(await page.locator('.field.invalid').count(), 1);
  // Then a good one.
  await page.getByLabel('Number *').fill('1077');
  await page.getByLabel('Display name').fill('Browser Made');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /^#\/r\/extensions\/\d+$/.test(location.hash));
  const ext = (await api('GET', '/extensions?number=1077', null, 'tenant')).body.items[0];
  assert.equal(ext.display_name, 'Browser Made');

  await page.goto('/#/r/ring-groups/new');
  await page.getByLabel('Name *').fill('Browser Group');
  await page.getByLabel('Number *').fill('6077');
  // Members are picked from the tenant's extensions, by number and name.
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByLabel('Member 1', { exact: true }).selectOption({ label: '1077 · Browser Made' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /^#\/r\/ring-groups\/\d+$/.test(location.hash));
  const rg = (await api('GET', '/ring-groups?q=Browser', null, 'tenant')).body.items[0];
  assert.equal(rg.number, '6077');
  assert.deepEqual(rg.members.map((m) => m.extension_id), [ext.id]);

  await page.goto('/#/r/ivr-menus/new');
  await page.getByLabel('Name *').fill('Browser IVR');
  await page.getByLabel(/^Number/).fill('5077');
  // The digit → destination table: two rows, the second moved above the first.
  await page.getByRole('button', { name: 'Add option' }).click();
  await page.getByLabel('Key 1', { exact: true }).selectOption('1');
  await page.getByLabel('Destination 1 type').selectOption('ring_group');
  await page.getByLabel('Destination 1 ring group').selectOption({ label: '6077 · Browser Group' });
  await page.getByRole('button', { name: 'Add option' }).click();
  await page.getByLabel('Key 2', { exact: true }).selectOption('0');
  await page.getByLabel('Destination 2 type').selectOption('external');
  await page.getByLabel('Destination 2 number').fill('+12125550100');
  await page.getByRole('button', { name: 'Move option 2 up' }).click();
  // A destination outside the table: the invalid-input destination, a voicemail box.
  await page.getByLabel('After too many wrong keys type').selectOption('voicemail');
  const vm = page.getByLabel('After too many wrong keys voicemail');
  await vm.locator('option').nth(1).waitFor({ state: 'attached' });
  const vmId = Number(await vm.locator('option').nth(1).getAttribute('value'));
  await vm.selectOption(String(vmId));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /^#\/r\/ivr-menus\/\d+$/.test(location.hash));
  const ivr = (await api('GET', '/ivr-menus?q=Browser', null, 'tenant')).body.items[0];
  assert.deepEqual(ivr.options, [
    { digit: '0', destination: { type: 'external', number: '+12125550100' } },
    { digit: '1', destination: { type: 'ring_group', id: rg.id } },
  ]);
  assert.deepEqual(ivr.invalid_destination, { type: 'voicemail', id: vmId });
  // Reopened, the table shows what was saved.
  await page.reload();
  await page.getByLabel('Destination 2 ring group').waitFor();
  assert.equal(await page.getByLabel('Destination 2 ring group').inputValue(), String(rg.id));
  assert.equal(await page.getByLabel('Destination 1 number').inputValue(), '+12125550100');
  // The browser logs the refused save (422) it was asked to make; nothing else.
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
  await context.close();
});

await check('a reference whose list this user may not read is typed as an id', async () => {
  // An agent edits call queues (call_queues) but may not list users: a queue agent's user
  // is an id box; the queue list it may read stays a select.
  const { context, page, errors } = await open();
  await login(page, 'agent');
  assert.equal((await api('GET', '/users', null, 'agent')).status, 403);
  await page.goto('/#/r/call-queues/new');
  await page.getByRole('button', { name: 'Add agent' }).click();
  const user = page.getByLabel('Agent 1', { exact: true });
  await page.waitForFunction(() => document.querySelector('[aria-label="Agent 1"]')?.tagName === 'INPUT');
  assert.equal(await user.getAttribute('type'), 'number');
  const listed = page.waitForResponse((r) => r.url().includes('/api/v1/call-queues?') && r.status() === 200);
  await page.getByLabel('After the longest wait type').selectOption('queue');
  await listed;
  assert.equal(await page.getByLabel('After the longest wait queue').evaluate((e) => e.tagName), 'SELECT');
  assert.deepEqual(errors.filter((e) => !e.includes('status of 403')), []);
  await context.close();
});

await check('permission checkboxes: a child ticks its parent, a parent clears its children', async () => {
  const { context, page } = await open();
  await login(page, 'tenant');
  await page.goto('/#/users/new');
  const box = (t) => page.locator(`#perm-${t}`);
  await box('devices').waitFor();
  assert.equal(await box('fpbx_extension').isChecked(), false);
  await box('devices').check();
  assert.equal(await box('fpbx_extension').isChecked(), true, 'ticking Devices ticks Extensions');
  await box('ring_groups').check();
  // The slot allocation shows for a ticked PBX permission, with what the package leaves.
  assert.equal(await page.locator('#alloc-devices').isVisible(), true);
  assert.match(await page.locator('#avail-devices').textContent(), /^Available: \d+$/);
  await box('fpbx_extension').uncheck();
  assert.equal(await box('devices').isChecked(), false);
  assert.equal(await box('ring_groups').isChecked(), false);
  assert.equal(await page.locator('#alloc-devices').isVisible(), false);
  // Only the tenant's own tokens are offered, grouped Fax / PBX / Contacts.
  assert.deepEqual(await page.locator('.perm-group strong').allTextContents(), ['Fax', 'PBX', 'Contacts']);
  await context.close();
});

await check('a payment made through the API shows in the header balance within a refresh', async () => {
  const { context, page } = await open();
  await login(page, 'tenant');
  const before = await page.locator('#balance').textContent();
  const me = (await api('GET', '/me', null, 'tenant')).body;
  const paid = await api('POST', '/payments', { tenant_id: me.tenant.id, amount: 25_000_000, payment_type: 'cash', note: 'ui test' });
  assert.equal(paid.status, 201, JSON.stringify(paid.body));
  const credit = (await api('GET', '/credit', null, 'tenant')).body;
  const want = `Balance ${(credit.balance / 1e6).toFixed(2)}`;
  assert.notEqual(before, want);
  await page.waitForFunction((w) => document.getElementById('balance').textContent === w, want, { timeout: 12_000 });
  await context.close();
});

await check('the manifest and the service worker are registered', async () => {
  const { context, page } = await open();
  await page.goto('/');
  const href = await page.locator('link[rel=manifest]').getAttribute('href');
  const manifest = await (await fetch(`${base}${href}`)).json();
  assert.equal(manifest.display, 'standalone');
  assert.ok(manifest.icons.some((i) => i.sizes === '512x512'));
  const active = await page.evaluate(async () => (await navigator.serviceWorker.ready).active.scriptURL);
  assert.ok(active.endsWith('/sw.js'), active);
  await context.close();
});

for (const who of ['admin', 'tenant', 'user']) {
  await check(`every page of the ${who}'s menu loads with no console errors`, async () => {
    const { context, page, errors } = await open();
    await login(page, who);
    const links = await page.locator('#nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const href of links) {
      await page.goto(`/${href}`);
      await page.waitForFunction(() => !document.querySelector('#main').textContent.includes('Loading'));
      await page.locator('#main h1').waitFor();
      assert.equal(await page.locator('#main .refusal').count(), 0, `${href} shows a refusal`);
    }
    assert.deepEqual(errors, []);
    await context.close();
  });
}

await check('the softphone opens prefilled from My Account', async () => {
  const { context, page, errors } = await open();
  await login(page, 'agent');
  await page.getByRole('button', { name: 'Phone' }).click();
  await page.locator('#sp-extension').waitFor();
  assert.equal(await page.locator('#sp-extension').inputValue(), '1002');
  assert.equal(await page.locator('#sp-domain').inputValue(), 'acme.switchboard.test');
  assert.equal(await page.locator('#sp-ws').inputValue(), 'wss://acme.switchboard.test:7443');
  // JsSIP loads on demand from /vendor/ (static/vendor/, built into the binary).
  const ok = await page.evaluate(async () => typeof (await import('/vendor/jssip.mjs')).default.UA);
  assert.equal(ok, 'function');
  assert.deepEqual(errors, []);
  await context.close();
});

await check('the realtime monitor follows the switch live (the SSE feed)', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/realtime');
  await page.getByText('Switch: online').waitFor();
  const rows = page.locator('table').nth(1).locator('tbody tr');
  assert.equal(await rows.filter({ hasText: '1003@' }).count(), 0);
  const navigations = [];
  page.on('framenavigated', (f) => navigations.push(f.url()));
  // tests/ui.rs registers the phone on the simulated switch when it reads this line.
  console.log('UI-NEED registration 1003');
  await rows.filter({ hasText: '1003@acme.switchboard.test' }).waitFor({ timeout: 10_000 });
  assert.deepEqual(navigations, [], 'updated in place, not reloaded');
  assert.deepEqual(errors, []);
  await context.close();
});

await check('the queue monitor follows agents and callers live; an agent sets their status from the header of any page', async () => {
  const agentId = (await api('GET', '/me', null, 'agent')).body.user.id;
  const made = await api('POST', '/call-queues', { name: 'Live board', number: '7070', max_wait: 120, agents: [{ user_id: agentId, tier: 1 }] }, 'tenant');
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const board = await open();
  await login(board.page, 'tenant');
  await board.page.goto('/#/queues');
  const card = board.page.locator('section[aria-label="Queue Live board"]');
  await card.waitFor();
  const agentRow = card.locator('tbody tr', { hasText: 'agent' });
  await agentRow.filter({ hasText: 'Logged out' }).waitFor();
  const navigations = [];
  board.page.on('framenavigated', (f) => navigations.push(f.url()));

  // The agent, on their call records page: the header's status control is there.
  const agent = await open();
  await login(agent.page, 'agent');
  await agent.page.goto('/#/cdrs');
  const choice = agent.page.getByLabel('My queue status');
  await choice.waitFor();
  assert.equal(await choice.inputValue(), 'logged_out');
  await choice.selectOption('on_break');
  await agentRow.filter({ hasText: 'On break' }).waitFor({ timeout: 10_000 });
  assert.equal((await api('GET', '/queues/me', null, 'agent')).body.status, 'on_break');

  // A caller waits (nobody available), is shown in line, then gives up.
  console.log('UI-NEED queue-caller 7070');
  const waiting = card.locator('tbody tr', { hasText: '1004' });
  await waiting.waitFor({ timeout: 10_000 });
  await waiting.waitFor({ state: 'detached', timeout: 15_000 });
  await card.getByText(/1 abandoned/).waitFor({ timeout: 5_000 });
  assert.deepEqual(navigations, [], 'updated in place, not reloaded');

  // An end user answers no queue: no control in their header.
  const user = await open();
  await login(user.page, 'user');
  assert.equal(await user.page.locator('#agent-status').isHidden(), true);
  assert.deepEqual([...board.errors, ...agent.errors, ...user.errors], []);
  await Promise.all([board.context.close(), agent.context.close(), user.context.close()]);
});

/// A one-page PDF (Helvetica text and a black box), its cross-reference table computed.
function tinyPdf(text) {
  const content = `BT /F1 24 Tf 72 700 Td (${text}) Tj ET 0 g 72 400 200 100 re f`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

await check('a fax sent from the Send fax page goes Queued to Sent on Outbound fax, one from Fax documents too; My DIDs assigns a fax line; a received fax opens in the page', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/fax/send');
  // A file that is not a PDF: the API's reason, beside the form, and nothing queued.
  await page.getByLabel('Fax number').fill('+12125551234');
  await page.getByLabel('PDF to upload').setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.getByRole('button', { name: 'Send fax' }).click();
  await page.getByRole('alert').filter({ hasText: 'not a PDF' }).waitFor();
  assert.equal((await api('GET', '/faxes/outbound', null, 'tenant')).body.total, 0);
  await page.getByLabel('PDF to upload').setInputFiles({ name: 'invoice.pdf', mimeType: 'application/pdf', buffer: tinyPdf('Invoice 42') });
  await page.getByLabel('Subject').fill('Invoice 42');
  await page.getByRole('button', { name: 'Send fax' }).click();
  await page.waitForURL(/#\/fax\/outbound/);
  const row = page.locator('table[aria-label="Outbound faxes"] tbody tr', { hasText: 'Invoice 42' });
  await row.waitFor();
  await page.locator('table[aria-label="Outbound faxes"] tbody tr[data-status="sent"]', { hasText: 'Invoice 42' }).waitFor({ timeout: 20_000 });
  assert.match(await row.textContent(), /Sent/);

  // Fax documents: a PDF kept once, then sent by choosing it ("Send" on its row).
  await page.goto('/#/fax/documents');
  await page.getByText('No documents yet').waitFor();
  await page.getByLabel('Name').fill('Price list');
  await page.getByLabel('PDF', { exact: true }).setInputFiles({ name: 'prices.pdf', mimeType: 'application/pdf', buffer: tinyPdf('Prices 2027') });
  await page.getByRole('button', { name: 'Add document' }).click();
  const docRow = page.locator('table[aria-label="Fax documents"] tbody tr', { hasText: 'Price list' });
  await docRow.waitFor();
  assert.match(await docRow.textContent(), /Price list1/);
  await docRow.getByRole('link', { name: 'Send' }).click();
  await page.waitForURL(/#\/fax\/send/);
  assert.equal(await page.getByLabel('Document', { exact: true }).inputValue(), String((await api('GET', '/fax-documents', null, 'tenant')).body.items[0].id));
  assert.equal(await page.getByLabel('PDF to upload').isVisible(), false, 'no upload asked for a kept document');
  await page.getByLabel('Fax number').fill('+12125551235');
  await page.getByLabel('Subject').fill('Prices');
  await page.getByRole('button', { name: 'Send fax' }).click();
  await page.waitForURL(/#\/fax\/outbound/);
  await page.locator('table[aria-label="Outbound faxes"] tbody tr[data-status="sent"]', { hasText: 'Prices' }).waitFor({ timeout: 20_000 });

  // A fax line: extension 1900 (type fax), assigned the support DID on My DIDs; the switch
  // brings a fax in.
  const ext = await api('POST', '/extensions', { number: '1900', display_name: 'Fax line', type: 'fax' }, 'tenant');
  assert.equal(ext.status, 201, JSON.stringify(ext.body));
  await page.goto('/#/fax/dids');
  const didRow = page.locator('table[aria-label="My DIDs"] tbody tr', { hasText: '+12125550101' });
  await didRow.waitFor();
  assert.doesNotMatch(await didRow.textContent(), /Fax line 1900/);
  await didRow.getByLabel('Fax line for +12125550101').selectOption(String(ext.body.id));
  await didRow.getByRole('button', { name: 'Assign' }).click();
  await page.getByRole('status').filter({ hasText: '+12125550101 now goes to Fax line 1900 (Fax line)' }).waitFor();
  assert.match(await didRow.textContent(), /Fax line 1900 \(Fax line\)Yes/);
  console.log('UI-NEED fax-in +12125550101');
  await page.goto('/#/fax/inbound');
  for (let i = 0; i < 40 && !(await page.locator('table[aria-label="Inbound faxes"] tbody tr').count()); i++) {
    await page.waitForTimeout(500);
    await page.goto('/#/fax/settings');
    await page.goto('/#/fax/inbound');
  }
  const inRow = page.locator('table[aria-label="Inbound faxes"] tbody tr').first();
  assert.match(await inRow.textContent(), /Received/);
  await inRow.getByRole('button', { name: 'Open' }).click();
  const frame = page.locator('iframe.pdf-preview');
  await frame.waitFor();
  assert.match(await frame.getAttribute('src'), /^blob:/);
  // The dashboard counts them: one received, one sent.
  await page.goto('/#/');
  const stats = page.getByLabel('Statistics');
  await stats.getByText('Faxes received').waitFor();
  assert.match(await stats.textContent(), /1Faxes received/);
  assert.match(await stats.textContent(), /2Faxes sent/);
  // The quota card's fax pages moved: two pages sent and one received, each charged once.
  await page.goto('/#/quota');
  const faxPages = (await api('GET', '/quota', null, 'tenant')).body.usage.find((u) => u.kind === 'fax_pages');
  assert.equal(faxPages.used, 3, JSON.stringify(faxPages));
  await page.locator('[data-card="Fax pages this month"]').waitFor();
  assert.match(await page.locator('[data-card="Fax pages this month"]').textContent(), new RegExp(`Fax pages this month: 3 of ${faxPages.allocated}`));
  // The refused upload's 422 is the only one.
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
  await context.close();
});

await check('fax contacts and a contact group are made through the forms, the group picking the contact by number and name', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/r/fax-contacts/new');
  await page.getByLabel('Name *').fill('Acme Legal');
  await page.getByLabel('Fax number *').fill('+1 415 555 0142');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /^#\/r\/fax-contacts\/\d+$/.test(location.hash));
  const contact = (await api('GET', '/fax-contacts?q=Legal', null, 'tenant')).body.items[0];
  assert.equal(contact.fax, '+14155550142');
  await page.goto('/#/r/fax-groups/new');
  await page.getByLabel('Name *').fill('Law firms');
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByLabel('Contact 1').selectOption({ label: '+14155550142 · Acme Legal' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /^#\/r\/fax-groups\/\d+$/.test(location.hash));
  const group = (await api('GET', '/fax-groups?q=Law', null, 'tenant')).body.items[0];
  assert.deepEqual(group.members.map((m) => m.contact_id), [contact.id]);
  // A CSV with bad rows, into the group: the report names them.
  await page.goto('/#/fax/import');
  await page.getByLabel('CSV file (name, company, fax, email, notes)').setInputFiles({ name: 'c.csv', mimeType: 'text/csv',
    buffer: Buffer.from('name,company,fax,email,notes\nBeta LLP,,+14155550143,,\nNo Number,,12,,\nAcme Legal Renamed,,+14155550142,,\n') });
  await page.getByLabel('Add them to the group').selectOption({ label: 'Law firms' });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.locator('[aria-live="polite"] p').filter({ hasText: /imported|not|refused|error/i }).waitFor();
  assert.equal(await page.locator('[aria-live="polite"] p').first().textContent(), '1 imported, 1 updated, 1 skipped.');
  assert.match(await page.locator('table[aria-label="Skipped rows"] tbody').textContent(), /^2fax: /);
  const after = (await api('GET', `/fax-groups/${group.id}`, null, 'tenant')).body;
  assert.equal(after.members.length, 2);
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
  await context.close();
});

await check('Contact DNC: a number added on the page is refused on Send fax; an imported list reports its bad rows', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/fax/dnc');
  await page.getByText('No numbers listed').waitFor();
  await page.getByLabel('Number', { exact: true }).fill('+1 212 555 7777');
  await page.getByLabel('Note', { exact: true }).fill('asked us to stop');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.locator('table[aria-label="Do not contact"] tbody tr', { hasText: '+12125557777' }).waitFor();
  await page.getByLabel('CSV file (number, prefix, note)').setInputFiles({ name: 'dnc.csv', mimeType: 'text/csv',
    buffer: Buffer.from('number,prefix,note\n+442079460000,,London\nnot a number,,\n+1900,1,premium\n') });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByText('2 added, 0 already listed, 1 refused.').waitFor();
  assert.match(await page.locator('ul.refused').textContent(), /Row 2: must be/);
  assert.equal(await page.locator('table[aria-label="Do not contact"] tbody tr').count(), 3);
  await page.goto('/#/fax/send');
  await page.getByLabel('Fax number').fill('+12125557777');
  await page.getByLabel('PDF to upload').setInputFiles({ name: 'x.pdf', mimeType: 'application/pdf', buffer: tinyPdf('Not for them') });
  await page.getByRole('button', { name: 'Send fax' }).click();
  await page.getByRole('alert').filter({ hasText: 'on the do-not-contact list (+12125557777)' }).waitFor();
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
  // Off the list again, for the checks after this one.
  for (const d of (await api('GET', '/fax-dnc', null, 'tenant')).body.items) await api('DELETE', `/fax-dnc/${d.id}`, null, 'tenant');
  await context.close();
});

await check('Bulk fax: a default cover page made on its form and previewed; a campaign to a group and a list runs, its bar fills, its report names each recipient', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/r/fax-cover-pages/new');
  await page.getByLabel('Name *').fill('Standard');
  await page.getByLabel('Text', { exact: true }).fill('To: {{recipient_name}} ({{recipient_fax}})\nFrom: {{sender_company}}\n{{message}}');
  await page.getByLabel('Default', { exact: true }).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /^#\/r\/fax-cover-pages\/\d+$/.test(location.hash));
  await page.goto('/#/fax/campaigns');
  await page.getByText('No campaigns yet').waitFor();
  await page.getByLabel('Program name').fill('Spring letters');
  await page.getByLabel('Document', { exact: true }).selectOption({ index: 1 });
  assert.equal(await page.locator('#fc-cover option:checked').textContent(), 'Standard', 'the default cover page is chosen');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.locator('iframe[title="Cover page preview"]').waitFor();
  await page.getByLabel('Law firms').check();
  await page.getByLabel('or a list (CSV: number, name, company)').setInputFiles({ name: 'list.csv', mimeType: 'text/csv',
    buffer: Buffer.from('number,name,company\n+12125550177,Zed Roe,Zco\nnot a number,Bad,\n') });
  // Any hour of any day: the check runs whenever CI does.
  await page.getByLabel('Send from').fill('00:00');
  await page.getByLabel('until').fill('00:00');
  for (const d of ['Sat', 'Sun']) await page.getByLabel(d, { exact: true }).check();
  await page.getByRole('button', { name: 'Submit' }).click();
  await page.getByText('"Spring letters" made: 3 to fax, 1 skipped.').waitFor();
  const row = page.locator('table[aria-label="Fax campaigns"] tbody tr', { hasText: 'Spring letters' });
  await page.locator('table[aria-label="Fax campaigns"] tbody tr[data-status="completed"]', { hasText: 'Spring letters' }).waitFor({ timeout: 60_000 });
  const bar = row.locator('progress');
  assert.deepEqual([await bar.getAttribute('max'), await bar.evaluate((p) => String(p.value))], ['4', '4'], 'the bar is full');
  assert.deepEqual(await row.locator('td').evaluateAll((tds) => tds.slice(3, 8).map((t) => t.textContent)), ['4', '4', '3', '0', '1']);
  await row.getByRole('button', { name: 'Report' }).click();
  const recipients = page.locator('table[aria-label="Recipients"] tbody tr');
  await recipients.filter({ hasText: 'Sent' }).nth(2).waitFor();
  const states = await recipients.evaluateAll((rows) => rows.map((r) => [r.children[0].textContent, r.children[3].textContent]));
  assert.deepEqual(states.map(([, s]) => s).sort(), ['Sent', 'Sent', 'Sent', 'Skipped'], JSON.stringify(states));
  assert.match(await recipients.filter({ hasText: 'Skipped' }).textContent(), /invalid number/);
  // What went out: the cover page first, filled in for each recipient.
  const sent = (await api('GET', '/faxes/outbound?per_page=100', null, 'tenant')).body.items.filter((f) => f.number === '+12125550177');
  assert.equal(sent.length, 1);
  assert.equal(sent[0].pages, 2, 'the cover page and the one-page document');
  assert.deepEqual(errors, []);
  await context.close();
  // An end user picks the tenant's cover page on Send fax, and cannot open it to change it.
  const u = await open();
  await login(u.page, 'user');
  await u.page.goto('/#/fax/send');
  assert.equal(await u.page.locator('#fax-cover option:checked').textContent(), 'Standard');
  await u.page.goto('/#/r/fax-cover-pages');
  const shared = u.page.locator('tr', { hasText: 'Standard' });
  await shared.waitFor();
  assert.equal(await shared.locator('a').count(), 0);
  assert.match(await shared.textContent(), /the tenant's/);
  assert.deepEqual(u.errors, []);
  await u.context.close();
});

await check('two tabs whose access token expired refresh once between them and keep the session; the rotated token is stored', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  const second = await context.newPage();
  await second.goto('/');
  await second.locator('#nav a').first().waitFor();
  const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.tokens')));
  const before = await stored();
  // Both tabs share the stored tokens; an access token the server refuses makes each one's
  // next call refresh. A refresh token is spent on use: were both tabs to spend the same
  // one, the second use would revoke the session as stolen.
  await page.evaluate(() => {
    const t = JSON.parse(localStorage.getItem('switchboard.tokens'));
    localStorage.setItem('switchboard.tokens', JSON.stringify({ ...t, access: 'expired' }));
  });
  const me = (p) => p.evaluate(async () => (await (await import('/app/api.js')).get('/me')).user.email);
  assert.deepEqual(await Promise.all([me(page), me(second)]), ['tenant@acme.test', 'tenant@acme.test']);
  const after = await stored();
  assert.notEqual(after.refresh, before.refresh, 'the refresh token handed out by the refresh is stored');
  assert.equal(await me(page), 'tenant@acme.test', 'and the session goes on');
  const spent = await fetch(`${base}/api/v1/auth/refresh`, { method: 'POST', body: JSON.stringify({ refresh_token: before.refresh }) });
  assert.equal(spent.status, 401, 'the old refresh token was spent');
  // The refused access token is logged by the browser as a failed load; nothing else.
  assert.deepEqual(errors.filter((e) => !e.includes('status of 401')), []);
  await context.close();
});

await check('subscriptions: a package chosen on a row reassigns the tenant at once', async () => {
  const { context, page, errors } = await open();
  const gold = await api('POST', '/packages', { name: 'Gold 50', extensions: 50, devices: 50, ring_groups: 10, voice_minutes: 5000 });
  assert.equal(gold.status, 201, JSON.stringify(gold.body));
  await login(page, 'admin');
  await page.goto('/#/subscriptions');
  const pick = page.getByLabel('Package for Acme Corp');
  assert.equal(await pick.locator('option:checked').textContent(), 'Business 20');
  await pick.selectOption({ label: 'Gold 50' });
  await page.getByText('Acme Corp is now on Gold 50').waitFor();
  const subs = (await api('GET', '/subscriptions?tenant_id=1')).body.items.filter((x) => x.active);
  assert.deepEqual(subs.map((x) => x.package), ['Gold 50']);
  const ext = (await api('GET', '/quota?tenant_id=1')).body.slots.find((x) => x.slot === 'extensions');
  assert.equal(ext.limit, 50);
  // And back, so the other checks see the demo's package.
  await pick.selectOption({ label: 'Business 20' });
  await page.getByText('Acme Corp is now on Business 20').waitFor();
  // A package deleted after the page opened: the API refuses, the row says why and shows
  // the package the tenant is still on.
  const gone = await api('POST', '/packages', { name: 'Withdrawn' });
  await page.reload();
  await pick.locator('option', { hasText: 'Withdrawn' }).waitFor({ state: 'attached' });
  assert.equal((await api('DELETE', `/packages/${gone.body.id}`)).status, 204);
  await pick.selectOption({ label: 'Withdrawn' });
  await page.locator('[role=status]').filter({ hasText: /\S/ }).waitFor();
  assert.equal(await pick.locator('option:checked').textContent(), 'Business 20');
  assert.deepEqual((await api('GET', '/subscriptions?tenant_id=1')).body.items.filter((x) => x.active).map((x) => x.package), ['Business 20']);
  assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), []);
  await context.close();
});

await check('payments: the form shows the API\'s field error, then records a payment that lists and raises the balance', async () => {
  const { context, page, errors } = await open();
  await login(page, 'admin');
  await page.goto('/#/payments');
  const before = (await api('GET', '/credit?tenant_id=1')).body.balance;
  await page.getByLabel('Tenant *').selectOption({ label: 'Acme Corp' });
  await page.getByRole('button', { name: 'Record payment' }).click();
  const err = page.locator('.field[data-field="amount"] .error');
  await err.waitFor({ state: 'visible' });
  assert.notEqual((await err.textContent()).trim(), '');
  await page.getByLabel('Amount *').fill('12.50');
  await page.getByLabel('Payment type *').selectOption('bank_transfer');
  await page.getByLabel('Note').fill('INV-2026-117');
  await page.getByRole('button', { name: 'Record payment' }).click();
  const row = page.locator('tbody tr').filter({ hasText: 'INV-2026-117' });
  await row.waitFor();
  assert.match(await row.textContent(), /Acme Corp.*12\.50.*Bank transfer/);
  const after = (await api('GET', '/credit?tenant_id=1')).body.balance;
  assert.equal(after - before, 12_500_000);
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
  await context.close();
});

await check('the tenant form groups Billing & Call Limits, in units, and saves them', async () => {
  const { context, page, errors } = await open();
  await login(page, 'admin');
  await page.goto('/#/r/tenants');
  // The list shows each tenant's package and usage.
  await page.locator('td.usage').filter({ hasText: /Business 20 · extensions \d+ of 20/ }).first().waitFor();
  await page.goto('/#/r/tenants/1');
  const limits = page.locator('fieldset', { has: page.locator('legend', { hasText: 'Billing & Call Limits' }) });
  await limits.waitFor();
  assert.equal(await limits.getByLabel('Simultaneous calls').inputValue(), '20');
  assert.equal(await limits.getByLabel('Low-credit alert at').inputValue(), '5');
  await limits.getByLabel('Simultaneous calls').fill('25');
  await limits.getByLabel('Low-credit alert at').fill('7.5');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  const t = (await api('GET', '/tenants/1')).body;
  assert.equal(t.max_concurrent_calls, 25);
  assert.equal(t.low_credit_threshold, 7_500_000);
  // The package form lays its eleven limits out as a grid.
  await page.goto('/#/r/packages/new');
  await page.locator('legend', { hasText: 'Resource limits' }).waitFor();
  assert.equal(await page.locator('fieldset:has(legend:text("Resource limits")) .grid .field').count(), 11);
  assert.deepEqual(errors, []);
  await context.close();
});

await check('billing quota cards match the API for a tenant admin and an end user', async () => {
  for (const who of ['tenant', 'user']) {
    const { context, page, errors } = await open();
    await login(page, who);
    await page.goto('/#/quota');
    // The quota page itself (the dashboard it replaces has an Extensions card of its own).
    await page.locator('#main h1', { hasText: 'Billing quota' }).waitFor();
    const q = (await api('GET', '/quota', null, who)).body;
    const ext = q.slots.find((x) => x.slot === 'extensions');
    await page.locator('[data-card="Extensions"]').waitFor();
    assert.match(await page.locator('[data-card="Extensions"]').textContent(), new RegExp(`Extensions: ${ext.used} of ${ext.limit}`));
    assert.match(await page.locator('[data-card="Voice minutes this month"]').textContent(), /Voice minutes this month: \d+ of 1000/);
    assert.deepEqual(errors, [], who);
    await context.close();
  }
});

await check('a call through the switch shows in call records, statistics and usage', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  // 1002 records its calls; tests/ui.rs places a call from 1001 to 1002 on the simulated
  // switch, which writes the recording.
  const e1002 = (await api('GET', '/extensions?number=1002', null, 'tenant')).body.items[0];
  await api('PATCH', `/extensions/${e1002.id}`, { record_calls: true }, 'tenant');
  console.log('UI-NEED call 1001 1002');
  let cdrs;
  for (let i = 0; i < 100; i++) {
    cdrs = (await api('GET', '/cdrs?extension=1001', null, 'tenant')).body;
    if (cdrs.total > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(cdrs.total > 0, 'the call left a record');
  await page.goto('/#/cdrs');
  const row = page.locator('tbody tr').filter({ hasText: '1002' }).first();
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  const heads = await page.locator('thead th').allTextContents();
  assert.match(cells[heads.indexOf('Caller ID')], /(^|<)1001>?$/, `${heads} / ${cells}`);
  assert.equal(cells[heads.indexOf('Destination')], '1002', `${heads} / ${cells}`);
  assert.match(cells[heads.indexOf('Status')], /^Answered/);
  // Times in the tenant's zone, the zone named; not the record's UTC.
  const rec = cdrs.items[0];
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(rec.started_at));
  assert.equal(cells[heads.indexOf('Date/time (America/New_York)')], local, `${heads} / ${cells}`);
  // The detail: codec, cause, SIP call ID, and the recording played in the page.
  await row.getByRole('link', { name: 'Details' }).click();
  const detail = page.locator('table.detail');
  await detail.waitFor();
  const field = async (k) => (await detail.locator('tr', { has: page.locator('th', { hasText: k }) }).locator('td').textContent());
  assert.equal(await field('Codec'), 'PCMU');
  assert.equal(await field('Hangup cause'), rec.hangup_cause);
  assert.ok((await field('SIP call ID')).length > 8);
  await page.getByRole('button', { name: 'Play recording' }).click();
  await page.waitForFunction(() => { const a = document.querySelector('audio[aria-label="Recording"]'); return a && a.src.startsWith('blob:') && a.duration > 0.4; });
  const total = (await api('GET', '/usage', null, 'tenant')).body.total;
  await page.goto('/#/statistics?days=7');
  await page.locator('figure.chart svg rect').first().waitFor({ state: 'attached' });
  assert.equal(await page.locator('[data-card="Calls"] .n').textContent(), String(total.calls));
  assert.ok(total.calls >= 1);
  assert.equal(await page.locator('figure.chart').count(), 2);
  assert.equal(await page.locator('figure.chart').first().locator('rect').count(), 14, 'calls and answered for each of 7 days');
  await page.goto('/#/usage');
  await page.locator('[data-card="Minutes"]').waitFor();
  assert.equal(await page.locator('[data-card="Minutes"] .n').textContent(), String(total.minutes));
  assert.deepEqual(errors, []);
  await context.close();
});

await check('feature codes and route explain', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/feature-codes');
  await page.locator('tbody tr').filter({ hasText: '*98' }).filter({ hasText: 'Check voicemail' }).waitFor();
  await page.goto('/#/explain');
  await page.getByLabel('Number dialed *').fill('1001');
  await page.getByLabel('Calling from').fill('1002');
  await page.getByRole('button', { name: 'Explain' }).click();
  const steps = page.locator('ol.steps li');
  await steps.first().waitFor();
  const api1 = (await api('GET', '/route/explain?number=1001&from=1002', null, 'tenant')).body;
  assert.equal(await steps.count(), api1.steps.length);
  assert.match(await steps.allTextContents().then((t) => t.join('\n')), /rings user\/1001@acme\.switchboard\.test/);
  // A bad number: the API's field error beside the field.
  await page.getByLabel('Number dialed *').fill('12;x');
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.locator('.field[data-field="number"].invalid').waitFor();
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
  await context.close();
});

await check('music on hold: a WAV uploads into a class, lists, and a non-audio file is refused', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  const cls = await api('POST', '/moh-classes', { name: 'lobby' }, 'tenant');
  assert.equal(cls.status, 201, JSON.stringify(cls.body));
  await page.goto(`/#/r/moh-classes/${cls.body.id}`);
  await page.getByText('No files yet').waitFor();
  // 0.1 s of 8 kHz mono 16-bit silence.
  const pcm = Buffer.alloc(1600);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0); head.writeUInt32LE(36 + pcm.length, 4); head.write('WAVE', 8); head.write('fmt ', 12);
  head.writeUInt32LE(16, 16); head.writeUInt16LE(1, 20); head.writeUInt16LE(1, 22); head.writeUInt32LE(8000, 24);
  head.writeUInt32LE(16000, 28); head.writeUInt16LE(2, 32); head.writeUInt16LE(16, 34); head.write('data', 36); head.writeUInt32LE(pcm.length, 40);
  await page.getByLabel('Audio file (WAV or MP3)').setInputFiles({ name: 'lobby-music.wav', mimeType: 'audio/wav', buffer: Buffer.concat([head, pcm]) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByText('Uploaded lobby-music.wav.').waitFor();
  await page.locator('tbody tr').filter({ hasText: 'lobby-music.wav' }).waitFor();
  const files = (await api('GET', `/moh-classes/${cls.body.id}/files`, null, 'tenant')).body.items;
  assert.deepEqual(files.map((f) => [f.file_name, f.bytes]), [['lobby-music.wav', 1644]]);
  await page.getByLabel('Audio file (WAV or MP3)').setInputFiles({ name: 'notes.wav', mimeType: 'audio/wav', buffer: Buffer.from('not audio at all') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByText('not a WAV or MP3 file').waitFor();
  assert.equal((await api('GET', `/moh-classes/${cls.body.id}/files`, null, 'tenant')).body.items.length, 1);
  // Deleted from its row (after the confirmation), gone from the API too.
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete lobby-music.wav' }).click();
  await page.getByText('Deleted lobby-music.wav.').waitFor();
  assert.equal((await api('GET', `/moh-classes/${cls.body.id}/files`, null, 'tenant')).body.items.length, 0);
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
  await context.close();
});

await check('on a phone-sized screen, the menu opens from its button and a form works from the keyboard alone', async () => {
  const { context, page, errors } = await open({ width: 390, height: 844 });
  await login(page, 'tenant');
  assert.equal(await page.locator('#nav').isVisible() && (await page.locator('#nav').boundingBox()).x >= 0, false, 'the menu starts closed');
  await page.getByRole('button', { name: /menu/i }).click();
  await page.locator('#nav a', { hasText: 'Extensions' }).click();
  await page.getByRole('link', { name: /^Add / }).click();
  await page.getByLabel('Number *').waitFor();
  // Keyboard only: focus the first field, type, Tab onwards, Enter submits.
  await page.getByLabel('Number *').focus();
  await page.keyboard.type('1088');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Thumb Typed');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /^#\/r\/extensions\/\d+$/.test(location.hash));
  const ext = (await api('GET', '/extensions?number=1088', null, 'tenant')).body.items[0];
  assert.equal(ext.display_name, 'Thumb Typed');
  // Nothing wider than the screen: no sideways scrolling on a form or a chart page.
  for (const href of ['#/r/ivr-menus/new', '#/r/device-profiles/1', '#/statistics', '#/quota', '#/cdrs', '#/activity']) {
    await page.goto(`/${href}`);
    await page.locator('#main h1').waitFor();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(wide <= 0, `${href} is ${wide} px wider than the screen`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

await check('screenshots of the dashboard at desktop and phone size', async () => {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
    const { context, page } = await open(viewport);
    await login(page, 'tenant');
    await page.locator('.cards .card').first().waitFor();
    await page.screenshot({ path: `${artifacts}/dashboard-${name}.png`, fullPage: true });
    await context.close();
  }
});

await finish();
