// The service worker: the app shell from the cache (so the installed app opens at once and
// offline shows the shell), the API always from the network. A new deploy changes VERSION,
// the browser installs the new worker beside the old one, and the page offers a reload; the
// new worker takes over only when the user says so.
const VERSION = 'switchboard-ui-25';
const SHELL = [
  '/', '/index.html', '/app/app.css', '/app/main.js', '/app/api.js', '/app/ui.js', '/app/softphone.js', '/app/chart.js',
  '/app/pages/resource.js', '/app/pages/fields.js', '/app/pages/users.js', '/app/pages/realtime.js', '/app/pages/reports.js',
  '/app/pages/billing.js', '/app/pages/pbx.js', '/app/pages/queues.js', '/app/pages/fax.js', '/app/pages/dashboard.js',
  '/manifest.webmanifest', '/icons/icon-192.png', '/icons/icon-512.png',
];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});

self.addEventListener('message', (e) => {
  if (e.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/provision/') || url.pathname.startsWith('/freeswitch/') || url.pathname === '/health') return;
  // Shell files: the cached copy, refreshed in the background; anything else: the network.
  e.respondWith(caches.open(VERSION).then(async (c) => {
    const hit = await c.match(e.request, { ignoreSearch: true });
    const fresh = fetch(e.request).then((r) => { if (r.ok && SHELL.includes(url.pathname)) c.put(e.request, r.clone()); return r; });
    return hit || fresh;
  }));
});
