/**
 * The Appwrite Functions surface (/v1/functions...): how its projects, ids, queries and models map onto edgefn's
 * workspaces, functions, versions and calls. Everything here only translates; the work is done by the native
 * services.
 */
import { and, eq, isNull, or } from "drizzle-orm";
import { ApiError, badRequest, type ErrorCode, notFound } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import type { ListQuery } from "../../../lib/list/page";
import { type CallRow, type FunctionRow, functions, type VersionRow } from "../../../storage/schema";
import { getCallLogs } from "../../calls/history";
import { readResult } from "../../calls/record";
import type { ServiceContext } from "../../context";
import { getFunction } from "../../functions";
import { createSchedule, deleteSchedule, listSchedules, updateSchedule } from "../../schedules";
import { cronProblem } from "../../schedules/cron";
import { findWorkspace } from "../../workspaces";

export const APPWRITE_VERSION = "1.7.4";
/** The key of the args that ask the entry module for an HTTP-style run (see src/runtime/entry.ts). */
export const APPWRITE_MARKER = "$appwrite";

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : "");

// ---------------------------------------------------------------------------------------------------------------
// Errors

const TYPES: Record<ErrorCode, string> = {
  bad_request: "general_argument_invalid",
  unauthorized: "general_unauthorized_scope",
  forbidden: "general_unauthorized_scope",
  not_found: "general_not_found",
  method_not_allowed: "general_not_implemented",
  conflict: "general_conflict",
  payload_too_large: "storage_file_size_exceeded",
  unsupported_media_type: "storage_file_type_unsupported",
  unprocessable: "general_argument_invalid",
  rate_limited: "general_rate_limit_exceeded",
  internal_error: "general_server_error",
  function_failed: "general_server_error",
  unavailable: "general_service_disabled",
};

/** Appwrite's error body for an ApiError: `{message, code, type, version}`. */
export function appwriteError(err: ApiError): { message: string; code: number; type: string; version: string } {
  let type = TYPES[err.code];
  if (err.code === "not_found") {
    const what = /^(function|version|call|variable|workspace|project)\b/.exec(err.message)?.[1];
    type =
      what === "function"
        ? "function_not_found"
        : what === "version"
          ? "deployment_not_found"
          : what === "call"
            ? "execution_not_found"
            : what === "variable"
              ? "variable_not_found"
              : what === "workspace" || what === "project"
                ? "project_not_found"
                : type;
  }
  if (err.code === "conflict" && /already|taken|exists|unique/i.test(err.message)) type = "function_already_exists";
  return { message: err.message, code: err.status, type, version: APPWRITE_VERSION };
}

// ---------------------------------------------------------------------------------------------------------------
// Projects and functions

/** The workspace named by X-Appwrite-Project (an id or a name), if the key sees it; else 404. */
export async function resolveProject(ctx: ServiceContext, project: string | undefined): Promise<string> {
  if (!project) throw badRequest("Missing the X-Appwrite-Project header: send the edgefn workspace id or name");
  const row = await findWorkspace(ctx, project);
  if (!row) throw notFound("project", project);
  return row.id;
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

export const appwriteId = (fn: Pick<FunctionRow, "id" | "externalId">) => fn.externalId ?? fn.id;

/** Appwrite settings edgefn has no column for live in the function's metadata under these keys. */
const META = {
  runtime: "aw.runtime",
  execute: "aw.execute",
  events: "aw.events",
  schedule: "aw.schedule",
  enabled: "aw.enabled",
  logging: "aw.logging",
  entrypoint: "aw.entrypoint",
  commands: "aw.commands",
  scopes: "aw.scopes",
  specification: "aw.specification",
} as const;
type MetaField = keyof typeof META;

export interface AppwriteFunctionInput {
  name?: string;
  runtime?: string;
  execute?: string[];
  events?: string[];
  schedule?: string;
  timeout?: number;
  enabled?: boolean;
  logging?: boolean;
  entrypoint?: string;
  commands?: string;
  scopes?: string[];
  specification?: string;
}

export const RUNTIMES = [
  ["node-18.0", "Node.js", "18.0"],
  ["node-20.0", "Node.js", "20.0"],
  ["node-21.0", "Node.js", "21.0"],
  ["node-22", "Node.js", "22"],
  ["bun-1.0", "Bun", "1.0"],
  ["bun-1.1", "Bun", "1.1"],
] as const;

export function runtimesList() {
  const runtimes = RUNTIMES.map(([id, name, version]) => ({
    $id: id,
    key: id.split("-")[0] as string,
    name,
    version,
    base: "workerd",
    image: "edgefn/workers-runtime",
    logo: `${id.split("-")[0]}.png`,
    supports: ["amd64"],
  }));
  return { total: runtimes.length, runtimes };
}

export const SPECIFICATION = "s-0.5vcpu-512mb";
export function specificationsList() {
  return { total: 1, specifications: [{ memory: 512, cpus: 0.5, enabled: true, slug: SPECIFICATION }] };
}

/** The edgefn create/update input for Appwrite's function fields (merged with the function's metadata). */
export function functionPatch(input: AppwriteFunctionInput, current: Record<string, string> | null) {
  if (input.runtime !== undefined && !/^(node|bun)-[0-9][0-9.]*$/.test(input.runtime)) {
    throw badRequest(`runtime: '${input.runtime}' is not supported; use a node-* or bun-* runtime`);
  }
  const metadata: Record<string, string> = { ...(current ?? {}) };
  for (const field of Object.keys(META) as MetaField[]) {
    const value = input[field];
    if (value === undefined) continue;
    metadata[META[field]] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const out: { name?: string; metadata: Record<string, string>; timeoutMs?: number } = { metadata };
  if (input.name !== undefined) out.name = input.name;
  if (input.timeout !== undefined) {
    if (!Number.isInteger(input.timeout) || input.timeout < 1) throw badRequest("timeout: a whole number of seconds");
    out.timeoutMs = Math.min(Math.max(input.timeout * 1000, LIMITS.timeoutMs.min), LIMITS.timeoutMs.max);
  }
  return out;
}

function metaJson<T>(fn: FunctionRow, field: MetaField, fallback: T): T {
  const raw = fn.metadata?.[META[field]];
  if (raw === undefined) return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return fallback;
  }
}

export function variablesOf(fn: FunctionRow) {
  const out = [];
  for (const [key, value] of Object.entries(fn.envVars ?? {})) out.push(variableModel(fn, key, value, false));
  for (const key of Object.keys(fn.secrets ?? {})) out.push(variableModel(fn, key, "", true));
  return out;
}

export function variableModel(fn: FunctionRow, key: string, value: string, secret: boolean) {
  return {
    $id: key,
    $createdAt: iso(fn.createdAt),
    $updatedAt: iso(fn.updatedAt),
    key,
    value: secret ? "" : value,
    secret,
    resourceType: "function",
    resourceId: appwriteId(fn),
  };
}

/** Appwrite's Function model. */
export function functionModel(fn: FunctionRow, latest?: VersionRow | null) {
  const meta = fn.metadata ?? {};
  return {
    $id: appwriteId(fn),
    $createdAt: iso(fn.createdAt),
    $updatedAt: iso(fn.updatedAt),
    execute: metaJson<string[]>(fn, "execute", []),
    name: fn.name,
    enabled: metaJson<boolean>(fn, "enabled", true),
    live: true,
    logging: metaJson<boolean>(fn, "logging", true),
    runtime: meta[META.runtime] ?? "node-22",
    deploymentId: fn.defaultVersionId ?? "",
    deploymentCreatedAt: "",
    latestDeploymentId: latest?.id ?? "",
    latestDeploymentCreatedAt: iso(latest?.createdAt),
    latestDeploymentStatus: latest ? deploymentStatus(latest.status) : "",
    scopes: metaJson<string[]>(fn, "scopes", []),
    vars: variablesOf(fn),
    events: metaJson<string[]>(fn, "events", []),
    schedule: meta[META.schedule] ?? "",
    timeout: Math.round((fn.timeoutMs ?? LIMITS.timeoutMs.default) / 1000),
    entrypoint: meta[META.entrypoint] ?? "",
    commands: meta[META.commands] ?? "",
    version: "v5",
    installationId: "",
    providerRepositoryId: "",
    providerBranch: "",
    providerRootDirectory: "",
    providerSilentMode: false,
    specification: meta[META.specification] ?? SPECIFICATION,
    buildSpecification: meta[META.specification] ?? SPECIFICATION,
    runtimeSpecification: meta[META.specification] ?? SPECIFICATION,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Deployments

const DEPLOYMENT_STATUS: Record<VersionRow["status"], string> = {
  queued: "waiting",
  building: "building",
  ready: "ready",
  failed: "failed",
  canceled: "canceled",
};
export const deploymentStatus = (s: VersionRow["status"]) => DEPLOYMENT_STATUS[s];

/** Appwrite's Deployment model. */
export function deploymentModel(fn: FunctionRow, v: VersionRow, chunks?: { total: number; uploaded: number }) {
  const logs = (v.buildLogs ?? []).map((l) => `[${iso(l.at)}] ${l.message}`);
  if (v.error) logs.push(v.error.message);
  const duration =
    v.buildStartedAt && v.buildFinishedAt ? Math.round((v.buildFinishedAt - v.buildStartedAt) / 1000) : 0;
  return {
    $id: v.id,
    $createdAt: iso(v.createdAt),
    $updatedAt: iso(v.updatedAt),
    type: "manual",
    resourceId: appwriteId(fn),
    resourceType: "functions",
    entrypoint: v.entrypoint,
    sourceSize: v.sourceSize,
    buildSize: v.bundleSize ?? 0,
    totalSize: v.sourceSize + (v.bundleSize ?? 0),
    buildId: v.id,
    activate: v.activate,
    screenshotLight: "",
    screenshotDark: "",
    status: deploymentStatus(v.status),
    buildLogs: logs.join("\n"),
    buildDuration: duration,
    providerRepositoryName: "",
    providerRepositoryOwner: "",
    providerRepositoryUrl: "",
    providerBranch: "",
    providerCommitHash: "",
    providerCommitAuthorUrl: "",
    providerCommitAuthor: "",
    providerCommitMessage: "",
    providerCommitUrl: "",
    providerBranchUrl: "",
    chunksTotal: chunks?.total ?? 1,
    chunksUploaded: chunks?.uploaded ?? 1,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Executions

export interface AppwriteResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The HTTP-style answer an execution's result holds, or one made from a plain JSON result. */
export function responseOf(result: unknown): AppwriteResponse {
  if (result && typeof result === "object" && APPWRITE_MARKER in result) {
    const r = (result as Record<string, AppwriteResponse>)[APPWRITE_MARKER] as AppwriteResponse;
    return { statusCode: r.statusCode, headers: r.headers ?? {}, body: r.body ?? "" };
  }
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: result === undefined ? "" : JSON.stringify(result),
  };
}

const pairs = (h: Record<string, string>) => Object.entries(h).map(([name, value]) => ({ name, value }));

export interface ExecutionRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** Appwrite's Execution model for a call record. */
export async function executionModel(ctx: ServiceContext, fn: FunctionRow, row: CallRow, request?: ExecutionRequest) {
  const finished = row.status === "completed" || row.status === "failed" || row.status === "timeout";
  let response: AppwriteResponse = { statusCode: 0, headers: {}, body: "" };
  if (row.status === "completed") response = responseOf(await readResult(ctx.env, row));
  else if (finished || row.status === "canceled") response = { statusCode: 500, headers: {}, body: "" };
  const logs = finished ? (await getCallLogs(ctx, row.id)).items : [];
  const errors = logs.filter((l) => l.level === "error").map((l) => l.message);
  if (row.error) errors.push(`${row.error.name}: ${row.error.message}`);
  if (row.status === "canceled") errors.push("The execution was canceled");
  const status =
    row.status === "queued"
      ? row.scheduledAt && row.scheduledAt > ctx.now
        ? "scheduled"
        : "waiting"
      : row.status === "running"
        ? "processing"
        : row.status === "completed"
          ? "completed"
          : "failed";
  return {
    $id: row.id,
    $createdAt: iso(row.createdAt),
    $updatedAt: iso(row.endedAt ?? row.startedAt ?? row.createdAt),
    $permissions: [],
    functionId: appwriteId(fn),
    deploymentId: row.versionId ?? "",
    trigger: row.trigger === "schedule" ? "schedule" : "http",
    status,
    requestMethod: request?.method ?? row.httpMethod ?? "POST",
    requestPath: request?.path ?? row.httpPath ?? "/",
    requestHeaders: pairs(request?.headers ?? {}),
    responseStatusCode: row.httpStatus ?? response.statusCode,
    responseBody: response.body,
    responseHeaders: pairs(response.headers),
    logs: logs
      .filter((l) => l.level !== "error")
      .map((l) => l.message)
      .join("\n"),
    errors: errors.join("\n"),
    duration: (row.durationMs ?? 0) / 1000,
    scheduledAt: row.scheduledAt ? iso(row.scheduledAt) : null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Queries

interface Query {
  method: string;
  attribute?: string;
  values?: unknown[];
}

/** The queries[] of a list request, as the current SDKs send them (each a JSON string). */
export function parseQueries(url: string): Query[] {
  const out: Query[] = [];
  for (const [key, value] of new URL(url).searchParams) {
    if (!/^queries(\[\d*\])?$/.test(key)) continue;
    let q: unknown;
    try {
      q = JSON.parse(value);
    } catch {
      throw badRequest(`Invalid query: ${value.slice(0, 100)}: send queries as JSON (an Appwrite SDK >= 1.5 does)`);
    }
    if (!q || typeof q !== "object" || typeof (q as Query).method !== "string") {
      throw badRequest(`Invalid query: ${value.slice(0, 100)}`);
    }
    out.push(q as Query);
  }
  if (out.length > 100) throw badRequest("At most 100 queries are allowed");
  return out;
}

export interface QueryMapping {
  /** Appwrite attribute -> the native list field (filters) */
  fields: Record<string, string>;
  /** Value translation for some attributes (e.g. deployment status names) */
  values?: Record<string, (v: unknown) => unknown>;
  /** Resolves a cursor row's id (Appwrite's $id) to the native id */
  cursorId?: (id: string) => Promise<string>;
}

/** Maps Appwrite queries onto the list engine's query; what has no equivalent is a 400 that names it. */
export async function toListQuery(queries: Query[], mapping: QueryMapping): Promise<ListQuery> {
  const filters: unknown[] = [];
  const orders: Record<string, string>[] = [];
  let limit: number | undefined;
  let cursor: { id: string; after: boolean } | undefined;
  const field = (q: Query) => {
    const attribute = q.attribute ?? "";
    const native = mapping.fields[attribute];
    if (!native) {
      throw badRequest(
        `Query ${q.method}("${attribute}"): the attribute is not supported here; supported: ${Object.keys(mapping.fields).join(", ")}`,
      );
    }
    return { native, conv: mapping.values?.[attribute] ?? ((v: unknown) => v) };
  };
  const OPS: Record<string, string> = {
    notEqual: "nin",
    lessThan: "lt",
    lessThanEqual: "lte",
    greaterThan: "gt",
    greaterThanEqual: "gte",
  };
  for (const q of queries) {
    const values = q.values ?? [];
    switch (q.method) {
      case "limit": {
        const n = Number(values[0]);
        if (!Number.isInteger(n) || n < 1) throw badRequest("Query limit: a positive integer");
        limit = Math.min(n, 100);
        break;
      }
      case "offset":
        if (Number(values[0]) !== 0) throw badRequest("Query offset is not supported: page with cursorAfter instead");
        break;
      case "cursorAfter":
      case "cursorBefore":
        cursor = { id: String(values[0]), after: q.method === "cursorAfter" };
        break;
      case "orderAsc":
      case "orderDesc": {
        const { native } = field(q);
        orders.push({ [native]: q.method === "orderAsc" ? "asc" : "desc" });
        break;
      }
      case "equal": {
        const { native, conv } = field(q);
        filters.push({ [native]: { in: values.map(conv) } });
        break;
      }
      case "isNull":
      case "isNotNull": {
        const { native } = field(q);
        filters.push({ [native]: { isNull: q.method === "isNull" } });
        break;
      }
      case "search":
      case "contains":
      case "startsWith":
      case "endsWith": {
        const { native } = field(q);
        const text = String(values[0] ?? "").replace(/[%_\\]/g, (c) => `\\${c}`);
        const like = q.method === "startsWith" ? `${text}%` : q.method === "endsWith" ? `%${text}` : `%${text}%`;
        filters.push({ [native]: { ilike: like } });
        break;
      }
      case "between": {
        const { native, conv } = field(q);
        filters.push({ [native]: { gte: conv(values[0]), lte: conv(values[1]) } });
        break;
      }
      default: {
        const op = OPS[q.method];
        if (!op) throw badRequest(`Query method ${q.method} is not supported by edgefn`);
        const { native, conv } = field(q);
        filters.push({ [native]: op === "nin" ? { nin: values.map(conv) } : { [op]: conv(values[0]) } });
      }
    }
  }
  if (cursor) {
    // Ids are time-sortable, so a cursor row is a bound on the id in the list's (time) order.
    if (orders.length > 0) throw badRequest("cursorAfter/cursorBefore cannot be combined with orderAsc/orderDesc");
    const id = mapping.cursorId ? await mapping.cursorId(cursor.id) : cursor.id;
    filters.push({ id: { [cursor.after ? "lt" : "gt"]: id } });
  }
  return {
    limit,
    filter: filters.length === 0 ? undefined : filters.length === 1 ? filters[0] : { and: filters },
    orderBy: orders.length > 0 ? orders : undefined,
  };
}

/** A variable of the function, or 404. */
export function findVariable(fn: FunctionRow, key: string) {
  if (fn.envVars && Object.hasOwn(fn.envVars, key)) return variableModel(fn, key, fn.envVars[key] as string, false);
  if (fn.secrets && Object.hasOwn(fn.secrets, key)) return variableModel(fn, key, "", true);
  throw new ApiError("not_found", `variable ${key} not found`);
}

// ---------------------------------------------------------------------------------------------------------------
// Schedules

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
