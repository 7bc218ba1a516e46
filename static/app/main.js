// The app shell: sign-in (branded by host name), the menu (each entry shown only when the
// API's own access rule for its route lets this user in), the header balance (every 10
// seconds), announcements, hash routing, and the service worker's update prompt.

import { allowed, api, ApiError, get, openapi, post, setTokens, tokens } from './api.js';
import { AGENT_STATES, h, money, page, refusal } from './ui.js';

// Pages load when first opened, so the first load is the shell and the dashboard only.
const pages = {
  resource: () => import('./pages/resource.js'),
  users: () => import('./pages/users.js'),
  realtime: () => import('./pages/realtime.js'),
  reports: () => import('./pages/reports.js'),
  billing: () => import('./pages/billing.js'),
  pbx: () => import('./pages/pbx.js'),
  queues: () => import('./pages/queues.js'),
  fax: () => import('./pages/fax.js'),
};
let stopRealtime = () => {};

/// Pages with one view: hash → [module, function].
const SIMPLE = {
  realtime: ['realtime', 'show'], cdrs: ['reports', 'cdrs'], account: ['reports', 'account'],
  statistics: ['billing', 'statistics'], subscriptions: ['billing', 'subscriptions'], payments: ['billing', 'payments'],
  quota: ['billing', 'quota'], usage: ['billing', 'usage'], 'feature-codes': ['pbx', 'featureCodes'], explain: ['pbx', 'explain'],
  queues: ['queues', 'show'], sounds: ['pbx', 'sounds'],
};

/// Fax pages: #/fax/<name> → the function of pages/fax.js.
const FAX = { send: 'send', outbound: 'outbound', inbound: 'inbound', documents: 'documents', dids: 'dids', settings: 'settings', dnc: 'dnc', import: 'importContacts', campaigns: 'campaigns' };

/// Menu: section, label, hash, and the API route that decides whether it shows.
const MENU = [
  ['', 'Dashboard', '#/', 'GET /me'],
  ['Administration', 'Tenants', '#/r/tenants', 'GET /tenants'],
  ['Administration', 'Users', '#/users', 'GET /users'],
  ['Administration', 'Branding', '#/r/branding', 'GET /branding'],
  ['Administration', 'Announcements', '#/r/announcements', 'GET /announcements'],
  ['Administration', 'Activity log', '#/activity', 'GET /activity'],
  ['Routing', 'Trunks', '#/r/trunks', 'GET /trunks'],
  ['Routing', 'Outbound routes', '#/r/outbound-routes', 'GET /outbound-routes'],
  ['Routing', 'DID numbers', '#/r/dids', 'GET /dids'],
  ['PBX', 'Extensions', '#/r/extensions', 'GET /extensions'],
  ['PBX', 'Devices', '#/r/devices', 'GET /devices'],
  ['PBX', 'Device profiles', '#/r/device-profiles', 'GET /device-profiles'],
  ['PBX', 'Ring groups', '#/r/ring-groups', 'GET /ring-groups'],
  ['PBX', 'Call queues', '#/r/call-queues', 'GET /call-queues'],
  ['PBX', 'Queue monitor', '#/queues', 'GET /queues/monitor'],
  ['PBX', 'IVR menus', '#/r/ivr-menus', 'GET /ivr-menus'],
  ['PBX', 'Voicemail', '#/r/voicemail-boxes', 'GET /voicemail-boxes'],
  ['PBX', 'Conferences', '#/r/conferences', 'GET /conferences'],
  ['PBX', 'Follow me', '#/r/follow-me', 'GET /follow-me'],
  ['PBX', 'Inbound routes', '#/r/inbound-routes', 'GET /inbound-routes'],
  ['PBX', 'Time conditions', '#/r/time-conditions', 'GET /time-conditions'],
  ['PBX', 'Call flows', '#/r/call-flows', 'GET /call-flows'],
  ['PBX', 'Call block', '#/r/call-blocks', 'GET /call-blocks'],
  ['PBX', 'Music on hold', '#/r/moh-classes', 'GET /moh-classes'],
  ['PBX', 'System recordings', '#/sounds', 'GET /sounds'],
  ['PBX', 'Feature codes', '#/feature-codes', 'GET /feature-codes'],
  ['PBX', 'Realtime monitor', '#/realtime', 'GET /channels'],
  ['PBX', 'Route explain', '#/explain', 'GET /route/explain'],
  ['Fax', 'Send fax', '#/fax/send', 'POST /faxes/outbound'],
  ['Fax', 'Outbound fax', '#/fax/outbound', 'GET /faxes/outbound'],
  ['Fax', 'Inbound fax', '#/fax/inbound', 'GET /faxes/inbound'],
  ['Fax', 'Fax documents', '#/fax/documents', 'GET /fax-documents'],
  ['Fax', 'Bulk fax', '#/fax/campaigns', 'GET /fax-campaigns'],
  ['Fax', 'Cover pages', '#/r/fax-cover-pages', 'GET /fax-cover-pages'],
  ['Fax', 'My DIDs', '#/fax/dids', 'GET /faxes/inbound'],
  ['Fax', 'Fax settings', '#/fax/settings', 'GET /fax-settings'],
  ['Fax', 'Contacts', '#/r/fax-contacts', 'GET /fax-contacts'],
  ['Fax', 'Contact groups', '#/r/fax-groups', 'GET /fax-groups'],
  ['Fax', 'Import contacts', '#/fax/import', 'POST /fax-contacts/import'],
  ['Fax', 'Contact DNC', '#/fax/dnc', 'GET /fax-dnc'],
  ['Reports', 'Call records', '#/cdrs', 'GET /cdrs'],
  ['Reports', 'Statistics', '#/statistics', 'GET /usage'],
  ['Billing', 'Packages', '#/r/packages', 'GET /packages'],
  ['Billing', 'Subscriptions', '#/subscriptions', 'GET /subscriptions'],
  ['Billing', 'Rate plans', '#/r/rate-plans', 'GET /rate-plans'],
  ['Billing', 'Payments', '#/payments', 'GET /payments'],
  ['Billing', 'Billing quota', '#/quota', 'GET /quota'],
  ['Billing', 'Billing usage', '#/usage', 'GET /usage'],
  ['Account', 'My account', '#/account', 'GET /me'],
];

/// Resource pages' titles by API name.
const TITLES = Object.fromEntries(MENU.filter(([, , hash]) => hash.startsWith('#/r/')).map(([, label, hash]) => [hash.slice(4), label]));

const ctx = { me: null, query: {}, allowed: () => false };

function menu() {
  const nav = document.getElementById('nav');
  const out = [];
  let section = null;
  for (const [sec, label, hash, route] of MENU) {
    const [method, path] = route.split(' ');
    if (!ctx.allowed(method, path)) continue;
    // A tenant's faxes: the super admin, who has no tenant, works them through the API.
    if (sec === 'Fax' && ctx.me.user.role === 'super_admin') continue;
    if (sec !== section) { section = sec; if (sec) out.push(h('h2', {}, sec)); }
    out.push(h('a', { href: hash }, label));
  }
  nav.replaceChildren(...out);
}

function markCurrent() {
  const here = location.hash.split('?')[0] || '#/';
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href');
    a.toggleAttribute('aria-current', target === here || (target !== '#/' && here.startsWith(`${target}/`)));
    if (a.hasAttribute('aria-current')) a.setAttribute('aria-current', 'page');
  }
}

async function balance() {
  const el = document.getElementById('balance');
  if (!ctx.me || ctx.me.user.role === 'super_admin' || !ctx.allowed('GET', '/credit')) { el.textContent = ''; return; }
  try {
    const c = await get('/credit');
    el.textContent = `Balance ${money(c.balance)}`;
    el.classList.toggle('low', !!c.low_credit);
  } catch { /* keeps the last figure; the next tick tries again */ }
}

/// An agent's own queue status, in the header of every page: shown to whoever answers a
/// queue. The choice is theirs (available, on break, logged out); what the queue has made of
/// it (ringing, in a queue call, wrap-up) shows beside it.
async function agentStatus() {
  const box = document.getElementById('agent-status');
  if (!ctx.me || !ctx.allowed('GET', '/queues/me')) { box.hidden = true; return; }
  let me;
  try { me = await get('/queues/me'); } catch { return; }
  box.hidden = !me.queues.length;
  const choice = box.querySelector('select');
  if (document.activeElement !== choice) choice.value = me.status;
  box.title = `Queues: ${me.queues.map((q) => q.name).join(', ')}`;
  const state = box.querySelector('.state');
  state.textContent = me.state !== me.status ? AGENT_STATES[me.state] || me.state : '';
}

async function announcements() {
  try {
    const a = await get('/me/announcements');
    return a.items.map((x) => h('div', { class: 'notice', role: 'note' }, h('strong', {}, x.title || 'Announcement'), ' ', x.body || ''));
  } catch { return []; }
}

async function dashboard() {
  const { show } = await import('./pages/dashboard.js');
  return show(ctx, await announcements());
}

async function activity() {
  try {
    const a = await get('/activity?per_page=50');
    return page('Activity log', h('table', {}, h('thead', {}, h('tr', {}, ['When', 'Who', 'Action', 'Object', 'Detail'].map((x) => h('th', {}, x)))),
      h('tbody', {}, a.items.map((e) => h('tr', {}, h('td', {}, e.at), h('td', {}, e.user_email), h('td', {}, e.action), h('td', {}, e.object), h('td', {}, e.detail))))));
  } catch (e) { if (e instanceof ApiError) return refusal('Activity log', e); throw e; }
}

// Navigations render one after another: a slow page (the dashboard's counts) finishing
// after a quick one must not paint over it.
let rendering = Promise.resolve();
function route() {
  rendering = rendering.then(render, render);
  return rendering;
}

async function render() {
  stopRealtime();
  const [path, q] = (location.hash.slice(1) || '/').split('?');
  ctx.query = Object.fromEntries(new URLSearchParams(q || ''));
  markCurrent();
  document.getElementById('nav').classList.remove('open');
  const parts = path.split('/').filter(Boolean);
  try {
    if (parts.length === 0) await dashboard();
    else if (parts[0] === 'r' && parts[1]) {
      const resource = await pages.resource();
      stopRealtime = resource.stop;
      const title = TITLES[parts[1]] || parts[1];
      if (parts[2]) await resource.edit(ctx, parts[1], title, parts[2]);
      else await resource.list(ctx, parts[1], title);
    } else if (parts[0] === 'users') {
      const users = await pages.users();
      await (parts[1] ? users.edit(ctx, parts[1]) : users.list(ctx));
    } else if (parts[0] === 'cdrs' && parts[1]) {
      await (await pages.reports()).cdr(ctx, parts[1]);
    } else if (SIMPLE[parts[0]]) {
      const [mod, fn] = SIMPLE[parts[0]];
      const m = await pages[mod]();
      if (mod === 'realtime' || mod === 'queues') stopRealtime = m.stop;
      await m[fn](ctx);
    } else if (parts[0] === 'fax' && FAX[parts[1]]) {
      const m = await pages.fax();
      stopRealtime = m.stop;
      await m[FAX[parts[1]]](ctx);
    } else if (parts[0] === 'activity') await activity();
    else page('Not found', h('p', {}, 'No such page.'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signIn();
    console.warn(e);
    page('Error', h('div', { class: 'notice refusal', role: 'alert' }, String(e.message || e)));
  }
  document.getElementById('main').focus({ preventScroll: true });
}

/// The host's branding: the header's logo or name and the browser tab's icon.
async function brand() {
  try {
    const b = await get(`/branding/public?host=${encodeURIComponent(location.hostname)}`);
    const a = document.getElementById('brand');
    a.replaceChildren(b.logo ? h('img', { src: b.logo, alt: b.title }) : b.title || 'switchboard');
    if (b.favicon) document.querySelector('link[rel="icon"]').href = b.favicon;
    return b;
  } catch { return { title: 'switchboard' }; }
}

async function signIn() {
  document.getElementById('nav').replaceChildren();
  document.getElementById('logout').hidden = true;
  document.getElementById('phone-toggle').hidden = true;
  document.getElementById('who').textContent = '';
  document.getElementById('balance').textContent = '';
  document.getElementById('agent-status').hidden = true;
  const b = await brand();
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'login', 'aria-label': 'Sign in' }, b.logo ? h('img', { class: 'login-logo', src: b.logo, alt: b.title || '' }) : null, h('h1', {}, `Sign in to ${b.title || 'switchboard'}`),
    h('div', { class: 'field' }, h('label', { for: 'email' }, 'Email'), h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'remember', class: 'inline' }, h('input', { id: 'remember', name: 'remember', type: 'checkbox' }), ' Remember me')),
    err, h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    b.footer ? h('p', { class: 'login-footer' }, b.footer) : null,
    b.support_email ? h('p', { class: 'login-footer' }, 'Help: ', h('a', { href: `mailto:${b.support_email}` }, b.support_email)) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      const t = await post('/auth/login', { email: form.elements.email.value, password: form.elements.password.value });
      remember(form.elements.remember.checked);
      await setTokens(t);
      await start();
    } catch (x) { err.textContent = x.message; }
  });
  const main = document.getElementById('main');
  main.replaceChildren(form);
  document.body.classList.add('signing-in');
  document.body.style.backgroundImage = b.login_background ? `url("${encodeURI(b.login_background)}")` : '';
  document.title = `Sign in · ${b.title || 'switchboard'}`;
}

// "Remember me": unticked, the sign-in lasts as long as the browser is open. A cookie with
// no expiry is the browser session's own mark (every tab shares it, a closed browser drops
// it); the tokens themselves live in localStorage either way.
const SESSION_MARK = 'sb_session';
function remember(yes) {
  if (yes) localStorage.setItem('switchboard.remember', '1'); else localStorage.removeItem('switchboard.remember');
  document.cookie = `${SESSION_MARK}=1; path=/; SameSite=Strict`;
}

/// A sign-in not remembered from a browser session that has ended: signed out.
function forgotten() {
  const marked = document.cookie.split('; ').includes(`${SESSION_MARK}=1`);
  return tokens() && !marked && !localStorage.getItem('switchboard.remember');
}

async function start() {
  await openapi();
  if (forgotten()) await setTokens(null);
  if (!tokens()) return signIn();
  document.body.classList.remove('signing-in');
  document.body.style.backgroundImage = '';
  try { ctx.me = await get('/me'); } catch (e) { if (e instanceof ApiError && e.status === 401) { setTokens(null); return signIn(); } throw e; }
  ctx.allowed = (method, path) => allowed(ctx.me, method, path);
  await brand();
  document.getElementById('who').textContent = ctx.me.user.email;
  document.getElementById('logout').hidden = false;
  document.getElementById('phone-toggle').hidden = false;
  menu();
  balance();
  agentStatus();
  await route();
}

let ticker = null;

function boot() {
  // The skip link moves focus to the page itself (the hash is the router's).
  document.getElementById('skip').addEventListener('click', (e) => { e.preventDefault(); document.getElementById('main').focus(); });
  document.getElementById('logout').addEventListener('click', () => { setTokens(null); ctx.me = null; location.hash = '#/'; signIn(); });
  document.getElementById('menu-toggle').addEventListener('click', (e) => {
    const nav = document.getElementById('nav');
    nav.classList.toggle('open');
    e.currentTarget.setAttribute('aria-expanded', String(nav.classList.contains('open')));
  });
  const phone = document.getElementById('phone-toggle');
  phone.addEventListener('click', async () => {
    const { toggle } = await import('./softphone.js');
    toggle(ctx, phone);
  });
  window.addEventListener('hashchange', () => { if (ctx.me) route(); });
  const choice = document.getElementById('agent-status-choice');
  choice.addEventListener('change', async () => {
    try { await api('PUT', '/queues/me', { status: choice.value }); } catch (e) { document.getElementById('agent-status').querySelector('.state').textContent = e.message; return; }
    choice.blur();
    agentStatus();
  });
  ticker = setInterval(() => { if (ctx.me) { balance(); agentStatus(); } }, 10_000);
  registerWorker();
  start();
}

/// The service worker caches the shell; a new version waits until the user says reload.
function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  let asked = false;
  navigator.serviceWorker.register('/sw.js').then((reg) => {
    const offer = (w) => {
      const bar = document.getElementById('update');
      bar.hidden = false;
      document.getElementById('update-now').onclick = () => { asked = true; w.postMessage('skip-waiting'); };
    };
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w.addEventListener('statechange', () => { if (w.state === 'installed' && navigator.serviceWorker.controller) offer(w); });
    });
  });
  // Only the update the user asked for reloads the page (the first install also changes
  // the controller, through clients.claim(), and must not interrupt a sign-in).
  navigator.serviceWorker.addEventListener('controllerchange', () => { if (asked) { asked = false; location.reload(); } });
}

export { ctx, ticker };
boot();
