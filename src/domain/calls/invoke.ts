import { and, eq, lt } from "drizzle-orm";
import { sha256Hex } from "../../lib/crypto";
import { ApiError, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { LIMITS } from "../../lib/limits";
import { argsKeyOf } from "../../storage/objects";
import { type CallRow, calls } from "../../storage/schema";
import { raiseEvent } from "../compat/appwrite/events";
import { requireRole, type ServiceContext, seesFunction, workspaceOfUse } from "../context";
import { violations } from "../json-schemas";
import { BudgetExceeded, type CallTree, chargeTree } from "./budget";
import { enqueueCall } from "./enqueue";
import { keptOutcome } from "./kept";
import type { CallOutcome } from "./outcome";
import { type CallRequest, executeCall, LOST_GRACE_MS, timeoutOf } from "./pipeline";
import { byteLength, INLINE_BYTES, type NewCall, readResult, recordAfterAnswer, recordExecution } from "./record";
import { refusal, refusedOutcome } from "./refusal";
import { callWorkspace, liveFunction, versionToRun } from "./target";

/**
 * Invoking a function: the API's invoke, ctx.client's and the compatibility surfaces' calls. A synchronous call
 * goes through the pipeline (target -> isolate -> record after the answer); an async call is recorded and queued
 * (the queue consumer runs it through the same pipeline); an idempotent one claims its key first.
 */

export interface InvokeInput {
  args?: unknown;
  versionId?: string;
  /** Queue the call and answer at once with its id (202). */
  async?: boolean;
  /** Run an async call no earlier than this (epoch ms). */
  scheduledAt?: number;
  /** The same key within 24 h answers with the same call, which runs once. */
  idempotencyKey?: string;
  /** How many calls deep this one is made through ctx.client (0: from outside). Set by the host only. */
  depth?: number;
  /** The call tree a call made through ctx.client belongs to (host state, shared by the tree's calls). */
  tree?: CallTree;
  /** Answer only once the call's record is written, so it can be read back at once (the compatibility surfaces). */
  recorded?: boolean;
  /** The HTTP request the call stands for (an Appwrite execution's), kept with its record: no credential in it. */
  request?: { method: string; path: string; headers: Record<string, string> };
}

export interface QueuedCall {
  callId: string;
  status: CallRow["status"];
  queued: true;
  replayed: boolean;
}

export type Replayable<T> = T & { replayed?: boolean };

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Checks the caller, the function, the version and the args: everything a call needs before it runs. */
export async function prepareCall(ctx: ServiceContext, functionId: string, input: InvokeInput): Promise<CallRequest> {
  const entry = await liveFunction(ctx.db, functionId, ctx.now);
  if (!entry || !seesFunction(ctx, entry.fn)) throw notFound("function", functionId);
  requireRole(ctx, "invoker", "invoke functions", workspaceOfUse(ctx, entry.fn));
  const version = await versionToRun(ctx.db, entry.fn, entry.version, input.versionId);

  const args = input.args ?? null;
  const argsJson = JSON.stringify(args);
  if (byteLength(argsJson) > LIMITS.argsBytes) {
    throw new ApiError("payload_too_large", `args are larger than ${LIMITS.argsBytes} bytes`);
  }
  if (entry.fn.inputSchemaId) {
    const problems = await violations(ctx, entry.fn.inputSchemaId, args);
    if (problems.length > 0) {
      throw new ApiError("bad_request", `args do not match the function's input schema: ${problems.join("; ")}`, {
        violations: problems,
      });
    }
  }
  return {
    fn: entry.fn,
    version,
    args,
    argsJson,
    workspaceId: callWorkspace(ctx, entry.fn),
    depth: input.depth,
    tree: input.tree,
    nested: nestedInvoke,
  };
}

/** How a call made through ctx.client runs: an ordinary invoke, answered once its record is written. */
export async function nestedInvoke(ctx: ServiceContext, functionId: string, input: InvokeInput) {
  return invokeFunction(ctx, functionId, { ...input, recorded: true });
}

/** Runs one call, or queues it; a synchronous call's record is written after its answer (`ctx.defer`). */
export async function invokeFunction(
  ctx: ServiceContext,
  functionId: string,
  input: InvokeInput,
): Promise<Replayable<CallOutcome> | QueuedCall> {
  const p = await prepareCall(ctx, functionId, input);
  if (input.async || input.scheduledAt !== undefined || input.idempotencyKey !== undefined) {
    return claimedInvoke(ctx, p, input);
  }
  const callId = newId("call");
  let outcome: CallOutcome;
  try {
    if (p.tree) chargeTree(p.tree, p.depth ?? 0);
    outcome = await executeCall(ctx, p, callId);
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err;
    // A refused call is still a call: recorded, and answered 429 with its id.
    const refused = refusedOutcome(p, callId, err);
    await record(ctx, callRecord(ctx, p, refused, input), refused, input.recorded);
    throw refusal(err, callId);
  }
  const row = callRecord(ctx, p, outcome, input);
  await record(ctx, row, keptOutcome(p.fn, outcome), input.recorded);
  raiseCallEvents(ctx, p, row, input, ["create", "update"]);
  return outcome;
}

/** A call's execution events (not for a call made through ctx.client: see compat/appwrite/events). */
function raiseCallEvents(
  ctx: ServiceContext,
  p: CallRequest,
  row: NewCall,
  input: InvokeInput,
  actions: ("create" | "update")[],
) {
  if ((input.depth ?? 0) > 0) return;
  const call = { id: row.id, trigger: row.trigger, createdBy: row.createdBy ?? null };
  for (const action of actions) raiseEvent(ctx, { kind: "execution", fn: p.fn, call }, action);
}

/** Records a synchronous call after its answer, or before it when the caller must be able to read it back at once. */
async function record(ctx: ServiceContext, row: NewCall, outcome: CallOutcome, now?: boolean) {
  const recording = recordAfterAnswer(ctx.env, row, outcome, now);
  if (now) await recording.written;
  else if (recording.owner) ctx.defer(recording.written);
}

/** The call row of a finished synchronous call. */
function callRecord(ctx: ServiceContext, p: CallRequest, outcome: CallOutcome, input: InvokeInput): NewCall {
  return {
    id: outcome.callId,
    functionId: p.fn.id,
    workspaceId: p.workspaceId,
    versionId: outcome.versionId,
    status: outcome.status,
    trigger: "api",
    createdAt: outcome.startedAt,
    argsSize: byteLength(p.argsJson),
    createdBy: ctx.principal.keyId,
    ...requestFields(input),
  };
}

/** The record's fields of the request a call stands for. */
const requestFields = (input: InvokeInput) =>
  input.request
    ? { httpMethod: input.request.method, httpPath: input.request.path, requestHeaders: input.request.headers }
    : {};

/**
 * Async and idempotent calls: the call row is written first (holding the idempotency key, unique per function),
 * so a duplicate finds it instead of running again.
 */
async function claimedInvoke(
  ctx: ServiceContext,
  p: CallRequest,
  input: InvokeInput,
): Promise<Replayable<CallOutcome> | QueuedCall> {
  const isAsync = input.async === true || input.scheduledAt !== undefined;
  const callId = newId("call");
  const now = Date.now();
  // What the request asked for: a reuse of its idempotency key must ask for the same.
  const requestHash =
    input.idempotencyKey === undefined
      ? null
      : await sha256Hex(JSON.stringify([p.argsJson, isAsync, input.scheduledAt ?? null, input.versionId ?? null]));
  const row: NewCall = {
    id: callId,
    functionId: p.fn.id,
    workspaceId: p.workspaceId,
    versionId: p.version.id,
    status: isAsync ? "queued" : "running",
    trigger: "api",
    maxRetries: isAsync ? (p.fn.maxRetries ?? LIMITS.maxRetries.default) : 0,
    createdAt: now,
    scheduledAt: input.scheduledAt ?? null,
    startedAt: isAsync ? null : now,
    deadlineAt: isAsync ? null : now + timeoutOf(p.fn) + LOST_GRACE_MS,
    argsSize: byteLength(p.argsJson),
    idempotencyKey: input.idempotencyKey ?? null,
    requestHash,
    createdBy: ctx.principal.keyId,
    ...requestFields(input),
  };
  if (isAsync) {
    // Large args are stored once the row holds the idempotency key: a replay or a refusal leaves no object behind.
    if (byteLength(p.argsJson) > INLINE_BYTES) row.argsKey = argsKeyOf(callId);
    else row.args = p.argsJson;
  }

  const claimed = await claim(ctx, row);
  if (claimed !== null && claimed.requestHash !== null && claimed.requestHash !== requestHash) {
    throw new ApiError(
      "unprocessable",
      "This Idempotency-Key was used with other args or options within the last 24 hours: use a new key",
    );
  }
  if (claimed !== null) {
    // Somebody else's call holds this key: answer with it, without running anything.
    if (isAsync) return { callId: claimed.id, status: claimed.status, queued: true, replayed: true };
    return { ...(await finishedOutcome(ctx, claimed, timeoutOf(p.fn) + LOST_GRACE_MS)), replayed: true };
  }
  if (isAsync) {
    if (row.argsKey) await ctx.env.CODE.put(row.argsKey, p.argsJson);
    await enqueueCall(ctx.env, callId, input.scheduledAt);
    raiseCallEvents(ctx, p, row, input, ["create"]);
    return { callId, status: "queued", queued: true, replayed: false };
  }
  let outcome: CallOutcome;
  try {
    outcome = await executeCall(ctx, p, callId);
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err;
    await recordExecution(ctx.db, ctx.env, row, refusedOutcome(p, callId, err));
    throw refusal(err, callId);
  }
  // Duplicates are waiting on this row: write it before answering.
  await recordExecution(ctx.db, ctx.env, row, keptOutcome(p.fn, outcome));
  raiseCallEvents(ctx, p, row, input, ["create", "update"]);
  return outcome;
}

/** Inserts the row unless its idempotency key is taken; returns the holder of the key, or null when inserted. */
async function claim(ctx: ServiceContext, row: NewCall): Promise<CallRow | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const inserted = await ctx.db.insert(calls).values(row).onConflictDoNothing().returning({ id: calls.id });
    if (inserted.length > 0 || row.idempotencyKey == null) return null;
    const holder = await ctx.db
      .select()
      .from(calls)
      .where(and(eq(calls.functionId, row.functionId), eq(calls.idempotencyKey, row.idempotencyKey)))
      .get();
    if (!holder) continue; // deleted meanwhile: try again
    if (holder.createdAt > row.createdAt - IDEMPOTENCY_WINDOW_MS) return holder;
    // Older than the window: the key is free again.
    await ctx.db
      .update(calls)
      .set({ idempotencyKey: null })
      .where(and(eq(calls.id, holder.id), lt(calls.createdAt, row.createdAt - IDEMPOTENCY_WINDOW_MS)));
  }
  throw conflict("The idempotency key is in use by a call being changed; retry");
}

/** Waits (polling the record) until the call is over, then gives its outcome as its first caller got it. */
async function finishedOutcome(ctx: ServiceContext, call: CallRow, waitMs: number): Promise<CallOutcome> {
  const deadline = Date.now() + waitMs;
  let row: CallRow | undefined = call;
  while (row && (row.status === "queued" || row.status === "running") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    row = await ctx.db.select().from(calls).where(eq(calls.id, call.id)).get();
  }
  if (!row) throw notFound("call", call.id);
  if (row.status === "queued" || row.status === "running") {
    throw conflict(`Call ${row.id} with this idempotency key is still ${row.status}`);
  }
  const ok = row.status === "completed";
  const result = ok ? await readResult(ctx.env, row) : undefined;
  const e = row.error;
  const startedAt = row.startedAt ?? row.createdAt;
  return {
    callId: row.id,
    ok,
    ...(ok ? { result } : {}),
    resultJson: null,
    error: e ? `${e.name}: ${e.message}` : ok ? null : `Error: the call was ${row.status}`,
    errorDetail: e ?? null,
    status: row.status === "completed" || row.status === "timeout" ? row.status : "failed",
    versionId: row.versionId ?? "",
    startedAt,
    endedAt: row.endedAt ?? startedAt,
    durationMs: row.durationMs ?? 0,
    logs: [],
    logsTruncated: false,
    retryable: false,
  };
}
