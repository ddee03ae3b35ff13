import { and, count, eq, type SQL, sql } from "drizzle-orm";
import type { Env } from "../../env";
import { badRequest, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { LIMITS } from "../../lib/limits";
import type { EntityDef } from "../../lib/list/entity";
import { rangeFilter } from "../../lib/list/filter";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import type { Db } from "../../storage/db";
import { scheduleDataKeyOf } from "../../storage/objects";
import { type CALL_STATUSES, type CatchUp, calls, type ScheduleRow, schedules } from "../../storage/schema";
import {
  inVisibleWorkspaces,
  isGlobalAdmin,
  requireRole,
  type ServiceContext,
  seesWorkspace,
  workspaceOfUse,
} from "../context";
import { getFunction } from "../functions";
import { cronProblem, describeCron, isTimeZone, nextRun, nextRuns } from "./cron";

export const scheduleEntity: EntityDef = {
  name: "schedule",
  id: schedules.id,
  fields: {
    id: { column: schedules.id, type: "string" },
    functionId: { column: schedules.functionId, type: "string" },
    workspaceId: { column: schedules.workspaceId, type: "string" },
    name: { column: schedules.name, type: "string" },
    cron: { column: schedules.cron, type: "string" },
    timezone: { column: schedules.timezone, type: "string" },
    enabled: { column: schedules.enabled, type: "boolean" },
    catchUp: { column: schedules.catchUp, type: "string" },
    nextRunAt: { column: schedules.nextRunAt, type: "datetime" },
    createdTime: { column: schedules.createdAt, type: "datetime", property: "createdAt" },
    createdAt: { column: schedules.createdAt, type: "datetime" },
  },
  defaultOrder: [{ field: "createdAt", direction: "desc" }],
};

/** Data up to this size stays in the schedule row; larger data is in R2. */
const INLINE_DATA_BYTES = 64 * 1024;
const encoder = new TextEncoder();

export interface ScheduleInput {
  name?: string;
  cron?: string;
  timezone?: string;
  data?: unknown;
  description?: string | null;
  enabled?: boolean;
  catchUp?: CatchUp;
}

function checkTiming(cron: string, timezone: string, now: number): number {
  const problem = cronProblem(cron);
  if (problem) throw badRequest(`cron: ${problem}`);
  if (!isTimeZone(timezone)) throw badRequest(`timezone: '${timezone.slice(0, 64)}' is not an IANA time zone`);
  const next = nextRun(cron, timezone, now);
  if (next === null) throw badRequest(`cron: '${cron}' never fires`);
  return next;
}

/** Serializes data and decides where it lives; 400 when it is over the limit. */
function packData(data: unknown): { json: string; size: number } {
  const json = JSON.stringify(data ?? null);
  const size = encoder.encode(json).byteLength;
  if (size > LIMITS.argsBytes) throw badRequest(`data is larger than ${LIMITS.argsBytes} bytes`);
  return { json, size };
}

async function storeData(env: Env, id: string, packed: { json: string; size: number }) {
  if (packed.size > INLINE_DATA_BYTES) {
    await env.CODE.put(scheduleDataKeyOf(id), packed.json);
    return { data: null, dataKey: scheduleDataKeyOf(id), dataSize: packed.size };
  }
  return { data: packed.json, dataKey: null, dataSize: packed.size };
}

export async function createSchedule(ctx: ServiceContext, input: ScheduleInput & { functionId: string }) {
  const fn = await getFunction(ctx, input.functionId);
  requireRole(ctx, "developer", "create schedules", workspaceOfUse(ctx, fn));
  if (fn.system && !isGlobalAdmin(ctx.principal)) {
    throw badRequest("functionId: schedules of a system function are made by an admin of every workspace");
  }
  if (fn.deletedAt !== null) throw conflict(`Function ${fn.id} is deleted; restore it first`);
  const timezone = input.timezone ?? "UTC";
  const cron = (input.cron ?? "").trim();
  const next = checkTiming(cron, timezone, ctx.now);
  const packed = packData(input.data);
  const [{ n } = { n: 0 }] = await ctx.db.select({ n: count() }).from(schedules).where(eq(schedules.functionId, fn.id));
  if (n >= LIMITS.schedulesPerFunction) {
    throw badRequest(`function ${fn.id} already has ${LIMITS.schedulesPerFunction} schedules, the most it can have`);
  }
  const id = newId("sch", ctx.now);
  const row: ScheduleRow = {
    id,
    functionId: fn.id,
    workspaceId: fn.workspaceId,
    name: input.name as string,
    description: input.description ?? null,
    cron,
    timezone,
    ...(await storeData(ctx.env, id, packed)),
    enabled: input.enabled ?? true,
    catchUp: input.catchUp ?? "last",
    nextRunAt: next,
    lastCallId: null,
    lastRunAt: null,
    createdBy: ctx.principal.keyId,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  await ctx.db.insert(schedules).values(row);
  return row;
}

export async function getSchedule(ctx: ServiceContext, id: string): Promise<ScheduleRow> {
  const row = await ctx.db.select().from(schedules).where(eq(schedules.id, id)).get();
  if (!row || !seesWorkspace(ctx, row.workspaceId)) throw notFound("schedule", id);
  if (ctx.principal.functionIds && !ctx.principal.functionIds.includes(row.functionId)) {
    throw notFound("schedule", id);
  }
  return row;
}

export interface ScheduleListQuery extends ListQuery {
  functionId?: string;
  name?: string;
  cron?: string;
  enabled?: boolean;
  /** `{min, max}` on the creation time. */
  createdTime?: unknown;
}

export async function listSchedules(ctx: ServiceContext, params: ScheduleListQuery) {
  const { query, filter } = compileListQuery(scheduleEntity, params);
  const where: (SQL | undefined)[] = [inVisibleWorkspaces(ctx, schedules.workspaceId), filter];
  const scope = ctx.principal.functionIds;
  if (scope) where.push(sql`${schedules.functionId} IN (SELECT value FROM json_each(${JSON.stringify(scope)}))`);
  if (params.functionId !== undefined) where.push(eq(schedules.functionId, params.functionId));
  if (params.name !== undefined) where.push(sql`instr(lower(${schedules.name}), lower(${params.name})) > 0`);
  if (params.cron !== undefined) where.push(eq(schedules.cron, params.cron));
  if (params.enabled !== undefined) where.push(eq(schedules.enabled, params.enabled));
  where.push(rangeFilter(scheduleEntity, "createdTime", "createdTime", params.createdTime));
  return paginate<ScheduleRow>(ctx.db, schedules, scheduleEntity, and(...where), query);
}

export async function updateSchedule(ctx: ServiceContext, id: string, input: ScheduleInput) {
  const current = await getSchedule(ctx, id);
  requireRole(ctx, "developer", "change schedules", current.workspaceId);
  const cron = input.cron?.trim() ?? current.cron;
  const timezone = input.timezone ?? current.timezone;
  const enabled = input.enabled ?? current.enabled;
  const patch: Partial<ScheduleRow> = { updatedAt: ctx.now };
  if (input.name !== undefined) patch.name = input.name;
  if (input.description !== undefined) patch.description = input.description;
  if (input.catchUp !== undefined) patch.catchUp = input.catchUp;
  if (input.enabled !== undefined) patch.enabled = input.enabled;
  if (input.cron !== undefined) patch.cron = cron;
  if (input.timezone !== undefined) patch.timezone = timezone;
  // New timing, or resuming: the next run is the next one from now (nothing missed while paused fires).
  const retimed = input.cron !== undefined || input.timezone !== undefined;
  if (retimed || (enabled && !current.enabled)) patch.nextRunAt = checkTiming(cron, timezone, ctx.now);
  if (input.data !== undefined) {
    const packed = packData(input.data);
    Object.assign(patch, await storeData(ctx.env, id, packed));
    if (packed.size <= INLINE_DATA_BYTES && current.dataKey) await ctx.env.CODE.delete(current.dataKey);
  }
  const [row] = await ctx.db.update(schedules).set(patch).where(eq(schedules.id, id)).returning();
  if (!row) throw notFound("schedule", id);
  return row;
}

export async function deleteSchedule(ctx: ServiceContext, id: string) {
  const row = await getSchedule(ctx, id);
  requireRole(ctx, "developer", "delete schedules", row.workspaceId);
  await ctx.db.delete(schedules).where(eq(schedules.id, id));
  if (row.dataKey) await ctx.env.CODE.delete(row.dataKey);
}

/** Deletes every schedule of a purged function. */
export async function deleteSchedulesOfFunction(db: Db, env: Env, functionId: string) {
  const rows = await db
    .delete(schedules)
    .where(eq(schedules.functionId, functionId))
    .returning({ dataKey: schedules.dataKey });
  const keys = rows.map((r) => r.dataKey).filter((k): k is string => k !== null);
  if (keys.length > 0) await env.CODE.delete(keys);
}

export async function readScheduleData(env: Env, row: Pick<ScheduleRow, "data" | "dataKey">): Promise<unknown> {
  if (row.data !== null) return JSON.parse(row.data);
  if (row.dataKey) {
    const object = await env.CODE.get(row.dataKey);
    if (object) return JSON.parse(await object.text());
  }
  return null;
}

export type LastRun = { callId: string; status: (typeof CALL_STATUSES)[number] | null; at: number } | null;

/** The last call each schedule made, with its current status. */
export async function lastRuns(db: Db, rows: ScheduleRow[]): Promise<Map<string, LastRun>> {
  const ids = rows.map((r) => r.lastCallId).filter((id): id is string => id !== null);
  const found = new Map<string, LastRun>();
  if (ids.length === 0) return found;
  const statuses = await db
    .select({ id: calls.id, status: calls.status })
    .from(calls)
    .where(sql`${calls.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
  const byId = new Map(statuses.map((s) => [s.id, s.status]));
  for (const r of rows) {
    if (r.lastCallId && r.lastRunAt !== null) {
      // A call deleted since (by retention or by hand): its status is no longer known.
      found.set(r.id, { callId: r.lastCallId, status: byId.get(r.lastCallId) ?? null, at: r.lastRunAt });
    }
  }
  return found;
}

/** What the API shows besides the row: the description, the next five runs and the last run. */
export function scheduleExtras(row: ScheduleRow, now: number) {
  return {
    when: describeCron(row.cron),
    nextRuns: row.enabled ? nextRuns(row.cron, row.timezone, Math.max(now, row.nextRunAt - 1), 5) : [],
  };
}
