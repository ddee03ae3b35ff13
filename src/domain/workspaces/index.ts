import { and, count, eq, or } from "drizzle-orm";
import { conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { LIMITS } from "../../lib/limits";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import { cogniteFilesPrefixOf } from "../../storage/objects";
import {
  apiKeys,
  cogniteFiles,
  functions,
  invites,
  memberships,
  type WorkspaceRow,
  workspaces,
} from "../../storage/schema";
import {
  inVisibleWorkspaces,
  isUniqueViolation,
  requireGlobalAdmin,
  requireRole,
  type ServiceContext,
  seesWorkspace,
} from "../context";

export const workspaceEntity: EntityDef = {
  name: "workspace",
  id: workspaces.id,
  fields: {
    id: { column: workspaces.id, type: "string" },
    name: { column: workspaces.name, type: "string" },
    description: { column: workspaces.description, type: "string", nullable: true },
    createdAt: { column: workspaces.createdAt, type: "datetime" },
    updatedAt: { column: workspaces.updatedAt, type: "datetime" },
  },
  defaultOrder: [{ field: "createdAt", direction: "asc" }],
};

export async function listWorkspaces(ctx: ServiceContext, q: ListQuery) {
  const { query, filter } = compileListQuery(workspaceEntity, q);
  const scope = inVisibleWorkspaces(ctx, workspaces.id);
  return paginate<WorkspaceRow>(ctx.db, workspaces, workspaceEntity, and(scope, filter), query);
}

/** The workspace if this principal can see it; otherwise 404, exactly as if it did not exist. */
export async function getWorkspace(ctx: ServiceContext, id: string): Promise<WorkspaceRow> {
  const row = seesWorkspace(ctx, id)
    ? await ctx.db.select().from(workspaces).where(eq(workspaces.id, id)).get()
    : undefined;
  if (!row) throw notFound("workspace", id);
  return row;
}

/** The workspace with this id or name (an id wins), if this principal can see it; the compatibility surfaces name them so. */
export async function findWorkspace(ctx: ServiceContext, idOrName: string): Promise<WorkspaceRow | undefined> {
  const rows = await ctx.db
    .select()
    .from(workspaces)
    .where(or(eq(workspaces.id, idOrName), eq(workspaces.name, idOrName)))
    .all();
  const row = rows.find((r) => r.id === idOrName) ?? rows[0];
  return row && seesWorkspace(ctx, row.id) ? row : undefined;
}

export async function createWorkspace(
  ctx: ServiceContext,
  input: { name: string; description?: string | null; callRetentionDays?: number },
) {
  requireGlobalAdmin(ctx, "create workspaces");
  const row: WorkspaceRow = {
    id: newId("ws", ctx.now),
    name: input.name,
    description: input.description ?? null,
    callRetentionDays: input.callRetentionDays ?? LIMITS.callRetentionDays.default,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  try {
    await ctx.db.insert(workspaces).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`A workspace named '${input.name}' already exists`);
    throw err;
  }
  return row;
}

export async function updateWorkspace(
  ctx: ServiceContext,
  id: string,
  patch: { name?: string; description?: string | null; callRetentionDays?: number },
) {
  await getWorkspace(ctx, id);
  requireRole(ctx, "admin", "change workspaces", id);
  try {
    const [row] = await ctx.db
      .update(workspaces)
      .set({ ...patch, updatedAt: ctx.now })
      .where(eq(workspaces.id, id))
      .returning();
    if (!row) throw notFound("workspace", id);
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`A workspace named '${patch.name}' already exists`);
    throw err;
  }
}

/**
 * Deletes an empty workspace with the API keys scoped to it, its memberships and its invites. A workspace that still holds functions
 * (soft-deleted ones included) is a 409: purge them first, so nothing is lost by accident.
 */
export async function deleteWorkspace(ctx: ServiceContext, id: string) {
  await getWorkspace(ctx, id);
  requireGlobalAdmin(ctx, "delete workspaces");
  const [held] = await ctx.db.select({ n: count() }).from(functions).where(eq(functions.workspaceId, id));
  if (held && held.n > 0) {
    throw conflict(`Workspace ${id} still holds ${held.n} function(s), soft-deleted ones included; purge them first`);
  }
  await ctx.db.batch([
    ctx.db.delete(apiKeys).where(eq(apiKeys.workspaceId, id)),
    ctx.db.delete(memberships).where(eq(memberships.workspaceId, id)),
    ctx.db.delete(invites).where(eq(invites.workspaceId, id)),
    ctx.db.delete(cogniteFiles).where(eq(cogniteFiles.workspaceId, id)),
    ctx.db.delete(workspaces).where(eq(workspaces.id, id)),
  ]);
  // The content of the Cognite surface's files goes with them.
  for (;;) {
    const { objects } = await ctx.env.CODE.list({ prefix: cogniteFilesPrefixOf(id), limit: 1000 });
    if (objects.length === 0) break;
    await ctx.env.CODE.delete(objects.map((o) => o.key));
  }
}
