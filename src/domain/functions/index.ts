import { and, eq, isNotNull, isNull, or, type SQL, sql } from "drizzle-orm";
import { ApiError, badRequest, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import { encryptSecret } from "../../lib/secrets";
import { type FunctionRow, functions, type RetentionTier } from "../../storage/schema";
import { forgetFunction } from "../calls/cache";
import { warmLiveIsolate } from "../calls/isolate";
import { raiseEvent } from "../compat/appwrite/events";
import {
  inWorkspaces,
  requireGlobalAdmin,
  requireRole,
  type ServiceContext,
  seesFunction,
  visibleWorkspaceIds,
} from "../context";
import { assertSchemaUsable } from "../json-schemas";
import { getWorkspace } from "../workspaces";
import { functionEntity } from "./entity";
import type { FunctionPatch, Outcome } from "./lifecycle";

export interface FunctionListQuery extends ListQuery {
  ids?: string[];
  workspaceId?: string;
  source?: "workspace" | "system" | "integration";
  includeDeleted?: "true" | "false" | "only";
  name?: string;
  defaultVersionId?: string;
  system?: boolean;
  createdBy?: string;
  runtimeUserId?: string;
  retentionTier?: RetentionTier;
}

/** Functions this principal can see: those of its workspaces, plus system functions, which every workspace sees. */
function visible(ctx: ServiceContext): SQL | undefined {
  const ids = visibleWorkspaceIds(ctx.principal);
  const scope = ctx.principal.functionIds;
  const inScope = scope ? sql`${functions.id} IN (SELECT value FROM json_each(${JSON.stringify(scope)}))` : undefined;
  // No workspace at all (a user without memberships): not even the system functions.
  if (ids !== null && ids.length === 0) return sql`0`;
  return and(
    ids === null ? undefined : or(inWorkspaces(functions.workspaceId, ids), eq(functions.system, true)),
    inScope,
  );
}

export async function listFunctions(ctx: ServiceContext, params: FunctionListQuery) {
  const { query, filter } = compileListQuery(functionEntity, params);
  const where: (SQL | undefined)[] = [visible(ctx), filter];

  if (params.workspaceId !== undefined) {
    await getWorkspace(ctx, params.workspaceId); // 404 for a workspace that does not exist or is not this key's
    // System functions are always included (seed 004).
    where.push(or(eq(functions.workspaceId, params.workspaceId), eq(functions.system, true)));
  }
  if (params.ids !== undefined) {
    const ids = params.ids.map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0 || ids.length > 100) throw badRequest("ids: expected 1 to 100 comma-separated ids");
    // One bound JSON array: D1 binds at most 100 values per statement, and the rest of the query needs some.
    where.push(sql`${functions.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
  }
  if (params.source === "system") where.push(eq(functions.system, true));
  if (params.source === "workspace") where.push(eq(functions.system, false));
  // No integrations exist yet, so nothing is visible through one.
  if (params.source === "integration") where.push(sql`0`);

  const deleted = params.includeDeleted ?? "false";
  if (deleted === "false") where.push(isNull(functions.deletedAt));
  if (deleted === "only") where.push(isNotNull(functions.deletedAt));

  if (params.name !== undefined) where.push(sql`instr(lower(${functions.name}), lower(${params.name})) > 0`);
  if (params.defaultVersionId !== undefined) where.push(eq(functions.defaultVersionId, params.defaultVersionId));
  if (params.system !== undefined) where.push(eq(functions.system, params.system));
  if (params.createdBy !== undefined) where.push(eq(functions.createdBy, params.createdBy));
  if (params.runtimeUserId !== undefined) where.push(eq(functions.runtimeUserId, params.runtimeUserId));
  if (params.retentionTier !== undefined) where.push(eq(functions.retentionTier, params.retentionTier));

  return paginate<FunctionRow>(ctx.db, functions, functionEntity, and(...where), query);
}

/** The function if this principal can see it (deleted ones included); otherwise 404. */
export async function getFunction(ctx: ServiceContext, id: string): Promise<FunctionRow> {
  const row = await ctx.db.select().from(functions).where(eq(functions.id, id)).get();
  if (!row || !seesFunction(ctx, row)) throw notFound("function", id);
  return row;
}

/**
 * 403 unless the principal may change this function: developers of its workspace; for a system function (which every
 * workspace sees and calls) only an admin of every workspace.
 */
export function requireWrite(ctx: ServiceContext, row: Pick<FunctionRow, "system" | "workspaceId">, action: string) {
  if (row.system) {
    requireGlobalAdmin(ctx, `${action} a system function`);
  } else {
    requireRole(ctx, "developer", `${action} functions`, row.workspaceId);
  }
}

/** A patch as the API takes it: secrets in plain text ("***" keeps a secret's current value). */
export type FunctionInput = Omit<FunctionPatch, "secrets"> & { secrets?: Record<string, string> | null };

/**
 * Checks what the API cannot check alone (schemas of the workspace, names shared by env vars and secrets)
 * and encrypts secrets, so what goes to the FunctionObject is ready to store.
 */
async function prepare(
  ctx: ServiceContext,
  fn: Pick<FunctionRow, "id" | "workspaceId" | "envVars" | "secrets">,
  input: FunctionInput,
): Promise<FunctionPatch> {
  const { secrets, ...rest } = input;
  for (const field of ["inputSchemaId", "outputSchemaId"] as const) {
    const id = input[field];
    if (id) await assertSchemaUsable(ctx, fn.workspaceId, id, field);
  }
  const envVars = input.envVars === undefined ? fn.envVars : input.envVars;
  const secretNames = secrets === undefined ? Object.keys(fn.secrets ?? {}) : Object.keys(secrets ?? {});
  const clash = secretNames.find((name) => envVars && Object.hasOwn(envVars, name));
  if (clash) throw badRequest(`'${clash}' is both an env var and a secret; the isolate's env holds both, so pick one`);
  if (secrets === undefined) return rest;
  if (secrets === null) return { ...rest, secrets: null };
  const sealed: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets)) {
    const current = fn.secrets?.[name];
    if (value === "***") {
      if (!current) throw badRequest(`secrets.${name}: "***" keeps a current value, but there is none`);
      sealed[name] = current;
    } else sealed[name] = await encryptSecret(ctx.env, fn.id, name, value);
  }
  return { ...rest, secrets: sealed };
}

export interface CreateFunctionInput extends FunctionInput {
  workspaceId: string;
  name: string;
  source?: FunctionRow["source"];
  system?: boolean;
}

export async function createFunction(ctx: ServiceContext, input: CreateFunctionInput): Promise<FunctionRow> {
  await getWorkspace(ctx, input.workspaceId);
  const system = input.system ?? input.source === "system";
  requireWrite(ctx, { system, workspaceId: input.workspaceId }, "create");

  const id = newId("fun", ctx.now);
  const prepared = await prepare(ctx, { id, workspaceId: input.workspaceId, envVars: null, secrets: null }, input);
  const row: FunctionRow = {
    id,
    workspaceId: input.workspaceId,
    name: input.name,
    description: input.description ?? null,
    externalId: input.externalId ?? null,
    metadata: input.metadata ?? null,
    source: input.source ?? (system ? "system" : "custom"),
    system,
    createdBy: ctx.principal.keyId,
    runtimeUserId: input.runtimeUserId ?? null,
    defaultVersionId: null,
    inputSchemaId: input.inputSchemaId ?? null,
    outputSchemaId: input.outputSchemaId ?? null,
    retentionTier: input.retentionTier ?? "standard",
    envVars: input.envVars ?? null,
    secrets: prepared.secrets ?? null,
    timeoutMs: input.timeoutMs ?? null,
    cpuMs: input.cpuMs ?? null,
    allowedHosts: input.allowedHosts ?? null,
    maxRetries: input.maxRetries ?? null,
    public: input.public ?? false,
    rateLimitPerMinute: input.rateLimitPerMinute ?? null,
    corsOrigins: input.corsOrigins ?? null,
    lastCalledAt: null,
    configRevision: 1,
    deletedAt: null,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  const created = unwrap(await lifecycle(ctx, row.id).create(row));
  raiseEvent(ctx, { kind: "function", fn: created }, "create");
  return created;
}

export async function updateFunction(ctx: ServiceContext, id: string, input: FunctionInput) {
  const fn = await getFunction(ctx, id);
  requireWrite(ctx, fn, "change");
  const updated = unwrap(await lifecycle(ctx, id).update(id, await prepare(ctx, fn, input), ctx.now));
  forgetFunction(id);
  raiseEvent(ctx, { kind: "function", fn: updated }, "update");
  // Its isolate made anew for the new config, after the answer, so the next call finds it made.
  if (updated.configRevision !== fn.configRevision && updated.defaultVersionId) {
    ctx.defer(warmLiveIsolate(ctx.env, ctx.db, id));
  }
  return updated;
}

export async function deleteFunction(ctx: ServiceContext, id: string) {
  requireWrite(ctx, await getFunction(ctx, id), "delete");
  const done = unwrap(await lifecycle(ctx, id).softDelete(id, ctx.now));
  forgetFunction(id);
  raiseEvent(ctx, { kind: "function", fn: done }, "delete");
  return done;
}

export async function restoreFunction(ctx: ServiceContext, id: string) {
  requireWrite(ctx, await getFunction(ctx, id), "restore");
  const restored = unwrap(await lifecycle(ctx, id).restore(id, ctx.now));
  forgetFunction(id);
  return restored;
}

export async function purgeFunction(ctx: ServiceContext, id: string) {
  requireWrite(ctx, await getFunction(ctx, id), "purge");
  const done = unwrap(await lifecycle(ctx, id).purge(id));
  forgetFunction(id);
  return done;
}

export function lifecycle(ctx: Pick<ServiceContext, "env">, functionId: string) {
  return ctx.env.FUNCTIONS.get(ctx.env.FUNCTIONS.idFromName(functionId));
}

export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new ApiError(outcome.code, outcome.message);
  return outcome.value;
}
