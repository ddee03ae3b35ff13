import { and, eq, gt, isNull, lt, or } from "drizzle-orm";
import type { Env } from "../../env";
import { base64url, sha256Hex } from "../../lib/crypto";
import { ApiError, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import { getDb } from "../../storage/db";
import { type InviteRow, invites, type MembershipRow, memberships, type UserRow, users } from "../../storage/schema";
import { isUniqueViolation, RANK, type Role, requireRole, roleIn, type ServiceContext } from "../context";
import { getWorkspace } from "../workspaces";
import { checkEmail } from "./emails";
import { checkNewPassword } from "./passwords";
import { emailTaken, newUserRow, verifyPassword } from "./users";

/**
 * Invites: a workspace admin names an email and a role and gets a token (shown once; only its hash is kept) to hand
 * to the person. Accepting it, once and before it expires, makes them a member: a new account is made with the
 * password they choose, an existing one must give its password (a token never sets the password of an account that
 * has one, or an admin could take over any account by inviting its email).
 */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const inviteEntity: EntityDef = {
  name: "invite",
  id: invites.id,
  fields: {
    id: { column: invites.id, type: "string" },
    email: { column: invites.email, type: "string" },
    role: { column: invites.role, type: "string" },
    createdAt: { column: invites.createdAt, type: "datetime" },
    expiresAt: { column: invites.expiresAt, type: "datetime" },
    acceptedAt: { column: invites.acceptedAt, type: "datetime", nullable: true },
  },
  defaultOrder: [{ field: "createdAt", direction: "desc" }],
};

export async function createInvite(
  ctx: ServiceContext,
  workspaceId: string,
  input: { email: string; role: Role },
): Promise<{ row: InviteRow; token: string }> {
  await getWorkspace(ctx, workspaceId);
  requireRole(ctx, "admin", "invite people", workspaceId);
  const mine = roleIn(ctx.principal, workspaceId) as Role;
  if (RANK[input.role] > RANK[mine]) throw new ApiError("forbidden", `An invite cannot grant more than ${mine}`);
  const email = checkEmail(input.email);
  const member = await ctx.db
    .select({ id: memberships.id })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.workspaceId, workspaceId), eq(users.email, email)))
    .get();
  if (member) throw conflict(`${email} is already a member of workspace ${workspaceId}: change their role instead`);
  const token = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const row: InviteRow = {
    id: newId("inv", ctx.now),
    workspaceId,
    email,
    role: input.role,
    hash: await sha256Hex(token),
    createdBy: ctx.principal.keyId,
    createdAt: ctx.now,
    expiresAt: ctx.now + INVITE_TTL_MS,
    acceptedAt: null,
    acceptedBy: null,
  };
  await ctx.db.insert(invites).values(row);
  return { row, token };
}

export async function listInvites(ctx: ServiceContext, workspaceId: string, q: ListQuery) {
  await getWorkspace(ctx, workspaceId);
  requireRole(ctx, "admin", "list invites", workspaceId);
  const { query, filter } = compileListQuery(inviteEntity, q);
  return paginate<InviteRow>(ctx.db, invites, inviteEntity, and(eq(invites.workspaceId, workspaceId), filter), query);
}

/** Revokes an invite that has not been accepted (an accepted one is history: remove the member instead). */
export async function revokeInvite(ctx: ServiceContext, workspaceId: string, id: string): Promise<void> {
  await getWorkspace(ctx, workspaceId);
  requireRole(ctx, "admin", "revoke invites", workspaceId);
  const row = await ctx.db
    .select()
    .from(invites)
    .where(and(eq(invites.id, id), eq(invites.workspaceId, workspaceId)))
    .get();
  if (!row) throw notFound("invite", id);
  if (row.acceptedAt !== null) throw conflict(`Invite ${id} was accepted; remove the member instead`);
  await ctx.db.delete(invites).where(eq(invites.id, id));
}

export interface Accepted {
  user: UserRow;
  membership: MembershipRow;
  invite: InviteRow;
  /** Whether the account was made by this acceptance. */
  created: boolean;
}

/** Accepts an invite by its token (no other credential): see the module's comment. */
export async function acceptInvite(
  env: Env,
  token: string,
  input: { password: string; name?: string | null },
  options: { clientAddress?: string | null; now?: number } = {},
): Promise<Accepted> {
  const db = getDb(env.DB);
  const now = options.now ?? Date.now();
  const invite = await db
    .select()
    .from(invites)
    .where(eq(invites.hash, await sha256Hex(token)))
    .get();
  if (!invite) throw notFound("invite");
  if (invite.acceptedAt !== null) throw conflict("This invite has been used already: ask for a new one");
  if (invite.expiresAt <= now) throw conflict("This invite has expired: ask for a new one");

  const existing = await db.select({ id: users.id }).from(users).where(eq(users.email, invite.email)).get();
  let user: UserRow;
  if (existing) {
    const verified = await verifyPassword(env, invite.email, input.password, { ...options, now });
    if (!verified) {
      throw new ApiError("unauthorized", `${invite.email} has an account: accept with its password`);
    }
    user = verified;
  } else {
    checkNewPassword(input.password);
    user = await newUserRow({ email: invite.email, password: input.password, name: input.name }, invite.createdBy, now);
  }

  // Single use: the invite is claimed in one statement, so two acceptances racing each other cannot both win.
  const [claimed] = await db
    .update(invites)
    .set({ acceptedAt: now, acceptedBy: user.id })
    .where(and(eq(invites.id, invite.id), isNull(invites.acceptedAt), gt(invites.expiresAt, now)))
    .returning();
  if (!claimed) throw conflict("This invite has been used already: ask for a new one");

  const membership: MembershipRow = {
    id: newId("mem", now),
    workspaceId: invite.workspaceId,
    userId: user.id,
    role: invite.role,
    createdBy: invite.createdBy,
    createdAt: now,
    updatedAt: now,
  };
  const join = db
    .insert(memberships)
    .values(membership)
    .onConflictDoUpdate({
      target: [memberships.workspaceId, memberships.userId],
      set: { role: invite.role, updatedAt: now },
    })
    .returning();
  try {
    let joined: MembershipRow[];
    if (existing) joined = await join;
    else [, joined] = await db.batch([db.insert(users).values(user), join]);
    return { user, membership: joined[0] ?? membership, invite: claimed, created: !existing };
  } catch (err) {
    // Another invite of the same email made the account a moment ago: this one stays unused.
    await db.update(invites).set({ acceptedAt: null, acceptedBy: null }).where(eq(invites.id, invite.id));
    if (isUniqueViolation(err)) throw emailTaken(user.email);
    throw err;
  }
}

/** Deletes invites that expired or were accepted more than a week ago (the cron's housekeeping). */
export async function sweepInvites(env: Env, now = Date.now()): Promise<number> {
  const gone = await getDb(env.DB)
    .delete(invites)
    .where(or(lt(invites.expiresAt, now - INVITE_TTL_MS), lt(invites.acceptedAt, now - INVITE_TTL_MS)))
    .returning({ id: invites.id });
  return gone.length;
}
