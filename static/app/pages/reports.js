// PBX call records: filters, paging and CSV export; and My account.

import { api, ApiError, blob, get, tokens } from '../api.js';
import { callStatus, clock, h, inWords, inZone, money, page, pager, refusal, zoneOf } from '../ui.js';

/// Filters: name, label, and a kind (an input type, or the choices of a select).
const FILTERS = [['from', 'From', 'date'], ['to', 'To', 'date'], ['extension', 'Extension', 'text'],
  ['direction', 'Direction', ['', 'inbound', 'outbound', 'internal']], ['disposition', 'Status', ['', 'answered', 'no_answer', 'busy', 'failed', 'blocked']]];

export async function cdrs(ctx) {
  const q = new URLSearchParams(ctx.query);
  const pageNo = Number(q.get('page') || 1);
  q.set('page', pageNo);
  q.set('per_page', 25);
  let data;
  try { data = await get(`/cdrs?${q}`); } catch (e) { if (e instanceof ApiError) return refusal('Call records', e); throw e; }
  const zone = zoneOf(ctx.me);
  const form = h('form', { class: 'toolbar', onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k] of FILTERS) if (form.elements[k].value) p.set(k, form.elements[k].value);
    location.hash = `#/cdrs?${p}`;
  } }, FILTERS.map(([k, text, t]) => h('label', {}, `${text} `, Array.isArray(t)
    ? h('select', { name: k }, t.map((o) => h('option', { value: o, selected: q.get(k) === o }, o ? (k === 'disposition' ? callStatus(o) : inWords(o)) : 'Any')))
    : h('input', { name: k, type: t, value: q.get(k) || '', size: 10 }))), h('button', { type: 'submit' }, 'Filter'),
  h('button', { type: 'button', onclick: async () => {
    const p = new URLSearchParams(q); p.delete('page'); p.delete('per_page');
    const r = await fetch(`/api/v1/cdrs.csv?${p}`, { headers: { authorization: `Bearer ${tokens().access}` } });
    const url = URL.createObjectURL(await r.blob());
    h('a', { href: url, download: 'cdrs.csv' }).click();
    URL.revokeObjectURL(url);
  } }, 'Export CSV'));
  const head = [`Date/time (${zone})`, 'Direction', 'Caller ID', 'Destination', 'Duration', 'Talk time', 'Status', ''];
  const link = (n) => { const p = new URLSearchParams(ctx.query); p.set('page', n); return `#/cdrs?${p}`; };
  const rows = data.items.map((r) => h('tr', {},
    h('td', {}, inZone(r.started_at, zone)), h('td', {}, inWords(r.direction)),
    h('td', {}, r.caller_name && r.caller_name !== r.caller_number ? `${r.caller_name} <${r.caller_number}>` : r.caller_number),
    h('td', {}, r.callee), h('td', {}, clock(r.duration)), h('td', {}, clock(r.billsec)),
    h('td', {}, h('span', { class: `badge ${r.disposition}` }, callStatus(r.disposition)), r.recording_path ? h('span', { class: 'hint', title: 'Recorded' }, ' ● rec') : null),
    h('td', {}, h('a', { href: `#/cdrs/${r.id}` }, 'Details'))));
  const empty = h('tr', { class: 'empty' }, h('td', { colspan: head.length }, ctx.query.from || ctx.query.to || ctx.query.extension || ctx.query.direction || ctx.query.disposition
    ? 'No calls match these filters.' : 'No calls yet: each call appears here once it ends.'));
  return page('Call records', form,
    h('table', {}, h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))), h('tbody', {}, rows.length ? rows : empty)),
    pager(data, pageNo, link));
}

/// One call's detailed record (the guides' PBX CDR): times in the tenant's zone, the
/// codec, the hangup cause, the SIP Call-ID, the path it took, and its recording played
/// in the page and saved from it.
export async function cdr(ctx, id) {
  let r;
  try { r = await get(`/cdrs/${id}`); } catch (e) { if (e instanceof ApiError) return refusal('Call record', e); throw e; }
  const zone = zoneOf(ctx.me);
  const row = (k, v) => (v === '' || v === null || v === undefined ? null : h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)));
  const status = h('p', { role: 'status' });
  let recording = null;
  if (r.recording_path) {
    const audio = h('audio', { controls: true, preload: 'none', 'aria-label': 'Recording' });
    let file = null;
    const load = async () => { file ||= await blob(`/cdrs/${id}/recording`); return file; };
    const play = h('button', { type: 'button', onclick: async () => {
      try { audio.src = URL.createObjectURL(await load()); audio.hidden = false; await audio.play().catch(() => {}); } catch (e) { status.textContent = e.message; }
    } }, 'Play recording');
    const save = h('button', { type: 'button', onclick: async () => {
      try {
        const url = URL.createObjectURL(await load());
        h('a', { href: url, download: r.recording_path.split('/').pop() || 'recording.wav' }).click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      } catch (e) { status.textContent = e.message; }
    } }, 'Download');
    audio.hidden = true;
    recording = h('section', { 'aria-label': 'Recording' }, h('h2', {}, 'Recording'), h('div', { class: 'toolbar' }, play, save), audio, status);
  }
  const visits = (r.queue_visits || []).map((v) => `${v.queue} · ${inWords(v.outcome)}${v.agent ? ` by ${v.agent}` : ''} after ${v.wait} s`).join('; ');
  return page(`Call ${inZone(r.started_at, zone)}`,
    h('p', {}, h('a', { href: '#/cdrs' }, '‹ Call records')),
    h('table', { class: 'detail' }, h('tbody', {},
      row('Status', callStatus(r.disposition)), row('Direction', inWords(r.direction)),
      row('Caller ID', r.caller_name ? `${r.caller_name} <${r.caller_number}>` : r.caller_number), row('Destination', r.callee),
      row('DID', r.did), row('Extension', r.extension),
      row(`Started (${zone})`, inZone(r.started_at, zone)), row(`Answered (${zone})`, inZone(r.answered_at, zone)), row(`Ended (${zone})`, inZone(r.ended_at, zone)),
      row('Duration', clock(r.duration)), row('Talk time', clock(r.billsec)),
      row('Hangup cause', r.hangup_cause), row('Codec', r.codec), row('SIP call ID', r.sip_call_id),
      row('Queues', visits), row('Route', r.route), row('Charge', r.charge ? money(r.charge) : ''))),
    recording);
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
  return page('My account', h('p', {}, `${me.user.name} · ${me.user.email} · ${inWords(me.user.role)}`), status, h('div', { class: 'cards' }, extCards), fax,
    h('h2', {}, 'My DIDs'), dids.length
      ? h('table', { 'aria-label': 'My DIDs' }, h('thead', {}, h('tr', {}, ['Number', 'Description', 'Routes to', 'State'].map((x) => h('th', {}, x)))),
        h('tbody', {}, dids.map((d) => h('tr', {}, h('td', {}, d.number), h('td', {}, d.description || ''), h('td', {}, d.destination_name || 'Not routed'),
          h('td', {}, h('span', { class: `badge ${d.active ? 'answered' : 'failed'}` }, d.active ? 'Active' : 'Not active: calls to it go nowhere'))))))
      : h('p', {}, 'No phone numbers route to your extension. Your administrator assigns them.'));
}
