// Small DOM helpers: elements from a tag and attributes (text is always text, never HTML),
// money, and the page-level refusal a forbidden URL shows.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/// Micro-units to "12.34".
export function money(micro) {
  return (Number(micro || 0) / 1e6).toFixed(2);
}

export function page(title, ...content) {
  const main = document.getElementById('main');
  // Parts a page may not have (a tenant picker only for super admins, …) come as null.
  main.replaceChildren(h('h1', {}, title), ...content.flat().filter((c) => c !== null && c !== undefined && c !== false));
  document.title = `${title} · switchboard`;
  return main;
}

/// An API error as the page's content: the API's own words.
export function refusal(title, err) {
  const what = err.status === 403 ? 'Not allowed' : err.status === 404 ? 'Not found' : 'Error';
  return page(title, h('div', { class: 'notice refusal', role: 'alert' }, h('strong', {}, `${what}: `), err.message));
}

/// The API's field errors beside their fields (every `.field[data-field]` of `form`; an
/// empty map clears them), and the first wrong field focused.
export function showFieldErrors(form, fields) {
  for (const f of form.querySelectorAll('[data-field]')) {
    const msg = fields[f.dataset.field];
    f.classList.toggle('invalid', !!msg);
    const slot = f.querySelector('.error');
    if (slot) slot.textContent = msg || '';
  }
  const first = form.querySelector('.invalid input, .invalid select, .invalid textarea');
  if (first) first.focus();
}

/// ‹ Previous · Page n of m · Next › for a list answer; `link(n)` is page n's address.
export function pager(list, pageNo, link) {
  const pages = Math.max(1, Math.ceil(list.total / list.per_page));
  return h('div', { class: 'pager' },
    pageNo > 1 ? h('a', { href: link(pageNo - 1) }, '‹ Previous') : null,
    h('span', {}, `Page ${pageNo} of ${pages} (${list.total} in all)`),
    pageNo < pages ? h('a', { href: link(pageNo + 1) }, 'Next ›') : null);
}

/// An API value in words: `no_answer` → "No answer", `ring_all` → "Ring all"; codes that
/// are names already (`NORMAL_CLEARING`, `PCMU`, `udp`) as they are, upper-cased if short.
const WORDS = { udp: 'UDP', tcp: 'TCP', tls: 'TLS', rfc2833: 'RFC 2833', sip_info: 'SIP INFO', info: 'SIP INFO', inband: 'In-band', a4: 'A4', letter: 'Letter', tenant_admin: 'Tenant admin', super_admin: 'Super admin', end_user: 'End user' };
export function inWords(v) {
  const s = String(v ?? '');
  if (!s || WORDS[s]) return WORDS[s] || s;
  if (/^[A-Z0-9_]+$/.test(s)) return s;
  const t = s.replace(/_/g, ' ');
  return t[0].toUpperCase() + t.slice(1);
}

export function label(name) {
  return name.replace(/_id$/, '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/// A queue agent's states, as people say them (the API's `state` and `status` values).
export const AGENT_STATES = {
  logged_out: 'Logged out', available: 'Available', on_break: 'On break', offered: 'Ringing', in_queue_call: 'In a queue call', wrap_up: 'Wrap-up',
};

/// A call record's status as the guides say it ("Missed" for no answer).
const STATUSES = { answered: 'Answered', no_answer: 'Missed', busy: 'Busy', failed: 'Failed', blocked: 'Blocked' };
export const callStatus = (d) => STATUSES[d] || inWords(d);

/// The zone a user's times are read in: their tenant's (the super admin's: UTC).
export const zoneOf = (me) => (me.tenant && me.tenant.timezone) || 'UTC';

/// An RFC 3339 time in `zone`: "7 Dec 2026, 14:05:09", or "7 Dec, 14:05" when `short`.
export function inZone(iso, zone, short = false) {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const parts = short ? { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }
    : { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' };
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour12: false, ...parts }).format(t);
}

/// Seconds as "1:05" (or "1:02:05"); nothing for an unknown length.
export function clock(sec) {
  if (sec === null || sec === undefined) return '';
  const n = Math.max(0, Math.floor(Number(sec)));
  const hh = Math.floor(n / 3600);
  const mm = Math.floor((n % 3600) / 60);
  const ss = String(n % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
