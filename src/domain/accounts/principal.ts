import { eq, inArray } from "drizzle-orm";
import type { Env, Principal } from "../../env";
import { sha256Hex } from "../../lib/crypto";
import { ApiError } from "../../lib/errors";
import { getDb } from "../../storage/db";
import { type MembershipRow, memberships, type SessionRow, sessions, type UserRow, users } from "../../storage/schema";
import { RANK, type Role } from "../context";
import { principalOfKeyHash } from "../keys/authenticate";
import { checkCsrf, liveSession } from "../sessions/index";

/**
 * Who a user acts as: their memberships, read at every request (no cache), so that a removed member or a deleted
 * user loses access at once, everywhere.
 */
export function userPrincipal(user: UserRow, rows: MembershipRow[], sessionId?: string): Principal {
  const roles: Record<string, Role> = {};
  let highest: Role = "viewer";
  for (const m of rows) {
    roles[m.workspaceId] = m.role;
    if (RANK[m.role] > RANK[highest]) highest = m.role;
  }
  return {
    keyId: user.id,
    userId: user.id,
    role: user.platformAdmin ? "admin" : highest,
    // A user's own id names no workspace: code that reads workspaceId instead of memberships sees none.
    workspaceId: user.platformAdmin ? null : user.id,
    memberships: roles,
    platformAdmin: user.platformAdmin,
    ...(sessionId ? { sessionId } : {}),
  };
}

/** The principal of a user by id (null: no such user). */
export async function principalOfUser(env: Env, userId: string, sessionId?: string): Promise<Principal | null> {
  const db = getDb(env.DB);
  const [found, rows] = await db.batch([
    db.select().from(users).where(eq(users.id, userId)),
    db.select().from(memberships).where(eq(memberships.userId, userId)),
  ]);
  const user = found[0];
  return user ? userPrincipal(user, rows, sessionId) : null;
}

/** A session by its cookie token, with its user and their memberships when it is a user's: one round trip to D1. */
async function readSession(env: Env, token: string) {
  const db = getDb(env.DB);
  const hash = await sha256Hex(token);
  const owner = db.select({ userId: sessions.userId }).from(sessions).where(eq(sessions.hash, hash));
  const [found, user, rows] = await db.batch([
    db.select().from(sessions).where(eq(sessions.hash, hash)),
    db.select().from(users).where(inArray(users.id, owner)),
    db.select().from(memberships).where(inArray(memberships.userId, owner)),
  ]);
  return { session: found[0], user: user[0], rows };
}

/** Who a session acts as: the key it was opened with (checked as the key is), or its user. */
function actingAs(env: Env, s: { session: SessionRow; user?: UserRow; rows: MembershipRow[] }, now: number) {
  const { session } = s;
  if (session.keyHash !== null) return principalOfKeyHash(env, session.keyHash, now);
  if (session.userId !== null && s.user) return userPrincipal(s.user, s.rows, session.id);
  throw new ApiError("unauthorized", "The session has ended: sign in again");
}

/**
 * The console's way in: a session's cookie token plus the CSRF token that must come with it in a header (a cookie
 * alone authorizes nothing); 401 for an ended session, a wrong CSRF token, a revoked key or a deleted user.
 */
export async function principalOfSession(
  env: Env,
  token: string,
  csrf: string | undefined,
  now = Date.now(),
): Promise<Principal> {
  const read = await readSession(env, token);
  const session = liveSession(read.session, now);
  checkCsrf(session, csrf);
  const principal = await actingAs(env, { ...read, session }, now);
  return { ...principal, sessionId: session.id };
}

/**
 * A live session of this cookie token and who it acts as, without the CSRF check: what the console asks for its
 * CSRF token (GET /api/session), and what a surface with its own cookie (an SDK's session) asks for every request.
 */
export async function describeSession(env: Env, token: string, now = Date.now()) {
  const read = await readSession(env, token);
  const session = liveSession(read.session, now);
  const principal = await actingAs(env, { ...read, session }, now);
  return { session, principal: { ...principal, sessionId: session.id } as Principal, user: read.user ?? null };
}

/** The principal of a user's session token (401 for a key's session, an ended one, or a deleted user). */
export async function principalOfUserSession(env: Env, token: string, now = Date.now()): Promise<Principal> {
  const { session, principal } = await describeSession(env, token, now);
  if (session.userId === null) throw new ApiError("unauthorized", "Not a user's session: sign in with an account");
  return principal;
}
