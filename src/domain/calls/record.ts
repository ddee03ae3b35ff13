import { and, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Env } from "../../env";
import { storableHeaders } from "../../lib/credentials";
import { journalFlush } from "../../runtime/journal";
import { existingFunctions, insertRows, touchLastCalled } from "../../storage/bulk";
import type { Db } from "../../storage/db";
import { ownedByCall, resultKeyOf } from "../../storage/objects";
import { type CallLogLine, type CallRow, callLogs, calls, functions } from "../../storage/schema";
import { responseOfResult } from "./kept";
import type { CallOutcome } from "./outcome";

export type NewCall = typeof calls.$inferInsert;

/** lastCalledAt is kept to within this many ms. */
const LAST_CALLED_RESOLUTION_MS = 1_000;

/** Results and args up to this size live in the call row; larger ones in R2. */
export const INLINE_BYTES = 64 * 1024;

const encoder = new TextEncoder();
export const byteLength = (text: string) => encoder.encode(text).byteLength;

type Logs = { items: CallLogLine[]; truncated: boolean };

/** What a finished run adds to its call row (after its large result, if any, is in R2). */
async function outcomeOf(env: Env, row: NewCall, run: CallOutcome) {
  let result: string | null = null;
  let resultKey: string | null = null;
  const resultSize = run.resultJson === null ? null : byteLength(run.resultJson);
  if (run.resultJson !== null && resultSize !== null) {
    if (resultSize > INLINE_BYTES) {
      resultKey = resultKeyOf(run.callId);
      await env.CODE.put(resultKey, run.resultJson);
    } else result = run.resultJson;
  }
  if (ownedByCall(row.argsKey)) await env.CODE.delete(row.argsKey);
  // An Appwrite-style answer: its status and headers are kept in columns of their own (they outlive the result).
  const response = responseOfResult(run.result);
  return {
    ...(response
      ? { httpStatus: response.statusCode, responseHeaders: storableHeaders(response.headers, env.EDGEFN_ADMIN_KEY) }
      : {}),
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
}

const hasLogs = (logs: Logs) => logs.items.length > 0 || logs.truncated;

/** The statements that record one finished run, updating its row when it was written before it ran. */
async function recordStatements(db: Db, env: Env, row: NewCall, run: CallOutcome, logs: Logs) {
  const outcome = await outcomeOf(env, row, run);
  const statements: BatchItem<"sqlite">[] = [
    db
      .insert(calls)
      .values({ ...row, ...outcome })
      // A call the sweeper already ended (lost) or that was canceled keeps that ending.
      .onConflictDoUpdate({ target: calls.id, set: outcome, setWhere: sql`${calls.status} IN ('queued', 'running')` }),
  ];
  if (hasLogs(logs)) {
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
  run: CallOutcome,
  logs: Logs = { items: run.logs, truncated: run.logsTruncated },
): Promise<void> {
  try {
    await writeExecution(db, env, row, run, logs);
  } catch (cause) {
    // Whatever the call put in its record, the call is not left without one.
    const stripped = bare({ row, run }, cause);
    await writeExecution(db, env, stripped.row, stripped.run, { items: [], truncated: true });
  }
}

async function writeExecution(db: Db, env: Env, row: NewCall, run: CallOutcome, logs: Logs): Promise<void> {
  const statements = await recordStatements(db, env, row, run, logs);
  // A call that ends after its function was purged must not come back: the purge deleted the function's calls,
  // and this record would be a row (and logs) of a function that no longer exists. Last in the batch, these take
  // such rows back; a purge that comes later deletes the rows itself.
  const takeBack = db
    .delete(calls)
    .where(
      and(
        eq(calls.id, run.callId),
        sql`NOT EXISTS (SELECT 1 FROM ${functions} WHERE ${functions.id} = ${calls.functionId})`,
      ),
    );
  const takeBackLogs = db
    .delete(callLogs)
    .where(
      and(eq(callLogs.callId, run.callId), sql`NOT EXISTS (SELECT 1 FROM ${calls} WHERE ${calls.id} = ${run.callId})`),
    );
  statements.push(lastCalled(db, row.functionId, run.startedAt), takeBack, takeBackLogs);
  await db.batch(statements as [BatchItem<"sqlite">]);
  const big = run.resultJson !== null && byteLength(run.resultJson) > INLINE_BYTES;
  await dropResultsOfPurged(env, [{ functionId: row.functionId, resultKey: big ? resultKeyOf(run.callId) : null }]);
}

/** The large results of calls not kept (their function is gone) go too. */
async function dropResultsOfPurged(env: Env, records: { functionId: string; resultKey: string | null }[]) {
  const keyed = records.filter((r) => r.resultKey !== null);
  if (keyed.length === 0) return;
  const alive = await existingFunctions(
    env.DB,
    keyed.map((r) => r.functionId),
  );
  const gone = keyed.filter((r) => !alive.has(r.functionId)).map((r) => r.resultKey as string);
  if (gone.length > 0) await env.CODE.delete(gone);
}

/**
 * Records wait this long to be written together with the records of calls that end meanwhile: one D1 batch then
 * writes them all, so a steady stream of calls (even one at a time) pays for one write every few dozen calls, not
 * one per call. A reader of calls in this isolate writes what waits at once and waits for the writes under way
 * (`recordsWritten`), so a call is read back as soon as it was answered, without waiting out the window.
 */
const FLUSH_AFTER_MS = 40;
/** Past this many waiting records, the next one writes them at once (bounds what waits in memory). */
const MAX_PENDING = 200;

interface PendingRecord {
  row: NewCall;
  run: CallOutcome;
}

/** Records waiting for the next write, and that write (null: none scheduled yet). */
let pending: PendingRecord[] = [];
let next: Promise<void> | null = null;
/** Writes under way in this isolate (what a reader waits for). */
const writes = new Set<Promise<void>>();

export interface Recording {
  /** Settles when this call's record is written (or its failure logged: it never rejects). */
  written: Promise<void>;
  /**
   * This call's request scheduled the write and must keep it alive (`waitUntil(written)`); the records of calls
   * ending meanwhile ride along in it. Holding every request open until the shared write is over would cost
   * throughput for nothing. The write runs in the scheduling request's context and depends on no other request's
   * promise: a continuation of a request that has ended may never run.
   */
  owner: boolean;
}

/**
 * Records a synchronous call after its answer. Records go to D1 in bulk: every call that ends within
 * FLUSH_AFTER_MS of the first one waiting is in the same write, one D1 batch with one lastCalledAt update per
 * function. `now`: the caller must be able to read the call back at once (it is written now, with those waiting).
 */
export function recordAfterAnswer(env: Env, row: NewCall, run: CallOutcome, now = false): Recording {
  pending.push({ row, run });
  if (now || pending.length >= MAX_PENDING) {
    // Written in this request's context, with every record waiting; a scheduled write finds fewer or none.
    const records = pending;
    pending = [];
    return { written: track(flush(env, records)), owner: true };
  }
  if (next) return { written: next, owner: false };
  // What waits when the window ends (a reader may have written it already: then nothing).
  next = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_AFTER_MS)).then(() => {
    const records = pending;
    pending = [];
    next = null;
    return records.length > 0 ? track(flush(env, records)) : undefined;
  });
  return { written: next, owner: true };
}

/**
 * Settles when every record that was waiting or being written in this isolate when it was asked is written: what
 * waits is written now, in the reader's request (a reader does not wait out the window), which `keep` keeps alive
 * until it is written (`waitUntil`: a reader that goes away must not take other calls' records with it).
 */
export function recordsWritten(env: Env, keep: (write: Promise<void>) => void): Promise<void> {
  if (pending.length > 0) {
    const records = pending;
    pending = [];
    keep(track(flush(env, records)));
  }
  return writes.size === 0 ? Promise.resolve() : Promise.all(writes).then(() => {});
}

function track(write: Promise<void>): Promise<void> {
  writes.add(write);
  void write.finally(() => writes.delete(write));
  return write;
}

function flush(env: Env, records: PendingRecord[]): Promise<void> {
  return writeRecords(env, records)
    .then(() => journalFlush(env))
    .catch((err: unknown) =>
      // Nobody waits on this answer any more: the operators' log is where a lost record is told.
      console.error(
        JSON.stringify({
          error: "could not record calls",
          callIds: records.map((r) => r.run.callId),
          cause: String(err),
        }),
      ),
    );
}

/**
 * Writes the records of calls that ended together. They go as one batch; if the batch fails, each record is
 * written on its own, so one record that cannot be written (whatever its call put in it) never costs the others
 * theirs; a record that still fails is written without its logs and result, saying so.
 */
async function writeRecords(env: Env, records: PendingRecord[]): Promise<void> {
  if (records.length === 0) return;
  try {
    await writeBatch(env, records);
  } catch (err) {
    for (const record of records) {
      try {
        if (records.length > 1) await writeBatch(env, [record]);
        else throw err;
      } catch (cause) {
        await writeBatch(env, [bare(record, cause)]);
      }
    }
  }
}

/** A record stripped to what cannot fail: status, times and a platform error that says what was lost. */
function bare({ row, run }: PendingRecord, cause: unknown): PendingRecord {
  console.error(JSON.stringify({ error: "could not record a call in full", callId: run.callId, cause: String(cause) }));
  const message = "The call's logs and result could not be stored";
  return {
    row: { ...row, argsKey: null },
    run: {
      ...run,
      logs: [],
      logsTruncated: true,
      resultJson: null,
      errorDetail: run.errorDetail
        ? { name: String(run.errorDetail.name).slice(0, 200), message: String(run.errorDetail.message).slice(0, 1000) }
        : { name: "RecordError", message, code: "record_incomplete" },
      status: run.status,
    },
  };
}

/**
 * The lastCalledAt this isolate last wrote per function: it only grows, so a record batch within the resolution
 * of it leaves out the function's update (one statement less per batch for a function called often).
 */
const touched = new Map<string, number>();

async function writeBatch(env: Env, records: PendingRecord[]): Promise<void> {
  // These calls were never written before they ran: new rows, inserted in bulk. A call whose function was purged
  // while it ran is not written: the purge deleted the function's calls, and this one must not come back.
  const rows = await Promise.all(
    records.map(async ({ row, run }) => ({ ...row, ...(await outcomeOf(env, row, run)) })),
  );
  const logRows = records
    .filter(({ run }) => hasLogs({ items: run.logs, truncated: run.logsTruncated }))
    .map(({ run }) => ({ callId: run.callId, items: run.logs, truncated: run.logsTruncated }));
  // A call whose function was purged while it ran is not written; nor are the logs of a call not written.
  const statements = [
    ...insertRows(env.DB, calls, rows, "EXISTS (SELECT 1 FROM functions f WHERE f.id = j.value ->> 'function_id')"),
    ...insertRows(env.DB, callLogs, logRows, "EXISTS (SELECT 1 FROM calls c WHERE c.id = j.value ->> 'call_id')"),
  ];
  const latest = new Map<string, number>();
  for (const { row, run } of records) {
    const at = Math.max(latest.get(row.functionId) ?? 0, run.startedAt);
    // Written by this isolate within the resolution: the statement's own condition would leave the row as it is.
    if (at - (touched.get(row.functionId) ?? 0) >= LAST_CALLED_RESOLUTION_MS) latest.set(row.functionId, at);
  }
  statements.push(...touchLastCalled(env.DB, latest, LAST_CALLED_RESOLUTION_MS));
  await env.DB.batch(statements);
  if (touched.size > 10_000) touched.clear();
  for (const [functionId, at] of latest) touched.set(functionId, at);
  await dropResultsOfPurged(env, rows);
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
