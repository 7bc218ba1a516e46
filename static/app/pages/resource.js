// Every configuration resource of the API (extensions, ring groups, IVR menus, trunks, …):
// a paged list and a form built from the resource's schema in the OpenAPI document, so a
// field added to the API appears here without a second definition. The API's field errors
// are shown beside their fields.

import { api, ApiError, get, openapi } from '../api.js';
import { h, label, page, refusal } from '../ui.js';

const PER_PAGE = 25;

/// Hints for the JSON fields (lists and destinations) the generic form edits as text.
const HINTS = {
  members: '[{"extension_id": 1}, …]',
  options: '[{"digit": "1", "destination": {"type": "ring_group", "id": 4}}, …] — digits 0-9, * and #',
  destination: '{"type": "extension", "id": 1} · {"type": "voicemail", "id": 2} · {"type": "external", "number": "+12125550100"} · {"type": "hangup"}',
  lines: '[{"extension_id": 1}] — the device\'s SIP lines, in order',
  feature_keys: '[{"type": "blf", "value": "1002", "label": "Anna"}, {"type": "speed_dial", "value": "+12125550100"}, {"type": "line"}, {"type": "voicemail"}]',
  codecs: '["G722", "PCMU", "PCMA"]',
};

function kind(schema) {
  if (!schema) return 'text';
  if (schema.$ref || schema.type === 'array' || schema.type === 'object') return 'json';
  if (schema.type === 'boolean') return 'bool';
  if (schema.enum) return 'enum';
  if (schema.type === 'integer' || (Array.isArray(schema.type) && schema.type.includes('integer'))) return 'int';
  return 'text';
}

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
  const cols = Object.entries(schema.properties)
    .filter(([k, s]) => k !== 'tenant_id' && kind(s) !== 'json' && !s.writeOnly && !/password|secret|pin/.test(k))
    .slice(0, 4)
    .map(([k]) => k);
  let gateways = null;
  if (name === 'trunks') {
    try { gateways = Object.fromEntries((await get('/gateways')).items.map((g) => [g.trunk_id ?? g.id, g.state])); } catch { gateways = {}; }
  }
  const canWrite = ctx.allowed('POST', `/${name}`);
  const search = h('input', { type: 'search', name: 'q', 'aria-label': 'Search', value: params.get('q') || '', placeholder: 'Search' });
  const head = h('tr', {}, cols.map((c) => h('th', {}, label(c))), gateways ? h('th', {}, 'Status') : null, h('th', {}, ''));
  const rows = data.items.map((it) =>
    h('tr', {},
      cols.map((c) => h('td', {}, it[c] === null || it[c] === undefined ? '' : typeof it[c] === 'boolean' ? (it[c] ? 'yes' : 'no') : String(it[c]))),
      gateways ? h('td', { class: 'gw' }, gateways[it.id] || 'unknown') : null,
      h('td', {}, h('a', { href: `#/r/${name}/${it.id}` }, canWrite ? 'Edit' : 'View'))));
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  return page(title,
    h('div', { class: 'toolbar' },
      h('form', { onsubmit: (e) => { e.preventDefault(); location.hash = `#/r/${name}?q=${encodeURIComponent(search.value)}`; } }, search),
      canWrite ? h('a', { href: `#/r/${name}/new`, class: 'button primary' }, `Add ${title.replace(/s$/, '').toLowerCase()}`) : null,
      h('span', {}, `${data.total} in all`)),
    h('table', {}, h('thead', {}, head), h('tbody', {}, rows)),
    h('div', { class: 'pager' },
      pageNo > 1 ? h('a', { href: `#/r/${name}?page=${pageNo - 1}` }, '‹ Previous') : null,
      h('span', {}, `Page ${pageNo} of ${pages}`),
      pageNo < pages ? h('a', { href: `#/r/${name}?page=${pageNo + 1}` }, 'Next ›') : null));
}

function input(name, s, value, required) {
  const id = `f-${name}`;
  const k = kind(s);
  let el;
  if (k === 'bool') el = h('input', { id, name, type: 'checkbox', checked: !!value });
  else if (k === 'enum') {
    el = h('select', { id, name }, required ? null : h('option', { value: '' }, '—'), s.enum.map((o) => h('option', { value: o, selected: value === o }, o)));
  } else if (k === 'int') el = h('input', { id, name, type: 'number', value: value ?? '' });
  else if (k === 'json') {
    el = h('textarea', { id, name, spellcheck: 'false' });
    el.value = value === undefined || value === null ? '' : JSON.stringify(value);
  } else {
    el = h('input', { id, name, type: s.writeOnly ? 'password' : 'text', value: value ?? '', autocomplete: 'off' });
  }
  const hint = HINTS[name] || s.description || (s.pattern ? `format: ${s.pattern}` : '');
  return h('div', { class: 'field', 'data-field': name },
    k === 'bool' ? h('label', { for: id }, el, ' ', label(name)) : [h('label', { for: id }, label(name), required ? ' *' : ''), el],
    hint ? h('span', { class: 'hint' }, hint) : null,
    h('span', { class: 'error', id: `err-${name}`, role: 'alert' }));
}

function read(form, schema, editing) {
  const body = {};
  const local = {};
  for (const [name, s] of Object.entries(schema.properties)) {
    const el = form.elements[name];
    if (!el) continue;
    const k = kind(s);
    if (k === 'bool') body[name] = el.checked;
    else if (k === 'int') { if (el.value !== '') body[name] = Number(el.value); else if (editing) body[name] = null; }
    else if (k === 'json') {
      if (el.value.trim() === '') continue;
      try { body[name] = JSON.parse(el.value); } catch (e) { local[name] = `not valid JSON: ${e.message}`; }
    } else if (s.writeOnly && el.value === '') continue;
    else if (k === 'enum' && el.value === '') continue;
    else body[name] = el.value;
  }
  return { body, local };
}

function showErrors(form, fields) {
  for (const f of form.querySelectorAll('.field')) {
    const msg = fields[f.dataset.field];
    f.classList.toggle('invalid', !!msg);
    f.querySelector('.error').textContent = msg || '';
  }
  const first = form.querySelector('.field.invalid input, .field.invalid select, .field.invalid textarea');
  if (first) first.focus();
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
  const fields = Object.entries(schema.properties)
    .filter(([k]) => k !== 'tenant_id' || superAdmin)
    .map(([k, s]) => input(k, s, item[k] ?? (k === 'tenant_id' ? ctx.query.tenant_id : undefined), (schema.required || []).includes(k)));
  const status = h('p', { role: 'status' });
  const form = h('form', { class: 'edit', novalidate: true }, fields, h('div', { class: 'toolbar' },
    h('button', { type: 'submit', class: 'primary' }, 'Save'),
    id !== 'new' && ctx.allowed('DELETE', `/${name}/{id}`) ? h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm('Delete it?')) return;
      try { await api('DELETE', `/${name}/${id}`); location.hash = `#/r/${name}`; } catch (e) { status.textContent = e.message; }
    } }, 'Delete') : null,
    h('a', { href: `#/r/${name}` }, 'Back')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const { body, local } = read(form, schema, id !== 'new');
    if (Object.keys(local).length) return showErrors(form, local);
    try {
      const saved = id === 'new' ? await api('POST', `/${name}`, body) : await api('PATCH', `/${name}/${id}`, body);
      showErrors(form, {});
      status.textContent = 'Saved.';
      if (id === 'new') location.hash = `#/r/${name}/${saved.id}`;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showErrors(form, err.fields);
      status.textContent = err.message;
    }
  });
  const extra = name === 'devices' && id !== 'new' ? await provisioning(id) : null;
  return page(`${title}: ${id === 'new' ? 'new' : `#${id}`}`, extra, form);
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
