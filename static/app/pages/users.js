// User management: the list, and the form with role and tenant, permission checkboxes
// grouped Fax / PBX / Contacts and limited to what the tenant holds (ticking a child ticks
// its parent, unticking a parent clears its children), and PBX slot allocations with the
// tenant's Available count.

import { api, ApiError, get } from '../api.js';
import { h, inWords, page, refusal, showFieldErrors } from '../ui.js';

const GROUPS = [['fax', 'Fax'], ['pbx', 'PBX'], ['contacts', 'Contacts']];
/// The slot each PBX permission allocates.
const SLOTS = { fpbx_extension: 'extensions', devices: 'devices', ring_groups: 'ring_groups', call_queues: 'call_queues', ivr_menus: 'ivr_menus', voicemails: 'voicemails', conferences: 'conferences', music_on_hold: 'music_on_hold' };

/// The tenants a super admin picks from, by company; nothing for a tenant admin (theirs).
async function tenants(ctx) {
  if (ctx.me.user.role !== 'super_admin') return [];
  return (await get('/tenants?per_page=500')).items;
}

export async function list(ctx) {
  let data, all;
  try { [data, all] = await Promise.all([get('/users?per_page=100'), tenants(ctx)]); } catch (e) { if (e instanceof ApiError) return refusal('Users', e); throw e; }
  const company = Object.fromEntries(all.map((t) => [t.id, t.company]));
  return page('Users',
    h('div', { class: 'toolbar' }, h('a', { href: '#/users/new', class: 'button primary' }, 'Add user')),
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Tenant', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, data.items.map((u) => h('tr', {}, h('td', {}, u.name), h('td', {}, u.email), h('td', {}, h('span', { class: 'badge' }, inWords(u.role))),
        h('td', {}, u.tenant_id === null ? '—' : company[u.tenant_id] || ctx.me.tenant?.company || ''),
        h('td', {}, h('a', { href: `#/users/${u.id}` }, 'Edit')))))));
}

/// Wires the cascade on a set of checkboxes (`data-parent` names the parent token).
export function cascade(boxes) {
  const by = Object.fromEntries(boxes.map((b) => [b.value, b]));
  for (const b of boxes) {
    b.addEventListener('change', () => {
      if (b.checked && b.dataset.parent && by[b.dataset.parent]) by[b.dataset.parent].checked = true;
      if (!b.checked) for (const c of boxes) if (c.dataset.parent === b.value) c.checked = false;
      for (const x of boxes) x.dispatchEvent(new Event('cascaded'));
    });
  }
}

export async function edit(ctx, id) {
  let user = { role: 'end_user', permissions: [], allocations: {}, enabled: true };
  let perms, all, quota = null;
  try {
    if (id !== 'new') user = await get(`/users/${id}`);
    [perms, all] = await Promise.all([get('/permissions').then((p) => p.items), tenants(ctx)]);
  } catch (e) { if (e instanceof ApiError) return refusal('User', e); throw e; }
  const superAdmin = ctx.me.user.role === 'super_admin';
  // The super admin picks the tenant by name; the permissions offered are what that tenant
  // holds (a user can only be given what their tenant has), and the slots its package leaves.
  const tenantPick = superAdmin ? h('select', { id: 'f-tenant', name: 'tenant' }, h('option', { value: '' }, '— choose a tenant —'),
    all.map((t) => h('option', { value: t.id, selected: t.id === user.tenant_id }, t.company))) : null;
  const heldBy = () => {
    if (!superAdmin) return new Set(perms.filter((p) => p.held_by_tenant).map((p) => p.token));
    const t = all.find((x) => String(x.id) === tenantPick.value);
    return new Set(t ? t.permissions || [] : []);
  };
  const boxes = perms.map((p) => h('input', { type: 'checkbox', name: 'perm', value: p.token, id: `perm-${p.token}`, 'data-parent': p.parent || undefined, checked: (user.permissions || []).includes(p.token) }));
  cascade(boxes);
  const box = (t) => boxes.find((b) => b.value === t);
  const labels = Object.fromEntries(perms.map((p) => [p.token, h('label', { for: `perm-${p.token}` }, box(p.token), ' ', p.title || inWords(p.token))]));
  const none = h('p', { class: 'hint' });
  const groups = GROUPS.map(([g, title]) => {
    const mine = perms.filter((p) => p.group === g);
    return h('div', { class: 'perm-group', role: 'group', 'aria-label': title }, h('strong', {}, title), h('br'), mine.map((p) => labels[p.token]));
  });
  // Slot allocations: how many objects of each kind this user may create, out of what the
  // tenant's package leaves.
  let slots = {};
  const avails = {};
  const loadQuota = async () => {
    const t = superAdmin ? tenantPick.value : '';
    if (superAdmin && !t) { slots = {}; } else {
      try { quota = await get(`/quota${t ? `?tenant_id=${t}` : ''}`); slots = Object.fromEntries(quota.slots.map((s) => [s.slot, s])); } catch { slots = {}; }
    }
    for (const [slot, el] of Object.entries(avails)) { const s = slots[slot]; el.textContent = s ? `Available: ${s.limit - s.used}` : ''; }
  };
  const alloc = Object.entries(SLOTS).map(([token, slot]) => {
    const given = (user.allocations || {})[slot] ?? 0;
    const inputEl = h('input', { type: 'number', min: 0, name: `alloc-${slot}`, id: `alloc-${slot}`, value: given });
    const avail = h('span', { class: 'hint', id: `avail-${slot}` });
    avails[slot] = avail;
    const row = h('div', { class: 'field', 'data-field': 'allocations' }, h('label', { for: `alloc-${slot}` }, inWords(slot)), inputEl, avail);
    const show = () => { row.hidden = !(box(token) && box(token).checked); };
    if (box(token)) box(token).addEventListener('cascaded', show);
    show();
    return row;
  });
  const f = (name, text, type, value, extra = {}) => h('div', { class: 'field', 'data-field': name },
    h('label', { for: `f-${name}` }, text), h('input', { id: `f-${name}`, name, type, value: value ?? '', ...extra }), h('span', { class: 'error', role: 'alert' }));
  const roles = superAdmin ? ['super_admin', 'tenant_admin', 'agent', 'end_user'] : ['tenant_admin', 'agent', 'end_user'];
  const role = h('select', { id: 'f-role', name: 'role' }, roles.map((r) => h('option', { value: r, selected: user.role === r }, inWords(r))));
  const tenantField = superAdmin ? h('div', { class: 'field', 'data-field': 'tenant_id' }, h('label', { for: 'f-tenant' }, 'Tenant'), tenantPick,
    h('span', { class: 'hint' }, 'The customer organisation the user belongs to'), h('span', { class: 'error', role: 'alert' })) : null;
  // Only what the chosen tenant holds is offered; a box the tenant lacks is cleared.
  const offer = () => {
    const held = heldBy();
    for (const b of boxes) {
      const ok = held.has(b.value);
      labels[b.value].hidden = !ok;
      if (!ok && b.checked) { b.checked = false; b.dispatchEvent(new Event('cascaded')); }
    }
    for (const g of groups) g.hidden = ![...g.querySelectorAll('label')].some((l) => !l.hidden);
    none.textContent = held.size ? '' : superAdmin && !tenantPick.value ? 'Choose the tenant first: its permissions are offered here.' : 'The tenant holds no permissions to give.';
    if (tenantField) tenantField.hidden = role.value === 'super_admin';
  };
  if (tenantPick) tenantPick.addEventListener('change', () => { offer(); loadQuota(); });
  role.addEventListener('change', offer);
  const status = h('p', { role: 'status' });
  const form = h('form', { class: 'edit', novalidate: true },
    f('name', 'Name', 'text', user.name), f('email', 'Email', 'email', user.email), f('password', id === 'new' ? 'Password' : 'New password (leave empty to keep it)', 'password', '', { autocomplete: 'new-password' }),
    h('div', { class: 'field', 'data-field': 'role' }, h('label', { for: 'f-role' }, 'Role'), role, h('span', { class: 'error', role: 'alert' })),
    tenantField,
    f('fax_email', 'Fax delivery email', 'email', user.fax_email),
    h('fieldset', { 'data-field': 'permissions', class: 'field' }, h('legend', {}, 'Permissions'), none, groups, h('span', { class: 'error', role: 'alert' })),
    h('fieldset', {}, h('legend', {}, 'PBX resource allocation'), alloc),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, 'Save'), h('a', { href: '#/users' }, 'Back')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const el = form.elements;
    const body = { name: el.name.value, email: el.email.value, role: el.role.value, fax_email: el.fax_email.value,
      permissions: boxes.filter((b) => b.checked).map((b) => b.value),
      allocations: Object.fromEntries(Object.entries(SLOTS).filter(([t]) => box(t) && box(t).checked).map(([, s]) => [s, Number(el[`alloc-${s}`].value || 0)])) };
    if (el.password.value || id === 'new') body.password = el.password.value;
    if (tenantPick && tenantPick.value && role.value !== 'super_admin') body.tenant_id = Number(tenantPick.value);
    try {
      const saved = id === 'new' ? await api('POST', '/users', body) : await api('PATCH', `/users/${id}`, body);
      showFieldErrors(form, {});
      status.textContent = 'Saved.';
      if (id === 'new') location.hash = `#/users/${saved.id}`;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showFieldErrors(form, err.fields);
      status.textContent = err.message;
    }
  });
  offer();
  await loadQuota();
  return page(id === 'new' ? 'New user' : `User ${user.email}`, form);
}
