// PBX call records: filters, paging and CSV export; and My account.

import { api, ApiError, get, tokens } from '../api.js';
import { h, label, page, pager, refusal } from '../ui.js';

const FILTERS = [['from', 'date'], ['to', 'date'], ['extension', 'text'], ['direction', ['', 'inbound', 'outbound', 'internal']], ['disposition', ['', 'answered', 'no_answer', 'busy', 'failed']]];

export async function cdrs(ctx) {
  const q = new URLSearchParams(ctx.query);
  const pageNo = Number(q.get('page') || 1);
  q.set('page', pageNo);
  q.set('per_page', 25);
  let data;
  try { data = await get(`/cdrs?${q}`); } catch (e) { if (e instanceof ApiError) return refusal('Call records', e); throw e; }
  const form = h('form', { class: 'toolbar', onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k] of FILTERS) if (form.elements[k].value) p.set(k, form.elements[k].value);
    location.hash = `#/cdrs?${p}`;
  } }, FILTERS.map(([k, t]) => h('label', {}, `${k} `, Array.isArray(t)
    ? h('select', { name: k }, t.map((o) => h('option', { value: o, selected: q.get(k) === o }, o || 'any')))
    : h('input', { name: k, type: t, value: q.get(k) || '', size: 10 }))), h('button', { type: 'submit' }, 'Filter'),
  h('button', { type: 'button', onclick: async () => {
    const p = new URLSearchParams(q); p.delete('page'); p.delete('per_page');
    const r = await fetch(`/api/v1/cdrs.csv?${p}`, { headers: { authorization: `Bearer ${tokens().access}` } });
    const url = URL.createObjectURL(await r.blob());
    h('a', { href: url, download: 'cdrs.csv' }).click();
    URL.revokeObjectURL(url);
  } }, 'Export CSV'));
  const cols = ['started_at', 'direction', 'caller_number', 'callee', 'duration', 'billsec', 'disposition', 'hangup_cause'];
  const link = (n) => { const p = new URLSearchParams(ctx.query); p.set('page', n); return `#/cdrs?${p}`; };
  return page('Call records', form,
    h('table', {}, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, label(c))))), h('tbody', {}, data.items.map((r) => h('tr', {}, cols.map((c) => h('td', {}, r[c] ?? '')))))),
    pager(data, pageNo, link));
}

export async function account(ctx) {
  const me = ctx.me;
  const exts = (await get('/me/extensions')).items;
  let dids = [];
  try { dids = (await get('/me/dids')).items; } catch { dids = []; }
  const status = h('p', { role: 'status' });
  const extCards = exts.map((x) => {
    const pw = h('span', { class: 'secret' }, '••••••••');
    const box = (name, labelText) => h('label', {}, h('input', { type: 'checkbox', name, checked: x[name] }), ` ${labelText} `);
    const form = h('form', { class: 'card', 'aria-label': `Extension ${x.number}` },
      h('h2', {}, `Extension ${x.number}`),
      h('p', {}, 'SIP user ', h('code', {}, `${x.number}@${x.sip_domain}`), ' password ', pw, ' ',
        h('button', { type: 'button', onclick: (e) => { const shown = pw.textContent === x.sip_password; pw.textContent = shown ? '••••••••' : x.sip_password; e.target.textContent = shown ? 'Show' : 'Hide'; } }, 'Show')),
      box('dnd', 'Do not disturb'),
      h('div', { class: 'field' }, h('label', { for: `fwd-${x.id}` }, 'Forward all calls to'), h('input', { id: `fwd-${x.id}`, name: 'forward_always', value: x.forward_always })),
      h('button', { type: 'submit', class: 'primary' }, 'Save'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try { await api('PATCH', `/me/extensions/${x.id}`, { dnd: form.elements.dnd.checked, forward_always: form.elements.forward_always.value }); status.textContent = 'Saved.'; } catch (err) { status.textContent = err.message; }
    });
    return form;
  });
  const fax = h('form', { class: 'card' }, h('div', { class: 'field' }, h('label', { for: 'fax-email' }, 'Fax delivery email'), h('input', { id: 'fax-email', name: 'fax_email', type: 'email', value: me.user.fax_email })), h('button', { type: 'submit' }, 'Save'));
  fax.addEventListener('submit', async (e) => { e.preventDefault(); try { await api('PATCH', '/me', { fax_email: fax.elements.fax_email.value }); status.textContent = 'Saved.'; } catch (err) { status.textContent = err.message; } });
  return page('My account', h('p', {}, `${me.user.name} · ${me.user.email} · ${me.user.role}`), status, h('div', { class: 'cards' }, extCards), fax,
    h('h2', {}, 'My DIDs'), dids.length ? h('ul', {}, dids.map((d) => h('li', {}, d.number, d.description ? ` — ${d.description}` : '', `: ${d.destination_name}`))) : h('p', {}, 'None.'));
}
