// The guides' flows, role by role, in a real browser (issue 31): what a new customer does
// first with only the guides and the README, each check failing on the defect it names.
// Run by tests/ui.rs against its own `switchboard serve --demo`; the address is the first
// argument, the screenshot directory the second.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { browserFor } from './lib.mjs';

const base = process.argv[2];
const artifacts = process.argv[3] || 'target/ui-artifacts';
mkdirSync(artifacts, { recursive: true });
const { check, open, login, api, finish } = browserFor(base);

const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

await check('getting started 2a: a tenant made with the guide\'s fields is enabled, and the list says its usage in words', async () => {
  const { context, page, errors } = await open();
  await login(page, 'admin');
  await page.goto('/#/r/tenants');
  await page.getByRole('link', { name: 'Add tenant' }).click();
  await page.getByLabel('Company *').fill('Initech');
  await page.getByLabel('Primary contact email *').fill('billing@initech.test');
  await page.getByLabel('Daily limit').fill('-1');
  await page.getByLabel('Monthly limit').fill('-1');
  await page.getByLabel('SIP domain *').fill('initech.switchboard.test');
  // The guide never mentions Enabled: a new tenant starts enabled, as the table does.
  assert.equal(await page.getByLabel('Enabled').isChecked(), true);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved the new tenant.').waitFor();
  const t = (await api('GET', '/tenants?q=Initech')).body.items[0];
  assert.equal(t.enabled, true, 'calls to it are not refused');
  await page.goto('/#/r/tenants?q=Initech');
  const usage = await page.locator('td.usage').first().textContent();
  assert.doesNotMatch(usage, /null|undefined/, usage);
  assert.match(usage, /extensions 0/);
  // A tenant switched off says what that means, in its row.
  await api('PATCH', `/tenants/${t.id}`, { enabled: false });
  await page.reload();
  await page.getByText('Disabled: every call to it is refused').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

await check('the open softphone covers neither the header nor the page; × and Esc close it', async () => {
  const { context, page, errors } = await open();
  await login(page, 'agent');
  await page.goto('/#/cdrs');
  const filter = page.getByRole('button', { name: 'Filter' });
  await filter.waitFor();
  await page.getByRole('button', { name: 'Phone', exact: true }).click();
  await page.locator('#sp-extension').waitFor();
  const panel = await page.locator('#softphone').boundingBox();
  for (const [name, el] of [['Phone', page.getByRole('button', { name: 'Phone', exact: true })], ['Sign out', page.getByRole('button', { name: 'Sign out' })], ['Filter', filter]]) {
    const box = await el.boundingBox();
    assert.ok(!overlap(box, panel), `${name} is under the phone: ${JSON.stringify(box)} vs ${JSON.stringify(panel)}`);
  }
  // The page's own control still takes a click where it stands.
  await filter.click({ trial: true, timeout: 2000 });
  await page.screenshot({ path: `${artifacts}/softphone-open-desktop.png` });
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#softphone').isHidden(), true, 'Esc closes it');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'phone-toggle', 'focus returns to the Phone button');
  await page.getByRole('button', { name: 'Phone', exact: true }).click();
  await page.getByRole('button', { name: 'Close the phone' }).click();
  assert.equal(await page.locator('#softphone').isHidden(), true, '× closes it');
  assert.deepEqual(errors, []);
  await context.close();
});

for (const [who, ext, label] of [['user', 3, '1003 · Jane User'], ['agent', 2, '1002 · Sales Desk']]) {
  await check(`${who} guide 5: Follow Me made for their own extension`, async () => {
    const { context, page, errors } = await open();
    await login(page, who);
    await page.locator('#nav a', { hasText: 'Follow me' }).click();
    await page.getByRole('link', { name: 'Add follow me' }).click();
    const pick = page.getByLabel('Extension *');
    await pick.locator('option', { hasText: label }).waitFor({ state: 'attached' });
    await pick.selectOption({ label });
    assert.equal(await page.getByLabel('Enable follow me').isChecked(), true);
    await page.getByRole('button', { name: 'Add destination' }).click();
    await page.getByLabel('Number 1').fill('+12125550100');
    await page.getByLabel('Delay (seconds) 1').fill('0');
    await page.getByLabel('Ring time (seconds) 1').fill('20');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved the new follow me.').waitFor();
    const mine = (await api('GET', '/follow-me', null, who)).body.items;
    assert.equal(mine.length, 1);
    assert.equal(mine[0].extension_id, ext);
    assert.deepEqual(mine[0].destinations, [{ number: '+12125550100', delay: 0, timeout: 20 }]);
    assert.deepEqual(errors, []);
    await context.close();
  });

  await check(`${who}: the dashboard and Extensions page show their own extension, with nothing to add`, async () => {
    const { context, page, errors } = await open();
    await login(page, who);
    const card = page.locator('.card', { hasText: 'Extensions' });
    await card.waitFor();
    assert.equal(await card.locator('.n').textContent(), '1');
    // Their own extension, and where their recent calls are.
    const mine = page.locator(`[data-card="Extension ${label.split(' · ')[0]}"]`);
    await mine.waitFor();
    assert.match(await mine.textContent(), /Taking calls|Do not disturb|Forwarded/);
    await page.getByRole('heading', { name: 'Recent calls' }).waitFor();
    await page.locator('#nav a', { hasText: 'Extensions' }).click();
    const row = page.locator('tbody tr', { hasText: label.split(' · ')[0] });
    await row.waitFor();
    assert.equal(await row.getByRole('link', { name: 'Settings' }).getAttribute('href'), '#/account');
    assert.equal(await page.getByRole('link', { name: 'Add extension' }).count(), 0, 'no slot allocated: nothing to add');
    assert.deepEqual(errors, []);
    await context.close();
  });
}

await check('the admin dashboard: today\'s calls by hour in the tenant\'s zone, and the quota at a glance', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  const chart = page.locator('figure.chart', { hasText: "Today's calls by hour (America/New_York)" });
  await chart.waitFor();
  assert.equal(await chart.locator('rect').count(), 48, 'answered and missed for each of 24 hours');
  await page.locator('[data-card="Answered today"]').waitFor();
  const q = (await api('GET', '/quota', null, 'tenant')).body;
  const ext = q.slots.find((x) => x.slot === 'extensions');
  assert.match(await page.locator('[aria-label="Quota"] [data-card="Extensions"]').textContent(), new RegExp(`Extensions: ${ext.used} of ${ext.limit}`));
  assert.deepEqual(errors, []);
  await context.close();
});

await check('getting started 2c: the super admin names the tenant, is offered its permissions only, and reads roles in words', async () => {
  const { context, page, errors } = await open();
  await login(page, 'admin');
  await page.goto('/#/users/new');
  const role = page.getByLabel('Role');
  await role.waitFor();
  assert.deepEqual(await role.locator('option').allTextContents(), ['Super admin', 'Tenant admin', 'Agent', 'End user']);
  const visible = async () => page.locator('.perm-group label:visible').allTextContents();
  assert.deepEqual(await visible(), [], 'nothing offered before the tenant is chosen');
  await page.getByLabel('Tenant', { exact: true }).selectOption({ label: 'Globex Ltd' });
  const globex = (await api('GET', '/tenants?q=Globex')).body.items[0];
  const titles = (await api('GET', '/permissions')).body.items.filter((p) => globex.permissions.includes(p.token)).map((p) => p.title);
  assert.deepEqual((await visible()).map((t) => t.trim()).sort(), titles.sort());
  assert.ok(!(await visible()).some((t) => /Devices|Call queues/.test(t)), 'what Globex does not hold is not offered');
  await page.getByLabel('Name', { exact: true }).fill('Gina Globex');
  await page.getByLabel('Email', { exact: true }).fill('gina@globex.test');
  await page.getByLabel('Password', { exact: true }).fill('Gina-Globex-2026!');
  await role.selectOption({ label: 'End user' });
  await page.locator('label', { hasText: 'Send fax' }).locator('input').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /^#\/users\/\d+$/.test(location.hash));
  const gina = (await api('GET', '/users?per_page=100')).body.items.find((u) => u.email === 'gina@globex.test');
  assert.equal(gina.tenant_id, globex.id);
  assert.deepEqual(gina.permissions, ['send_fax']);
  await page.goto('/#/users');
  const row = page.locator('tbody tr', { hasText: 'gina@globex.test' });
  await row.waitFor();
  assert.match(await row.textContent(), /End user.*Globex Ltd/);
  assert.deepEqual(errors, []);
  await context.close();
});

await check('the super admin\'s device form: the tenant first, its extensions only as lines, the vendor\'s models', async () => {
  const { context, page, errors } = await open();
  await login(page, 'admin');
  await page.goto('/#/r/devices/new');
  await page.getByLabel('Tenant').selectOption({ label: 'Acme Corp' });
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Vendor *').selectOption('yealink');
  const models = await page.getByLabel('Model').locator('option').allTextContents();
  assert.ok(models.includes('T54W') && !models.includes('GRP2601'), models.join(' '));
  await page.getByLabel('Model').selectOption('T54W');
  await page.getByLabel('MAC address *').fill('80:5e:c0:aa:bb:01');
  await page.getByRole('button', { name: 'Add line' }).click();
  const line = page.getByLabel('Line 1', { exact: true });
  await line.locator('option', { hasText: '1001' }).waitFor({ state: 'attached' });
  const offered = await line.locator('option').allTextContents();
  assert.ok(!offered.some((o) => /^200\d/.test(o)), `Globex's extensions offered: ${offered}`);
  await line.selectOption({ label: '1001 · Reception' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved the new device.').waitFor();
  const d = (await api('GET', '/devices?per_page=100')).body.items.find((x) => x.mac.replace(/[^0-9a-f]/gi, '').toLowerCase() === '805ec0aabb01');
  assert.equal(d.tenant_id, 1);
  assert.equal(d.model, 'T54W');
  assert.equal(d.lines[0].extension_id, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

await check('forms in the product\'s words: labels, help, examples, confirmations and empty lists', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/r/extensions/new');
  const number = page.getByLabel('Extension number *');
  await number.waitFor();
  assert.equal(await number.getAttribute('placeholder'), 'e.g. 1001');
  const hints = await page.locator('.field .hint').allTextContents();
  assert.ok(hints.length > 5 && !hints.some((x) => /\^|\$|format:|micro-units|id of a row/.test(x)), hints.join(' | '));
  const labels = await page.locator('form.edit label').allTextContents();
  assert.ok(!labels.some((x) => /_|\bid\b|Sip |Moh /.test(x)), labels.join(' | '));
  await number.fill('1066');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved the new extension.').waitFor();
  assert.match(await page.locator('#main h1').textContent(), /^Extension 1066/);
  page.once('dialog', (d) => { assert.match(d.message(), /^Delete extension 1066\?/); d.accept(); });
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('Deleted extension 1066.').waitFor();
  // An empty list says what to do next.
  await page.goto('/#/r/call-queues');
  await page.getByText('No call queues yet. Add the first with “Add call queue”.').waitFor();
  // Enums in words.
  await page.goto('/#/r/ring-groups/new');
  const strategies = await page.getByLabel('Ring strategy').locator('option').allTextContents();
  assert.ok(strategies.every((s) => !s.includes('_')), strategies.join(' '));
  assert.deepEqual(errors, []);
  await context.close();
  // The super admin's buttons name the thing: "Add DID number".
  const admin = await open();
  await login(admin.page, 'admin');
  await admin.page.goto('/#/r/dids');
  await admin.page.getByRole('link', { name: 'Add DID number' }).waitFor();
  await admin.context.close();
});

await check('feature list 15: a conference watched live, members muted and kicked, the room locked, without a reload', async () => {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
    const { context, page, errors } = await open(viewport);
    await login(page, 'tenant');
    const number = name === 'desktop' ? '3300' : '3301';
    await page.goto('/#/r/conferences/new');
    await page.getByLabel('Name *').fill(`Stand-up ${name}`);
    await page.getByLabel(/^Number/).fill(number);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved the new conference.').waitFor();
    const live = page.locator('section[aria-label="Live"]');
    await live.getByText('Nobody is in the room now.').waitFor();
    await page.screenshot({ path: `${artifacts}/form-${name}.png`, fullPage: true });
    const navigations = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    // tests/ui.rs puts phones 1001 and 1002 in the room.
    console.log(`UI-NEED conference ${number} 1001`);
    console.log(`UI-NEED conference ${number} 1002`);
    const row = (n) => live.locator('tbody tr', { hasText: `(${n})` });
    await row('1001').waitFor({ timeout: 10_000 });
    await row('1002').waitFor({ timeout: 10_000 });
    await live.getByText('2 in the room').waitFor();
    await row('1001').getByRole('button', { name: /^Mute / }).click();
    await row('1001').getByText('Muted').waitFor();
    assert.equal(await row('1001').getByRole('button', { name: /^Unmute / }).count(), 1);
    await live.getByRole('button', { name: 'Lock the room' }).click();
    await live.getByText(/locked: nobody else can join/).waitFor();
    await page.screenshot({ path: `${artifacts}/conference-${name}.png`, fullPage: true });
    page.once('dialog', (d) => d.accept());
    await row('1002').getByRole('button', { name: /^Kick / }).click();
    await row('1002').waitFor({ state: 'detached' });
    await live.getByText('1 in the room').waitFor();
    assert.deepEqual(navigations, [], 'updated in place, not reloaded');
    assert.deepEqual(errors, []);
    await context.close();
  }
});

/// A WAV of `secs` seconds of 8 kHz 16-bit mono silence.
function wav(secs) {
  const data = 8000 * 2 * secs;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0); b.writeUInt32LE(36 + data, 4); b.write('WAVEfmt ', 8); b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(8000, 24); b.writeUInt32LE(16000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(data, 40);
  return b;
}
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

await check('the realtime monitor changes rows in place: a number being typed survives the feed', async () => {
  await api('POST', '/conferences', { name: 'Monitor room', number: '3390' }, 'tenant');
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/realtime');
  await page.getByText('Switch: online').waitFor();
  console.log('UI-NEED conference 3390 1001');
  const first = page.locator('tr[data-uuid]', { hasText: '1001' }).first();
  await first.waitFor({ timeout: 10_000 });
  const box = first.getByRole('textbox');
  await box.fill('100');
  await box.evaluate((el) => { el.dataset.marked = 'typed-here'; });
  // Another call: the feed redraws the list while the number is half typed.
  console.log('UI-NEED conference 3390 1002');
  await page.locator('tr[data-uuid]', { hasText: '1002' }).first().waitFor({ timeout: 10_000 });
  assert.equal(await box.inputValue(), '100', 'what was typed is still there');
  assert.equal(await box.evaluate((el) => el.dataset.marked), 'typed-here', 'the same box, not a new one');
  assert.equal(await box.evaluate((el) => document.activeElement === el), true, 'and it keeps the focus');
  assert.deepEqual(errors, []);
  await context.close();
});

await check('agent guide 9: My DIDs lists each number routed to the agent, where it routes and whether it is active', async () => {
  // The tenant admin routes a number to the agent's extension (1002).
  const did = (await api('GET', '/dids?q=%2B12125550102')).body.items[0] || (await api('POST', '/dids', { number: '+12125550102', tenant_id: 1 })).body;
  const r = await api('POST', '/inbound-routes', { name: 'Agent line', did_id: did.id, destination: { type: 'extension', id: 2 } }, 'tenant');
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const { context, page, errors } = await open();
  await login(page, 'agent');
  await page.locator('#nav a', { hasText: 'My account' }).click();
  const row = page.locator('table[aria-label="My DIDs"] tbody tr', { hasText: '+12125550102' });
  await row.waitFor();
  assert.match(await row.textContent(), /Extension 1002.*Active/);
  assert.deepEqual(errors, []);
  await context.close();
});

await check('media: a greeting uploaded, heard and chosen for an IVR; what the switch cannot play is refused with why', async () => {
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.locator('#nav a', { hasText: 'System recordings' }).click();
  await page.getByText('No recordings yet.').waitFor();
  const upload = async (name, mimeType, buffer) => {
    await page.getByLabel(/^Recording \(WAV/).setInputFiles({ name, mimeType, buffer });
    await page.getByRole('button', { name: 'Upload' }).click();
  };
  await upload('welcome.wav', 'audio/wav', wav(2));
  await page.getByText('Uploaded welcome.wav.').waitFor();
  const row = page.locator('tbody tr', { hasText: 'welcome.wav' });
  assert.equal(await row.locator('td').nth(1).textContent(), '0:02');
  await row.getByRole('button', { name: 'Listen to welcome.wav' }).click();
  await page.waitForFunction(() => { const a = document.querySelector('audio[aria-label="Playing"]'); return a && a.src.startsWith('blob:') && a.duration > 1.9; });
  await upload('song.mp3', 'audio/mpeg', Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00 not really music'));
  await page.getByText(/this switch cannot play MP3/).waitFor();
  await upload('fake.wav', 'audio/wav', Buffer.from('%PDF-1.4 a document, not a sound'));
  await page.getByText('not a WAV or MP3 file').waitFor();
  const sound = (await api('GET', '/sounds', null, 'tenant')).body.items.find((x) => x.name === 'welcome.wav');
  // The IVR's greeting: the recording, chosen by name, with Listen beside it.
  const ivr = (await api('GET', '/ivr-menus?q=Main', null, 'tenant')).body.items[0] || (await api('GET', '/ivr-menus', null, 'tenant')).body.items[0];
  await page.goto(`/#/r/ivr-menus/${ivr.id}`);
  const greeting = page.getByLabel('Greeting', { exact: true });
  await greeting.locator('option', { hasText: 'Recording: welcome.wav' }).waitFor({ state: 'attached' });
  await greeting.selectOption({ label: 'Recording: welcome.wav' });
  await page.getByRole('button', { name: 'Listen' }).waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  assert.equal((await api('GET', `/ivr-menus/${ivr.id}`, null, 'tenant')).body.greeting, `sound:${sound.id}`);
  // In use, it cannot be deleted from under the menu.
  await page.goto('/#/sounds');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete welcome.wav' }).click();
  await page.getByText(/is the greeting of IVR menu/).waitFor();
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422') && !e.includes('status of 409')), []);
  await context.close();
});

await check('branding 02: the logo is an image chosen from a file, checked, previewed and shown at sign-in', async () => {
  const { context, page, errors } = await open();
  await login(page, 'admin');
  await page.goto('/#/r/branding/new');
  await page.getByLabel('Host name').fill('brand.switchboard.test');
  await page.getByLabel('Product name').fill('Brand Test');
  // A file that calls itself a PNG but is not one: the API reads its bytes and refuses it.
  await page.getByLabel('Logo').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') });
  await page.getByRole('button', { name: 'Save' }).click();
  const err = page.locator('.field[data-field="logo"] .error');
  await err.filter({ hasText: /not a PNG/ }).waitFor();
  await page.getByLabel('Logo').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
  await page.locator('.field[data-field="logo"] img.image-preview:visible').waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved the new branding.').waitFor();
  const b = (await api('GET', '/branding')).body.items.find((x) => x.hostname === 'brand.switchboard.test');
  assert.equal(b.logo, `data:image/png;base64,${PNG.toString('base64')}`);
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
  await context.close();
});

await check('a reference in a long list is chosen by name with search', async () => {
  for (let i = 1; i <= 6; i++) await api('POST', '/extensions', { number: `120${i}`, display_name: `Desk ${i}` }, 'tenant');
  const { context, page, errors } = await open();
  await login(page, 'tenant');
  await page.goto('/#/r/ring-groups/new');
  await page.getByRole('button', { name: 'Add member' }).click();
  const find = page.getByLabel('Search Member 1');
  await find.fill('desk 4');
  const member = page.getByLabel('Member 1', { exact: true });
  const shown = await member.locator('option').evaluateAll((os) => os.filter((o) => !o.hidden && o.value).map((o) => o.textContent));
  assert.deepEqual(shown, ['1204 · Desk 4']);
  assert.equal(await member.inputValue(), String((await api('GET', '/extensions?number=1204', null, 'tenant')).body.items[0].id), 'the one match is chosen');
  assert.deepEqual(errors, []);
  await context.close();
});

await check('the sign-in page: a red error, Remember me, a skip link, and the host\'s branding', async () => {
  await api('POST', '/branding', { hostname: new URL(base).hostname, title: 'Acme Voice', footer: '© Acme Corp, all rights reserved', favicon: '/icons/icon-192.png?branded', login_background: '/icons/icon-512.png' });
  const { context, page, errors } = await open();
  await page.goto('/');
  await page.getByText('© Acme Corp, all rights reserved').waitFor();
  assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/icons/icon-192.png?branded');
  assert.match(await page.evaluate(() => document.body.style.backgroundImage), /icon-512\.png/);
  assert.equal(await page.title(), 'Sign in · Acme Voice');
  await page.getByLabel('Email').fill('tenant@acme.test');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const err = page.locator('.login .error');
  await err.filter({ hasText: /./ }).waitFor();
  assert.equal(await err.evaluate((e) => getComputedStyle(e).color), 'rgb(176, 0, 32)');
  // Not remembered: a new browser session (no session cookie) starts signed out.
  await page.getByLabel('Password').fill('Demo-Tenant-2026');
  assert.equal(await page.getByLabel('Remember me').isChecked(), false);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#nav a').first().waitFor();
  await context.clearCookies();
  await page.reload();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  // Remembered: it outlives the browser session.
  await page.getByLabel('Email').fill('tenant@acme.test');
  await page.getByLabel('Password').fill('Demo-Tenant-2026');
  await page.getByLabel('Remember me').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#nav a').first().waitFor();
  await context.clearCookies();
  await page.reload();
  await page.locator('#nav a').first().waitFor();
  // One Tab reaches the skip link; it takes focus past the menu to the page.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  assert.deepEqual(errors.filter((e) => !e.includes('status of 401')), []);
  await context.close();
});

await finish();
