// The public REST API: the console signs in with an API key or a JWT (kept in sessionStorage, gone with
// the tab) and calls the same routes as the CLI. Errors keep the API's {"error": {code, message}} shape.
const TOKEN = 'mastra-admin.token';
const TEAM = 'mastra-admin.team';

export const config = { apiUrl: '', wsUrl: '' };

export async function loadConfig() {
  // config.json beside index.html says where the API is; absent (the local stack serves both) = same origin.
  try {
    const r = await fetch('config.json', { cache: 'no-store' });
    if (r.ok) Object.assign(config, await r.json());
  } catch { /* same origin */ }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  signIn: (token) => sessionStorage.setItem(TOKEN, token),
  signOut: () => { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(TEAM); },
  team: () => sessionStorage.getItem(TEAM),
  setTeam: (id) => sessionStorage.setItem(TEAM, id),
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const listeners = new Set();
export const onUnauthorized = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };

export function apiUrl(path, params) {
  const url = new URL(config.apiUrl.replace(/\/$/, '') + path, location.href);
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  return url;
}

export async function request(method, path, { body, params, token } = {}) {
  const headers = { Authorization: `Bearer ${token || session.token()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(apiUrl(path, params), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `The API is unreachable (${e.message})`);
  }
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) {
    const e = (data && data.error) || {};
    if (r.status === 401 && !token) listeners.forEach((fn) => fn());
    throw new ApiError(r.status, e.code || `http_${r.status}`, e.message || r.statusText, e.details);
  }
  return data;
}

export const get = (path, params) => request('GET', path, { params });
export const post = (path, body = {}) => request('POST', path, { body });
export const put = (path, body) => request('PUT', path, { body });
export const patch = (path, body) => request('PATCH', path, { body });
export const del = (path) => request('DELETE', path);

export async function all(path, params) {
  // Every page of a list (`nextCursor`), for the short lists a page shows whole.
  const items = [];
  let cursor;
  do {
    const page = await get(path, { ...params, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}
