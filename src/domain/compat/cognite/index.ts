/**
 * The Cognite Functions surface (/api/v1/projects/{project}/functions...): a thin adapter over the same services
 * as the native API. It maps edgefn's string ids to Cognite's integer ids (table cognite_ids), edgefn's objects to
 * Cognite's shapes (epoch-ms times, Cognite statuses) and Cognite's filters to the services' list parameters.
 */
import { and, eq, or, sql } from "drizzle-orm";
import type { Env } from "../../../env";
import { ApiError } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import { maskSecrets } from "../../../lib/secrets";
import {
  type CallRow,
  type CogniteKind,
  type FunctionRow,
  functions,
  type ScheduleRow,
  type VersionRow,
  versions,
  type WorkspaceRow,
} from "../../../storage/schema";
import { getCall, getCallLogs, getCallResponse, listCalls } from "../../calls/history";
import { invokeFunction } from "../../calls/invoke";
import { type ServiceContext, seesFunction } from "../../context";
import { createFunction, deleteFunction, getFunction, listFunctions, purgeFunction } from "../../functions";
import { authenticate } from "../../keys/authenticate";
import { createSchedule, deleteSchedule, getSchedule, listSchedules, readScheduleData } from "../../schedules";
import { describeCron } from "../../schedules/cron";
import { createVersion } from "../../versions";
import { findWorkspace } from "../../workspaces";

/** What Cognite puts in `missing` / `duplicated`: the identifiers as the request gave them. */
export type Identifier = { id: number } | { externalId: string };

/** An error in Cognite's shape: `{"error": {"code": <status>, "message", "missing"?, "duplicated"?}}`. */
export class CogniteError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly missing?: Identifier[],
    readonly duplicated?: Identifier[],
  ) {
    super(message);
    this.name = "CogniteError";
  }
}

export const RUNTIME = "js";
export const RUNTIME_VERSION = "Cloudflare Workers (compatibility date 2026-11-01)";
/** What a call gets, in Cognite's units (Workers isolates have 128 MB; CPU is not reserved per call). */
const CPU_CORES = 1;
const MEMORY_GB = 0.128;
/** How many pages a filtered list scans before it answers with what it has and a cursor. */
const MAX_SCANS = 50;

/** An authenticated request to one project (= edgefn workspace). */
export interface Project {
  ctx: ServiceContext;
  ws: WorkspaceRow;
}

/** Authenticates the key and resolves `{project}` (a workspace id or name) the key must see. */
export async function openProject(
  base: Omit<ServiceContext, "principal">,
  authorization: string | undefined,
  project: string,
): Promise<Project> {
  const principal = await authenticate(base.env, authorization);
  const ctx: ServiceContext = { ...base, principal };
  const ws = await findWorkspace(ctx, project);
  if (!ws) {
    throw new CogniteError(403, `The key has no access to project '${project.slice(0, 100)}'`);
  }
  return { ctx, ws };
}

// ---------------------------------------------------------------------------------------------------------------
// Integer ids

/** The integer id of each edgefn id, assigned on first sight (one D1 batch). Also returns each function's owner. */
export async function numbersFor(
  env: Env,
  kind: CogniteKind,
  refs: string[],
  owners?: Map<string, string>,
): Promise<Map<string, { id: number; owner: string | null }>> {
  const unique = [...new Set(refs)];
  const found = new Map<string, { id: number; owner: string | null }>();
  if (unique.length === 0) return found;
  const json = JSON.stringify(unique);
  const statements = [];
  if (owners && owners.size > 0) {
    for (const [ref, owner] of owners) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO cognite_ids (kind, ref, owner) VALUES (?1, ?2, ?3) ON CONFLICT (kind, ref) DO UPDATE SET owner = ?3",
        ).bind(kind, ref, owner),
      );
    }
  }
  statements.push(
    env.DB.prepare(
      "INSERT INTO cognite_ids (kind, ref) SELECT ?1, value FROM json_each(?2) WHERE true ON CONFLICT (kind, ref) DO NOTHING",
    ).bind(kind, json),
    env.DB.prepare(
      "SELECT id, ref, owner FROM cognite_ids WHERE kind = ?1 AND ref IN (SELECT value FROM json_each(?2))",
    ).bind(kind, json),
  );
  const results = await env.DB.batch<{ id: number; ref: string; owner: string | null }>(statements);
  for (const row of results[results.length - 1]?.results ?? []) found.set(row.ref, { id: row.id, owner: row.owner });
  return found;
}

/** The edgefn ids of integer ids that exist (of any workspace: callers check visibility). */
export async function refsFor(env: Env, kind: CogniteKind, ids: number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (ids.length === 0) return found;
  const { results } = await env.DB.prepare(
    "SELECT id, ref FROM cognite_ids WHERE kind = ?1 AND id IN (SELECT value FROM json_each(?2))",
  )
    .bind(kind, JSON.stringify([...new Set(ids)]))
    .all<{ id: number; ref: string }>();
  for (const row of results) found.set(row.id, row.ref);
  return found;
}

const idOf = async (env: Env, kind: CogniteKind, ref: string) =>
  ((await numbersFor(env, kind, [ref])).get(ref) as { id: number }).id;

function duplicatesOf(items: Identifier[]): Identifier[] {
  const seen = new Set<string>();
  const dups: Identifier[] = [];
  for (const item of items) {
    const key = JSON.stringify(item);
    if (seen.has(key) && !dups.some((d) => JSON.stringify(d) === key)) dups.push(item);
    seen.add(key);
  }
  return dups;
}

function rejectDuplicates(items: Identifier[]) {
  const dups = duplicatesOf(items);
  if (dups.length > 0) throw new CogniteError(400, "Duplicate identifiers in the request", undefined, dups);
}

// ---------------------------------------------------------------------------------------------------------------
// Functions

/** A function this project shows: live, of this workspace, visible to the key. */
const shows = (p: Project, fn: FunctionRow | undefined): fn is FunctionRow =>
  fn !== undefined && fn.deletedAt === null && fn.workspaceId === p.ws.id && seesFunction(p.ctx, fn);

/** The functions the identifiers name, in request order; unknown ones are a 400 with `missing` unless ignored. */
export async function resolveFunctions(
  p: Project,
  items: Identifier[],
  ignoreUnknownIds = false,
  status = 400,
): Promise<FunctionRow[]> {
  rejectDuplicates(items);
  const numbers = items.flatMap((i) => ("id" in i ? [i.id] : []));
  const externalIds = items.flatMap((i) => ("externalId" in i ? [i.externalId] : []));
  const refs = await refsFor(p.ctx.env, "function", numbers);
  const byRef = [...refs.values()];
  const rows =
    byRef.length + externalIds.length === 0
      ? []
      : await p.ctx.db
          .select()
          .from(functions)
          .where(
            or(
              byRef.length
                ? sql`${functions.id} IN (SELECT value FROM json_each(${JSON.stringify(byRef)}))`
                : undefined,
              externalIds.length
                ? and(
                    eq(functions.workspaceId, p.ws.id),
                    sql`${functions.externalId} IN (SELECT value FROM json_each(${JSON.stringify(externalIds)}))`,
                  )
                : undefined,
            ),
          )
          .all();
  const visible = rows.filter((r) => shows(p, r));
  const found: FunctionRow[] = [];
  const missing: Identifier[] = [];
  for (const item of items) {
    const fn =
      "id" in item
        ? visible.find((r) => r.id === refs.get(item.id))
        : visible.find((r) => r.externalId === item.externalId);
    if (fn) found.push(fn);
    else missing.push(item);
  }
  if (missing.length > 0 && !ignoreUnknownIds) {
    throw new CogniteError(status, status === 404 ? "Function not found" : "Functions not found", missing);
  }
  return found;
}

export const resolveFunction = async (p: Project, item: Identifier) =>
  (await resolveFunctions(p, [item], false, 404))[0] as FunctionRow;

type FunctionStatus = "Queued" | "Deploying" | "Ready" | "Failed";

function statusOf(
  fn: FunctionRow,
  current: VersionRow | undefined,
  latest: VersionRow | undefined,
): { status: FunctionStatus; error?: { message: string; trace: string } } {
  if (fn.defaultVersionId && current?.status === "ready") return { status: "Ready" };
  if (!latest) return { status: "Failed", error: { message: "The function has no code: upload a version", trace: "" } };
  switch (latest.status) {
    case "queued":
      return { status: "Queued" };
    case "building":
      return { status: "Deploying" };
    case "failed":
      return {
        status: "Failed",
        error: { message: latest.error?.message ?? "Function deployment failed.", trace: latest.error?.trace ?? "" },
      };
    case "canceled":
      return { status: "Failed", error: { message: "The function's build was canceled", trace: "" } };
    default:
      return { status: "Failed", error: { message: "The function has no active version", trace: "" } };
  }
}

const present = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

/** Functions in Cognite's shape: one D1 batch for their ids, one query for their current and latest versions. */
export async function showFunctions(p: Project, rows: FunctionRow[], owners?: Map<string, string>) {
  if (rows.length === 0) return [];
  const ids = await numbersFor(
    p.ctx.env,
    "function",
    rows.map((r) => r.id),
    owners,
  );
  const fnIds = JSON.stringify(rows.map((r) => r.id));
  const defaults = JSON.stringify(rows.flatMap((r) => (r.defaultVersionId ? [r.defaultVersionId] : [])));
  const vs = await p.ctx.db
    .select()
    .from(versions)
    .where(
      and(
        sql`${versions.functionId} IN (SELECT value FROM json_each(${fnIds}))`,
        sql`(${versions.id} IN (SELECT value FROM json_each(${defaults})) OR ${versions.number} = (SELECT MAX(v2.number) FROM versions v2 WHERE v2.function_id = ${versions.functionId}))`,
      ),
    )
    .all();
  return rows.map((fn) => {
    const current = vs.find((v) => v.id === fn.defaultVersionId);
    const latest = vs
      .filter((v) => v.functionId === fn.id)
      .reduce<VersionRow | undefined>((a, v) => (!a || v.number > a.number ? v : a), undefined);
    const { status, error } = statusOf(fn, current, latest);
    const mapped = ids.get(fn.id);
    return present({
      id: mapped?.id,
      name: fn.name,
      externalId: fn.externalId,
      description: fn.description,
      owner: mapped?.owner,
      status,
      functionPath: (current ?? latest)?.entrypoint,
      createdTime: fn.createdAt,
      metadata: fn.metadata ?? {},
      secrets: maskSecrets(fn.secrets) ?? {},
      envVars: fn.envVars ?? {},
      cpu: CPU_CORES,
      memory: MEMORY_GB,
      runtime: RUNTIME,
      runtimeVersion: RUNTIME_VERSION,
      error,
      lastCalled: fn.lastCalledAt,
    });
  });
}

export interface FunctionItem {
  name: string;
  externalId?: string;
  description?: string;
  owner?: string;
  fileId?: number;
  functionPath?: string;
  secrets?: Record<string, string>;
  envVars?: Record<string, string>;
  metadata?: Record<string, string>;
  /** edgefn extension: the code, as one module (index.ts) or as files. */
  code?: string;
  files?: Record<string, string>;
}

/** Creates each function and uploads its code as its first version; the build runs in the background (Queued). */
export async function createFunctions(p: Project, items: FunctionItem[]) {
  const dupNames = duplicatesOf(items.flatMap((i) => (i.externalId ? [{ externalId: i.externalId }] : [])));
  if (dupNames.length > 0) throw new CogniteError(400, "Duplicate externalIds in the request", undefined, dupNames);
  for (const item of items) {
    if (item.code === undefined && item.files === undefined) {
      throw new CogniteError(
        400,
        item.fileId !== undefined
          ? "fileId is not supported by edgefn (it has no Files API): send the code in the item's `files` (path -> text) or `code` (one module)"
          : "The item needs its code: `files` (path -> text) or `code` (one module); fileId is not supported",
      );
    }
  }
  const created: FunctionRow[] = [];
  const owners = new Map<string, string>();
  for (const item of items) {
    let fn: FunctionRow;
    try {
      fn = await createFunction(p.ctx, {
        workspaceId: p.ws.id,
        name: item.name,
        externalId: item.externalId ?? null,
        description: item.description ?? null,
        metadata: item.metadata ?? null,
        envVars: item.envVars ?? null,
        secrets: item.secrets ?? null,
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === "conflict") {
        const dup = /external/i.test(err.message) && item.externalId ? [{ externalId: item.externalId }] : undefined;
        throw new CogniteError(409, err.message, undefined, dup);
      }
      throw err;
    }
    try {
      const files = item.files ?? { "index.ts": item.code as string };
      const entrypoint = item.functionPath && Object.hasOwn(files, item.functionPath) ? item.functionPath : undefined;
      if (item.functionPath && !entrypoint && item.functionPath !== "handler.py") {
        throw new ApiError("bad_request", `functionPath '${item.functionPath}' is not among the uploaded files`);
      }
      await createVersion(p.ctx, fn.id, { files, entrypoint });
    } catch (err) {
      // The upload was refused: remove the function again, so the request has no effect.
      await deleteFunction(p.ctx, fn.id)
        .then(() => purgeFunction(p.ctx, fn.id))
        .catch(() => undefined);
      throw err;
    }
    if (item.owner !== undefined) owners.set(fn.id, item.owner);
    created.push((await getFunction(p.ctx, fn.id)) as FunctionRow);
  }
  return showFunctions(p, created, owners);
}

export interface FunctionFilter {
  name?: string;
  owner?: string;
  fileId?: number;
  status?: FunctionStatus;
  externalIdPrefix?: string;
  createdTime?: { min?: number; max?: number };
  metadata?: Record<string, string>;
}

/** Pages through the workspace's functions, newest first, applying the filters the list language cannot express. */
export async function listCogniteFunctions(p: Project, filter: FunctionFilter, limit: number, cursor?: string) {
  const conditions: unknown[] = [{ workspaceId: { eq: p.ws.id } }];
  if (filter.name !== undefined) conditions.push({ name: { eq: filter.name } });
  if (filter.createdTime?.min !== undefined) conditions.push({ createdAt: { gte: filter.createdTime.min } });
  if (filter.createdTime?.max !== undefined) conditions.push({ createdAt: { lte: filter.createdTime.max } });
  const keep = (f: Record<string, unknown>) =>
    (filter.fileId === undefined || f.fileId === filter.fileId) &&
    (filter.owner === undefined || f.owner === filter.owner) &&
    (filter.status === undefined || f.status === filter.status) &&
    (filter.externalIdPrefix === undefined ||
      (typeof f.externalId === "string" && f.externalId.startsWith(filter.externalIdPrefix))) &&
    (filter.metadata === undefined ||
      Object.entries(filter.metadata).every(([k, v]) => (f.metadata as Record<string, string>)[k] === v));
  const items: Record<string, unknown>[] = [];
  let after = cursor;
  let more = true;
  for (let scans = 0; more && items.length < limit && scans < MAX_SCANS; scans++) {
    const page = await listFunctions(p.ctx, {
      limit: Math.min(100, limit - items.length),
      after,
      filter: { and: conditions },
    });
    items.push(...(await showFunctions(p, page.rows)).filter(keep));
    more = page.pageInfo.hasNextPage;
    after = page.pageInfo.endCursor ?? undefined;
  }
  return { items, nextCursor: more ? after : undefined };
}

export async function deleteFunctions(p: Project, items: Identifier[]) {
  const rows = await resolveFunctions(p, items);
  for (const fn of rows) await deleteFunction(p.ctx, fn.id);
}

// ---------------------------------------------------------------------------------------------------------------
// Calls

const CALL_STATUS = {
  queued: "Running",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  timeout: "Timeout",
  canceled: "Failed",
} as const;

const STATUS_FILTER: Record<string, string[]> = {
  Running: ["queued", "running"],
  Completed: ["completed"],
  Failed: ["failed", "canceled"],
  Timeout: ["timeout"],
};

export async function showCalls(p: Project, fnNumber: number, rows: CallRow[]) {
  const callIds = await numbersFor(
    p.ctx.env,
    "call",
    rows.map((r) => r.id),
  );
  const scheduleIds = await numbersFor(
    p.ctx.env,
    "schedule",
    rows.flatMap((r) => (r.scheduleId ? [r.scheduleId] : [])),
  );
  return rows.map((r) =>
    present({
      id: callIds.get(r.id)?.id,
      startTime: r.startedAt ?? r.createdAt,
      endTime: r.endedAt,
      scheduledTime: r.scheduledTime,
      status: CALL_STATUS[r.status],
      scheduleId: r.scheduleId ? scheduleIds.get(r.scheduleId)?.id : undefined,
      functionId: fnNumber,
      error: r.error
        ? { message: `${r.error.name}: ${r.error.message}`, trace: r.error.stack ?? "" }
        : r.status === "canceled"
          ? { message: "The call was canceled", trace: "" }
          : undefined,
    }),
  );
}

/** Runs a call and waits for it, and for its record, so the call can be read back at once. */
export async function callFunction(p: Project, fn: FunctionRow, data: unknown) {
  const result = await invokeFunction(p.ctx, fn.id, { args: data, recorded: true });
  const fnNumber = await idOf(p.ctx.env, "function", fn.id);
  const record = await getCall(p.ctx, result.callId).catch(() => undefined);
  if (record) return (await showCalls(p, fnNumber, [record]))[0];
  // The record could not be written: answer from the outcome itself.
  const ended = Date.now();
  const r = result as { status?: string; durationMs?: number; errorDetail?: { name: string; message: string } | null };
  return present({
    id: await idOf(p.ctx.env, "call", result.callId),
    startTime: ended - (r.durationMs ?? 0),
    endTime: ended,
    status: CALL_STATUS[(r.status ?? "running") as keyof typeof CALL_STATUS] ?? "Running",
    functionId: fnNumber,
    error: r.errorDetail ? { message: `${r.errorDetail.name}: ${r.errorDetail.message}`, trace: "" } : undefined,
  });
}

export interface CallFilter {
  status?: string;
  scheduleId?: number;
  startTime?: { min?: number; max?: number };
  endTime?: { min?: number; max?: number };
}

export async function listCogniteCalls(
  p: Project,
  fn: FunctionRow,
  filter: CallFilter,
  limit: number,
  cursor?: string,
) {
  const fnNumber = await idOf(p.ctx.env, "function", fn.id);
  const conditions: unknown[] = [];
  if (filter.status !== undefined) conditions.push({ status: { in: STATUS_FILTER[filter.status] ?? [] } });
  if (filter.scheduleId !== undefined) {
    const ref = (await refsFor(p.ctx.env, "schedule", [filter.scheduleId])).get(filter.scheduleId);
    if (!ref) return { items: [], nextCursor: undefined };
    conditions.push({ scheduleId: { eq: ref } });
  }
  const items: Record<string, unknown>[] = [];
  let after = cursor;
  let more = true;
  for (let scans = 0; more && items.length < limit && scans < MAX_SCANS; scans++) {
    const page = await listCalls(p.ctx, fn.id, {
      limit: Math.min(100, limit - items.length),
      after,
      filter: conditions.length ? { and: conditions } : undefined,
      startTime: filter.startTime,
      endTime: filter.endTime,
    });
    items.push(...(await showCalls(p, fnNumber, page.rows)));
    more = page.pageInfo.hasNextPage;
    after = page.pageInfo.endCursor ?? undefined;
  }
  return { items, nextCursor: more ? after : undefined };
}

/** The calls of this function that the ids name; unknown ones are `missing` (400, or 404 for a single call). */
export async function resolveCalls(p: Project, fn: FunctionRow, ids: number[], status = 400): Promise<CallRow[]> {
  rejectDuplicates(ids.map((id) => ({ id })));
  const refs = await refsFor(p.ctx.env, "call", ids);
  const found: CallRow[] = [];
  const missing: Identifier[] = [];
  for (const id of ids) {
    const ref = refs.get(id);
    const row = ref ? await getCall(p.ctx, ref).catch(() => undefined) : undefined;
    if (row && row.functionId === fn.id) found.push(row);
    else missing.push({ id });
  }
  if (missing.length > 0)
    throw new CogniteError(status, status === 404 ? "Call not found" : "Calls not found", missing);
  return found;
}

export async function callResponse(p: Project, call: CallRow) {
  if (call.status === "queued" || call.status === "running") return { response: null };
  return { response: (await getCallResponse(p.ctx, call.id)).response };
}

export async function callLogs(p: Project, call: CallRow) {
  const logs = await getCallLogs(p.ctx, call.id);
  return { items: logs.items.map((l) => ({ timestamp: l.timestamp, message: l.message })) };
}

export const fnNumberOf = (p: Project, fn: FunctionRow) => idOf(p.ctx.env, "function", fn.id);

// ---------------------------------------------------------------------------------------------------------------
// Schedules

export async function showSchedules(p: Project, rows: ScheduleRow[]) {
  const ids = await numbersFor(
    p.ctx.env,
    "schedule",
    rows.map((r) => r.id),
  );
  const fnIds = await numbersFor(
    p.ctx.env,
    "function",
    rows.map((r) => r.functionId),
  );
  const fnRows = rows.length
    ? await p.ctx.db
        .select({ id: functions.id, externalId: functions.externalId })
        .from(functions)
        .where(sql`${functions.id} IN (SELECT value FROM json_each(${JSON.stringify(rows.map((r) => r.functionId))}))`)
        .all()
    : [];
  return rows.map((r) =>
    present({
      id: ids.get(r.id)?.id,
      name: r.name,
      functionId: fnIds.get(r.functionId)?.id,
      functionExternalId: fnRows.find((f) => f.id === r.functionId)?.externalId,
      description: r.description,
      createdTime: r.createdAt,
      cronExpression: r.cron,
      when: describeCron(r.cron),
    }),
  );
}

export interface ScheduleItem {
  name: string;
  cronExpression: string;
  functionId?: number;
  functionExternalId?: string;
  description?: string;
  data?: unknown;
}

export async function createSchedules(p: Project, items: ScheduleItem[]) {
  const created: ScheduleRow[] = [];
  for (const item of items) {
    const ident: Identifier =
      item.functionId !== undefined ? { id: item.functionId } : { externalId: item.functionExternalId as string };
    const [fn] = await resolveFunctions(p, [ident]);
    created.push(
      await createSchedule(p.ctx, {
        functionId: (fn as FunctionRow).id,
        name: item.name,
        cron: item.cronExpression,
        description: item.description ?? null,
        data: item.data,
      }),
    );
  }
  return showSchedules(p, created);
}

export interface ScheduleFilter {
  name?: string;
  functionId?: number;
  functionExternalId?: string;
  createdTime?: { min?: number; max?: number };
  cronExpression?: string;
}

export async function listCogniteSchedules(p: Project, filter: ScheduleFilter, limit: number, cursor?: string) {
  const conditions: unknown[] = [{ workspaceId: { eq: p.ws.id } }];
  if (filter.name !== undefined) conditions.push({ name: { eq: filter.name } });
  let functionId: string | undefined;
  if (filter.functionId !== undefined || filter.functionExternalId !== undefined) {
    const ident: Identifier =
      filter.functionId !== undefined ? { id: filter.functionId } : { externalId: filter.functionExternalId as string };
    const [fn] = await resolveFunctions(p, [ident], true);
    if (!fn) return { items: [], nextCursor: undefined };
    functionId = fn.id;
  }
  const items: Record<string, unknown>[] = [];
  let after = cursor;
  let more = true;
  for (let scans = 0; more && items.length < limit && scans < MAX_SCANS; scans++) {
    const page = await listSchedules(p.ctx, {
      limit: Math.min(100, limit - items.length),
      after,
      filter: { and: conditions },
      functionId,
      cron: filter.cronExpression,
      createdTime: filter.createdTime,
    });
    items.push(...(await showSchedules(p, page.rows)));
    more = page.pageInfo.hasNextPage;
    after = page.pageInfo.endCursor ?? undefined;
  }
  return { items, nextCursor: more ? after : undefined };
}

export async function resolveSchedules(
  p: Project,
  ids: number[],
  ignoreUnknownIds = false,
  status = 400,
): Promise<ScheduleRow[]> {
  rejectDuplicates(ids.map((id) => ({ id })));
  const refs = await refsFor(p.ctx.env, "schedule", ids);
  const found: ScheduleRow[] = [];
  const missing: Identifier[] = [];
  for (const id of ids) {
    const ref = refs.get(id);
    const row = ref ? await getSchedule(p.ctx, ref).catch(() => undefined) : undefined;
    if (row && row.workspaceId === p.ws.id) found.push(row);
    else missing.push({ id });
  }
  if (missing.length > 0 && !ignoreUnknownIds) {
    throw new CogniteError(status, status === 404 ? "Schedule not found" : "Schedules not found", missing);
  }
  return found;
}

export async function deleteSchedules(p: Project, ids: number[]) {
  for (const row of await resolveSchedules(p, ids)) await deleteSchedule(p.ctx, row.id);
}

export async function scheduleInputData(p: Project, id: number) {
  const [row] = await resolveSchedules(p, [id], false, 404);
  return { id, data: await readScheduleData(p.ctx.env, row as ScheduleRow) };
}

// ---------------------------------------------------------------------------------------------------------------
// Project-wide

export function limits() {
  return {
    timeoutMinutes: LIMITS.timeoutMs.max / 60_000,
    cpuCores: { min: CPU_CORES, max: CPU_CORES, default: CPU_CORES },
    memoryGb: { min: MEMORY_GB, max: MEMORY_GB, default: MEMORY_GB },
    runtimes: [RUNTIME],
    responseSizeMb: LIMITS.resultBytes / (1024 * 1024),
  };
}
