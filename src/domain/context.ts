import { type Column, eq, type SQL, sql } from "drizzle-orm";
import type { Env, Principal } from "../env";
import { ApiError, badRequest, notFound } from "../lib/errors";
import type { Db } from "../storage/db";

/** What every service verb receives: no Hono, no Request. */
export interface ServiceContext {
  db: Db;
  env: Env;
  principal: Principal;
  now: number;
  /** Keeps work going after the answer (the request's waitUntil): a call's record, say. */
  defer: (promise: Promise<unknown>) => void;
}

export type Role = Principal["role"];

export const RANK = { viewer: 0, invoker: 1, developer: 2, admin: 3 } as const;

/** Whether `role` (null: none) is at least `need`. */
export const atLeast = (role: Role | null, need: Role): boolean => role !== null && RANK[role] >= RANK[need];

/** Whether the principal is a user signed in with a session (else an API key). */
export const isUserPrincipal = (p: Principal): boolean => p.userId !== undefined;
const isUser = isUserPrincipal;

/**
 * The role of this principal in workspace W; null when W does not exist for it. Every access check goes through
 * here (or `visibleWorkspaceIds`, its list form): the one place API keys and users are told apart.
 */
export function roleIn(p: Principal, workspaceId: string): Role | null {
  if (isUser(p)) {
    if (p.platformAdmin) return "admin";
    const m = p.memberships;
    return m && Object.hasOwn(m, workspaceId) ? (m[workspaceId] ?? null) : null;
  }
  return p.workspaceId === null || p.workspaceId === workspaceId ? p.role : null;
}

/** The workspaces this principal sees; null: every one (a key for every workspace, a platform admin). */
export function visibleWorkspaceIds(p: Principal): string[] | null {
  if (isUser(p)) return p.platformAdmin ? null : Object.keys(p.memberships ?? {});
  return p.workspaceId === null ? null : [p.workspaceId];
}

/** The workspaces where this principal has at least `role`; null: every one. */
export function workspacesWithRole(p: Principal, role: Role): string[] | null {
  const all = visibleWorkspaceIds(p);
  if (all === null) return atLeast(p.role, role) ? null : [];
  return all.filter((ws) => atLeast(roleIn(p, ws), role));
}

/** A condition on a workspace id column: rows of these workspaces (null: no condition, every row). */
export function inWorkspaces(column: Column, ids: string[] | null): SQL | undefined {
  if (ids === null) return undefined;
  if (ids.length === 0) return sql`0`;
  if (ids.length === 1) return eq(column, ids[0] as string);
  // One bound JSON array: D1 binds at most 100 values per statement.
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}

/** A condition on a workspace id column: the rows of the workspaces this principal sees (undefined: every row). */
export function inVisibleWorkspaces(ctx: Pick<ServiceContext, "principal">, column: Column): SQL | undefined {
  return inWorkspaces(column, visibleWorkspaceIds(ctx.principal));
}

/** Whether it acts for every workspace as an admin: the admin key, an admin key without a workspace, a platform admin. */
export function isGlobalAdmin(p: Principal): boolean {
  return visibleWorkspaceIds(p) === null && p.role === "admin";
}

/** How a refusal names who was refused. */
function who(p: Principal, role: Role, workspaceId?: string): string {
  if (!isUser(p)) return `A ${role} key`;
  return workspaceId ? `A ${role} member of workspace ${workspaceId}` : `A ${role} member`;
}

/**
 * 403 unless the principal's role in workspace W is at least `role`; a workspace it cannot see is a 404 (callers
 * check visibility first, so that this never confirms that an object exists).
 */
export function requireRole(ctx: ServiceContext, role: Role, action: string, workspaceId: string): void {
  const has = roleIn(ctx.principal, workspaceId);
  if (has === null) throw notFound("workspace", workspaceId);
  if (!atLeast(has, role)) {
    throw new ApiError(
      "forbidden",
      `${who(ctx.principal, has, workspaceId)} cannot ${action}; it needs the ${role} role`,
    );
  }
}

/** 403 unless the principal has at least `role` in some workspace (a list that shows only those). */
export function requireRoleSomewhere(ctx: ServiceContext, role: Role, action: string): void {
  const ids = workspacesWithRole(ctx.principal, role);
  if (ids === null || ids.length > 0) return;
  throw new ApiError(
    "forbidden",
    `${who(ctx.principal, ctx.principal.role)} cannot ${action}; it needs the ${role} role`,
  );
}

/** Whether the principal may see objects of this workspace. */
export function seesWorkspace(ctx: Pick<ServiceContext, "principal">, workspaceId: string): boolean {
  return roleIn(ctx.principal, workspaceId) !== null;
}

/** Whether the principal may see this function: its workspace (system functions: every workspace), and its function scope. */
export function seesFunction(
  ctx: Pick<ServiceContext, "principal">,
  fn: { id: string; workspaceId: string; system?: boolean },
): boolean {
  const scope = ctx.principal.functionIds;
  if (scope && !scope.includes(fn.id)) return false;
  if (fn.system === true) {
    const ids = visibleWorkspaceIds(ctx.principal);
    return ids === null || ids.length > 0;
  }
  return seesWorkspace(ctx, fn.workspaceId);
}

/**
 * The workspace a use of this function is made from, whose role applies and where its calls are recorded: the
 * function's own, except for a system function (which every workspace runs), whose calls are their caller's: a
 * key's workspace, a member's only workspace; a key for every workspace and a platform admin use its own.
 */
export function workspaceOfUse(
  ctx: Pick<ServiceContext, "principal">,
  fn: { id: string; workspaceId: string; system?: boolean },
): string {
  if (!fn.system) return fn.workspaceId;
  const ids = visibleWorkspaceIds(ctx.principal);
  if (ids === null) return fn.workspaceId;
  if (ids.length === 1) return ids[0] as string;
  if (ids.length === 0) throw notFound("function", fn.id);
  throw badRequest(
    `Function ${fn.id} is a system function, whose calls belong to the caller's workspace, and you are a member of ${ids.length}: use an API key of the workspace the call is for`,
  );
}

/** A key scoped to functions manages nothing: it reads and invokes those functions only. */
export function requireUnscopedToFunctions(ctx: ServiceContext, action: string): void {
  if (ctx.principal.functionIds) {
    throw new ApiError("forbidden", `A key scoped to single functions cannot ${action}`);
  }
}

/** 403 unless the principal is an admin of every workspace (an admin key without a workspace, a platform admin). */
export function requireGlobalAdmin(ctx: ServiceContext, action: string): void {
  const p = ctx.principal;
  if (isGlobalAdmin(p)) return;
  if (isUser(p)) throw new ApiError("forbidden", `Only a platform admin can ${action}`);
  if (!atLeast(p.role, "admin")) {
    throw new ApiError("forbidden", `A ${p.role} key cannot ${action}; it needs the admin role`);
  }
  throw new ApiError("forbidden", `Only an admin key for every workspace can ${action}`);
}

/** True when D1 rejected a write because a unique index already holds the value. */
export function isUniqueViolation(err: unknown): boolean {
  const text =
    err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? "")}` : String(err);
  return /UNIQUE constraint failed/i.test(text);
}
