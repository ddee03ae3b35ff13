import { and, eq, inArray, sql } from "drizzle-orm";
import { notFound } from "../../lib/errors";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import type { Db } from "../../storage/db";
import { apiKeys, type MembershipRow, memberships, ROLES, type UserRow, users } from "../../storage/schema";
import { RANK, type Role, requireRole, type ServiceContext } from "../context";
import { forgetKey } from "../keys/authenticate";
import { getWorkspace } from "../workspaces";

/** Who is in a workspace, with which role: listed, changed and removed by its admins (a member may also leave). */

export const memberEntity: EntityDef = {
  name: "member",
  id: memberships.id,
  fields: {
    id: { column: memberships.id, type: "string" },
    userId: { column: memberships.userId, type: "string" },
    role: { column: memberships.role, type: "string" },
    createdAt: { column: memberships.createdAt, type: "datetime" },
    updatedAt: { column: memberships.updatedAt, type: "datetime" },
  },
  relations: {
    /** The member's account: filter by email or name. */
    user: {
      fields: {
        email: { column: sql`rel_us.email`, type: "string" },
        name: { column: sql`rel_us.name`, type: "string", nullable: true },
      },
      exists: (condition) =>
        sql`EXISTS (SELECT 1 FROM ${users} AS rel_us WHERE rel_us.id = ${memberships.userId} AND ${condition})`,
    },
  },
  defaultOrder: [{ field: "createdAt", direction: "asc" }],
};

export interface Member {
  membership: MembershipRow;
  user: Pick<UserRow, "id" | "email" | "name">;
}

/** Members of a workspace (its admins only), with their email and name. */
export async function listMembers(ctx: ServiceContext, workspaceId: string, q: ListQuery) {
  await getWorkspace(ctx, workspaceId);
  requireRole(ctx, "admin", "list members", workspaceId);
  const { query, filter } = compileListQuery(memberEntity, q);
  const page = await paginate<MembershipRow>(
    ctx.db,
    memberships,
    memberEntity,
    and(eq(memberships.workspaceId, workspaceId), filter),
    query,
  );
  const ids = page.rows.map((m) => m.userId);
  const people =
    ids.length === 0
      ? []
      : await ctx.db
          .select({ id: users.id, email: users.email, name: users.name })
          .from(users)
          .where(inArray(users.id, ids));
  const byId = new Map(people.map((u) => [u.id, u]));
  const members: Member[] = page.rows.map((membership) => ({
    membership,
    user: byId.get(membership.userId) ?? { id: membership.userId, email: "", name: null },
  }));
  return { members, pageInfo: page.pageInfo };
}

async function membershipOf(ctx: ServiceContext, workspaceId: string, userId: string): Promise<MembershipRow> {
  const row = await ctx.db
    .select()
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
    .get();
  if (!row) throw notFound("member", userId);
  return row;
}

/**
 * Revokes the keys a user made for a workspace that their role there no longer covers (all of them when they
 * leave it): a user's keys never have more than the user.
 */
async function capKeys(db: Db, workspaceId: string, userId: string, role: Role | null) {
  const above = role === null ? [...ROLES] : ROLES.filter((r) => RANK[r] > RANK[role]);
  if (above.length === 0) return;
  const gone = await db
    .delete(apiKeys)
    .where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.createdBy, userId), inArray(apiKeys.role, above)))
    .returning({ hash: apiKeys.hash });
  for (const key of gone) forgetKey(key.hash);
}

/** An admin's change of a member's role; the member's keys above the new role are revoked. */
export async function changeMember(ctx: ServiceContext, workspaceId: string, userId: string, role: Role) {
  await getWorkspace(ctx, workspaceId);
  requireRole(ctx, "admin", "change members", workspaceId);
  await membershipOf(ctx, workspaceId, userId);
  const [row] = await ctx.db
    .update(memberships)
    .set({ role, updatedAt: ctx.now })
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
    .returning();
  if (!row) throw notFound("member", userId);
  await capKeys(ctx.db, workspaceId, userId, role);
  const user = await ctx.db
    .select({ id: users.id, email: users.email, name: users.name })
    .from(users)
    .where(eq(users.id, userId))
    .get();
  return { membership: row, user: user ?? { id: userId, email: "", name: null } } satisfies Member;
}

/**
 * Removes a member (an admin's act, or a member leaving): access ends at once, their sessions acting in the
 * workspace no more, and the keys they made for it are revoked.
 */
export async function removeMember(ctx: ServiceContext, workspaceId: string, userId: string) {
  await getWorkspace(ctx, workspaceId);
  if (ctx.principal.userId !== userId) requireRole(ctx, "admin", "remove members", workspaceId);
  await membershipOf(ctx, workspaceId, userId);
  await ctx.db.delete(memberships).where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  await capKeys(ctx.db, workspaceId, userId, null);
}
