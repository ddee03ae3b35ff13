import type { Env, Principal } from "../env";
import { ApiError } from "../lib/errors";
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

const RANK = { viewer: 0, invoker: 1, developer: 2, admin: 3 } as const;

/** 403 unless the key's role is at least `role`. */
export function requireRole(ctx: ServiceContext, role: Principal["role"], action: string): void {
  if (RANK[ctx.principal.role] < RANK[role]) {
    throw new ApiError("forbidden", `A ${ctx.principal.role} key cannot ${action}; it needs the ${role} role`);
  }
}

/** Whether the key may see objects of this workspace. */
export function seesWorkspace(ctx: ServiceContext, workspaceId: string): boolean {
  return ctx.principal.workspaceId === null || ctx.principal.workspaceId === workspaceId;
}

/** Whether the key may see this function: its workspace (system functions: every workspace), and its function scope. */
export function seesFunction(
  ctx: Pick<ServiceContext, "principal">,
  fn: { id: string; workspaceId: string; system?: boolean },
): boolean {
  const scope = ctx.principal.functionIds;
  if (scope && !scope.includes(fn.id)) return false;
  return fn.system === true || seesWorkspace(ctx as ServiceContext, fn.workspaceId);
}

/** A key scoped to functions manages nothing: it reads and invokes those functions only. */
export function requireUnscopedToFunctions(ctx: ServiceContext, action: string): void {
  if (ctx.principal.functionIds) {
    throw new ApiError("forbidden", `A key scoped to single functions cannot ${action}`);
  }
}

/** 403 unless the key is an admin key for every workspace. */
export function requireGlobalAdmin(ctx: ServiceContext, action: string): void {
  requireRole(ctx, "admin", action);
  if (ctx.principal.workspaceId !== null) {
    throw new ApiError("forbidden", `Only an admin key for every workspace can ${action}`);
  }
}

/** True when D1 rejected a write because a unique index already holds the value. */
export function isUniqueViolation(err: unknown): boolean {
  const text =
    err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? "")}` : String(err);
  return /UNIQUE constraint failed/i.test(text);
}
