// The web UI's first load, as bytes on the wire, in Debian's headless Chromium: a fresh
// profile opens the address given (a running `switchboard serve --demo`), the sign-in page
// renders, and the service worker finishes installing (it caches the shell and every page
// module, so that counts too). Then a demo tenant admin signs in and the dashboard renders.
// Prints transferred (encoded) and decoded bytes per phase; the target is the
// first phase under 200 KB transferred. The softphone library is not part of it: it loads
// when the phone panel opens.
//
//   node bench/ui_first_load.mjs http://127.0.0.1:8080

// The service worker's own fetches (its install caches the shell) are part of the first
// load; playwright reports them only with this set before it starts.
process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS = '1';
const { chromium } = await import('playwright-core');

const base = process.argv[2] || 'http://127.0.0.1:8080';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const context = await browser.newContext({ baseURL: base });
const page = await context.newPage();
const seen = [];
context.on('requestfinished', async (req) => {
  const sizes = await req.sizes().catch(() => null);
  const res = await req.response().catch(() => null);
  if (!sizes || !res) return;
  seen.push({ url: req.url().replace(base, ''), wire: sizes.responseBodySize + sizes.responseHeadersSize, body: (await res.body().catch(() => Buffer.alloc(0))).length, sw: !!req.serviceWorker?.() });
});

const phase = async (name, from) => {
  await new Promise((r) => setTimeout(r, 300));
  const rows = seen.slice(from);
  const wire = rows.reduce((a, r) => a + r.wire, 0);
  const body = rows.reduce((a, r) => a + r.body, 0);
  console.log(`${name}: ${rows.length} responses, ${(wire / 1024).toFixed(1)} KB transferred (${(body / 1024).toFixed(1)} KB decoded); ratio to the 200 KB target ${(wire / 204800).toFixed(2)}`);
  for (const r of rows.sort((a, b) => b.wire - a.wire).slice(0, 6)) console.log(`    ${String(r.wire).padStart(7)} B  ${r.url}${r.sw ? ' (service worker)' : ''}`);
  return seen.length;
};

await page.goto('/');
await page.getByLabel('Email').waitFor();
await page.evaluate(async () => { await navigator.serviceWorker.ready; });
let mark = await phase('first load (sign-in page + service worker install)', 0);
await page.getByLabel('Email').fill('tenant@acme.test');
await page.getByLabel('Password').fill('Demo-Tenant-2026');
await page.getByRole('button', { name: 'Sign in' }).click();
await page.locator('.cards .card').first().waitFor();
mark = await phase('sign-in to the dashboard', mark);
await page.getByRole('button', { name: 'Phone' }).click();
await page.locator('#sp-extension').waitFor();
await page.evaluate(async () => { await import('/vendor/jssip.mjs'); });
await phase('opening the softphone (JsSIP on demand)', mark);
await browser.close();
