import { eq, lt } from "drizzle-orm";
import type { Env } from "../../env";
import { base64url, digestsEqual, sha256Hex } from "../../lib/crypto";
import { ApiError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { getDb } from "../../storage/db";
import { sessions } from "../../storage/schema";

/**
 * Console sessions. Signing in with an API key gives the browser an HttpOnly, SameSite=Strict cookie holding a
 * random token (only its hash is stored), plus a CSRF token the console sends back in a header. Page script never
 * holds the key, and a page of another origin (or a sandboxed function page on this one) can neither read the
 * cookie nor send the header.
 */

export const SESSION_COOKIE = "edgefn_session";
/** On https the cookie takes the __Host- prefix: bound to this host, Secure, for the whole path, no Domain. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
const TTL_MS = 12 * 60 * 60 * 1000;
const REMEMBER_MS = 30 * 24 * 60 * 60 * 1000;

const random = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** The session token in a Cookie header, if any. */
export function sessionToken(cookie: string | undefined): string | null {
  if (!cookie) return null;
  for (const part of cookie.split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    if (name === SESSION_COOKIE || name === SECURE_SESSION_COOKIE) return part.slice(at + 1).trim() || null;
  }
  return null;
}

/** Opens a session acting as the key with this hash (checked by the caller); returns the tokens and its end. */
export async function openSession(env: Env, keyHash: string, remember: boolean, now = Date.now()) {
  const token = random();
  const csrf = random();
  const expiresAt = now + (remember ? REMEMBER_MS : TTL_MS);
  await getDb(env.DB)
    .insert(sessions)
    .values({ id: newId("ses", now), hash: await sha256Hex(token), keyHash, csrf, createdAt: now, expiresAt });
  return { token, csrf, expiresAt };
}

/** A live session of this cookie token: the key hash it acts as, its CSRF token and its end; else 401. */
export async function describeSessionToken(env: Env, token: string, now = Date.now()) {
  const row = await getDb(env.DB)
    .select()
    .from(sessions)
    .where(eq(sessions.hash, await sha256Hex(token)))
    .get();
  if (!row || row.expiresAt <= now) throw new ApiError("unauthorized", "The session has ended: sign in again");
  return { keyHash: row.keyHash, csrf: row.csrf, expiresAt: row.expiresAt };
}

/** The key hash a session request acts as, given the CSRF header that must come with the cookie. */
export async function sessionKeyHash(env: Env, token: string, csrf: string | undefined, now = Date.now()) {
  const session = await describeSessionToken(env, token, now);
  if (!csrf || !digestsEqual(csrf, session.csrf)) {
    throw new ApiError("unauthorized", "A session request needs its x-edgefn-csrf header");
  }
  return session.keyHash;
}

export async function closeSession(env: Env, token: string): Promise<void> {
  await getDb(env.DB)
    .delete(sessions)
    .where(eq(sessions.hash, await sha256Hex(token)));
}

/** Deletes sessions that have ended (the cron's housekeeping). */
export async function sweepSessions(env: Env, now = Date.now()): Promise<number> {
  const gone = await getDb(env.DB).delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.id });
  return gone.length;
}

/** The Set-Cookie value of a session (secure on https: __Host- prefix, Secure). */
export function sessionCookie(token: string, expiresAt: number | null, secure: boolean): string {
  const name = secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  const parts = [`${name}=${token}`, "Path=/", "HttpOnly", "SameSite=Strict"];
  if (secure) parts.push("Secure");
  if (expiresAt !== null) parts.push(`Max-Age=${Math.max(0, Math.floor((expiresAt - Date.now()) / 1000))}`);
  return parts.join("; ");
}
