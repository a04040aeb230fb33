// Calls the JSON API with the key from sessionStorage. The key goes only in the Authorization header:
// never in a URL, never in the console's own logs.

const KEY = 'pixelmill.console.api_key';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  save: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

/** An error answer of the API, in its `{"error": {code, message}}` shape. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `The server answered ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'unknown';
  }

  /** The path has no route on this server (an older version, or a feature another release adds). */
  get routeMissing() {
    return this.status === 404 && /^No route /.test(this.message);
  }
}

/**
 * `api('/v1/batches')` → parsed JSON. A 401 ends the session (the page shows the key form again).
 * `as: 'blob'` returns the body as a Blob (downloads).
 */
export async function api(path, { method = 'GET', body, as = 'json', key = session.key() } = {}) {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  if (!res.ok) {
    const error = new ApiError(res.status, await res.json().catch(() => null));
    if (res.status === 401 && key === session.key()) {
      window.dispatchEvent(new CustomEvent('console:unauthorized', { detail: error.message }));
    }
    throw error;
  }
  if (as === 'blob') return res.blob();
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

let openapi;

/**
 * Whether this server documents a route (its OpenAPI document, fetched once). Buttons for routes a
 * server lacks are hidden rather than failing; an unreadable document counts as "try it".
 */
export async function hasRoute(method, template) {
  openapi ??= fetch('/openapi.json', { cache: 'no-store', credentials: 'omit' })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  const doc = await openapi;
  if (!doc?.paths) return true;
  return Boolean(doc.paths[template]?.[method.toLowerCase()]);
}
