import { and, eq, sql } from "drizzle-orm";
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

/**
 * Writes a finished run: the call row (inserted, or updated when it was written before it ran), its logs and
 * the function's lastCalledAt, in one D1 batch. A large result goes to R2 first.
 */
export async function recordExecution(
  db: Db,
  env: Env,
  row: NewCall,
  run: Execution,
  logs: { items: CallLogLine[]; truncated: boolean } = { items: run.logs, truncated: run.logsTruncated },
): Promise<void> {
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

  const writes = [
    db
      .insert(calls)
      .values({ ...row, ...outcome })
      .onConflictDoUpdate({ target: calls.id, set: outcome }),
    db
      .update(functions)
      .set({ lastCalledAt: run.startedAt })
      // At most one write a second per function: a busy function does not rewrite its row on every call.
      .where(
        and(
          eq(functions.id, row.functionId),
          sql`IFNULL(${functions.lastCalledAt}, 0) < ${run.startedAt - LAST_CALLED_RESOLUTION_MS}`,
        ),
      ),
  ] as const;
  if (logs.items.length === 0 && !logs.truncated) {
    await db.batch([...writes]);
    return;
  }
  await db.batch([
    ...writes,
    db
      .insert(callLogs)
      .values({ callId: run.callId, items: logs.items, truncated: logs.truncated })
      .onConflictDoUpdate({ target: callLogs.callId, set: { items: logs.items, truncated: logs.truncated } }),
  ]);
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
