import { and, eq } from "drizzle-orm";
import type { Env } from "../../env";
import { ApiError, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import type { Db } from "../../storage/db";
import { getDb } from "../../storage/db";
import { apiKeys, memberships, sessions, type UserRow, users } from "../../storage/schema";
import { isUniqueViolation, requireGlobalAdmin, type ServiceContext } from "../context";
import { forgetKey } from "../keys/authenticate";
import { closeUserSessions } from "../sessions/index";
import { checkEmail, normalizeEmail } from "./emails";
import { checkNewPassword, hashPassword, needsRehash, passwordMatches } from "./passwords";
import { countAttempt, forgiveAttempt } from "./throttle";

/** People's accounts: made by an admin of every workspace (or by accepting an invite), signed in with a password. */

export const userEntity: EntityDef = {
  name: "user",
  id: users.id,
  fields: {
    id: { column: users.id, type: "string" },
    email: { column: users.email, type: "string" },
    name: { column: users.name, type: "string", nullable: true },
    platformAdmin: { column: users.platformAdmin, type: "boolean" },
    createdAt: { column: users.createdAt, type: "datetime" },
    updatedAt: { column: users.updatedAt, type: "datetime" },
  },
  defaultOrder: [{ field: "createdAt", direction: "asc" }],
};

export interface NewUser {
  email: string;
  password: string;
  name?: string | null;
  platformAdmin?: boolean;
}

/** A user row ready to insert (email checked and normalized, password checked and hashed). */
export async function newUserRow(input: NewUser, createdBy: string | null, now: number): Promise<UserRow> {
  const email = checkEmail(input.email);
  checkNewPassword(input.password);
  return {
    id: newId("usr", now),
    email,
    name: input.name ?? null,
    platformAdmin: input.platformAdmin ?? false,
    ...(await hashPassword(input.password)),
    passwordChangedAt: now,
    createdBy,
    createdAt: now,
    updatedAt: now,
  };
}

export const emailTaken = (email: string) => conflict(`An account with the email ${email} already exists`);

export async function createUser(ctx: ServiceContext, input: NewUser): Promise<UserRow> {
  requireGlobalAdmin(ctx, "create users");
  const row = await newUserRow(input, ctx.principal.keyId, ctx.now);
  try {
    await ctx.db.insert(users).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken(row.email);
    throw err;
  }
  return row;
}

export async function listUsers(ctx: ServiceContext, q: ListQuery) {
  requireGlobalAdmin(ctx, "list users");
  const { query, filter } = compileListQuery(userEntity, q);
  return paginate<UserRow>(ctx.db, users, userEntity, filter, query);
}

export async function getUser(ctx: ServiceContext, id: string): Promise<UserRow> {
  requireGlobalAdmin(ctx, "read users");
  const row = await ctx.db.select().from(users).where(eq(users.id, id)).get();
  if (!row) throw notFound("user", id);
  return row;
}

/**
 * An admin's change of a user: name, platform admin, or a new password (recovery), which ends every session the
 * user has.
 */
export async function updateUser(
  ctx: ServiceContext,
  id: string,
  patch: { name?: string | null; platformAdmin?: boolean; password?: string },
): Promise<UserRow> {
  await getUser(ctx, id);
  const set: Partial<UserRow> = { updatedAt: ctx.now };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.platformAdmin !== undefined) set.platformAdmin = patch.platformAdmin;
  if (patch.password !== undefined) {
    checkNewPassword(patch.password);
    Object.assign(set, await hashPassword(patch.password), { passwordChangedAt: ctx.now });
  }
  const [row] = await ctx.db.update(users).set(set).where(eq(users.id, id)).returning();
  if (!row) throw notFound("user", id);
  if (patch.password !== undefined) await closeUserSessions(ctx.db, id);
  return row;
}

/**
 * Removes a user: their account, memberships and sessions, and the API keys they made (capped at their roles, they
 * would outlive the reason they were allowed). Their sessions end at once; their keys within the key cache's 30 s
 * in other isolates.
 */
export async function deleteUser(ctx: ServiceContext, id: string): Promise<void> {
  await getUser(ctx, id);
  const [, , , keys] = await ctx.db.batch([
    ctx.db.delete(users).where(eq(users.id, id)),
    ctx.db.delete(memberships).where(eq(memberships.userId, id)),
    ctx.db.delete(sessions).where(eq(sessions.userId, id)),
    ctx.db.delete(apiKeys).where(eq(apiKeys.createdBy, id)).returning({ hash: apiKeys.hash }),
  ]);
  for (const key of keys) forgetKey(key.hash);
}

/**
 * Sign-in: the user whose email and password these are, or null. The same null for an unknown email and a wrong
 * password, after the same work (an unknown email is derived against a stand-in hash). Attempts are counted per
 * email and per client address first: past a limit this throws a 429 ApiError (`details.retryAfterSeconds`)
 * without looking at the account. A right password made with less work than today's is hashed again.
 */
export async function verifyPassword(
  env: Env,
  email: string,
  password: string,
  options: { clientAddress?: string | null; now?: number } = {},
): Promise<UserRow | null> {
  const db = getDb(env.DB);
  const now = options.now ?? Date.now();
  const normalized = normalizeEmail(email);
  const attempt = await countAttempt(db, normalized, options.clientAddress ?? null, now);
  const user = await db.select().from(users).where(eq(users.email, normalized)).get();
  if (!(await passwordMatches(user ?? null, password)) || !user) return null;
  await forgiveAttempt(db, attempt);
  if (needsRehash(user)) await rehash(db, user, password);
  return user;
}

async function rehash(db: Db, user: UserRow, password: string) {
  // Only if the hash is still the one just checked: a change made meanwhile wins.
  await db
    .update(users)
    .set(await hashPassword(password))
    .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash)));
}

/** 403 unless the request acts as a user (not an API key); the user's id. */
export function requireUser(ctx: ServiceContext, what: string): string {
  const id = ctx.principal.userId;
  if (id === undefined) {
    throw new ApiError(
      "forbidden",
      `This request acts as an API key: only a user signed in with an account has ${what}`,
    );
  }
  return id;
}

/**
 * A user's change of their own password: the current one first (counted like a sign-in), then the new one;
 * every other session of theirs ends, the one asking stays.
 */
export async function changeOwnPassword(
  ctx: ServiceContext,
  input: { currentPassword: string; newPassword: string },
  clientAddress: string | null,
): Promise<{ endedSessions: number }> {
  const id = requireUser(ctx, "a password");
  const me = await ctx.db.select().from(users).where(eq(users.id, id)).get();
  if (!me) throw new ApiError("unauthorized", "The account no longer exists");
  checkNewPassword(input.newPassword, "newPassword");
  const attempt = await countAttempt(ctx.db, me.email, clientAddress, ctx.now);
  if (!(await passwordMatches(me, input.currentPassword))) {
    throw new ApiError("forbidden", "currentPassword: that is not your current password");
  }
  await forgiveAttempt(ctx.db, attempt);
  await ctx.db
    .update(users)
    .set({ ...(await hashPassword(input.newPassword)), passwordChangedAt: ctx.now, updatedAt: ctx.now })
    .where(eq(users.id, id));
  return { endedSessions: await closeUserSessions(ctx.db, id, ctx.principal.sessionId) };
}
