// What every browser script shares: the demo's accounts, Debian's headless Chromium, a
// check that reports instead of stopping, a fresh context with its console errors
// collected, signing in through the page, and the API beside it.

import { chromium } from 'playwright-core';

export const USERS = {
  admin: ['admin@switchboard.test', 'Demo-Admin-2026'],
  tenant: ['tenant@acme.test', 'Demo-Tenant-2026'],
  agent: ['agent@acme.test', 'Demo-Agent-2026'],
  user: ['user@acme.test', 'Demo-User-2026'],
};

export function browserFor(base) {
  let failures = 0;
  const launched = chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });

  /// Runs one named check; a failure is printed with what was seen, and the next check runs.
  async function check(name, fn) {
    const t = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${Date.now() - t} ms)`);
    } catch (e) {
      failures++;
      console.log(`FAIL ${name}\n     ${String(e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
    }
  }

  /// A fresh context (no stored tokens), with console errors collected.
  async function open(viewport = { width: 1280, height: 800 }) {
    const context = await (await launched).newContext({ viewport, baseURL: base });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    return { context, page, errors };
  }

  async function login(page, who) {
    const [email, password] = USERS[who];
    await page.goto('/');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#nav a').first().waitFor();
  }

  /// The API as `who`, beside the page.
  async function api(method, path, body, who = 'admin') {
    const [email, password] = USERS[who];
    const tok = await (await fetch(`${base}/api/v1/auth/login`, { method: 'POST', body: JSON.stringify({ email, password }) })).json();
    const r = await fetch(`${base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.json().catch(() => null) };
  }

  /// Closes the browser and exits 0 when every check passed.
  async function finish() {
    await (await launched).close();
    console.log(failures ? `${failures} UI check(s) failed` : 'all UI checks passed');
    process.exit(failures ? 1 : 0);
  }

  return { check, open, login, api, finish, browser: launched };
}
