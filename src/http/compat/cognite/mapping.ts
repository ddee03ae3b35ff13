/**
 * Cognite's shapes and filters, and edgefn's: pure functions from the Cognite verbs' views (native rows with their
 * integer ids) to Cognite's Function, Call and Schedule objects, and from Cognite's list filters to nodes of the
 * list language (see docs/functions.md), which the list engine compiles to SQL.
 */
import type { CallView, UnrecordedCall } from "../../../domain/compat/cognite/calls";
import type { FunctionView } from "../../../domain/compat/cognite/functions";
import type { ScheduleView } from "../../../domain/compat/cognite/schedules";
import { describeCron } from "../../../domain/schedules/cron";
import { LIMITS } from "../../../lib/limits";
import { maskSecrets } from "../../../lib/secrets";
import type { VersionRow } from "../../../storage/schema";

export const RUNTIME = "js";
export const RUNTIME_VERSION = "Cloudflare Workers (compatibility date 2026-11-01)";
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
    // edgefn has no Files API: no function has a fileId.
    ...(f.fileId === undefined ? [] : [NOTHING]),
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
  return present({
    id: view.id,
    name: fn.name,
    externalId: fn.externalId,
    description: fn.description,
    owner: view.owner,
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
    runtimes: [RUNTIME],
    responseSizeMb: LIMITS.resultBytes / (1024 * 1024),
  };
}
