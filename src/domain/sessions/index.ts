import { and, eq, lt, ne } from "drizzle-orm";
import type { Env } from "../../env";
import { base64url, digestsEqual, sha256Hex } from "../../lib/crypto";
import { ApiError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import type { Db } from "../../storage/db";
import { getDb } from "../../storage/db";
import { type SessionRow, sessions } from "../../storage/schema";

/**
 * Console sessions. Signing in (with an API key, or as a user with email and password) gives the browser an
 * HttpOnly, SameSite=Strict cookie holding a random token (only its hash is stored), plus a CSRF token the console
 * sends back in a header. Page script never holds a credential, and a page of another origin (or a sandboxed
 * function page on this one) can neither read the cookie nor send the header. A session belongs to the key it was
 * opened with or to a user; who it acts as is worked out at each use (src/domain/accounts/principal.ts).
 */

export const SESSION_COOKIE = "edgefn_session";
/** A secure cookie takes the __Host- prefix: bound to this host, Secure, for the whole path, no Domain. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
const TTL_MS = 12 * 60 * 60 * 1000;
const REMEMBER_MS = 30 * 24 * 60 * 60 * 1000;
const USER_AGENT_MAX = 256;

const random = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

export const sessionEntity: EntityDef = {
  name: "session",
  id: sessions.id,
  fields: {
    id: { column: sessions.id, type: "string" },
    createdAt: { column: sessions.createdAt, type: "datetime" },
    expiresAt: { column: sessions.expiresAt, type: "datetime" },
  },
  defaultOrder: [{ field: "createdAt", direction: "desc" }],
};

/** Whose session: the API key it acts as (by hash), or a user. */
export type SessionOwner = { keyHash: string } | { userId: string };

export interface OpenedSession {
  id: string;
  token: string;
  csrf: string;
  expiresAt: number;
}

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

/** Opens a session for an owner the caller has checked; returns its tokens and its end. */
export async function openSession(
  env: Env,
  owner: SessionOwner,
  options: { remember?: boolean; userAgent?: string | null } = {},
  now = Date.now(),
): Promise<OpenedSession> {
  const token = random();
  const csrf = random();
  const id = newId("ses", now);
  const expiresAt = now + (options.remember ? REMEMBER_MS : TTL_MS);
  await getDb(env.DB)
    .insert(sessions)
    .values({
      id,
      hash: await sha256Hex(token),
      keyHash: "keyHash" in owner ? owner.keyHash : null,
      userId: "userId" in owner ? owner.userId : null,
      userAgent: options.userAgent ? options.userAgent.slice(0, USER_AGENT_MAX) : null,
      csrf,
      createdAt: now,
      expiresAt,
    });
  return { id, token, csrf, expiresAt };
}

/** A live session of this cookie token; else 401. */
export async function describeSessionToken(env: Env, token: string, now = Date.now()): Promise<SessionRow> {
  const row = await getDb(env.DB)
    .select()
    .from(sessions)
    .where(eq(sessions.hash, await sha256Hex(token)))
    .get();
  return liveSession(row, now);
}

/** The row if it is a session that has not ended; else 401. */
export function liveSession(row: SessionRow | undefined, now: number): SessionRow {
  if (!row || row.expiresAt <= now) throw new ApiError("unauthorized", "The session has ended: sign in again");
  return row;
}

/** 401 unless the CSRF header that must come with the cookie is the session's. */
export function checkCsrf(session: SessionRow, csrf: string | undefined): void {
  if (!csrf || !digestsEqual(csrf, session.csrf)) {
    throw new ApiError("unauthorized", "A session request needs its x-edgefn-csrf header");
  }
}

export async function closeSession(env: Env, token: string): Promise<void> {
  await getDb(env.DB)
    .delete(sessions)
    .where(eq(sessions.hash, await sha256Hex(token)));
}

/** A user's sessions, newest first by default. */
export async function listUserSessions(db: Db, userId: string, q: ListQuery) {
  const { query, filter } = compileListQuery(sessionEntity, q);
  return paginate<SessionRow>(db, sessions, sessionEntity, and(eq(sessions.userId, userId), filter), query);
}

/** Ends one of a user's sessions; false when the user has no such session. */
export async function closeUserSession(db: Db, userId: string, id: string): Promise<boolean> {
  const gone = await db
    .delete(sessions)
    .where(and(eq(sessions.id, id), eq(sessions.userId, userId)))
    .returning({ id: sessions.id });
  return gone.length > 0;
}

/** Ends every session of a user, but `keep` (the one asking) when given; how many ended. */
export async function closeUserSessions(db: Db, userId: string, keep?: string): Promise<number> {
  const gone = await db
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), keep ? ne(sessions.id, keep) : undefined))
    .returning({ id: sessions.id });
  return gone.length;
}

/** Deletes sessions that have ended (the cron's housekeeping). */
export async function sweepSessions(env: Env, now = Date.now()): Promise<number> {
  const gone = await getDb(env.DB).delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.id });
  return gone.length;
}

/**
 * Whether the session cookie of a request to this URL is Secure (and so __Host- prefixed): always, except on plain
 * http to this machine's own names (localhost, 127.0.0.1, [::1]), the local platform. Elsewhere the cookie never
 * travels over plain http: a browser that reached a remote host by http does not keep it, and a request that came
 * through a proxy that ended TLS was https to the browser.
 */
export function secureCookieFor(url: URL): boolean {
  if (url.protocol === "https:") return true;
  return !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

/** The Set-Cookie value of a session (secure: __Host- prefix, Secure). */
export function sessionCookie(token: string, expiresAt: number | null, secure: boolean, now = Date.now()): string {
  const name = secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  const parts = [`${name}=${token}`, "Path=/", "HttpOnly", "SameSite=Strict"];
  if (secure) parts.push("Secure");
  if (expiresAt !== null) parts.push(`Max-Age=${Math.max(0, Math.floor((expiresAt - now) / 1000))}`);
  return parts.join("; ");
}
