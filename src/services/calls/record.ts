import { and, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../../db/client";
import { type CallLogLine, type CallRow, callLogs, calls, functions } from "../../db/schema";
import type { Env } from "../../env";
import type { Execution } from "../invoke";

export type NewCall = typeof calls.$inferInsert;

/** lastCalledAt is kept to within this many ms. */
const LAST_CALLED_RESOLUTION_MS = 1_000;

/** Results and args up to this size live in the call row; larger ones in R2. */
export const INLINE_BYTES = 64 * 1024;

const encoder = new TextEncoder();
export const byteLength = (text: string) => encoder.encode(text).byteLength;

export const resultKeyOf = (callId: string) => `results/${callId}`;
export const argsKeyOf = (callId: string) => `args/${callId}`;
/** R2 objects a call owns (its own args and result); a scheduled call's args belong to its schedule. */
export const ownedByCall = (key: string | null | undefined): key is string =>
  !!key && (key.startsWith("args/") || key.startsWith("results/"));

type Logs = { items: CallLogLine[]; truncated: boolean };

/** The statements that record one finished run (after its large result, if any, is in R2). */
async function recordStatements(db: Db, env: Env, row: NewCall, run: Execution, logs: Logs) {
  let result: string | null = null;
  let resultKey: string | null = null;
  const resultSize = run.resultJson === null ? null : byteLength(run.resultJson);
  if (run.resultJson !== null && resultSize !== null) {
    if (resultSize > INLINE_BYTES) {
      resultKey = resultKeyOf(run.callId);
      await env.CODE.put(resultKey, run.resultJson);
    } else result = run.resultJson;
  }
  const outcome = {
    status: run.status,
    versionId: run.versionId,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationMs: run.durationMs,
    deadlineAt: null,
    error: run.errorDetail,
    result,
    resultKey,
    resultSize,
    args: null,
    argsKey: null,
  } satisfies Partial<NewCall>;
  if (ownedByCall(row.argsKey)) await env.CODE.delete(row.argsKey);
  const statements: BatchItem<"sqlite">[] = [
    db
      .insert(calls)
      .values({ ...row, ...outcome })
      // A call the sweeper already ended (lost) or that was canceled keeps that ending.
      .onConflictDoUpdate({ target: calls.id, set: outcome, setWhere: sql`${calls.status} IN ('queued', 'running')` }),
  ];
  if (logs.items.length > 0 || logs.truncated) {
    statements.push(
      db
        .insert(callLogs)
        .values({ callId: run.callId, items: logs.items, truncated: logs.truncated })
        .onConflictDoUpdate({ target: callLogs.callId, set: { items: logs.items, truncated: logs.truncated } }),
    );
  }
  return statements;
}

/** lastCalledAt, written at most once a second per function: a busy function does not rewrite its row per call. */
function lastCalled(db: Db, functionId: string, at: number): BatchItem<"sqlite"> {
  return db
    .update(functions)
    .set({ lastCalledAt: at })
    .where(
      and(eq(functions.id, functionId), sql`IFNULL(${functions.lastCalledAt}, 0) < ${at - LAST_CALLED_RESOLUTION_MS}`),
    );
}

/**
 * Writes a finished run now: the call row (inserted, or updated when it was written before it ran), its logs and
 * the function's lastCalledAt, in one D1 batch. A large result goes to R2 first.
 */
export async function recordExecution(
  db: Db,
  env: Env,
  row: NewCall,
  run: Execution,
  logs: Logs = { items: run.logs, truncated: run.logsTruncated },
): Promise<void> {
  const statements = await recordStatements(db, env, row, run, logs);
  await db.batch([...statements, lastCalled(db, row.functionId, run.startedAt)] as [BatchItem<"sqlite">]);
}

/** Records wait this long to be written together with the records of the calls that end meanwhile. */
const FLUSH_AFTER_MS = 10;
/** At most this many records in one D1 batch. */
const FLUSH_MAX = 50;

interface PendingRecord {
  row: NewCall;
  run: Execution;
}

let pending: PendingRecord[] = [];
let flushing: Promise<void> | null = null;

/**
 * Records a synchronous call after its answer: the records of calls ending within a few milliseconds of each
 * other in this isolate go to D1 in one batch, with one lastCalledAt write per function. The promise (for
 * waitUntil) settles when this call's record is written.
 */
export function recordAfterAnswer(db: Db, env: Env, row: NewCall, run: Execution): Promise<void> {
  pending.push({ row, run });
  if (pending.length >= FLUSH_MAX) return flush(db, env);
  if (!flushing) {
    flushing = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_AFTER_MS)).then(() => flush(db, env));
  }
  return flushing;
}

async function flush(db: Db, env: Env): Promise<void> {
  const records = pending;
  pending = [];
  flushing = null;
  if (records.length === 0) return;
  const statements = (
    await Promise.all(
      records.map(({ row, run }) =>
        recordStatements(db, env, row, run, { items: run.logs, truncated: run.logsTruncated }),
      ),
    )
  ).flat();
  const latest = new Map<string, number>();
  for (const { row, run } of records) {
    latest.set(row.functionId, Math.max(latest.get(row.functionId) ?? 0, run.startedAt));
  }
  for (const [functionId, at] of latest) statements.push(lastCalled(db, functionId, at));
  await db.batch(statements as [BatchItem<"sqlite">]);
}

/** The result a finished call returned (from its row or R2). */
export async function readResult(env: Env, row: Pick<CallRow, "result" | "resultKey">): Promise<unknown> {
  if (row.result !== null) return JSON.parse(row.result);
  if (row.resultKey) {
    const object = await env.CODE.get(row.resultKey);
    if (object) return JSON.parse(await object.text());
  }
  return null;
}

/** The args an async call was queued with. */
export async function readArgs(env: Env, row: Pick<CallRow, "args" | "argsKey">): Promise<unknown> {
  if (row.args !== null) return JSON.parse(row.args);
  if (row.argsKey) {
    const object = await env.CODE.get(row.argsKey);
    if (object) return JSON.parse(await object.text());
    throw new Error(`The args of this call are missing (${row.argsKey})`);
  }
  return null;
}
