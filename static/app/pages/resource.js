// Every configuration resource of the API (extensions, ring groups, IVR menus, trunks, …):
// a paged list and a form built from the resource's schema in the OpenAPI document, so a
// field added to the API appears here without a second definition. The API's field errors
// are shown beside their fields.

import { api, ApiError, get, openapi, tokens } from '../api.js';
import { h, inWords, money as formatMoney, page, pager, refusal, showFieldErrors } from '../ui.js';
import { editor, Invalid, isMoney, loader, titleOf } from './fields.js';

const PER_PAGE = 25;

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

const shown = (v, s) => (v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'Yes' : 'No') : s && s.enum ? inWords(v) : String(v));

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
  const admin = ['tenant_admin', 'super_admin'].includes(ctx.me.user.role);
  // A user adds only what their administrator allocated them room for.
  const slot = schema['x-slot'];
  const canWrite = ctx.allowed('POST', `/${name}`) && (admin || !slot || (ctx.me.user.allocations || {})[slot] > 0);
  const one = singular(title);
  const search = h('input', { type: 'search', name: 'q', 'aria-label': 'Search', value: params.get('q') || '', placeholder: 'Search' });
  // Tenants: each row with its package and how much of it is used.
  const usage = name === 'tenants' ? await tenantUsage(data.items) : null;
  const head = h('tr', {}, cols.map((c) => h('th', {}, titleOf(c, schema.properties[c]))), gateways ? h('th', {}, 'Status') : null, usage ? h('th', {}, 'Package · usage') : null, h('th', {}, ''));
  const rows = data.items.map((it) =>
    h('tr', {},
      cols.map((c) => h('td', {}, money(c) ? formatMoney(it[c]) : shown(it[c], schema.properties[c]))),
      gateways ? h('td', { class: 'gw' }, gateways[it.id] || 'unknown') : null,
      usage ? h('td', { class: 'usage' }, usage[it.id] || '') : null,
      h('td', {}, rowLink(ctx, name, it, admin))));
  const empty = h('tr', { class: 'empty' }, h('td', { colspan: head.children.length },
    params.get('q') ? `No ${title.toLowerCase()} match “${params.get('q')}”.`
      : canWrite ? `No ${title.toLowerCase()} yet. Add the first with “Add ${one}”.`
        : `No ${title.toLowerCase()} yet. Your administrator sets these up.`));
  return page(title, flashed(),
    h('div', { class: 'toolbar' },
      h('form', { onsubmit: (e) => { e.preventDefault(); location.hash = `#/r/${name}?q=${encodeURIComponent(search.value)}`; } }, search),
      canWrite ? h('a', { href: `#/r/${name}/new`, class: 'button primary' }, `Add ${one}`) : null),
    h('table', {}, h('thead', {}, head), h('tbody', {}, rows.length ? rows : empty)),
    pager(data, pageNo, (n) => `#/r/${name}?page=${n}`));
}

/// A row's link: Edit (View when this user may only read), except for a user's rows they
/// did not make: their own extension is changed on My Account; the tenant's shared rows (a
/// cover page they may use) are not theirs to open.
function rowLink(ctx, name, it, admin) {
  if (admin || it.owner_user_id === undefined || it.owner_user_id === ctx.me.user.id) {
    return h('a', { href: `#/r/${name}/${it.id}` }, ctx.allowed('PATCH', `/${name}/{id}`) ? 'Edit' : 'View');
  }
  if (name === 'extensions' && it.user_id === ctx.me.user.id) return h('a', { href: '#/account' }, 'Settings');
  return h('span', { class: 'hint' }, "the tenant's");
}

/// "DID numbers" → "DID number", "Extensions" → "extension": one of a page's objects.
export function singular(title) {
  const one = title.replace(/s$/, '');
  return /^[A-Z][a-z]/.test(one) ? one[0].toLowerCase() + one.slice(1) : one;
}

/// What the last action said ("Saved.", "Deleted …"), shown once on the page it led to.
let flash = null;
function flashed() {
  const text = flash;
  flash = null;
  return text ? h('p', { class: 'flash', role: 'status' }, text) : null;
}

/// "Business 20 · extensions 4/20 · voice minutes 12/1000" for each tenant on the page.
async function tenantUsage(items) {
  const out = {};
  await Promise.all(items.map(async (t) => {
    try {
      const q = await get(`/quota?tenant_id=${t.id}`);
      const ext = q.slots.find((x) => x.slot === 'extensions');
      const min = q.usage.find((x) => x.kind === 'voice_minutes');
      const of = (used, limit) => (limit === null || limit === undefined ? `${used} (no limit)` : `${used} of ${limit}`);
      out[t.id] = [t.enabled === false ? 'Disabled: every call to it is refused' : null, q.package || 'no package',
        ext && `extensions ${of(ext.used, ext.limit)}`, min && `voice minutes ${of(min.used, min.allocated)}`].filter(Boolean).join(' · ');
    } catch { /* billing absent (community edition) or not readable: the column stays empty */ }
  }));
  return out;
}

function field(name, s, value, required, opts) {
  const id = `f-${name}`;
  const ed = editor(name, s, value, { ...opts, id });
  // The API's help for the field; money says it is in units; never a pattern's syntax.
  const hint = s['x-help'] || (isMoney(s) ? 'An amount in units, e.g. 12.50' : '');
  const el = ed.el;
  const inline = el.tagName === 'INPUT' && el.type === 'checkbox';
  return {
    name,
    ed,
    el: h('div', { class: 'field', 'data-field': name },
      inline ? h('label', { for: id }, el, ' ', titleOf(name, s)) : [h('label', { for: id }, titleOf(name, s), required ? ' *' : ''), el],
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
  const one = singular(title);
  // A super admin's new row of a tenant's: the tenant first, so every list on the form (the
  // extensions a device's lines register as, …) is that tenant's alone.
  if (superAdmin && schema['x-tenant-scoped'] && tenantId === undefined) return tenantFirst(name, one);
  const load = loader(superAdmin ? tenantId : null);
  const fields = Object.entries(schema.properties)
    .filter(([k]) => k !== 'tenant_id' || superAdmin)
    .map(([k, s]) => field(k, s, item[k] ?? (k === 'tenant_id' ? tenantId : id === 'new' ? s.default : undefined), (schema.required || []).includes(k), { load, clearable: id !== 'new' }));
  if (schema['x-tenant-scoped']) fields.filter((f) => f.name === 'tenant_id').forEach(fixed);
  const model = fields.find((f) => f.name === 'model');
  if (model && schema.properties.model['x-models']) modelsOf(model, fields.find((f) => f.name === 'vendor'), schema.properties.model['x-models'], item.model);
  const status = h('p', { role: 'status' });
  const form = h('form', { class: 'edit', novalidate: true }, layout(name, fields), h('div', { class: 'toolbar' },
    h('button', { type: 'submit', class: 'primary' }, 'Save'),
    id !== 'new' && ctx.allowed('DELETE', `/${name}/{id}`) ? h('button', { type: 'button', class: 'danger', onclick: async () => {
      const what = `${one} ${item.name || item.number || item.company || item.pattern || `#${id}`}`;
      if (!confirm(`Delete ${what}? This cannot be undone.`)) return;
      try { await api('DELETE', `/${name}/${id}`); flash = `Deleted ${what}.`; location.hash = `#/r/${name}`; } catch (e) { status.textContent = e.message; }
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
      status.className = 'flash';
      if (id === 'new') { flash = `Saved the new ${one}.`; location.hash = `#/r/${name}/${saved.id}`; }
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showFieldErrors(form, err.fields);
      status.textContent = err.message;
    }
  });
  let extra = null;
  if (name === 'devices' && id !== 'new') extra = await provisioning(id);
  if (name === 'moh-classes' && id !== 'new') extra = await mohFiles(ctx, id);
  if (name === 'conferences' && id !== 'new') extra = await liveRoom(ctx, id);
  const named = item.name || item.display_name || item.number || item.company || item.pattern;
  const heading = id === 'new' ? `New ${one}` : `${one[0].toUpperCase()}${one.slice(1)}${named ? ` ${named}` : ` #${id}`}`;
  return page(heading, flashed(), extra, form);
}

// What keeps a live panel current (the feed, or a poll), stopped when the page changes.
let watching = null;
export function stop() {
  if (watching) { watching(); watching = null; }
}

/// The conference room live: who is in it (talking, muted, deaf) with the moderator's
/// buttons, the room's lock and recording. Rows are kept by member and changed in place as
/// the feed reports (a button being pressed is never replaced under the pointer).
async function liveRoom(ctx, id) {
  stop();
  const path = `/conferences/${id}/live`;
  const status = h('p', { role: 'status' });
  const summary = h('p', { class: 'room-state' });
  const body = h('tbody');
  const rows = new Map();
  const lock = h('button', { type: 'button' });
  const rec = h('button', { type: 'button' });
  let room = null;
  const act = async (action, member, what) => {
    try { await api('POST', path, member === undefined ? { action } : { action, member }); status.textContent = `${what}: done.`; await refresh(); } catch (e) { status.textContent = `${what}: ${e.message}`; }
  };
  lock.addEventListener('click', () => act(room.locked ? 'unlock' : 'lock', undefined, room.locked ? 'Unlock' : 'Lock'));
  rec.addEventListener('click', () => act(room.recording ? 'record_stop' : 'record_start', undefined, room.recording ? 'Stop recording' : 'Start recording'));
  const cell = (tr, i) => tr.children[i];
  const draw = (r) => {
    room = r;
    const n = r.members.length;
    summary.textContent = !r.online ? 'The switch is offline: nothing is known of the room now.'
      : n === 0 ? 'Nobody is in the room now. Callers who dial its number appear here as they join.'
        : `${n} in the room${r.locked ? ' · locked: nobody else can join' : ''}${r.recording ? ' · recording' : ''}`;
    lock.textContent = r.locked ? 'Unlock the room' : 'Lock the room';
    rec.textContent = r.recording ? 'Stop recording' : 'Start recording';
    lock.disabled = rec.disabled = n === 0;
    const seen = new Set();
    for (const m of r.members) {
      seen.add(m.id);
      let tr = rows.get(m.id);
      const who = m.caller_name && m.caller_name !== m.caller_number ? `${m.caller_name} (${m.caller_number})` : m.caller_number;
      if (!tr) {
        const b = (label, on) => h('button', { type: 'button', onclick: on }, label);
        tr = h('tr', { 'data-member': m.id }, h('td', {}), h('td', { class: 'talk' }), h('td', {}), h('td', {}),
          h('td', { class: 'row-actions' },
            b('Mute', () => act(rows.get(m.id).muted ? 'unmute' : 'mute', m.id, `${rows.get(m.id).muted ? 'Unmute' : 'Mute'} ${who}`)), ' ',
            b('Deaf', () => act(rows.get(m.id).deaf ? 'undeaf' : 'deaf', m.id, `${rows.get(m.id).deaf ? 'Undeaf' : 'Deaf'} ${who}`)), ' ',
            h('button', { type: 'button', class: 'danger', onclick: () => { if (confirm(`Remove ${who} from the conference?`)) act('kick', m.id, `Kick ${who}`); } }, 'Kick')));
        rows.set(m.id, tr);
      }
      tr.muted = m.muted;
      tr.deaf = m.deaf;
      cell(tr, 0).textContent = who;
      cell(tr, 1).textContent = m.talking ? '● Talking' : '';
      cell(tr, 2).textContent = m.muted ? 'Muted' : '';
      cell(tr, 3).textContent = m.deaf ? 'Deaf' : '';
      const [mute, deaf, kick] = cell(tr, 4).querySelectorAll('button');
      mute.textContent = m.muted ? 'Unmute' : 'Mute';
      deaf.textContent = m.deaf ? 'Undeaf' : 'Deaf';
      mute.setAttribute('aria-label', `${m.muted ? 'Unmute' : 'Mute'} ${who}`);
      deaf.setAttribute('aria-label', `${m.deaf ? 'Undeaf' : 'Deaf'} ${who}`);
      kick.setAttribute('aria-label', `Kick ${who}`);
    }
    for (const [mid, tr] of rows) if (!seen.has(mid)) { tr.remove(); rows.delete(mid); }
    // In the room's order (newest first), moving only rows out of place.
    r.members.forEach((m, i) => { const tr = rows.get(m.id); if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null); });
  };
  const refresh = async () => { try { draw(await get(path)); } catch (e) { status.textContent = e.message; } };
  await refresh();
  if (ctx.allowed('GET', '/realtime/feed')) {
    // EventSource sends no headers: the access token goes in the query string.
    const feed = new EventSource(`/api/v1/realtime/feed?access_token=${encodeURIComponent(tokens().access)}`);
    // A room's change names it in `conference`, its end by `name`.
    const mine = (e) => { try { const d = JSON.parse(e.data); return (d.conference ? d.conference.name : d.name) === room?.name; } catch { return false; } };
    feed.addEventListener('conference', (e) => { if (mine(e)) refresh(); });
    feed.addEventListener('conference_gone', (e) => { if (mine(e)) refresh(); });
    for (const ev of ['snapshot', 'reloaded', 'switch']) feed.addEventListener(ev, refresh);
    watching = () => feed.close();
  } else {
    const timer = setInterval(refresh, 2000);
    watching = () => clearInterval(timer);
  }
  return h('section', { class: 'notice', 'aria-label': 'Live' }, h('h2', {}, 'Live'), summary, h('div', { class: 'toolbar' }, lock, rec),
    h('table', {}, h('thead', {}, h('tr', {}, ['Caller', 'Talking', 'Muted', 'Deaf', ''].map((x) => h('th', {}, x)))), body), status);
}

/// "Which tenant is it for?": the super admin's first step on a new row of a tenant's.
async function tenantFirst(name, one) {
  const tenants = (await get('/tenants?per_page=500')).items;
  const pick = h('select', { id: 'f-tenant-first' }, h('option', { value: '' }, '— choose —'), tenants.map((t) => h('option', { value: t.id }, t.company)));
  return page(`New ${one}`, h('form', { class: 'edit', onsubmit: (e) => { e.preventDefault(); if (pick.value) location.hash = `#/r/${name}/new?tenant_id=${pick.value}`; } },
    h('div', { class: 'field' }, h('label', { for: 'f-tenant-first' }, 'Tenant'), pick, h('span', { class: 'hint' }, `The ${one} is made in this tenant, from its own objects`)),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, 'Next'), h('a', { href: `#/r/${name}` }, 'Back'))));
}

/// A field shown but not changed here (a row's tenant, once its form's lists are that
/// tenant's).
function fixed(f) {
  const el = f.ed.el;
  el.disabled = true;
}

/// The model as a choice among the chosen vendor's models (a generic phone's is typed).
function modelsOf(model, vendor, models, current) {
  const slot = model.ed.el;
  const typed = slot;
  const pick = h('select', { id: slot.id });
  const fill = () => {
    const list = models[vendor.ed.el.value] || null;
    if (!list) { if (pick.parentNode) pick.replaceWith(typed); return; }
    const keep = list.includes(pick.value) ? pick.value : list.includes(current) ? current : '';
    pick.replaceChildren(h('option', { value: '' }, '—'), ...list.map((m) => h('option', { value: m, selected: m === keep }, m)));
    if (current && !list.includes(current) && vendor.ed.el.value === model.vendorAtLoad) pick.append(h('option', { value: current, selected: true }, current));
    if (typed.parentNode) typed.replaceWith(pick);
  };
  model.vendorAtLoad = vendor.ed.el.value;
  const get = model.ed.get;
  model.ed.get = () => (pick.parentNode ? (pick.value === '' ? undefined : pick.value) : get());
  vendor.ed.el.addEventListener('change', fill);
  fill();
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
