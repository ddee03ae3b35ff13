/**
 * Appwrite's models and queries, and edgefn's: pure functions from native rows to Appwrite's Function, Deployment,
 * Execution and Variable models, and from Appwrite's inputs to native ones (`queries[]`: see ./queries).
 */
import {
  APPWRITE_ENVELOPE,
  type ExecutionRecord,
  type ExecutionRequest,
} from "../../../domain/compat/appwrite/executions";
import { META, variableOf } from "../../../domain/compat/appwrite/functions";
import { stripCredentialsFrom } from "../../../lib/credentials";
import { badRequest } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import type { FunctionRow, VersionRow } from "../../../storage/schema";

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : "");

// ---------------------------------------------------------------------------------------------------------------
// Functions and variables

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

const RUNTIMES = [
  ["node-18.0", "Node.js", "18.0"],
  ["node-20.0", "Node.js", "20.0"],
  ["node-21.0", "Node.js", "21.0"],
  ["node-22", "Node.js", "22"],
  ["bun-1.0", "Bun", "1.0"],
  ["bun-1.1", "Bun", "1.1"],
  // Python runtimes all run the platform's one Python (see /api/runtimes); the names are Appwrite's.
  ["python-3.9", "Python", "3.9"],
  ["python-3.10", "Python", "3.10"],
  ["python-3.11", "Python", "3.11"],
  ["python-3.12", "Python", "3.12"],
  ["python-3.13", "Python", "3.13"],
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

const SPECIFICATION = "s-0.5vcpu-512mb";
export function specificationsList() {
  return { total: 1, specifications: [{ memory: 512, cpus: 0.5, enabled: true, slug: SPECIFICATION }] };
}

/** The edgefn create/update input for Appwrite's function fields (merged with the function's metadata). */
export function functionPatch(input: AppwriteFunctionInput, current: Record<string, string> | null) {
  if (input.runtime !== undefined && !/^(node|bun|python)-[0-9][0-9.]*$/.test(input.runtime)) {
    throw badRequest(`runtime: '${input.runtime}' is not supported; use a node-*, bun-* or python-* runtime`);
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

export const appwriteId = (fn: Pick<FunctionRow, "id" | "externalId">) => fn.externalId ?? fn.id;

/** Appwrite's Variable model of one of the function's variables (404 when it has none of that key). */
export function variableModel(fn: FunctionRow, key: string) {
  const { value, secret } = variableOf(fn, key);
  return {
    $id: key,
    $createdAt: iso(fn.createdAt),
    $updatedAt: iso(fn.updatedAt),
    key,
    value,
    secret,
    resourceType: "function",
    resourceId: appwriteId(fn),
  };
}

export const variablesOf = (fn: FunctionRow) =>
  [...Object.keys(fn.envVars ?? {}), ...Object.keys(fn.secrets ?? {})].map((key) => variableModel(fn, key));

/** Appwrite's Function model. */
export function functionModel(fn: FunctionRow, latest?: VersionRow | null) {
  const meta = fn.metadata ?? {};
  const spec = meta[META.specification] ?? SPECIFICATION;
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
    latestDeploymentStatus: latest ? DEPLOYMENT_STATUS[latest.status] : "",
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
    specification: spec,
    buildSpecification: spec,
    runtimeSpecification: spec,
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
    status: DEPLOYMENT_STATUS[v.status],
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

/** The answer to a part of a chunked upload while more are to come. */
export function partialUploadModel(fn: FunctionRow, part: { uploadId: string; total: number; uploaded: number }) {
  const now = new Date().toISOString();
  return {
    $id: part.uploadId,
    $createdAt: now,
    $updatedAt: now,
    type: "manual",
    resourceId: appwriteId(fn),
    resourceType: "functions",
    status: "waiting",
    chunksTotal: part.total,
    chunksUploaded: part.uploaded,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Executions

interface AppwriteResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The HTTP-style answer an execution's result holds, or one made from a plain JSON result. */
function responseOf(result: unknown): AppwriteResponse {
  if (result && typeof result === "object" && APPWRITE_ENVELOPE in result) {
    const r = (result as Record<string, AppwriteResponse>)[APPWRITE_ENVELOPE] as AppwriteResponse;
    return { statusCode: r.statusCode, headers: r.headers ?? {}, body: r.body ?? "" };
  }
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: result === undefined ? "" : JSON.stringify(result),
  };
}

const pairs = (h: Record<string, string>) => Object.entries(h).map(([name, value]) => ({ name, value }));

/** The request an execution describes; a credential of the platform among its headers never reaches the function. */
export function executionRequest(
  body: { method?: string; path?: string; headers?: Record<string, unknown> },
  adminKey: string | undefined,
): ExecutionRequest {
  const headers = Object.entries(body.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]);
  return {
    method: body.method ?? "POST",
    path: body.path ?? "/",
    headers: stripCredentialsFrom(Object.fromEntries(headers), adminKey),
  };
}

/** Appwrite's Execution model for a call record (`request`: the one it was created with, when answering that). */
export function executionModel(fn: FunctionRow, rec: ExecutionRecord, now: number, request?: ExecutionRequest) {
  const { row, logs } = rec;
  const finished = row.status === "completed" || row.status === "failed" || row.status === "timeout";
  let response: AppwriteResponse = { statusCode: 0, headers: {}, body: "" };
  if (row.status === "completed") response = responseOf(rec.result);
  else if (finished || row.status === "canceled") response = { statusCode: 500, headers: {}, body: "" };
  const errors = logs.filter((l) => l.level === "error").map((l) => l.message);
  // As Appwrite's runtimes print an uncaught error: its stack (the user's frames), else its name and message.
  if (row.error) {
    const head = `${row.error.name}: ${row.error.message}`;
    errors.push(row.error.stack?.includes(row.error.message) ? row.error.stack : head);
  }
  if (row.status === "canceled") errors.push("The execution was canceled");
  const status =
    row.status === "queued"
      ? row.scheduledAt && row.scheduledAt > now
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
