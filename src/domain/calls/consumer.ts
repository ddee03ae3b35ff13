import { and, eq } from "drizzle-orm";
import { checkLogs } from "../../runtime/outcome";
import type { Db } from "../../storage/db";
import {
  type CallError,
  type CallLogLine,
  type CallRow,
  callLogs,
  calls,
  functions,
  versions,
} from "../../storage/schema";
import { raiseEvent } from "../compat/appwrite/events";
import { keepsOutput } from "../compat/appwrite/settings";
import { BudgetExceeded } from "./budget";
import { backoffSeconds, enqueueCall } from "./enqueue";
import { nestedInvoke } from "./invoke";
import { keptOutcome } from "./kept";
import type { CallOutcome } from "./outcome";
import { type CallContext, executeCall, LOST_GRACE_MS, timeoutOf } from "./pipeline";
import { readArgs, recordExecution } from "./record";

async function failCall(db: Db, callId: string, error: CallError) {
  const now = Date.now();
  await db
    .update(calls)
    .set({ status: "failed", error, endedAt: now, deadlineAt: null })
    .where(and(eq(calls.id, callId), eq(calls.status, "queued")));
}

/**
 * Runs one queued call (the Queue consumer). The queued -> running step is conditional, so a redelivered
 * message never runs a call twice. A failure the function marked retryable (or the platform caused) is tried
 * again after a backoff, up to the call's maxRetries; then the call fails, saying why, and its job goes to
 * the dead-letter queue.
 */
export async function runQueuedCall(ctx: CallContext, callId: string): Promise<void> {
  const { db, env } = ctx;
  const row = await db.select().from(calls).where(eq(calls.id, callId)).get();
  if (row?.status !== "queued") return;
  const now = Date.now();
  if (row.scheduledAt !== null && row.scheduledAt > now + 1000) {
    await enqueueCall(env, callId, row.scheduledAt);
    return;
  }
  const fn = await db.select().from(functions).where(eq(functions.id, row.functionId)).get();
  const version = row.versionId
    ? await db.select().from(versions).where(eq(versions.id, row.versionId)).get()
    : undefined;
  if (!fn || fn.deletedAt !== null) {
    return failCall(db, callId, { name: "CallError", message: "The function was deleted before the call ran" });
  }
  if (version?.status !== "ready") {
    return failCall(db, callId, {
      name: "CallError",
      message: row.versionId
        ? `Version ${row.versionId} is no longer ready`
        : "The function had no ready version when the call was made: upload one",
    });
  }
  let args: unknown;
  try {
    args = await readArgs(env, row);
  } catch (err) {
    return failCall(db, callId, { name: "CallError", message: (err as Error).message });
  }

  const timeoutMs = timeoutOf(fn);
  const [claimed] = await db
    .update(calls)
    .set({ status: "running", startedAt: now, deadlineAt: now + timeoutMs + LOST_GRACE_MS })
    .where(and(eq(calls.id, callId), eq(calls.status, "queued")))
    .returning({ id: calls.id });
  if (!claimed) return;

  const call =
    row.scheduleId && row.scheduledTime !== null
      ? { scheduleId: row.scheduleId, scheduledTime: new Date(row.scheduledTime).toISOString() }
      : undefined;
  let ran: CallOutcome;
  try {
    ran = await executeCall(
      ctx,
      {
        fn,
        version,
        args,
        argsJson: JSON.stringify(args),
        call,
        workspaceId: row.workspaceId,
        trigger: row.trigger,
        async: true,
        nested: nestedInvoke,
      },
      callId,
    );
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err;
    // The workspace has as many calls running as it may: this one waits its turn (not counted as an attempt).
    await db
      .update(calls)
      .set({ status: "queued", startedAt: null, deadlineAt: null })
      .where(and(eq(calls.id, callId), eq(calls.status, "running")));
    await enqueueCall(env, callId, Date.now() + 1000);
    return;
  }
  // What the record keeps (a function whose logging is off keeps no logs, errors or result).
  const run = keptOutcome(fn, ran);
  const earlier = row.attempt > 1 ? await earlierLogs(db, callId) : { items: [], truncated: false };
  const { items, truncated } = appendLogs(earlier, run.logs, run.logsTruncated);

  if (!run.ok && run.retryable && row.attempt <= row.maxRetries) {
    const delay = backoffSeconds(env, row.attempt);
    const due = Date.now() + delay * 1000;
    if (keepsOutput(fn)) {
      items.push({
        timestamp: Date.now(),
        level: "warn",
        message: `[edgefn] attempt ${row.attempt} failed (${run.error}); retrying in ${delay} s`,
      });
    }
    await db.batch([
      db
        .update(calls)
        .set({
          status: "queued",
          attempt: row.attempt + 1,
          error: run.errorDetail,
          scheduledAt: due,
          startedAt: null,
          deadlineAt: null,
          durationMs: run.durationMs,
        })
        .where(eq(calls.id, callId)),
      db
        .insert(callLogs)
        .values({ callId, items, truncated })
        .onConflictDoUpdate({ target: callLogs.callId, set: { items, truncated } }),
    ]);
    await enqueueCall(env, callId, due);
    return;
  }
  if (!run.ok && run.retryable && run.errorDetail) {
    const why = `gave up after ${row.attempt} attempt${row.attempt === 1 ? "" : "s"}`;
    run.errorDetail = { ...run.errorDetail, message: `${run.errorDetail.message} (${why})` };
    run.error = `${run.errorDetail.name}: ${run.errorDetail.message}`;
    await recordExecution(db, env, row as CallRow, run, { items, truncated });
    await env.DEAD_LETTERS.send({ type: "call", callId, reason: run.error });
    raiseEvent(ctx, { kind: "execution", fn, call: row }, "update");
    return;
  }
  await recordExecution(db, env, row as CallRow, run, { items, truncated });
  raiseEvent(ctx, { kind: "execution", fn, call: row }, "update");
}

/** The earlier attempts' logs followed by this attempt's, all within the per-call caps of lines and bytes. */
function appendLogs(
  earlier: { items: CallLogLine[]; truncated: boolean },
  lines: CallLogLine[],
  linesTruncated: boolean,
): { items: CallLogLine[]; truncated: boolean } {
  if (earlier.items.length === 0) return { items: [...lines], truncated: linesTruncated };
  if (earlier.truncated) return { items: [...earlier.items], truncated: true };
  const all = [...earlier.items, ...lines];
  const window = { from: 0, to: Date.now() };
  const { logs, logsTruncated } = checkLogs(all, linesTruncated, window);
  return { items: logs, truncated: logsTruncated };
}

async function earlierLogs(db: Db, callId: string): Promise<{ items: CallLogLine[]; truncated: boolean }> {
  const logs = await db.select().from(callLogs).where(eq(callLogs.callId, callId)).get();
  return logs ? { items: logs.items, truncated: logs.truncated } : { items: [], truncated: false };
}

/** A call job in the dead-letter queue: whatever state the call was left in, it ends as failed, saying why. */
export async function deadLetterCall(db: Db, callId: string, reason?: string): Promise<void> {
  const now = Date.now();
  await db
    .update(calls)
    .set({
      status: "failed",
      error: { name: "CallError", message: reason ?? "The call could not be run: its job failed repeatedly" },
      endedAt: now,
      deadlineAt: null,
    })
    .where(and(eq(calls.id, callId), eq(calls.status, "queued")));
}
