/**
 * Cognite's shapes and filters, and edgefn's: pure functions from the Cognite verbs' views (native rows with their
 * integer ids) to Cognite's Function, Call, Schedule and File objects, and from Cognite's list filters to nodes of
 * the list language (see docs/functions.md), which the list engine compiles to SQL.
 */
import type { CallView, UnrecordedCall } from "../../../domain/compat/cognite/calls";
import type { FunctionView } from "../../../domain/compat/cognite/functions";
import type { ScheduleView } from "../../../domain/compat/cognite/schedules";
import { describeCron } from "../../../domain/schedules/cron";
import { type Runtime, runtimeOf } from "../../../domain/versions";
import { LIMITS } from "../../../lib/limits";
import { maskSecrets } from "../../../lib/secrets";
import { PYODIDE_BUILD } from "../../../runtime/python/bundle";
import type { CogniteFileRow, VersionRow } from "../../../storage/schema";

/** JavaScript and TypeScript functions (an edgefn runtime, not one of Cognite's). */
export const JS_RUNTIME = "js";
export const JS_RUNTIME_VERSION = "Cloudflare Workers (compatibility date 2026-11-01)";
/** The Python edgefn runs, in Cognite's naming ("py314" for Python 3.14.x). */
const [PY_MAJOR, PY_MINOR] = PYODIDE_BUILD.python.split(".");
export const PYTHON_RUNTIME = `py${PY_MAJOR}${PY_MINOR}`;
export const PYTHON_RUNTIME_VERSION = `Python ${PYODIDE_BUILD.python} (Pyodide ${PYODIDE_BUILD.pyodide})`;
/** The Python runtimes a function may ask for: Cognite's names; each runs on PYTHON_RUNTIME. */
export const PYTHON_RUNTIMES = [...new Set(["py39", "py310", "py311", "py312", "py313", "py314", PYTHON_RUNTIME])];
export const RUNTIMES = [...PYTHON_RUNTIMES, JS_RUNTIME];

/** The edgefn runtime of a Cognite runtime name (undefined: not given). */
export const runtimeOfName = (name: string | undefined): Runtime | undefined =>
  name === undefined ? undefined : name === JS_RUNTIME ? "javascript" : "python";
/** What a call gets, in Cognite's units (Workers isolates have 128 MB; CPU is not reserved per call). */
const CPU_CORES = 1;
const MEMORY_GB = 0.128;

/** The object without its null and undefined fields (Cognite leaves absent fields out). */
const present = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

type Range = { min?: number; max?: number };
/** A Cognite `{min, max}` (both inclusive) on a field of the list language. */
const rangeOf = (field: string, range: Range | undefined) => [
  ...(range?.min === undefined ? [] : [{ [field]: { gte: range.min } }]),
  ...(range?.max === undefined ? [] : [{ [field]: { lte: range.max } }]),
];
const andOf = (nodes: unknown[]) => (nodes.length === 0 ? undefined : { and: nodes });
/** Matches nothing (ids are never null): a filter on something edgefn does not store. */
const NOTHING = { id: { isNull: true } };

// ---------------------------------------------------------------------------------------------------------------
// Functions

export type FunctionStatus = "Queued" | "Deploying" | "Ready" | "Failed";

/**
 * A function's status comes from its versions: Ready when its default version is ready; otherwise from its latest
 * version (queued: Queued, building: Deploying, anything else or none: Failed). STATUS_FILTERS says the same in the
 * list language.
 */
export function statusOf(view: FunctionView): { status: FunctionStatus; error?: { message: string; trace: string } } {
  const { fn, current, latest } = view;
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

const READY = { defaultVersion: { status: { eq: "ready" } } };
const latestIs = (status: VersionRow["status"]) => ({ latestVersion: { status: { eq: status } } });

/** statusOf as filter nodes, through the function's defaultVersion and latestVersion relations. */
export const STATUS_FILTERS: Record<FunctionStatus, unknown> = {
  Ready: READY,
  Queued: { and: [{ not: READY }, latestIs("queued")] },
  Deploying: { and: [{ not: READY }, latestIs("building")] },
  Failed: { and: [{ not: READY }, { not: { latestVersion: { status: { in: ["queued", "building"] } } } }] },
};

export interface FunctionFilter {
  name?: string;
  owner?: string;
  fileId?: number;
  status?: FunctionStatus;
  externalIdPrefix?: string;
  createdTime?: Range;
  metadata?: Record<string, string>;
}

/** Cognite's function filter in the list language (undefined: every function). */
export function functionFilter(f: FunctionFilter): unknown {
  return andOf([
    ...(f.name === undefined ? [] : [{ name: { eq: f.name } }]),
    ...(f.owner === undefined ? [] : [{ cognite: { owner: { eq: f.owner } } }]),
    ...(f.fileId === undefined ? [] : [{ cognite: { fileId: { eq: f.fileId } } }]),
    ...(f.status === undefined ? [] : [STATUS_FILTERS[f.status]]),
    ...(f.externalIdPrefix === undefined ? [] : [{ externalId: { startsWith: f.externalIdPrefix } }]),
    ...rangeOf("createdAt", f.createdTime),
    ...(f.metadata === undefined ? [] : [{ metadata: { contains: f.metadata } }]),
  ]);
}

/** A function in Cognite's shape. */
export function functionModel(view: FunctionView) {
  const { fn, current, latest } = view;
  const { status, error } = statusOf(view);
  const entry = (current ?? latest)?.entrypoint;
  const python = entry !== undefined && runtimeOf(entry) === "python";
  return present({
    id: view.id,
    name: fn.name,
    // 0: the code did not come from a file of the Files API (edgefn's `files`/`code`, or the native API).
    fileId: view.fileId ?? 0,
    externalId: fn.externalId,
    description: fn.description,
    owner: view.owner,
    status,
    functionPath: entry,
    createdTime: fn.createdAt,
    metadata: fn.metadata ?? {},
    secrets: maskSecrets(fn.secrets) ?? {},
    envVars: fn.envVars ?? {},
    cpu: CPU_CORES,
    memory: MEMORY_GB,
    runtime: python ? PYTHON_RUNTIME : JS_RUNTIME,
    runtimeVersion: python ? PYTHON_RUNTIME_VERSION : JS_RUNTIME_VERSION,
    error,
    lastCalled: fn.lastCalledAt,
  });
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

const STATUS_OF_CALLS: Record<string, string[]> = {
  Running: ["queued", "running"],
  Completed: ["completed"],
  Failed: ["failed", "canceled"],
  Timeout: ["timeout"],
};

export interface CallFilter {
  status?: string;
  scheduleId?: number;
  startTime?: Range;
  endTime?: Range;
}

/** Cognite's call filter in the list language; `scheduleRef` is the schedule's edgefn id (null: no such schedule). */
export function callFilter(f: CallFilter, scheduleRef?: string | null): unknown {
  return andOf([
    ...(f.status === undefined ? [] : [{ status: { in: STATUS_OF_CALLS[f.status] ?? [] } }]),
    ...(f.scheduleId === undefined ? [] : [scheduleRef ? { scheduleId: { eq: scheduleRef } } : NOTHING]),
    ...rangeOf("startTime", f.startTime),
    ...rangeOf("endTime", f.endTime),
  ]);
}

/** A call in Cognite's shape (`now`: when a call with no record ended). */
export function callModel(view: CallView | UnrecordedCall, now: number) {
  if ("outcome" in view) {
    const o = view.outcome;
    return present({
      id: view.id,
      startTime: now - (o.durationMs ?? 0),
      endTime: now,
      status: CALL_STATUS[(o.status ?? "running") as keyof typeof CALL_STATUS] ?? "Running",
      functionId: view.functionNumber,
      error: o.errorDetail ? { message: `${o.errorDetail.name}: ${o.errorDetail.message}`, trace: "" } : undefined,
    });
  }
  const r = view.row;
  return present({
    id: view.id,
    startTime: r.startedAt ?? r.createdAt,
    endTime: r.endedAt,
    scheduledTime: r.scheduledTime,
    status: CALL_STATUS[r.status],
    scheduleId: view.scheduleNumber,
    functionId: view.functionNumber,
    error: r.error
      ? { message: `${r.error.name}: ${r.error.message}`, trace: r.error.stack ?? "" }
      : r.status === "canceled"
        ? { message: "The call was canceled", trace: "" }
        : undefined,
  });
}

export const callLogsModel = (lines: { timestamp: number; message: string }[]) => ({
  items: lines.map((l) => ({ timestamp: l.timestamp, message: l.message })),
});

// ---------------------------------------------------------------------------------------------------------------
// Schedules

export interface ScheduleFilter {
  name?: string;
  functionId?: number;
  functionExternalId?: string;
  createdTime?: Range;
  cronExpression?: string;
}

/** Cognite's schedule filter in the list language; `functionRef` is the function's edgefn id when the filter names one. */
export function scheduleFilter(f: ScheduleFilter, functionRef?: string): unknown {
  return andOf([
    ...(f.name === undefined ? [] : [{ name: { eq: f.name } }]),
    ...(functionRef === undefined ? [] : [{ functionId: { eq: functionRef } }]),
    ...(f.cronExpression === undefined ? [] : [{ cron: { eq: f.cronExpression } }]),
    ...rangeOf("createdTime", f.createdTime),
  ]);
}

export function scheduleModel(view: ScheduleView) {
  const r = view.row;
  return present({
    id: view.id,
    name: r.name,
    functionId: view.functionNumber,
    functionExternalId: view.functionExternalId,
    description: r.description,
    createdTime: r.createdAt,
    cronExpression: r.cron,
    when: describeCron(r.cron),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The project

export function limitsModel() {
  return {
    timeoutMinutes: LIMITS.timeoutMs.max / 60_000,
    cpuCores: { min: CPU_CORES, max: CPU_CORES, default: CPU_CORES },
    memoryGb: { min: MEMORY_GB, max: MEMORY_GB, default: MEMORY_GB },
    runtimes: RUNTIMES,
    responseSizeMb: LIMITS.resultBytes / (1024 * 1024),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Files

/** A file in Cognite's shape; `uploadUrl` only in the answer to its create. */
export function fileModel(row: CogniteFileRow, uploadUrl?: string) {
  return present({
    id: row.id,
    name: row.name,
    externalId: row.externalId,
    directory: row.directory,
    source: row.source,
    mimeType: row.mimeType,
    metadata: row.metadata ?? {},
    dataSetId: row.dataSetId,
    sourceCreatedTime: row.sourceCreatedTime,
    sourceModifiedTime: row.sourceModifiedTime,
    uploaded: row.uploadedAt !== null,
    uploadedTime: row.uploadedAt,
    createdTime: row.createdAt,
    lastUpdatedTime: row.updatedAt,
    uploadUrl,
  });
}

export interface FileFilter {
  name?: string;
  externalIdPrefix?: string;
  directoryPrefix?: string;
  mimeType?: string;
  source?: string;
  uploaded?: boolean;
  dataSetIds?: { id: number }[];
  metadata?: Record<string, string>;
  createdTime?: Range;
  lastUpdatedTime?: Range;
  uploadedTime?: Range;
}

/** Cognite's file filter in the list language (undefined: every file). */
export function fileFilter(f: FileFilter): unknown {
  return andOf([
    ...(f.name === undefined ? [] : [{ name: { eq: f.name } }]),
    ...(f.externalIdPrefix === undefined ? [] : [{ externalId: { startsWith: f.externalIdPrefix } }]),
    ...(f.directoryPrefix === undefined ? [] : [{ directory: { startsWith: f.directoryPrefix } }]),
    ...(f.mimeType === undefined ? [] : [{ mimeType: { eq: f.mimeType } }]),
    ...(f.source === undefined ? [] : [{ source: { eq: f.source } }]),
    ...(f.uploaded === undefined ? [] : [{ uploaded: { eq: f.uploaded } }]),
    ...(f.dataSetIds === undefined ? [] : [{ dataSetId: { in: f.dataSetIds.map((d) => d.id) } }]),
    ...(f.metadata === undefined ? [] : [{ metadata: { contains: f.metadata } }]),
    ...rangeOf("createdTime", f.createdTime),
    ...rangeOf("lastUpdatedTime", f.lastUpdatedTime),
    ...rangeOf("uploadedTime", f.uploadedTime),
  ]);
}
