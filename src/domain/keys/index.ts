import { and, eq, or, type SQL, sql } from "drizzle-orm";
import { newKeySecret, sha256Hex } from "../../lib/crypto";
import { ApiError, badRequest, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import { type ApiKeyRow, apiKeys, functions, workspaces } from "../../storage/schema";
import {
  atLeast,
  inWorkspaces,
  isUserPrincipal,
  RANK,
  type Role,
  requireRole,
  requireRoleSomewhere,
  roleIn,
  type ServiceContext,
  seesWorkspace,
  visibleWorkspaceIds,
  workspacesWithRole,
} from "../context";
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

/**
 * An API key for machines. An API key needs the admin role to create keys; a user may create keys for the workspaces
 * they are a member of, up to their role there (a platform admin: any key). Either way a key never has more than
 * its maker: a role above theirs is a 403, another workspace a 404, every workspace only for a maker of every one.
 */
export async function createKey(ctx: ServiceContext, input: CreateKeyInput) {
  const p = ctx.principal;
  const need: Role = isUserPrincipal(p) ? "viewer" : "admin";
  const workspaceId = input.workspaceId ?? defaultWorkspace(ctx);
  let granting: Role;
  if (workspaceId === null) {
    // A key for every workspace: its maker sees every workspace (defaultWorkspace said so).
    if (!atLeast(p.role, need)) {
      throw new ApiError("forbidden", `A ${p.role} key cannot create API keys; it needs the admin role`);
    }
    granting = p.role;
  } else {
    // A workspace the maker cannot reach does not exist for it.
    if (!seesWorkspace(ctx, workspaceId)) throw notFound("workspace", workspaceId);
    requireRole(ctx, need, "create API keys", workspaceId);
    granting = roleIn(p, workspaceId) as Role;
  }
  if (RANK[input.role] > RANK[granting]) {
    throw new ApiError("forbidden", `A key cannot grant more than its maker has: ${input.role} is above ${granting}`);
  }
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
    createdBy: p.keyId,
    expiresAt,
    createdAt: ctx.now,
  };
  await ctx.db.insert(apiKeys).values(row);
  return { row, secret };
}

/** The workspace of a key made without one: the maker's only workspace; null (every one) for a maker of every one. */
function defaultWorkspace(ctx: ServiceContext): string | null {
  const ids = visibleWorkspaceIds(ctx.principal);
  if (ids === null) return null;
  if (ids.length === 1) return ids[0] as string;
  if (ids.length === 0)
    throw new ApiError("forbidden", "You are a member of no workspace: there is none to make a key for");
  throw badRequest("workspaceId: you are a member of several workspaces; name the one the key is for");
}

/**
 * Keys this principal may manage: those of the workspaces it administers (every key for an admin of every
 * workspace), and for a user also the keys they made themselves.
 */
function visibleKeys(ctx: ServiceContext): SQL | undefined {
  const p = ctx.principal;
  const administered = workspacesWithRole(p, "admin");
  if (administered === null) return undefined;
  const own = isUserPrincipal(p) ? eq(apiKeys.createdBy, p.keyId) : undefined;
  return or(inWorkspaces(apiKeys.workspaceId, administered), own);
}

/** An API key needs the admin role to manage keys; a user manages their own keys, and all of the workspaces they administer. */
function requireKeyManager(ctx: ServiceContext, action: string) {
  if (!isUserPrincipal(ctx.principal)) requireRoleSomewhere(ctx, "admin", action);
}

export async function listKeys(ctx: ServiceContext, q: ListQuery) {
  requireKeyManager(ctx, "list API keys");
  const { query, filter } = compileListQuery(keyEntity, q);
  return paginate<ApiKeyRow>(ctx.db, apiKeys, keyEntity, and(visibleKeys(ctx), filter), query);
}

export async function deleteKey(ctx: ServiceContext, id: string) {
  requireKeyManager(ctx, "delete API keys");
  const row = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), visibleKeys(ctx)))
    .get();
  if (!row) throw notFound("API key", id);
  await ctx.db.delete(apiKeys).where(eq(apiKeys.id, id));
  forgetKey(row.hash);
}
