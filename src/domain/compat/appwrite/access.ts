/**
 * Who may do what on the Appwrite surface beyond edgefn's key roles: the function's `execute` roles and `enabled`
 * for executions by users and anonymous callers, and the scopes of an execution's own key.
 */
import { and, eq, isNull, or } from "drizzle-orm";
import type { Principal } from "../../../env";
import { type FunctionRow, functions, workspaces } from "../../../storage/schema";
import type { ServiceContext } from "../../context";
import { appwriteFailure } from "./failures";
import { settingsOf } from "./settings";

/** The principal of a request without any credential: it sees nothing, until a function's roles let it execute. */
export const ANONYMOUS: Principal = {
  keyId: "anonymous",
  role: "viewer",
  workspaceId: "",
  functionIds: [],
  anonymous: true,
};

/** A caller whose access Appwrite's roles decide (anonymous, or a signed-in user), not edgefn's key roles. */
export const decidedByRoles = (p: Principal): boolean => p.anonymous === true || p.user !== undefined;

/**
 * The Appwrite roles the caller holds (https://appwrite.io/docs/advanced/platform/permissions#permission-roles):
 * everyone holds `any`; an anonymous caller `guests`; a user `users`, `user:<id>`, their `/verified` or
 * `/unverified` forms, `team:<id>` for each team, and `label:<name>` for each label.
 */
export function rolesOf(p: Principal): Set<string> {
  const roles = new Set(["any"]);
  if (p.user) {
    const state = p.user.verified ? "verified" : "unverified";
    roles.add("users").add(`users/${state}`).add(`user:${p.user.id}`).add(`user:${p.user.id}/${state}`);
    for (const team of p.user.teams ?? []) roles.add(`team:${team}`);
    for (const label of p.user.labels ?? []) roles.add(`label:${label}`);
  } else if (p.anonymous) roles.add("guests");
  return roles;
}

/**
 * Whether the caller may create executions of a function with these `execute` roles. A key (an edgefn API key or
 * an execution's key) always may, as Appwrite's API keys do; its edgefn role and scopes are checked on their own.
 */
export function mayExecute(p: Principal, execute: readonly string[]): boolean {
  if (!decidedByRoles(p)) return true;
  const held = rolesOf(p);
  return execute.some((role) => held.has(role));
}

/**
 * The function a user or an anonymous caller asks to execute, in the project (workspace id or name) they name, and
 * the context to execute it in: a principal that may invoke that one function only. A missing function, and a
 * disabled one, answer `function_not_found` (as Appwrite does for callers without a key); roles that do not let
 * the caller execute answer `user_unauthorized`.
 */
export async function executionByRoles(
  ctx: ServiceContext,
  project: string,
  functionId: string,
): Promise<{ ctx: ServiceContext; fn: FunctionRow }> {
  const row = await ctx.db
    .select({ fn: functions })
    .from(functions)
    .innerJoin(workspaces, eq(workspaces.id, functions.workspaceId))
    .where(
      and(
        or(eq(workspaces.id, project), eq(workspaces.name, project)),
        or(eq(functions.externalId, functionId), eq(functions.id, functionId)),
        isNull(functions.deletedAt),
        eq(functions.system, false),
      ),
    )
    .get();
  const fn = row?.fn;
  const settings = fn ? settingsOf(fn) : undefined;
  if (!fn || !settings?.enabled) {
    throw appwriteFailure("not_found", "function_not_found", "Function with the requested ID could not be found.");
  }
  if (!mayExecute(ctx.principal, settings.execute)) {
    throw appwriteFailure(
      "unauthorized",
      "user_unauthorized",
      "The current user is not authorized to perform the requested action.",
    );
  }
  const principal: Principal = {
    ...ctx.principal,
    role: "invoker",
    workspaceId: fn.workspaceId,
    functionIds: [fn.id],
  };
  return { ctx: { ...ctx, principal }, fn };
}

/** Appwrite's scopes a route needs, as edgefn names them; `executions.*` is the newer spelling of `execution.*`. */
const SYNONYMS: Record<string, string> = {
  "executions.read": "execution.read",
  "executions.write": "execution.write",
};

/** 401 `general_unauthorized_scope` unless the principal is a key without scopes, or one whose scopes hold `scope`. */
export function requireScope(p: Principal, scope: string): void {
  if (decidedByRoles(p)) {
    throw appwriteFailure(
      "unauthorized",
      "general_unauthorized_scope",
      `${p.anonymous ? "guests" : `user:${p.user?.id}`} (role: ${p.anonymous ? "guests" : "users"}) missing scope (${scope})`,
    );
  }
  if (!p.scopes) return;
  const granted = p.scopes.map((s) => SYNONYMS[s] ?? s);
  if (!granted.includes(SYNONYMS[scope] ?? scope)) {
    throw appwriteFailure(
      "unauthorized",
      "general_unauthorized_scope",
      `The execution's key (role: applications) is missing scope (${scope})`,
    );
  }
}
