// The dashboard, by role. Admins: the tenant's counts, live calls, today's calls by hour
// (answered and missed) and the quota at a glance. Agents and end users: their own
// extension(s), their recent calls, their queues and faxes.

import { ApiError, get } from '../api.js';
import { callStatus, h, inWords, inZone, page, zoneOf } from '../ui.js';

/// A figure and what it counts.
const stat = (label, n) => h('div', { class: 'card', 'data-card': label }, h('div', { class: 'n' }, n), label);

/// Counts of the lists this user may read (their own rows, for a user).
async function counts(ctx) {
  const out = [];
  const count = async (label, path) => {
    if (!ctx.allowed('GET', path.split('?')[0])) return;
    try { const r = await get(`${path}${path.includes('?') ? '&' : '?'}per_page=1`); out.push(stat(label, r.total)); } catch { /* not shown */ }
  };
  if (ctx.me.user.role === 'super_admin') await count('Tenants', '/tenants');
  await count('Extensions', '/extensions');
  await count('Devices', '/devices');
  await count('Ring groups', '/ring-groups');
  await count('IVR menus', '/ivr-menus');
  await count('Call records', '/cdrs');
  if (ctx.me.user.role !== 'super_admin') {
    await count('Faxes received', '/faxes/inbound');
    await count('Faxes sent', '/faxes/outbound');
  }
  if (ctx.allowed('GET', '/channels')) {
    try { const c = await get('/channels'); out.push(stat(`Live calls (switch ${c.switch.state})`, c.items.length)); } catch { /* offline */ }
  }
  return out;
}

/// The hour (0–23) and date of an instant in `zone`.
function local(iso, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hour12: false })
    .formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) % 24 };
}

/// Today's calls by hour in the tenant's zone, answered and missed, as a chart.
async function today(zone) {
  const now = local(new Date().toISOString(), zone);
  // A day back in UTC covers the whole local day wherever the zone is.
  const from = new Date(Date.now() - 36 * 3600 * 1000).toISOString().slice(0, 10);
  let items = [];
  try { items = (await get(`/cdrs?from=${from}&per_page=500`)).items; } catch (e) { if (!(e instanceof ApiError)) throw e; return null; }
  const hours = Array.from({ length: 24 }, (_, i) => ({ label: String(i).padStart(2, '0'), answered: 0, missed: 0 }));
  for (const c of items) {
    const t = local(c.started_at, zone);
    if (t.date !== now.date) continue;
    hours[t.hour][c.disposition === 'answered' ? 'answered' : 'missed'] += 1;
  }
  const { bars } = await import('../chart.js');
  const answered = hours.reduce((n, x) => n + x.answered, 0);
  const missed = hours.reduce((n, x) => n + x.missed, 0);
  return [h('div', { class: 'cards' }, stat('Answered today', answered), stat('Missed today', missed)),
    bars(`Today's calls by hour (${zone})`, hours, [['answered', 'Answered', 'bar'], ['missed', 'Missed', 'bar2']])];
}

/// The quota at a glance: each slot and allowance as a meter.
async function quota() {
  let q;
  try { q = await get('/quota'); } catch { return null; }
  const { card, sizeMeters } = await import('./billing.js');
  const cards = h('div', { class: 'cards', 'aria-label': 'Quota' },
    ...q.slots.filter((s) => ['extensions', 'devices', 'ring_groups', 'call_queues'].includes(s.slot)).map((s) => card(inWords(s.slot), s.used, s.limit)),
    ...q.usage.map((u) => card(inWords(u.kind), u.used, u.allocated)));
  sizeMeters(cards);
  return [h('h2', {}, `Quota${q.package ? ` · ${q.package}` : ''}`), cards];
}

/// An agent's or end user's own: extensions, recent calls, queues.
async function own(ctx, zone) {
  const out = [];
  try {
    const exts = (await get('/me/extensions')).items;
    out.push(h('h2', {}, exts.length > 1 ? 'My extensions' : 'My extension'), h('div', { class: 'cards' }, exts.length ? exts.map((x) => h('div', { class: 'card', 'data-card': `Extension ${x.number}` },
      h('div', { class: 'n' }, x.number), x.dnd ? 'Do not disturb is on: calls are refused' : x.forward_always ? `Forwarded to ${x.forward_always}` : 'Taking calls',
      h('div', {}, h('a', { href: '#/account' }, 'Settings')))) : h('p', {}, 'No extension is assigned to you yet: your administrator assigns one.')));
  } catch { /* none */ }
  if (ctx.allowed('GET', '/queues/me')) {
    try {
      const q = await get('/queues/me');
      if (q.queues.length) out.push(h('h2', {}, 'My queues'), h('p', { 'data-card': 'Queues' }, `${q.queues.map((x) => x.name).join(', ')} · ${inWords(q.status)}`));
    } catch { /* none */ }
  }
  try {
    const calls = (await get('/cdrs?per_page=5')).items;
    out.push(h('h2', {}, 'Recent calls'), calls.length
      ? h('table', { 'aria-label': 'Recent calls' }, h('tbody', {}, calls.map((c) => h('tr', {}, h('td', {}, inZone(c.started_at, zone, true)), h('td', {}, c.caller_number), h('td', {}, '→'), h('td', {}, c.callee),
        h('td', {}, callStatus(c.disposition)), h('td', {}, h('a', { href: `#/cdrs/${c.id}` }, 'Details'))))))
      : h('p', {}, 'No calls yet.'));
  } catch { /* none */ }
  return out;
}

export async function show(ctx, notices) {
  const me = ctx.me;
  const zone = zoneOf(me);
  const admin = ['tenant_admin', 'super_admin'].includes(me.user.role);
  const who = me.tenant ? `${me.tenant.company} · ` : 'All tenants · ';
  const parts = [...notices, h('p', {}, `${who}${me.user.email} (${inWords(me.user.role)})`), h('div', { class: 'cards', 'aria-label': 'Statistics' }, await counts(ctx))];
  if (admin) {
    if (me.user.role !== 'super_admin') parts.push(await today(zone), await quota());
  } else {
    parts.push(...(await own(ctx, zone)));
  }
  return page('Dashboard', ...parts.flat().filter(Boolean));
}
