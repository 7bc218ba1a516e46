// PBX reference pages: the feature codes the switch honours, route explain (the path a
// call would take, step by step with the reason for each, without placing it), and the
// tenant's system recordings (uploaded greetings).

import { api, ApiError, blob, get } from '../api.js';
import { clock, h, page, refusal, showFieldErrors } from '../ui.js';

/// Plays an uploaded recording in `audio` (fetched with the user's token).
export async function listen(audio, id) {
  audio.src = URL.createObjectURL(await blob(`/sounds/${id}/audio`));
  audio.hidden = false;
  await audio.play().catch(() => {});
}

/// System recordings: upload (checked by the API to be audio the switch can play), listen,
/// delete; an IVR menu or voicemail box then picks one as its greeting.
export async function sounds(ctx) {
  let items;
  try { items = (await get('/sounds')).items; } catch (e) { if (e instanceof ApiError) return refusal('System recordings', e); throw e; }
  const status = h('p', { role: 'status' });
  const audio = h('audio', { controls: true, hidden: true, 'aria-label': 'Playing' });
  const superAdmin = ctx.me.user.role === 'super_admin';
  const tenants = superAdmin ? (await get('/tenants?per_page=500')).items : [];
  const body = h('tbody', {}, items.length ? items.map((x) => h('tr', {},
    h('td', {}, x.name), superAdmin ? h('td', {}, (tenants.find((t) => t.id === x.tenant_id) || {}).company || '') : null,
    h('td', {}, clock(x.seconds)), h('td', {}, `${Math.ceil(x.bytes / 1024)} KB`),
    h('td', { class: 'row-actions' },
      h('button', { type: 'button', 'aria-label': `Listen to ${x.name}`, onclick: async () => { try { await listen(audio, x.id); } catch (e) { status.textContent = e.message; } } }, 'Listen'), ' ',
      h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${x.name}`, onclick: async () => {
        if (!confirm(`Delete ${x.name}?`)) return;
        try { await api('DELETE', `/sounds/${x.id}`); await sounds(ctx); document.querySelector('#main [role=status]').textContent = `Deleted ${x.name}.`; } catch (e) { status.textContent = e.message; }
      } }, 'Delete'))))
    : [h('tr', { class: 'empty' }, h('td', { colspan: superAdmin ? 5 : 4 }, 'No recordings yet. Upload a greeting below, then choose it on an IVR menu or a voicemail box.'))]);
  const file = h('input', { id: 'sound-file', type: 'file', accept: '.wav,.mp3,audio/wav,audio/mpeg' });
  const tenant = superAdmin ? h('select', { id: 'sound-tenant', 'aria-label': 'Tenant' }, tenants.map((t) => h('option', { value: t.id }, t.company))) : null;
  const upload = h('form', { class: 'toolbar', onsubmit: async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) { status.textContent = 'Choose a WAV file first.'; return; }
    status.textContent = `Uploading ${f.name}…`;
    try {
      await api('POST', `/sounds?name=${encodeURIComponent(f.name)}${tenant ? `&tenant_id=${tenant.value}` : ''}`, f);
      await sounds(ctx);
      document.querySelector('#main [role=status]').textContent = `Uploaded ${f.name}.`;
    } catch (err) { status.textContent = err.message; }
  } }, h('label', { for: 'sound-file' }, 'Recording (WAV, mono or stereo, 8–48 kHz)'), file, tenant, h('button', { type: 'submit', class: 'primary' }, 'Upload'));
  return page('System recordings', h('p', {}, 'Greetings callers hear: upload them here, listen, and choose them on IVR menus and voicemail boxes.'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', superAdmin ? 'Tenant' : null, 'Length', 'Size', ''].filter(Boolean).map((c) => h('th', {}, c)))), body),
    upload, status, audio);
}

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
