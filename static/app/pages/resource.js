// Every configuration resource of the API (extensions, ring groups, IVR menus, trunks, …):
// a paged list and a form built from the resource's schema in the OpenAPI document, so a
// field added to the API appears here without a second definition. The API's field errors
// are shown beside their fields.

import { api, ApiError, get, openapi } from '../api.js';
import { h, label, money as formatMoney, page, pager, refusal, showFieldErrors } from '../ui.js';
import { editor, Invalid, isMoney, loader, refSource } from './fields.js';

const PER_PAGE = 25;

/// Hints the schema cannot give.
const HINTS = {
  low_credit_threshold: 'Emails the tenant when the balance drops below this; 0 turns the alert off',
  max_concurrent_calls: 'Simultaneous calls allowed; 0 = unlimited. The main guard against toll fraud: set it to the real peak',
  daily_limit: '-1 = no limit',
  monthly_limit: '-1 = no limit',
  options: 'Digits 0-9, * and #, each to its destination',
  feature_keys: 'BLF watches an extension, speed dial dials a number; line and voicemail need no value',
  codecs: 'In order of preference',
};

/// Fields shown together under a heading, by resource (the rest keep the schema's order).
const SECTIONS = {
  tenants: [['Billing & Call Limits', ['low_credit_threshold', 'max_concurrent_calls', 'daily_limit', 'monthly_limit', 'credit_policy', 'rate_plan_id', 'fax_page_rate', 'billing_day']]],
  packages: [['Resource limits', ['extensions', 'devices', 'ring_groups', 'call_queues', 'ivr_menus', 'voicemails', 'conferences', 'music_on_hold', 'voice_minutes', 'fax_pages', 'conference_minutes'], 'grid']],
};

/// List columns where the first four of the schema would not say what matters.
const COLUMNS = {
  tenants: ['company', 'sip_domain', 'max_concurrent_calls', 'daily_limit', 'monthly_limit'],
  packages: ['name', 'extensions', 'devices', 'ring_groups', 'voice_minutes', 'fax_pages'],
};

const shown = (v) => (v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

async function schemaOf(name) {
  const spec = await openapi();
  const s = spec.components.schemas[name];
  if (!s) throw new Error(`no schema for ${name}`);
  return s;
}

export async function list(ctx, name, title) {
  const params = new URLSearchParams(ctx.query);
  const pageNo = Number(params.get('page') || 1);
  let data;
  try {
    data = await get(`/${name}?page=${pageNo}&per_page=${PER_PAGE}${params.get('q') ? `&q=${encodeURIComponent(params.get('q'))}` : ''}`);
  } catch (e) {
    if (e instanceof ApiError) return refusal(title, e);
    throw e;
  }
  const schema = await schemaOf(name);
  const cols = COLUMNS[name] || Object.entries(schema.properties)
    .filter(([k, s]) => k !== 'tenant_id' && !s.$ref && !['array', 'object'].includes(s.type) && !s.writeOnly && !/password|secret|pin/.test(k))
    .slice(0, 4)
    .map(([k]) => k);
  const money = (k) => schema.properties[k] && isMoney(schema.properties[k]);
  let gateways = null;
  if (name === 'trunks') {
    try { gateways = Object.fromEntries((await get('/gateways')).items.map((g) => [g.trunk_id ?? g.id, g.status && g.status !== 'unknown' ? `${g.state} · ${g.status}` : g.state])); } catch { gateways = {}; }
  }
  const canWrite = ctx.allowed('POST', `/${name}`);
  const search = h('input', { type: 'search', name: 'q', 'aria-label': 'Search', value: params.get('q') || '', placeholder: 'Search' });
  // Tenants: each row with its package and how much of it is used.
  const usage = name === 'tenants' ? await tenantUsage(data.items) : null;
  const head = h('tr', {}, cols.map((c) => h('th', {}, label(c))), gateways ? h('th', {}, 'Status') : null, usage ? h('th', {}, 'Package · usage') : null, h('th', {}, ''));
  const rows = data.items.map((it) =>
    h('tr', {},
      cols.map((c) => h('td', {}, money(c) ? formatMoney(it[c]) : shown(it[c]))),
      gateways ? h('td', { class: 'gw' }, gateways[it.id] || 'unknown') : null,
      usage ? h('td', { class: 'usage' }, usage[it.id] || '') : null,
      // A row of the tenant's own shown to a user (a cover page they may use): not theirs
      // to open or change.
      h('td', {}, it.owner_user_id === null && !['tenant_admin', 'super_admin'].includes(ctx.me.user.role)
        ? h('span', { class: 'hint' }, "the tenant's")
        : h('a', { href: `#/r/${name}/${it.id}` }, canWrite ? 'Edit' : 'View'))));
  return page(title,
    h('div', { class: 'toolbar' },
      h('form', { onsubmit: (e) => { e.preventDefault(); location.hash = `#/r/${name}?q=${encodeURIComponent(search.value)}`; } }, search),
      canWrite ? h('a', { href: `#/r/${name}/new`, class: 'button primary' }, `Add ${title.replace(/s$/, '').toLowerCase()}`) : null),
    h('table', {}, h('thead', {}, head), h('tbody', {}, rows)),
    pager(data, pageNo, (n) => `#/r/${name}?page=${n}`));
}

/// "Business 20 · extensions 4/20 · voice minutes 12/1000" for each tenant on the page.
async function tenantUsage(items) {
  const out = {};
  await Promise.all(items.map(async (t) => {
    try {
      const q = await get(`/quota?tenant_id=${t.id}`);
      const ext = q.slots.find((x) => x.slot === 'extensions');
      const min = q.usage.find((x) => x.kind === 'voice_minutes');
      out[t.id] = [q.package || 'no package', ext && `extensions ${ext.used}/${ext.limit}`, min && `voice minutes ${min.used}/${min.allocated}`].filter(Boolean).join(' · ');
    } catch { /* billing absent (community edition) or not readable: the column stays empty */ }
  }));
  return out;
}

function field(name, s, value, required, opts) {
  const id = `f-${name}`;
  const ed = editor(name, s, value, { ...opts, id });
  const hint = HINTS[name] || (isMoney(s) ? 'An amount in units, e.g. 12.50' : refSource(name, s) || s.$ref ? '' : s.description) || (s.pattern ? `format: ${s.pattern}` : '');
  const el = ed.el;
  const inline = el.tagName === 'INPUT' && el.type === 'checkbox';
  return {
    name,
    ed,
    el: h('div', { class: 'field', 'data-field': name },
      inline ? h('label', { for: id }, el, ' ', label(name)) : [h('label', { for: id }, label(name), required ? ' *' : ''), el],
      hint ? h('span', { class: 'hint' }, hint) : null,
      h('span', { class: 'error', id: `err-${name}`, role: 'alert' })),
  };
}

function read(fields) {
  const body = {};
  const local = {};
  for (const f of fields) {
    try {
      const v = f.ed.get();
      if (v !== undefined) body[f.name] = v;
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      local[f.name] = e.message;
    }
  }
  return { body, local };
}

/// The fields in the schema's order, each section's fields gathered under its heading
/// where the first of them stands.
function layout(name, fields) {
  const out = [];
  const placed = new Set();
  const sections = SECTIONS[name] || [];
  for (const f of fields) {
    if (placed.has(f.name)) continue;
    const sec = sections.find(([, names]) => names.includes(f.name));
    if (!sec) { out.push(f.el); continue; }
    const [title, names, cls] = sec;
    const members = fields.filter((x) => names.includes(x.name));
    members.forEach((x) => placed.add(x.name));
    out.push(h('fieldset', {}, h('legend', {}, title), h('div', { class: cls || '' }, members.map((x) => x.el))));
  }
  return out;
}

export async function edit(ctx, name, title, id) {
  const schema = await schemaOf(name);
  let item = {};
  if (id !== 'new') {
    try { item = await get(`/${name}/${id}`); } catch (e) {
      if (e instanceof ApiError) return refusal(title, e);
      throw e;
    }
  }
  const superAdmin = ctx.me.user.role === 'super_admin';
  const tenantId = item.tenant_id ?? (ctx.query.tenant_id ? Number(ctx.query.tenant_id) : undefined);
  // A super admin's lists (extensions to pick, …) are the tenant's when the form is for one.
  const load = loader(superAdmin ? tenantId : null);
  const fields = Object.entries(schema.properties)
    .filter(([k]) => k !== 'tenant_id' || superAdmin)
    .map(([k, s]) => field(k, s, item[k] ?? (k === 'tenant_id' ? tenantId : undefined), (schema.required || []).includes(k), { load, clearable: id !== 'new' }));
  const status = h('p', { role: 'status' });
  const form = h('form', { class: 'edit', novalidate: true }, layout(name, fields), h('div', { class: 'toolbar' },
    h('button', { type: 'submit', class: 'primary' }, 'Save'),
    id !== 'new' && ctx.allowed('DELETE', `/${name}/{id}`) ? h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm('Delete it?')) return;
      try { await api('DELETE', `/${name}/${id}`); location.hash = `#/r/${name}`; } catch (e) { status.textContent = e.message; }
    } }, 'Delete') : null,
    h('a', { href: `#/r/${name}` }, 'Back')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const { body, local } = read(fields);
    if (Object.keys(local).length) return showFieldErrors(form, local);
    try {
      const saved = id === 'new' ? await api('POST', `/${name}`, body) : await api('PATCH', `/${name}/${id}`, body);
      showFieldErrors(form, {});
      status.textContent = 'Saved.';
      if (id === 'new') location.hash = `#/r/${name}/${saved.id}`;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showFieldErrors(form, err.fields);
      status.textContent = err.message;
    }
  });
  let extra = null;
  if (name === 'devices' && id !== 'new') extra = await provisioning(id);
  if (name === 'moh-classes' && id !== 'new') extra = await mohFiles(ctx, id);
  return page(`${title}: ${id === 'new' ? 'new' : `#${id}`}`, extra, form);
}

/// A music-on-hold class's files: upload (WAV or MP3, sent as it is), list, delete.
async function mohFiles(ctx, id) {
  const status = h('p', { role: 'status' });
  const body = h('tbody');
  const canWrite = ctx.allowed('POST', '/moh-classes/{id}/files');
  const redraw = async () => {
    let files;
    try { files = (await get(`/moh-classes/${id}/files`)).items; } catch (e) { status.textContent = e.message; return; }
    body.replaceChildren(...(files.length ? files.map((f) => h('tr', {},
      h('td', {}, f.file_name), h('td', {}, `${Math.ceil(f.bytes / 1024)} KB`), h('td', {}, f.created_at),
      h('td', {}, canWrite ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${f.file_name}`, onclick: async () => {
        if (!confirm(`Delete ${f.file_name}?`)) return;
        try { await api('DELETE', `/moh-files/${f.id}`); status.textContent = `Deleted ${f.file_name}.`; await redraw(); } catch (e) { status.textContent = e.message; }
      } }, 'Delete') : null)))
      : [h('tr', {}, h('td', { colspan: 4 }, 'No files yet: callers on hold hear the default music.'))]));
  };
  const file = h('input', { id: 'moh-file', type: 'file', accept: '.wav,.mp3,audio/wav,audio/mpeg' });
  const upload = h('form', { class: 'toolbar', onsubmit: async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) { status.textContent = 'Choose a WAV or MP3 file first.'; return; }
    status.textContent = `Uploading ${f.name}…`;
    try {
      await api('POST', `/moh-classes/${id}/files?name=${encodeURIComponent(f.name)}`, f);
      file.value = '';
      await redraw();
      status.textContent = `Uploaded ${f.name}.`;
    } catch (err) { status.textContent = err.message; }
  } }, h('label', { for: 'moh-file' }, 'Audio file (WAV or MP3)'), file, h('button', { type: 'submit', class: 'primary' }, 'Upload'));
  await redraw();
  return h('section', { class: 'notice', 'aria-label': 'Music files' }, h('h2', {}, 'Music files'),
    h('table', {}, h('thead', {}, h('tr', {}, ['File', 'Size', 'Added', ''].map((x) => h('th', {}, x)))), body),
    canWrite ? upload : null, status);
}

/// The device page's provisioning panel: URLs, credentials, DHCP option 66, downloads, resync.
async function provisioning(id) {
  let p;
  try { p = await get(`/devices/${id}/provisioning`); } catch (e) { return h('div', { class: 'notice refusal' }, e.message); }
  const secret = h('span', { class: 'secret' }, '••••••••');
  const out = h('p', { role: 'status' });
  return h('section', { class: 'notice', 'aria-label': 'Provisioning' },
    h('h2', {}, 'Provisioning'),
    h('div', { class: 'field' }, h('label', { for: 'prov-url' }, 'Provisioning URL'), h('input', { id: 'prov-url', readonly: true, value: p.device_url })),
    h('p', {}, 'Or the shared URL ', h('code', {}, p.base_url), ' with user name ', h('code', {}, p.username), ' and password ', secret, ' ',
      h('button', { type: 'button', onclick: (e) => { const shown = secret.textContent === p.password; secret.textContent = shown ? '••••••••' : p.password; e.target.textContent = shown ? 'Show' : 'Hide'; } }, 'Show')),
    h('p', {}, 'DHCP option 66: ', h('code', {}, p.dhcp_option_66), ' (or ', h('code', {}, p.dhcp_option_66_reserved), ' in a reservation for this phone). The phone asks for ', h('code', {}, p.file || '—'), '.'),
    h('p', {}, `Recent downloads: ${p.downloads.length ? p.downloads.map((d) => `${d.at} ${d.detail}`).join(' · ') : 'none yet'}`),
    h('button', { type: 'button', onclick: async () => {
      try { const r = await api('POST', `/devices/${id}/resync`); out.textContent = `Resync sent to ${r.sent.join(', ')}`; } catch (e) { out.textContent = e.message; }
    } }, 'Resync now'), out);
}
