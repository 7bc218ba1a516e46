// PBX reference pages: the feature codes the switch honours, and route explain (the path
// a call would take, step by step with the reason for each, without placing it).

import { ApiError, get } from '../api.js';
import { h, page, refusal, showFieldErrors } from '../ui.js';

export async function featureCodes() {
  let codes;
  try { codes = (await get('/feature-codes')).items; } catch (e) { if (e instanceof ApiError) return refusal('Feature codes', e); throw e; }
  return page('Feature codes',
    h('p', {}, 'Dial these from your desk phone or the softphone.'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Code'), h('th', {}, 'What it does'))),
      h('tbody', {}, codes.map((c) => h('tr', {}, h('td', {}, h('code', {}, c.code)), h('td', {}, c.description))))));
}

/// An instant as a datetime-local value in the browser's zone.
function localInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

export async function explain(ctx) {
  const superAdmin = ctx.me.user.role === 'super_admin';
  const q = ctx.query;
  const tenants = superAdmin ? (await get('/tenants?per_page=500')).items : [];
  const f = (name, lab, control, hint) => h('div', { class: 'field', 'data-field': name },
    h('label', { for: `x-${name}` }, lab), control, hint ? h('span', { class: 'hint' }, hint) : null, h('span', { class: 'error', role: 'alert' }));
  const form = h('form', { class: 'edit', novalidate: true, 'aria-label': 'Explain a route' },
    superAdmin ? f('tenant_id', 'Tenant', h('select', { id: 'x-tenant_id', name: 'tenant_id' }, h('option', { value: '' }, 'The DID\'s tenant'),
      tenants.map((t) => h('option', { value: t.id, selected: String(t.id) === q.tenant_id }, t.company))), 'Not needed when the number is a DID') : null,
    f('number', 'Number dialed *', h('input', { id: 'x-number', name: 'number', value: q.number || '', inputmode: 'tel', placeholder: '1001, +12125550100' })),
    f('from', 'Calling from', h('input', { id: 'x-from', name: 'from', value: q.from || '', inputmode: 'tel', placeholder: 'an extension, or an outside number' })),
    f('at', 'At', h('input', { id: 'x-at', name: 'at', type: 'datetime-local', value: q.at ? localInput(q.at) : '' }), 'Your local time; empty for now. Time conditions are evaluated in the tenant\'s zone'),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, 'Explain')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const k of ['tenant_id', 'number', 'from']) if (form.elements[k]?.value) p.set(k, form.elements[k].value);
    if (form.elements.at.value) p.set('at', new Date(form.elements.at.value).toISOString());
    location.hash = `#/explain?${p}`;
  });
  let result = null;
  if (q.number) {
    const p = new URLSearchParams(q);
    try {
      const r = await get(`/route/explain?${p}`);
      result = h('section', { 'aria-label': 'Path' }, h('h2', {}, `A call to ${r.number} at ${r.at}`),
        h('ol', { class: 'steps' }, r.steps.map((s) => h('li', {}, h('strong', {}, s.at), ': ', s.decision))));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showFieldErrors(form, err.fields);
      result = h('div', { class: 'notice refusal', role: 'alert' }, err.message);
    }
  }
  return page('Route explain', form, result);
}
