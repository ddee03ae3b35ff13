// The API of the same origin, through a session: the email and password (or the API key) the user signs in with are
// exchanged (POST /api/session) for an HttpOnly cookie that page script never sees and a CSRF token, kept here in
// memory only and sent back with every request. Its errors are ApiErrors. No DOM here: what a page does when the session ends is its caller's say
// (whenSessionEnds).

/** An answer of the API that is not 2xx: its HTTP status and the API's error code, message and request id. */
export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** The signed-in session: its CSRF token and who it acts as (null: not signed in). Never a password or a key. */
let session = null;

/** Told, with a message for the user, when an API call is refused with 401 (the session ended). */
let sessionEnded = () => {};

export function whenSessionEnds(handler) {
  sessionEnded = handler;
}

/** The current session ({ csrfToken, kind, role, keyId, user, ... }), or null when signed out. */
export const currentSession = () => session;

async function request(path, { method = "GET", body } = {}) {
  const headers = {};
  if (session) headers["x-edgefn-csrf"] = session.csrfToken;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const e = data?.error;
    throw new ApiError(
      res.status,
      e?.code ?? "error",
      e?.message ?? `${res.status} ${res.statusText}`,
      e?.requestId ?? null,
    );
  }
  return data;
}

/** The session of this browser's cookie, if it has a live one. */
export async function resumeSession() {
  try {
    session = await request("/api/session");
  } catch {
    session = null;
  }
  return session;
}

/**
 * Exchanges { email, password } or { key } for a session (sent once, and not kept). Throws the API's refusal: 401
 * for a wrong email or password (the same either way) or a refused key, 429 after too many attempts.
 */
export async function signIn(credentials, remember) {
  session = await request("/api/session", { method: "POST", body: { ...credentials, remember } });
  workspacesCache = null;
  return session;
}

/** Accepts an invite with its token: joins its workspace and signs in ({ password, name?, remember }). */
export async function acceptInvite(token, body) {
  session = await request(`/api/invites/${encodeURIComponent(token)}/accept`, { method: "POST", body });
  workspacesCache = null;
  return session;
}

/** Ends the session on the server (signed out here either way). */
export async function signOut() {
  try {
    await request("/api/session", { method: "DELETE" });
  } catch {
    // Signed out here either way.
  }
  session = null;
  workspacesCache = null;
}

/** An API call from a page: a rejected key ends the session, and whenSessionEnds's handler is told. */
export async function api(path, options) {
  try {
    return await request(path, options);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      session = null;
      sessionEnded("Your session ended (or its account or API key is no longer accepted). Sign in again.");
    }
    throw err;
  }
}

/** A query string ("?a=1&b=2", or "") of the parameters that have a value. */
export const qs = (params) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const str = p.toString();
  return str ? `?${str}` : "";
};

// Workspaces rarely change: one read per page load (and per sign-in).
let workspacesCache = null;
export async function workspaces() {
  if (!workspacesCache) workspacesCache = api("/api/workspaces?limit=100").then((r) => r.data);
  try {
    return await workspacesCache;
  } catch (err) {
    workspacesCache = null;
    throw err;
  }
}

/** A function's versions, newest first (up to 100). */
export async function allVersions(fn) {
  const page = await api(`/api/functions/${fn.id}/versions?limit=100`);
  return page.data;
}
