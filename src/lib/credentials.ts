/**
 * What of a caller's request may reach a function. A function never sees a credential of the platform: no header
 * whose value carries an edgefn API key (in any header, in any scheme: `Bearer`, `apikey`, `Basic` with the key
 * as user or password, bare), no cookie of the platform's own. Everything else passes, so a function's own auth
 * scheme (a webhook's token that is not an edgefn key) still reaches it.
 */

/** The shape of an edgefn API key (`efn_` and base64url); the admin key may be any string and is matched as well. */
const KEY_PATTERN = /efn_[A-Za-z0-9_-]{16,}/;
/** Cookies the platform sets (its console session and the like). */
const PLATFORM_COOKIE = /^(__Host-|__Secure-)?edgefn/i;

function carriesKey(value: string, adminKey: string | undefined): boolean {
  if (KEY_PATTERN.test(value)) return true;
  if (adminKey && adminKey.length >= 8 && value.includes(adminKey)) return true;
  // HTTP Basic: the key as the user name or the password.
  const basic = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
  if (basic?.[1]) {
    try {
      const decoded = atob(basic[1].replace(/-/g, "+").replace(/_/g, "/"));
      return KEY_PATTERN.test(decoded) || (!!adminKey && adminKey.length >= 8 && decoded.includes(adminKey));
    } catch {
      return false;
    }
  }
  return false;
}

/** The Cookie header without the platform's cookies and without any cookie that carries a key; null if none is left. */
function withoutPlatformCookies(cookie: string, adminKey: string | undefined): string | null {
  const kept = cookie
    .split(";")
    .map((c) => c.trim())
    .filter((c) => {
      if (c === "") return false;
      const name = c.slice(0, c.includes("=") ? c.indexOf("=") : c.length).trim();
      return !PLATFORM_COOKIE.test(name) && !carriesKey(c, adminKey);
    });
  return kept.length > 0 ? kept.join("; ") : null;
}

/** What of one header (its name in lower case) may reach a function: its value, less the platform's cookies, or null. */
function keptValue(name: string, value: string, adminKey: string | undefined): string | null {
  if (name === "cookie") return withoutPlatformCookies(value, adminKey);
  return carriesKey(value, adminKey) ? null : value;
}

/**
 * Makes a copy of a request's headers free of platform credentials: removes every header that carries one and
 * rewrites the Cookie header without the platform's cookies (`headers` is the copy; `from` the original's).
 */
export function stripCredentials(headers: Headers, from: Headers, adminKey: string | undefined): void {
  const changes: [string, string | null][] = [];
  from.forEach((value, name) => {
    const kept = keptValue(name, value, adminKey);
    if (kept !== value) changes.push([name, kept]);
  });
  for (const [name, kept] of changes) {
    if (kept === null) headers.delete(name);
    else headers.set(name, kept);
  }
}

/** The same, for headers given as a plain object (an Appwrite execution's `headers`). */
export function stripCredentialsFrom(
  headers: Record<string, unknown>,
  adminKey: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    const kept = keptValue(name.toLowerCase(), String(raw), adminKey);
    if (kept !== null) out[name] = kept;
  }
  return out;
}

/**
 * Header names that carry (or usually carry) a credential: an execution's request is kept without them, whatever
 * their value (`authorization`, cookies, `x-appwrite-key`, API keys, tokens, sessions, signatures, passwords).
 */
const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|cookie2|set-cookie)$|auth|token|secret|passw|session|cookie|api[-_]?key|^x-appwrite-(key|jwt)$|signature|credential/i;

/** How much of a request's headers is kept with its record. */
const KEPT = { headers: 100, nameChars: 256, valueChars: 4096 };

/**
 * The headers of a request as its record keeps them: none that carries a credential (by its name or by its value),
 * at most 100, each clipped.
 */
export function storableHeaders(headers: Record<string, string>, adminKey: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  let kept = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (kept >= KEPT.headers) break;
    if (SECRET_HEADER.test(name) || carriesKey(value, adminKey)) continue;
    out[name.slice(0, KEPT.nameChars).toLowerCase()] = value.slice(0, KEPT.valueChars);
    kept++;
  }
  return out;
}
