/**
 * The Appwrite surface's verbs on projects, functions, their schedule and their variables: what the surface needs of
 * storage beyond the native services. An Appwrite function is an edgefn function (its Appwrite id is its
 * externalId, else its edgefn id), a project is a workspace.
 */
import { and, eq, isNull, or } from "drizzle-orm";
import { ApiError, badRequest, notFound } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import { type FunctionRow, functions, type VersionRow, type WorkspaceRow } from "../../../storage/schema";
import type { ServiceContext } from "../../context";
import { deleteFunction, getFunction, purgeFunction, updateFunction } from "../../functions";
import { createSchedule, deleteSchedule, listSchedules, updateSchedule } from "../../schedules";
import { cronProblem } from "../../schedules/cron";
import { getVersion, listVersions } from "../../versions";
import { findWorkspace } from "../../workspaces";
import { appwriteFailure } from "./failures";
import { variableOf } from "./settings";

export { META } from "./settings";

/** The workspace named by X-Appwrite-Project (an id or a name), if the key sees it; else 404. */
export async function resolveProject(ctx: ServiceContext, project: string | undefined): Promise<WorkspaceRow> {
  if (!project) throw badRequest("Missing the X-Appwrite-Project header: send the edgefn workspace id or name");
  const row = await findWorkspace(ctx, project);
  if (!row) throw notFound("project", project);
  return row;
}

/** The live function of the workspace whose Appwrite id (its externalId, else its edgefn id) is `id`. */
export async function findFunction(ctx: ServiceContext, workspaceId: string, id: string): Promise<FunctionRow> {
  const row = await ctx.db
    .select({ id: functions.id })
    .from(functions)
    .where(
      and(
        eq(functions.workspaceId, workspaceId),
        or(eq(functions.externalId, id), eq(functions.id, id)),
        isNull(functions.deletedAt),
      ),
    )
    .get();
  if (!row) throw notFound("function", id);
  try {
    return await getFunction(ctx, row.id);
  } catch (err) {
    // A function the key may not see answers exactly as a missing one: by the id it was asked for.
    if (err instanceof ApiError && err.code === "not_found") throw notFound("function", id);
    throw err;
  }
}

/** The function's newest version, whatever its status (Appwrite's latest deployment), or null. */
export async function latestVersion(ctx: ServiceContext, fn: FunctionRow): Promise<VersionRow | null> {
  const { page } = await listVersions(ctx, fn.id, { limit: 1 });
  return page.rows[0] ?? null;
}

/** The function's active version (Appwrite's deployment), or null. */
export async function activeVersion(ctx: ServiceContext, fn: FunctionRow): Promise<VersionRow | null> {
  if (!fn.defaultVersionId) return null;
  return (await getVersion(ctx, fn.id, fn.defaultVersionId).catch(() => null))?.version ?? null;
}

/** Appwrite deletes for good: a soft delete, then the purge, which frees the id for a new function. */
export async function deleteForGood(ctx: ServiceContext, fn: FunctionRow): Promise<void> {
  await deleteFunction(ctx, fn.id);
  await purgeFunction(ctx, fn.id);
}

// ---------------------------------------------------------------------------------------------------------------
// The schedule

export const SCHEDULE_NAME = "appwrite";

/** 400 unless `schedule` is a cron edgefn runs (empty: none). */
export function checkSchedule(schedule: string | undefined): void {
  if (!schedule) return;
  const problem = cronProblem(schedule.trim());
  if (problem) throw badRequest(`Invalid param "schedule": ${problem}`);
}

/** Keeps the function's "appwrite" edgefn schedule in line with its Appwrite `schedule` (and `enabled`). */
export async function syncSchedule(ctx: ServiceContext, fn: FunctionRow, schedule: string, enabled: boolean) {
  const page = await listSchedules(ctx, { functionId: fn.id, name: SCHEDULE_NAME });
  const current = page.rows.find((s) => s.name === SCHEDULE_NAME);
  const cron = schedule.trim();
  if (!cron) {
    if (current) await deleteSchedule(ctx, current.id);
    return;
  }
  if (current) await updateSchedule(ctx, current.id, { cron, enabled });
  else await createSchedule(ctx, { functionId: fn.id, name: SCHEDULE_NAME, cron, enabled, data: null });
}

// ---------------------------------------------------------------------------------------------------------------
// Variables: env vars and secrets

/**
 * Appwrite's variables are the function's env vars (plain) and secrets (encrypted; Appwrite's default). A key is an
 * env var name (`^[A-Za-z_][A-Za-z0-9_]*$`, at most 255 characters: it becomes `process.env.<key>`), a value at
 * most 8192 characters; a function holds at most 100 variables of both kinds, 128 KiB in all.
 */
export const VARIABLE_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/** 400 when the function's variables, with `key` set to `value`, break the rules above. */
function checkVariables(fn: FunctionRow, key: string, value: string, replacing?: string): void {
  if (!VARIABLE_KEY.test(key)) {
    throw badRequest(
      "Invalid `key` param: a variable key is a name of letters, digits and underscores, not starting with a digit, at most 255 characters",
    );
  }
  const all = { ...(fn.envVars ?? {}), ...(fn.secrets ?? {}) };
  if (replacing !== undefined) delete all[replacing];
  all[key] = value;
  const names = Object.keys(all);
  if (names.length > LIMITS.envVars.count) {
    throw badRequest(`A function holds at most ${LIMITS.envVars.count} variables`);
  }
  // Stored secrets count by their sealed size, a little more than their value's: the sum stays an upper bound.
  const bytes = names.reduce((n, k) => n + new TextEncoder().encode(k + (all[k] ?? "")).byteLength, 0);
  if (bytes > LIMITS.envVars.totalBytes) {
    throw badRequest(`A function's variables (keys and values) hold at most ${LIMITS.envVars.totalBytes} bytes`);
  }
}

export async function createVariable(
  ctx: ServiceContext,
  fn: FunctionRow,
  input: { key: string; value: string; secret?: boolean },
): Promise<FunctionRow> {
  if (Object.hasOwn(fn.envVars ?? {}, input.key) || Object.hasOwn(fn.secrets ?? {}, input.key)) {
    throw appwriteFailure(
      "conflict",
      "variable_already_exists",
      "Variable with the same ID already exists in this project. Try again with a different ID.",
    );
  }
  checkVariables(fn, input.key, input.value);
  return setVariable(ctx, fn, input.key, input.value, input.secret ?? true);
}

/** Changes a variable's key, value or secrecy (a secret stays one); answers the function and the variable's key. */
export async function updateVariable(
  ctx: ServiceContext,
  fn: FunctionRow,
  id: string,
  input: { key?: string; value?: string; secret?: boolean },
): Promise<{ fn: FunctionRow; key: string }> {
  const current = variableOf(fn, id);
  const key = input.key ?? id;
  const secret = input.secret ?? current.secret;
  if (current.secret && !secret) {
    throw appwriteFailure(
      "bad_request",
      "variable_cannot_unset_secret",
      "Secret variables cannot be marked as non-secret. Please re-create the variable if this is your intention.",
    );
  }
  if (key !== id && (Object.hasOwn(fn.envVars ?? {}, key) || Object.hasOwn(fn.secrets ?? {}, key))) {
    throw appwriteFailure(
      "conflict",
      "variable_already_exists",
      "Variable with the same ID already exists in this project. Try again with a different ID.",
    );
  }
  if (current.secret && input.value === undefined && key !== id) {
    throw badRequest("Renaming a secret variable needs its value");
  }
  const value = input.value ?? (current.secret ? undefined : current.value);
  checkVariables(fn, key, value ?? "", id);
  let updated = fn;
  if (key !== id) updated = await setVariable(ctx, updated, id, undefined, current.secret);
  if (value === undefined) {
    // A secret kept as it is, made a secret if it was not one: nothing to change without its value.
    if (!current.secret) throw badRequest('Param "value" is needed to make a variable secret');
  } else updated = await setVariable(ctx, updated, key, value, secret);
  return { fn: updated, key };
}

export async function deleteVariable(ctx: ServiceContext, fn: FunctionRow, id: string): Promise<void> {
  await setVariable(ctx, fn, id, undefined, variableOf(fn, id).secret);
}

/** The function with its variable `key` set (or removed when `value` is undefined), as an env var or a secret. */
async function setVariable(
  ctx: ServiceContext,
  fn: FunctionRow,
  key: string,
  value: string | undefined,
  secret: boolean,
): Promise<FunctionRow> {
  const envVars = { ...(fn.envVars ?? {}) };
  const secrets: Record<string, string> = {};
  for (const name of Object.keys(fn.secrets ?? {})) secrets[name] = "***";
  delete envVars[key];
  delete secrets[key];
  if (value !== undefined) (secret ? secrets : envVars)[key] = value;
  const patch: { envVars: Record<string, string> | null; secrets?: Record<string, string> | null } = {
    envVars: Object.keys(envVars).length ? envVars : null,
  };
  const hadSecret = fn.secrets && Object.hasOwn(fn.secrets, key);
  if (secret || hadSecret) patch.secrets = Object.keys(secrets).length ? secrets : null;
  return updateFunction(ctx, fn.id, patch);
}
