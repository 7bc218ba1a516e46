// The queue monitor (a wallboard): per queue the callers waiting, the agents with their
// state and time in it, and today's figures, redrawn every two seconds in place (a row is
// updated, not replaced, so nothing a user is doing on the page is lost). An agent's own
// status is in the header, on every page (main.js).

import { ApiError, get } from '../api.js';
import { AGENT_STATES as STATES, clock, h, page, refusal } from '../ui.js';

let timer = null;

export function stop() {
  if (timer) { clearInterval(timer); timer = null; }
}

/// Sets a cell's text only when it changed.
function text(el, value) {
  const v = String(value);
  if (el.textContent !== v) el.textContent = v;
}

/// Keeps `tbody`'s rows in step with `items` by key: rows are added, updated and removed,
/// never rebuilt.
function sync(tbody, items, key, cells) {
  const seen = new Set();
  let prev = null;
  for (const item of items) {
    const k = String(key(item));
    seen.add(k);
    let row = tbody.querySelector(`tr[data-key="${CSS.escape(k)}"]`);
    const values = cells(item);
    if (!row) {
      row = h('tr', { 'data-key': k }, values.map(() => h('td')));
    }
    values.forEach((v, i) => text(row.children[i], v));
    const at = prev ? prev.nextSibling : tbody.firstChild;
    if (at !== row) tbody.insertBefore(row, at);
    prev = row;
  }
  for (const row of [...tbody.children]) if (!seen.has(row.dataset.key)) row.remove();
}

function queueCard(q) {
  const waiting = h('tbody');
  const agents = h('tbody');
  const figures = h('p', { class: 'figures' });
  const card = h('section', { class: 'card queue', 'data-queue': q.id, 'aria-label': `Queue ${q.name}` },
    h('h2', {}, `${q.name} (${q.number})`), figures,
    h('h3', {}, 'Callers waiting'),
    h('table', {}, h('thead', {}, h('tr', {}, ['#', 'Caller', 'Waiting'].map((x) => h('th', {}, x)))), waiting),
    h('h3', {}, 'Agents'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Agent', 'Tier', 'Phones', 'State', 'For'].map((x) => h('th', {}, x)))), agents));
  card.update = (q2) => {
    const t = q2.today;
    text(figures, `Today: ${t.offered} offered · ${t.answered} answered · ${t.abandoned} abandoned · ${t.timed_out} timed out · average wait ${clock(t.average_wait_secs || 0)} · longest ${clock(t.longest_wait_secs || 0)} · service level ${t.service_level_percent === null ? '—' : `${t.service_level_percent}%`}`);
    sync(waiting, q2.waiting, (w) => `${w.position}`, (w) => [w.position, w.caller, clock(w.waiting_secs || 0)]);
    sync(agents, q2.agents, (a) => a.user_id, (a) => [a.name, a.tier, a.extensions.join(', '), STATES[a.state] || a.state, clock(a.in_state_secs || 0)]);
  };
  card.update(q);
  return card;
}

export async function show(ctx) {
  stop();
  const status = h('p', { role: 'status' });
  const board = h('div', { class: 'queues' });
  const cards = new Map();

  async function render() {
    let m;
    try { m = await get('/queues/monitor'); } catch (e) { if (e instanceof ApiError) { refusal('Queue monitor', e); stop(); return false; } throw e; }
    const seen = new Set();
    for (const q of m.queues) {
      seen.add(q.id);
      if (cards.has(q.id)) cards.get(q.id).update(q);
      else { const c = queueCard(q); cards.set(q.id, c); board.append(c); }
    }
    for (const [id, c] of cards) if (!seen.has(id)) { c.remove(); cards.delete(id); }
    if (!m.queues.length && !board.querySelector('.empty')) board.append(h('p', { class: 'empty' }, 'No call queues yet.'));
    if (m.queues.length) board.querySelector('.empty')?.remove();
    return true;
  }

  page('Queue monitor', status, board);
  if (!(await render())) return;
  timer = setInterval(() => { render(); }, 2000);
}
