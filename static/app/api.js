// The JSON API under /api/v1: tokens kept in localStorage, one refresh on 401 (refresh
// tokens rotate: each refresh stores the next one), and errors as ApiError with the API's
// code, message and per-field messages.

const KEY = 'switchboard.tokens';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.field = body && body.field;
    // field → message; child-list fields (`members[0].extension_id`) count for their list.
    this.fields = {};
    for (const e of (body && body.errors) || (body && body.field ? [{ field: body.field, message: body.message }] : [])) {
      const f = String(e.field).split(/[.[]/)[0];
      this.fields[f] = this.fields[f] ? `${this.fields[f]}; ${e.message}` : e.message;
    }
  }
}

export function tokens() {
  try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch { return null; }
}

/// Stores the tokens of a sign-in or a refresh (null signs out); resolves once every tab's
/// next refresh will see them.
export function setTokens(t) {
  const v = t ? { access: t.access_token, refresh: t.refresh_token } : null;
  if (v) localStorage.setItem(KEY, JSON.stringify(v));
  else localStorage.removeItem(KEY);
  return writeShared(v);
}

// The same tokens in IndexedDB, for the one reader that must see the very latest: a
// refresh, which spends the refresh token. localStorage is read synchronously everywhere,
// but another tab's write reaches it some time later (Chromium keeps a copy per renderer);
// a committed IndexedDB write is what the next transaction reads, in any tab.
function shared(mode, use) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('switchboard', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('kv', mode);
      const req = use(tx.objectStore('kv'));
      tx.oncomplete = () => { db.close(); resolve(req.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    };
  });
}
const readShared = () => shared('readonly', (s) => s.get(KEY)).catch(() => undefined);
const writeShared = (v) => shared('readwrite', (s) => s.put(v, KEY)).catch(() => undefined);

let refreshing = null;

// Refresh tokens are spent on use (the answer carries the next one), and a spent one
// presented again revokes the whole session as stolen. Tabs share the tokens, so one
// refresh runs at a time across tabs (Web Locks), and a tab that waited for it takes the
// tokens the other tab stored instead of spending the old refresh token again.
async function refresh() {
  const seen = tokens();
  if (!seen || !seen.refresh) return false;
  const run = async () => {
    const latest = (await readShared()) ?? tokens();
    if (!latest || !latest.refresh) return false;
    if (latest.refresh !== seen.refresh) {
      localStorage.setItem(KEY, JSON.stringify(latest));
      return true;
    }
    const r = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: latest.refresh }),
    });
    if (!r.ok) {
      await setTokens(null);
      return false;
    }
    await setTokens(await r.json());
    return true;
  };
  refreshing ||= (navigator.locks ? navigator.locks.request('switchboard.refresh', run) : run()).finally(() => { refreshing = null; });
  return refreshing;
}

export async function api(method, path, body, retry = true) {
  const t = tokens();
  const headers = {};
  if (t && t.access) headers.authorization = `Bearer ${t.access}`;
  // A file (an upload) goes as it is, with its own type; anything else as JSON.
  const raw = typeof Blob !== 'undefined' && body instanceof Blob;
  if (body !== undefined) headers['content-type'] = raw ? body.type || 'application/octet-stream' : 'application/json';
  const payload = body === undefined ? undefined : raw ? body : JSON.stringify(body);
  const r = await fetch(`/api/v1${path}`, { method, headers, body: payload });
  if (r.status === 401 && retry && t && t.refresh && !path.startsWith('/auth/')) {
    if (await refresh()) return api(method, path, body, false);
  }
  const text = await r.text();
  let data = null;
  if (text && (r.headers.get('content-type') || '').includes('json')) data = JSON.parse(text);
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/// A file the API serves (a recording, a fax), as a Blob; the API's refusal as ApiError.
export async function blob(path, retry = true) {
  const t = tokens();
  const r = await fetch(`/api/v1${path}`, { headers: t && t.access ? { authorization: `Bearer ${t.access}` } : {} });
  if (r.status === 401 && retry && t && t.refresh && await refresh()) return blob(path, false);
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
  return r.blob();
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b ?? {});
export const patch = (p, b) => api('PATCH', p, b);
export const del = (p) => api('DELETE', p);

// The route table's access rules (GET /openapi.json, x-access-rule), so the menu shows what
// the API would allow, and nothing else.
let spec = null;
export async function openapi() {
  spec ||= await (await fetch('/api/v1/openapi.json')).json();
  return spec;
}

/// The document once loaded (it is, before any page renders: the menu needs it).
export const loadedSpec = () => spec;

/// Whether `me` (GET /me) may call `method path` by the route's own rule.
export function allowed(me, method, path) {
  const op = spec && spec.paths[`/api/v1${path}`] && spec.paths[`/api/v1${path}`][method.toLowerCase()];
  if (!op) return false;
  if (me.community_edition && op['x-community-edition'] === 'absent') return false;
  const rule = op['x-access-rule'];
  const role = me.user.role;
  const holds = (t) => (me.effective_permissions || []).includes(t);
  switch (rule.kind) {
    case 'public': return true;
    case 'user': return true;
    case 'super_admin': return role === 'super_admin';
    case 'tenant_admin': return role === 'super_admin' || role === 'tenant_admin';
    case 'admin_token': return role === 'super_admin' || (role === 'tenant_admin' && holds(rule.token));
    case 'token': return role === 'super_admin' || holds(rule.token);
    default: return false;
  }
}
