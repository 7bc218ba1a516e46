// User management: the list, and the form with role and tenant, permission checkboxes
// grouped Fax / PBX / Contacts and limited to what the tenant holds (ticking a child ticks
// its parent, unticking a parent clears its children), and PBX slot allocations with the
// tenant's Available count.

import { api, ApiError, get } from '../api.js';
import { h, page, refusal, showFieldErrors } from '../ui.js';

const GROUPS = [['fax', 'Fax'], ['pbx', 'PBX'], ['contacts', 'Contacts']];
/// The slot each PBX permission allocates.
const SLOTS = { fpbx_extension: 'extensions', devices: 'devices', ring_groups: 'ring_groups', call_queues: 'call_queues', ivr_menus: 'ivr_menus', voicemails: 'voicemails', conferences: 'conferences', music_on_hold: 'music_on_hold' };

export async function list() {
  let data;
  try { data = await get('/users?per_page=100'); } catch (e) { if (e instanceof ApiError) return refusal('Users', e); throw e; }
  return page('Users',
    h('div', { class: 'toolbar' }, h('a', { href: '#/users/new', class: 'button primary' }, 'Add user')),
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Tenant', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, data.items.map((u) => h('tr', {}, h('td', {}, u.name), h('td', {}, u.email), h('td', {}, h('span', { class: 'badge' }, u.role)), h('td', {}, u.tenant_id ?? '—'),
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
  let perms, quota = null;
  try {
    if (id !== 'new') user = await get(`/users/${id}`);
    perms = (await get('/permissions')).items;
  } catch (e) { if (e instanceof ApiError) return refusal('User', e); throw e; }
  try { quota = await get(`/quota${ctx.me.user.role === 'super_admin' && user.tenant_id ? `?tenant_id=${user.tenant_id}` : ''}`); } catch { quota = null; }
  const held = perms.filter((p) => p.held_by_tenant);
  const boxes = held.map((p) => h('input', { type: 'checkbox', name: 'perm', value: p.token, id: `perm-${p.token}`, 'data-parent': p.parent || undefined, checked: (user.permissions || []).includes(p.token) }));
  cascade(boxes);
  const box = (t) => boxes.find((b) => b.value === t);
  const groups = GROUPS.map(([g, title]) => {
    const mine = held.filter((p) => p.group === g);
    if (!mine.length) return null;
    return h('div', { class: 'perm-group', role: 'group', 'aria-label': title }, h('strong', {}, title), h('br'),
      mine.map((p) => h('label', { for: `perm-${p.token}` }, box(p.token), ' ', p.token.replace(/_/g, ' '))));
  });
  // Slot allocations: how many objects of each kind this user may create, out of what the
  // tenant's package leaves.
  const slots = quota ? Object.fromEntries(quota.slots.map((s) => [s.slot, s])) : {};
  const alloc = Object.entries(SLOTS).map(([token, slot]) => {
    const s = slots[slot];
    const given = (user.allocations || {})[slot] ?? 0;
    const inputEl = h('input', { type: 'number', min: 0, name: `alloc-${slot}`, id: `alloc-${slot}`, value: given });
    const avail = h('span', { class: 'hint', id: `avail-${slot}` });
    const update = () => { avail.textContent = s ? `Available: ${s.limit - s.used}` : ''; };
    update();
    const row = h('div', { class: 'field', 'data-field': 'allocations' }, h('label', { for: `alloc-${slot}` }, slot.replace(/_/g, ' ')), inputEl, avail);
    const show = () => { row.hidden = !(box(token) && box(token).checked); };
    if (box(token)) box(token).addEventListener('cascaded', show);
    show();
    return row;
  });
  const f = (name, type, value, extra = {}) => h('div', { class: 'field', 'data-field': name },
    h('label', { for: `f-${name}` }, name.replace(/_/g, ' ')), h('input', { id: `f-${name}`, name, type, value: value ?? '', ...extra }), h('span', { class: 'error', role: 'alert' }));
  const roles = ctx.me.user.role === 'super_admin' ? ['super_admin', 'tenant_admin', 'agent', 'end_user'] : ['tenant_admin', 'agent', 'end_user'];
  const status = h('p', { role: 'status' });
  const form = h('form', { class: 'edit', novalidate: true },
    f('name', 'text', user.name), f('email', 'email', user.email), f('password', 'password', '', { autocomplete: 'new-password' }),
    h('div', { class: 'field', 'data-field': 'role' }, h('label', { for: 'f-role' }, 'role'), h('select', { id: 'f-role', name: 'role' }, roles.map((r) => h('option', { value: r, selected: user.role === r }, r))), h('span', { class: 'error', role: 'alert' })),
    ctx.me.user.role === 'super_admin' ? f('tenant_id', 'number', user.tenant_id) : null,
    f('fax_email', 'email', user.fax_email),
    h('fieldset', { 'data-field': 'permissions', class: 'field' }, h('legend', {}, 'Permissions'), groups, h('span', { class: 'error', role: 'alert' })),
    h('fieldset', {}, h('legend', {}, 'PBX resource allocation'), alloc),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, 'Save'), h('a', { href: '#/users' }, 'Back')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const el = form.elements;
    const body = { name: el.name.value, email: el.email.value, role: el.role.value, fax_email: el.fax_email.value,
      permissions: boxes.filter((b) => b.checked).map((b) => b.value),
      allocations: Object.fromEntries(Object.entries(SLOTS).filter(([t]) => box(t) && box(t).checked).map(([, s]) => [s, Number(el[`alloc-${s}`].value || 0)])) };
    if (el.password.value || id === 'new') body.password = el.password.value;
    if (el.tenant_id && el.tenant_id.value) body.tenant_id = Number(el.tenant_id.value);
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
  return page(id === 'new' ? 'New user' : `User: ${user.email}`, form);
}
