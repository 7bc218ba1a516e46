// The JSON API under /api/v1: tokens kept in localStorage, one refresh on 401, and errors
// as ApiError with the API's code, message and per-field messages.

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

export function setTokens(t) {
  if (t) localStorage.setItem(KEY, JSON.stringify({ access: t.access_token, refresh: t.refresh_token }));
  else localStorage.removeItem(KEY);
}

let refreshing = null;

async function refresh() {
  const t = tokens();
  if (!t || !t.refresh) return false;
  refreshing ||= fetch('/api/v1/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: t.refresh }),
  }).then(async (r) => {
    if (!r.ok) { setTokens(null); return false; }
    setTokens(await r.json());
    return true;
  }).finally(() => { refreshing = null; });
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
