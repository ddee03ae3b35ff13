import { and, eq, inArray, lt, notInArray, type SQL, sql } from "drizzle-orm";
import type { Env } from "../../env";
import type { Db } from "../../storage/db";
import { ownedByCall } from "../../storage/objects";
import { callLogs, calls, workspaces } from "../../storage/schema";

const DAY = 86_400_000;
const BATCH = 500;
/** Batches per cron tick: bounded, so one tick never runs long; the next tick goes on. */
const MAX_BATCHES = 20;

/** Running calls past their deadline (timeout plus a grace period) were lost: they end as failed, saying so. */
export async function sweepLostCalls(db: Db, now: number): Promise<number> {
  const lost = await db
    .update(calls)
    .set({
      status: "failed",
      error: {
        name: "LostError",
        message: "The call was lost: it was still running long after its timeout (the runtime restarted or stopped)",
      },
      endedAt: now,
      deadlineAt: null,
    })
    .where(and(eq(calls.status, "running"), lt(calls.deadlineAt, now)))
    .returning({ id: calls.id });
  return lost.length;
}

/** Deletes calls, their logs and their R2 results, batch by batch, while `where` matches and the budget lasts. */
async function deleteCallsWhere(db: Db, env: Env, where: SQL | undefined, maxBatches: number): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const rows = await db
      .select({ id: calls.id, resultKey: calls.resultKey, argsKey: calls.argsKey })
      .from(calls)
      .innerJoin(workspaces, eq(workspaces.id, calls.workspaceId))
      .where(where)
      .limit(BATCH);
    if (rows.length === 0) break;
    const keys = rows.flatMap((r) => [r.resultKey, r.argsKey]).filter(ownedByCall);
    if (keys.length > 0) await env.CODE.delete(keys);
    const ids = JSON.stringify(rows.map((r) => r.id));
    await db.batch([
      db.delete(callLogs).where(sql`${callLogs.callId} IN (SELECT value FROM json_each(${ids}))`),
      db.delete(calls).where(sql`${calls.id} IN (SELECT value FROM json_each(${ids}))`),
    ]);
    deleted += rows.length;
    if (rows.length < BATCH) break;
  }
  return deleted;
}

/** Deletes finished calls older than their workspace's retention (default 14 days), in bounded batches. */
export function sweepOldCalls(db: Db, env: Env, now: number): Promise<number> {
  return deleteCallsWhere(
    db,
    env,
    and(
      lt(calls.createdAt, sql`${now} - ${workspaces.callRetentionDays} * ${DAY}`),
      notInArray(calls.status, ["queued", "running"]),
    ),
    MAX_BATCHES,
  );
}

/** Deletes every call of a purged function. */
export function deleteCallsOfFunction(db: Db, env: Env, functionId: string): Promise<number> {
  return deleteCallsWhere(db, env, eq(calls.functionId, functionId), Number.POSITIVE_INFINITY);
}

/** Deletes the given calls (and their logs and results). */
export function deleteCallsById(db: Db, env: Env, ids: string[]): Promise<number> {
  return deleteCallsWhere(db, env, inArray(calls.id, ids), 1);
}
