/**
 * Appwrite's models of edgefn's rows: Function, Variable, Deployment, Execution (as Appwrite 1.7 shows them). Pure
 * functions, in the domain because events carry them as their payload as well as the surface's answers.
 */
import { LIMITS } from "../../../lib/limits";
import { APPWRITE_ENVELOPE } from "../../../runtime/adapters/appwrite";
import type { CallRow, FunctionRow, VersionRow } from "../../../storage/schema";
import { appwriteId } from "./run";
import { settingsOf, variableOf } from "./settings";

export const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : "");

// ---------------------------------------------------------------------------------------------------------------
// Functions and variables

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
export function functionModel(fn: FunctionRow, latest?: VersionRow | null, active?: VersionRow | null) {
  const s = settingsOf(fn);
  return {
    $id: appwriteId(fn),
    $createdAt: iso(fn.createdAt),
    $updatedAt: iso(fn.updatedAt),
    execute: s.execute,
    name: fn.name,
    enabled: s.enabled,
    live: true,
    logging: s.logging,
    runtime: s.runtime,
    deploymentId: fn.defaultVersionId ?? "",
    deploymentCreatedAt: iso(active?.createdAt),
    latestDeploymentId: latest?.id ?? "",
    latestDeploymentCreatedAt: iso(latest?.createdAt),
    latestDeploymentStatus: latest ? DEPLOYMENT_STATUS[latest.status] : "",
    scopes: s.scopes,
    vars: variablesOf(fn),
    events: s.events,
    schedule: s.schedule,
    timeout: Math.round((fn.timeoutMs ?? LIMITS.timeoutMs.default) / 1000),
    entrypoint: s.entrypoint,
    commands: s.commands,
    version: "v5",
    installationId: "",
    providerRepositoryId: "",
    providerBranch: "",
    providerRootDirectory: "",
    providerSilentMode: false,
    specification: s.specification,
    buildSpecification: s.specification,
    runtimeSpecification: s.specification,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Deployments

export const DEPLOYMENT_STATUS: Record<VersionRow["status"], string> = {
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

// ---------------------------------------------------------------------------------------------------------------
// Executions

/** A call with what it answered (once completed) and its log lines (once over). */
export interface ExecutionRecord {
  row: CallRow;
  result: unknown;
  logs: { level: string; message: string }[];
}

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
    body: result === undefined || result === null ? "" : JSON.stringify(result),
  };
}

const pairs = (h: Record<string, string> | null | undefined) =>
  Object.entries(h ?? {}).map(([name, value]) => ({ name, value }));

const FINISHED: CallRow["status"][] = ["completed", "failed", "timeout", "canceled"];

/** The execution's status as Appwrite names it: an answer of 500 or more is a failed execution, as there. */
export function executionStatus(row: CallRow, statusCode: number, now: number): string {
  if (row.status === "queued") return row.scheduledAt && row.scheduledAt > now ? "scheduled" : "waiting";
  if (row.status === "running") return "processing";
  return row.status === "completed" && statusCode < 500 ? "completed" : "failed";
}

/** Appwrite's trigger for a call: `http` (API, HTTP and retries), `schedule` (also a `scheduledAt`), `event`. */
export function executionTrigger(row: Pick<CallRow, "trigger" | "scheduledAt">): string {
  if (row.trigger === "schedule" || (row.trigger === "api" && row.scheduledAt)) return "schedule";
  return row.trigger === "event" ? "event" : "http";
}

/**
 * Appwrite's Execution model for a call record. `answer`: what the function answered, when showing the execution
 * to the request that made it (its body is shown then even when the function keeps no output).
 */
export function executionModel(fn: FunctionRow, rec: ExecutionRecord, now: number, answer?: unknown) {
  const { row, logs } = rec;
  let response: AppwriteResponse = { statusCode: 0, headers: {}, body: "" };
  if (row.status === "completed") response = responseOf(answer ?? rec.result);
  else if (FINISHED.includes(row.status)) response = { statusCode: 500, headers: {}, body: "" };
  const statusCode = row.httpStatus ?? response.statusCode;
  const errors = logs.filter((l) => l.level === "error").map((l) => l.message);
  // As Appwrite's runtimes print an uncaught error: its stack (the user's frames), else its name and message.
  if (row.error) {
    const head = `${row.error.name}: ${row.error.message}`;
    errors.push(row.error.stack?.includes(row.error.message) ? row.error.stack : head);
  }
  if (row.status === "canceled") errors.push("The execution was canceled");
  return {
    $id: row.id,
    $createdAt: iso(row.createdAt),
    $updatedAt: iso(row.endedAt ?? row.startedAt ?? row.createdAt),
    $permissions: [],
    functionId: appwriteId(fn),
    deploymentId: row.versionId ?? "",
    trigger: executionTrigger(row),
    status: executionStatus(row, statusCode, now),
    requestMethod: row.httpMethod ?? "POST",
    requestPath: row.httpPath ?? "/",
    requestHeaders: pairs(row.requestHeaders),
    responseStatusCode: statusCode,
    responseBody: response.body,
    responseHeaders: pairs(row.responseHeaders ?? response.headers),
    logs: logs
      .filter((l) => l.level !== "error")
      .map((l) => l.message)
      .join("\n"),
    errors: errors.join("\n"),
    duration: (row.durationMs ?? 0) / 1000,
    scheduledAt: row.scheduledAt ? iso(row.scheduledAt) : null,
  };
}
