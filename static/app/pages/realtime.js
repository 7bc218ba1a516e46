// The realtime monitor: live channels (hang up, hold, transfer), registrations, gateways
// and the click-to-call card, kept current by the API's Server-Sent Events feed.

import { api, ApiError, get, tokens } from '../api.js';
import { clock, h, page, refusal } from '../ui.js';

let feed = null;

export function stop() {
  if (feed) { feed.close(); feed = null; }
}

export async function show(ctx) {
  stop();
  const status = h('p', { role: 'status' });
  const chans = h('tbody');
  const rows = new Map();
  const regs = h('tbody');
  const gws = h('tbody');
  const sw = h('p', { class: 'notice' });
  const act = async (path, body, what) => {
    try { await api('POST', path, body); status.textContent = `${what}: done`; } catch (e) { status.textContent = `${what}: ${e.message}`; }
  };
  async function render() {
    let c;
    try { c = await get('/channels'); } catch (e) { if (e instanceof ApiError) { refusal('Realtime monitor', e); stop(); return false; } throw e; }
    sw.textContent = `Switch: ${c.switch.state}${c.switch.error ? ` — ${c.switch.error}` : ''}`;
    // Each channel's row is kept and changed in place: a number being typed into its
    // Transfer box, or a button under the pointer, survives every change on the feed.
    const seen = new Set();
    c.items.forEach((ch, i) => {
      seen.add(ch.uuid);
      let row = rows.get(ch.uuid);
      if (!row) {
        const to = h('input', { 'aria-label': `Transfer ${ch.uuid} to`, size: 8, placeholder: 'number' });
        const hold = h('button', { type: 'button', onclick: () => { const held = row.ch.held; act('/channels/hold', { uuid: ch.uuid, hold: !held }, held ? 'Unhold' : 'Hold'); } });
        const tr = h('tr', { 'data-uuid': ch.uuid }, h('td', {}), h('td', {}), h('td', {}), h('td', {}), h('td', {}),
          h('td', {},
            h('button', { type: 'button', onclick: () => act('/channels/hangup', { uuid: ch.uuid }, 'Hang up') }, 'Hang up'), ' ', hold, ' ',
            to, h('button', { type: 'button', onclick: () => act('/channels/transfer', { uuid: ch.uuid, destination: to.value }, 'Transfer') }, 'Transfer')));
        row = { tr, hold };
        rows.set(ch.uuid, row);
      }
      row.ch = ch;
      const cells = row.tr.children;
      [ch.caller_number || '', ch.destination || '', clock(ch.duration ?? 0), ch.codec || '', ch.state || ch.call_state || ''].forEach((t, j) => { if (cells[j].textContent !== t) cells[j].textContent = t; });
      row.hold.textContent = ch.held ? 'Unhold' : 'Hold';
      if (chans.children[i] !== row.tr) chans.insertBefore(row.tr, chans.children[i] || null);
    });
    for (const [uuid, row] of rows) if (!seen.has(uuid)) { row.tr.remove(); rows.delete(uuid); }
    try {
      const r = await get('/registrations');
      regs.replaceChildren(...r.items.map((x) => h('tr', {}, h('td', {}, `${x.user}@${x.realm}`), h('td', {}, x.network_ip || ''), h('td', {}, x.agent || ''))));
    } catch { regs.replaceChildren(); }
    if (ctx.allowed('GET', '/gateways')) {
      try {
        const g = await get('/gateways');
        gws.replaceChildren(...g.items.map((x) => h('tr', {}, h('td', {}, x.trunk), h('td', {}, x.gateway), h('td', {}, x.state), h('td', {}, x.status))));
      } catch { gws.replaceChildren(); }
    }
    return true;
  }
  const ext = h('input', { id: 'c2c-ext', name: 'extension', required: true, size: 8 });
  const num = h('input', { id: 'c2c-num', name: 'number', required: true, size: 14 });
  const c2c = h('form', { class: 'card', 'aria-label': 'Click to call', onsubmit: async (e) => {
    e.preventDefault();
    await act('/click-to-call', { extension: ext.value, number: num.value }, 'Click-to-call');
  } }, h('h2', {}, 'Click to call'), h('p', {}, 'Rings your extension first; when you answer, it calls the number.'),
  h('label', { for: 'c2c-ext' }, 'Your extension '), ext, ' ', h('label', { for: 'c2c-num' }, 'Number '), num, ' ', h('button', { type: 'submit', class: 'primary' }, 'Call'));
  try {
    const mine = await get('/me/extensions');
    if (mine.items[0]) ext.value = mine.items[0].number;
  } catch { /* a super admin has none */ }
  page('Realtime monitor', sw, status, c2c,
    h('h2', {}, 'Active channels'), h('table', {}, h('thead', {}, h('tr', {}, ['Caller', 'Destination', 'Duration', 'Codec', 'State', ''].map((x) => h('th', {}, x)))), chans),
    h('h2', {}, 'Registrations'), h('table', {}, h('thead', {}, h('tr', {}, ['User', 'Address', 'Agent'].map((x) => h('th', {}, x)))), regs),
    ctx.allowed('GET', '/gateways') ? [h('h2', {}, 'Gateways'), h('table', {}, h('thead', {}, h('tr', {}, ['Trunk', 'Gateway', 'State', 'Status'].map((x) => h('th', {}, x)))), gws)] : null);
  if (!(await render())) return;
  // EventSource sends no headers: the access token goes in the query string.
  const t = tokens();
  feed = new EventSource(`/api/v1/realtime/feed?access_token=${encodeURIComponent(t.access)}`);
  let pending = null;
  const again = () => { pending ||= setTimeout(() => { pending = null; render(); }, 200); };
  // The feed names each event by the change's type (src/realtime/model.rs `Change`); its
  // first event, the snapshot, also redraws: a change between the lists fetched above and
  // the feed's subscription is in it.
  for (const name of FEED_EVENTS) feed.addEventListener(name, again);
  feed.addEventListener('queue_agent', (e) => {
    const r = JSON.parse(e.data);
    status.textContent = `Queue agent ${r.user_id} is ${r.status.replace('_', ' ')}: ${r.reason}`;
  });
  feed.addEventListener('click_to_call', (e) => {
    const r = JSON.parse(e.data);
    status.textContent = `Click-to-call ${r.extension} → ${r.number}: ${r.result.trim()}`;
  });
}

const FEED_EVENTS = ['snapshot', 'channel', 'channel_gone', 'registration', 'unregistration', 'gateway', 'reloaded', 'switch', 'click_to_call', 'queue_agent'];
