import { and, count, eq, inArray, isNotNull, type SQL, sql } from "drizzle-orm";
import { badRequest, conflict, notFound } from "../../lib/errors";
import type { EntityDef } from "../../lib/list/entity";
import { rangeFilter } from "../../lib/list/filter";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import { CALL_STATUSES, CALL_TRIGGERS, type CallRow, callLogs, calls, functions } from "../../storage/schema";
import { raiseEvent } from "../compat/appwrite/events";
import { inVisibleWorkspaces, requireRole, type ServiceContext, seesWorkspace } from "../context";
import { getFunction } from "../functions";
import { readResult, recordsWritten } from "./record";
import { deleteCallsById } from "./sweep";

export const callEntity: EntityDef = {
  name: "call",
  id: calls.id,
  fields: {
    id: { column: calls.id, type: "string" },
    status: { column: calls.status, type: "string" },
    trigger: { column: calls.trigger, type: "string" },
    versionId: { column: calls.versionId, type: "string", nullable: true },
    scheduleId: { column: calls.scheduleId, type: "string", nullable: true },
    attempt: { column: calls.attempt, type: "number" },
    durationMs: { column: calls.durationMs, type: "number", nullable: true },
    createdAt: { column: calls.createdAt, type: "datetime" },
    startTime: { column: calls.startedAt, type: "datetime", nullable: true, property: "startedAt" },
    endTime: { column: calls.endedAt, type: "datetime", nullable: true, property: "endedAt" },
    scheduledTime: { column: calls.scheduledTime, type: "datetime", nullable: true },
    scheduledAt: { column: calls.scheduledAt, type: "datetime", nullable: true },
    httpMethod: { column: calls.httpMethod, type: "string", nullable: true },
    httpPath: { column: calls.httpPath, type: "string", nullable: true },
    httpStatus: { column: calls.httpStatus, type: "number", nullable: true },
  },
  relations: {
    /** What the Appwrite surface shows of a call (its defaults for calls made without a request); the call's row. */
    appwrite: {
      fields: {
        requestMethod: { column: sql`IFNULL(${calls.httpMethod}, 'POST')`, type: "string" },
        requestPath: { column: sql`IFNULL(${calls.httpPath}, '/')`, type: "string" },
        responseStatusCode: {
          column: sql`COALESCE(${calls.httpStatus}, CASE ${calls.status} WHEN 'completed' THEN 200 WHEN 'queued' THEN 0 WHEN 'running' THEN 0 ELSE 500 END)`,
          type: "number",
        },
      },
      exists: (condition) => condition,
    },
  },
  defaultOrder: [{ field: "createdAt", direction: "desc" }],
};

/** A function may have millions of calls: its list counts up to this many (pageInfo.totalCapped says so). */
export const CALLS_COUNT_CAP = 10_000;

export interface CallListQuery extends ListQuery {
  status?: string;
  trigger?: string;
  scheduleId?: string;
  versionId?: string;
  /** `{min, max}` times (ISO 8601 or epoch ms), both ends inclusive and optional. */
  startTime?: unknown;
  endTime?: unknown;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw badRequest(`${name} must be one of ${allowed.join(", ")}`);
  return value as T;
}

/** A function's calls, newest first by default, with the shared list language plus Cognite's call filters. */
export async function listCalls(ctx: ServiceContext, functionId: string, params: CallListQuery) {
  const fn = await getFunction(ctx, functionId);
  await recordsWritten(ctx.env, ctx.defer);
  const { query, filter } = compileListQuery(callEntity, params);
  const where: (SQL | undefined)[] = [eq(calls.functionId, fn.id), filter];
  // A system function's calls are seen by the workspace that made them only.
  if (fn.system) where.push(inVisibleWorkspaces(ctx, calls.workspaceId));
  if (params.status !== undefined) where.push(eq(calls.status, oneOf("status", params.status, CALL_STATUSES)));
  if (params.trigger !== undefined) where.push(eq(calls.trigger, oneOf("trigger", params.trigger, CALL_TRIGGERS)));
  if (params.scheduleId !== undefined) where.push(eq(calls.scheduleId, params.scheduleId));
  if (params.versionId !== undefined) where.push(eq(calls.versionId, params.versionId));
  where.push(
    rangeFilter(callEntity, "startTime", "startTime", params.startTime),
    rangeFilter(callEntity, "endTime", "endTime", params.endTime),
  );
  return paginate<CallRow>(ctx.db, calls, callEntity, and(...where), query, CALLS_COUNT_CAP);
}

/** The call if this key can see it; otherwise 404, as if it did not exist. */
export async function getCall(ctx: ServiceContext, callId: string): Promise<CallRow> {
  // A call answered a moment ago may still have its record waiting in this isolate (see ./record).
  await recordsWritten(ctx.env, ctx.defer);
  const row = await ctx.db.select().from(calls).where(eq(calls.id, callId)).get();
  if (!row || !seesWorkspace(ctx, row.workspaceId)) throw notFound("call", callId);
  if (ctx.principal.functionIds && !ctx.principal.functionIds.includes(row.functionId)) {
    throw notFound("call", callId);
  }
  return row;
}

export async function getCallResponse(ctx: ServiceContext, callId: string) {
  const row = await getCall(ctx, callId);
  if (row.status === "queued" || row.status === "running") {
    throw conflict(`Call ${callId} is ${row.status}: it has no response yet`);
  }
  return {
    functionId: row.functionId,
    callId: row.id,
    response: row.status === "completed" ? await readResult(ctx.env, row) : null,
  };
}

export async function getCallLogs(ctx: ServiceContext, callId: string) {
  const row = await getCall(ctx, callId);
  const logs = await ctx.db.select().from(callLogs).where(eq(callLogs.callId, row.id)).get();
  return { items: logs?.items ?? [], truncated: logs?.truncated ?? false };
}

export async function deleteCall(ctx: ServiceContext, callId: string): Promise<void> {
  const row = await getCall(ctx, callId);
  requireRole(ctx, "developer", "delete calls", row.workspaceId);
  if (row.status === "running") throw conflict(`Call ${callId} is running; wait for it to end, or cancel it first`);
  await deleteCallsById(ctx.db, ctx.env, [row.id]);
  const fn = await ctx.db.select().from(functions).where(eq(functions.id, row.functionId)).get();
  if (fn) raiseEvent(ctx, { kind: "execution", fn, call: row, gone: row }, "delete");
}

/** Cancels a queued call: it will not run. */
export async function cancelCall(ctx: ServiceContext, callId: string): Promise<CallRow> {
  const row = await getCall(ctx, callId);
  requireRole(ctx, "invoker", "cancel calls", row.workspaceId);
  const [canceled] = await ctx.db
    .update(calls)
    .set({ status: "canceled", endedAt: ctx.now, deadlineAt: null })
    .where(and(eq(calls.id, row.id), eq(calls.status, "queued")))
    .returning();
  if (!canceled) throw conflict(`Call ${callId} is ${row.status}; only a queued call can be canceled`);
  return canceled;
}

export const METRIC_WINDOWS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000 } as const;
/** Buckets per window: minutes for an hour, quarter hours for a day, hours for a week. */
const BUCKET_MS = { "1h": 60_000, "24h": 900_000, "7d": 3_600_000 } as const;
export type MetricWindow = keyof typeof METRIC_WINDOWS;

/** Counts by status, error rate, duration percentiles and calls over time for one function. */
export async function functionMetrics(ctx: ServiceContext, functionId: string, window: MetricWindow) {
  const fn = await getFunction(ctx, functionId);
  await recordsWritten(ctx.env, ctx.defer);
  const to = ctx.now;
  const from = to - METRIC_WINDOWS[window];
  const bucketMs = BUCKET_MS[window];
  // A system function's calls are their callers': a workspace counts its own only.
  const own = fn.system ? inVisibleWorkspaces(ctx, calls.workspaceId) : undefined;
  const inWindow = and(eq(calls.functionId, fn.id), sql`${calls.createdAt} >= ${from}`, own);
  // Finished calls that ran: one failed before it ran, or lost by the runtime, has no duration to rank.
  const timed = and(inWindow, inArray(calls.status, ["completed", "failed", "timeout"]), isNotNull(calls.durationMs));

  const [byStatus, byBucket, timedCount] = await ctx.db.batch([
    ctx.db.select({ status: calls.status, n: count() }).from(calls).where(inWindow).groupBy(calls.status),
    ctx.db
      .select({
        // D1 binds numbers as REAL: the cast keeps the bucket a whole index.
        bucket: sql<number>`CAST((${calls.createdAt} - ${from}) / ${bucketMs} AS INTEGER)`.as("bucket"),
        total: count(),
        completed: sql<number>`SUM(${calls.status} = 'completed')`,
        failed: sql<number>`SUM(${calls.status} = 'failed')`,
        timeout: sql<number>`SUM(${calls.status} = 'timeout')`,
      })
      .from(calls)
      .where(inWindow)
      .groupBy(sql`bucket`),
    ctx.db.select({ n: count() }).from(calls).where(timed),
  ]);
  const counts = Object.fromEntries(CALL_STATUSES.map((s) => [s, 0])) as Record<(typeof CALL_STATUSES)[number], number>;
  for (const { status, n } of byStatus) counts[status] = n;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const done = counts.completed + counts.failed + counts.timeout;

  // Percentiles by rank: the k-th shortest duration of the finished calls.
  const ranked = timedCount[0]?.n ?? 0;
  const percentiles = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;
  const durationMs: Record<keyof typeof percentiles, number | null> = { p50: null, p95: null, p99: null };
  if (ranked > 0) {
    const names = Object.keys(percentiles) as (keyof typeof percentiles)[];
    const values = await Promise.all(
      names.map((name) =>
        ctx.db
          .select({ d: calls.durationMs })
          .from(calls)
          .where(timed)
          .orderBy(calls.durationMs)
          .limit(1)
          .offset(Math.max(0, Math.ceil(percentiles[name] * ranked) - 1))
          .get(),
      ),
    );
    names.forEach((name, i) => {
      durationMs[name] = values[i]?.d ?? null;
    });
  }

  const buckets = new Map(byBucket.map((b) => [Number(b.bucket), b]));
  const bucketCount = Math.ceil(METRIC_WINDOWS[window] / bucketMs);
  return {
    functionId: fn.id,
    window,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    total,
    counts,
    errorRate: done === 0 ? 0 : (counts.failed + counts.timeout) / done,
    durationMs,
    bucketSeconds: bucketMs / 1000,
    buckets: Array.from({ length: bucketCount }, (_, i) => {
      const b = buckets.get(i);
      return {
        start: new Date(from + i * bucketMs).toISOString(),
        total: b?.total ?? 0,
        completed: Number(b?.completed ?? 0),
        failed: Number(b?.failed ?? 0),
        timeout: Number(b?.timeout ?? 0),
      };
    }),
  };
}
