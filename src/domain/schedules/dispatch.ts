import { and, asc, eq, lte, sql } from "drizzle-orm";
import type { Env } from "../../env";
import { newId } from "../../lib/ids";
import { LIMITS } from "../../lib/limits";
import type { Db } from "../../storage/db";
import { claimStatements } from "../../storage/dispatch";
import { calls, schedules } from "../../storage/schema";
import { lastRunAtOrBefore, nextRun } from "./cron";

/** Due schedules read per query; each page is claimed and its calls written in one D1 batch. */
const PAGE = 500;
/** Rows per claim statement: the JSON of the page is one bound value, so this only bounds statement work. */
const CHUNK = 250;
/** Queue messages per sendBatch (the Queues limit). */
const SEND = 100;
/** A tick that finds a schedule due earlier than this before its own time treats it as missed (downtime). */
const TICK_MS = 60_000;
/** A schedule that never fires again waits here, disabled in all but name. */
const NEVER = 8_640_000_000_000_000;

interface Claim {
  id: string;
  /** The due time the schedule held when read: the claim succeeds only if it still holds it. */
  due: number;
  next: number;
  /** The calls this tick makes for the schedule: its own time, and a catch-up for missed ticks. */
  fires: { at: number; callId: string }[];
}

/**
 * What one tick at `now` fires for a schedule due at `due`: the run time inside this tick's minute, if there is one,
 * and, when earlier run times were missed (downtime) and catchUp is `last`, one call for the latest of them.
 */
export function firesFor(
  s: { cron: string; timezone: string; catchUp: "none" | "last"; nextRunAt: number },
  now: number,
): number[] {
  const fires: number[] = [];
  const windowStart = now - TICK_MS;
  if (s.catchUp === "last" && s.nextRunAt <= windowStart) {
    fires.push(lastRunAtOrBefore(s.cron, s.timezone, s.nextRunAt, windowStart));
  }
  const current = lastRunAtOrBefore(s.cron, s.timezone, s.nextRunAt, now);
  if (current > windowStart && current >= s.nextRunAt) fires.push(current);
  return fires;
}

export interface DispatchReport {
  due: number;
  fired: number;
  pages: number;
}

/**
 * Fires every schedule due at `now` (the tick's time). For each due schedule the next time is computed in its
 * time zone, and one D1 batch (a transaction) both writes the calls and moves each schedule's next run time,
 * each conditional on the schedule still holding the due time that was read; a unique index on
 * (schedule_id, scheduled_time) makes a due time one call even so. Overlapping ticks and a tick delivered twice
 * therefore fire a due time at most once; the queue then runs the calls. A schedule of a soft-deleted function
 * is moved on without firing.
 */
export async function dispatchSchedules(db: Db, env: Env, now: number): Promise<DispatchReport> {
  const report: DispatchReport = { due: 0, fired: 0, pages: 0 };
  for (let page = 0; page < 1_000; page++) {
    const due = await db
      .select({
        id: schedules.id,
        cron: schedules.cron,
        timezone: schedules.timezone,
        catchUp: schedules.catchUp,
        nextRunAt: schedules.nextRunAt,
      })
      .from(schedules)
      .where(and(eq(schedules.enabled, true), lte(schedules.nextRunAt, now)))
      .orderBy(asc(schedules.nextRunAt))
      .limit(PAGE);
    if (due.length === 0) break;
    report.pages++;
    report.due += due.length;

    const claims: Claim[] = due.map((s) => ({
      id: s.id,
      due: s.nextRunAt,
      next: nextRun(s.cron, s.timezone, now) ?? NEVER,
      fires: firesFor(s, now).map((at) => ({ at, callId: newId("call", now) })),
    }));

    const statements: D1PreparedStatement[] = [];
    for (let i = 0; i < claims.length; i += CHUNK) {
      const json = JSON.stringify(claims.slice(i, i + CHUNK));
      statements.push(...claimStatements(env.DB, json, now, LIMITS.maxRetries.default));
    }
    const results = await env.DB.batch<{ id: string }>(statements);
    const fired = results.filter((_, i) => i % 2 === 0).flatMap((r) => r.results.map((row) => row.id));
    report.fired += fired.length;
    for (let i = 0; i < fired.length; i += SEND) {
      await env.JOBS.sendBatch(fired.slice(i, i + SEND).map((callId) => ({ body: { type: "call", callId } })));
    }
    if (due.length < PAGE) break;
  }
  return report;
}

/**
 * Queued calls whose job was lost (the queue send failed after the call was written) are queued again once
 * they are five minutes overdue, and then at most every five minutes; running a call is conditional on it
 * being queued, so a second job never runs it twice. For a queued call, deadline_at is when it is overdue.
 */
export async function requeueStaleCalls(db: Db, env: Env, now: number): Promise<number> {
  const overdue = 5 * TICK_MS;
  const stale = await db
    .update(calls)
    .set({ deadlineAt: now + overdue })
    .where(
      sql`${calls.id} IN (SELECT id FROM ${calls} WHERE ${calls.status} = 'queued'
        AND COALESCE(${calls.deadlineAt}, COALESCE(${calls.scheduledAt}, ${calls.createdAt}) + ${overdue}) < ${now}
        LIMIT 500)`,
    )
    .returning({ id: calls.id });
  for (let i = 0; i < stale.length; i += SEND) {
    await env.JOBS.sendBatch(stale.slice(i, i + SEND).map(({ id }) => ({ body: { type: "call", callId: id } })));
  }
  return stale.length;
}
