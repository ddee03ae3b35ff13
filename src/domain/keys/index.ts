import { and, eq, type SQL, sql } from "drizzle-orm";
import { newKeySecret, sha256Hex } from "../../lib/crypto";
import { ApiError, badRequest, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import { type ApiKeyRow, apiKeys, functions, type Role, workspaces } from "../../storage/schema";
import { requireRole, type ServiceContext, seesWorkspace } from "../context";
import { forgetKey } from "./authenticate";

export const keyEntity: EntityDef = {
  name: "key",
  id: apiKeys.id,
  fields: {
    id: { column: apiKeys.id, type: "string" },
    name: { column: apiKeys.name, type: "string" },
    role: { column: apiKeys.role, type: "string" },
    workspaceId: { column: apiKeys.workspaceId, type: "string", nullable: true },
    expiresAt: { column: apiKeys.expiresAt, type: "datetime", nullable: true },
    createdAt: { column: apiKeys.createdAt, type: "datetime" },
  },
  defaultOrder: [{ field: "createdAt", direction: "desc" }],
};

export interface CreateKeyInput {
  name: string;
  role: Role;
  workspaceId?: string | null;
  functionIds?: string[] | null;
  expiresAt?: string | null;
}

const RANK = { viewer: 0, invoker: 1, developer: 2, admin: 3 } as const;

export async function createKey(ctx: ServiceContext, input: CreateKeyInput) {
  requireRole(ctx, "admin", "create API keys");
  const scoped = ctx.principal.workspaceId;
  const workspaceId = input.workspaceId ?? scoped;
  // A scoped key cannot reach other workspaces at all, so to it they do not exist.
  if (scoped !== null && workspaceId !== scoped) throw notFound("workspace", workspaceId ?? undefined);
  if (RANK[input.role] > RANK[ctx.principal.role])
    throw new ApiError("forbidden", "A key cannot grant more than it has");
  if (workspaceId) {
    const ws = await ctx.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, workspaceId)).get();
    if (!ws) throw notFound("workspace", workspaceId);
  }
  const functionIds = input.functionIds ? [...new Set(input.functionIds)] : null;
  if (functionIds) {
    if (!workspaceId) throw badRequest("functionIds: a key scoped to functions needs a workspaceId");
    if (RANK[input.role] > RANK.invoker) {
      throw badRequest("functionIds: a key scoped to functions is a viewer or an invoker key");
    }
    const found = await ctx.db
      .select({ id: functions.id })
      .from(functions)
      .where(
        and(
          eq(functions.workspaceId, workspaceId),
          sql`${functions.id} IN (SELECT value FROM json_each(${JSON.stringify(functionIds)}))`,
        ),
      );
    const missing = functionIds.filter((id) => !found.some((f) => f.id === id));
    if (missing.length > 0) throw badRequest(`functionIds: no function ${missing[0]} in workspace ${workspaceId}`);
  }
  let expiresAt: number | null = null;
  // null or absent: no expiry; any string, "" included, must be a time (an empty one is not "never").
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    expiresAt = Date.parse(input.expiresAt);
    if (!Number.isFinite(expiresAt)) throw badRequest("expiresAt: expected an ISO 8601 time");
    if (expiresAt <= ctx.now) throw badRequest("expiresAt: must be in the future");
  }
  const secret = newKeySecret();
  const row: ApiKeyRow = {
    id: newId("key", ctx.now),
    name: input.name,
    hash: await sha256Hex(secret),
    prefix: secret.slice(0, 10),
    role: input.role,
    workspaceId: workspaceId ?? null,
    functionIds,
    createdBy: ctx.principal.keyId,
    expiresAt,
    createdAt: ctx.now,
  };
  await ctx.db.insert(apiKeys).values(row);
  return { row, secret };
}

/** Keys this key may manage: every key for a global admin, its workspace's keys for a scoped one. */
function visibleKeys(ctx: ServiceContext): SQL | undefined {
  const ws = ctx.principal.workspaceId;
  return ws === null ? undefined : eq(apiKeys.workspaceId, ws);
}

export async function listKeys(ctx: ServiceContext, q: ListQuery) {
  requireRole(ctx, "admin", "list API keys");
  const { query, filter } = compileListQuery(keyEntity, q);
  return paginate<ApiKeyRow>(ctx.db, apiKeys, keyEntity, and(visibleKeys(ctx), filter), query);
}

export async function deleteKey(ctx: ServiceContext, id: string) {
  requireRole(ctx, "admin", "delete API keys");
  const row = await ctx.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
  if (
    !row ||
    (row.workspaceId !== null && !seesWorkspace(ctx, row.workspaceId)) ||
    (row.workspaceId === null && ctx.principal.workspaceId !== null)
  ) {
    throw notFound("API key", id);
  }
  await ctx.db.delete(apiKeys).where(eq(apiKeys.id, id));
  forgetKey(row.hash);
}
