import { and, eq, lt } from "drizzle-orm";
import { sha256Hex } from "../../lib/crypto";
import { ApiError, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { LIMITS } from "../../lib/limits";
import type { InvokeOutcome } from "../../runtime/entry";
import { JournalTarget, journalEnabled, journalEnd } from "../../runtime/journal";
import { functionIsolate } from "../../runtime/loader";
import { type CheckedOutcome, checkLogs, checkOutcome } from "../../runtime/outcome";
import { type CallRow, calls, type FunctionRow, type VersionRow } from "../../storage/schema";
import { enqueueCall } from "../calls/queue";
import {
  byteLength,
  INLINE_BYTES,
  type NewCall,
  readResult,
  recordAfterAnswer,
  recordExecution,
} from "../calls/record";
import { requireRole, type ServiceContext, seesFunction } from "../context";
import { violations } from "../json-schemas";
import { admit, BudgetExceeded, type CallTree, chargeTree, newTree } from "./budget";
import { functionForInvoke, versionForInvoke } from "./cache";
import { closeClient, openClient } from "./client";

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
}

export type FinishedStatus = "completed" | "failed" | "timeout";

export interface ErrorDetail {
  name: string;
  message: string;
  /** The user's frames only; never present for errors raised by the platform. */
  stack?: string;
  code?: string;
}

export interface InvokeResult {
  callId: string;
  ok: boolean;
  result?: unknown;
  /** "Name: message", as seed 004's invoke answers. */
  error: string | null;
  errorDetail: ErrorDetail | null;
  status: FinishedStatus;
  durationMs: number;
  versionId: string;
}

/** What one run of a call in its isolate produced: the answer plus what the call record keeps. */
export interface Execution extends InvokeResult {
  /** The result as JSON text (the record stores it as is). */
  resultJson: string | null;
  startedAt: number;
  endedAt: number;
  logs: InvokeOutcome["logs"];
  logsTruncated: boolean;
  /** The function marked the error retryable, or the platform caused the failure. */
  retryable: boolean;
}

export interface QueuedCall {
  callId: string;
  status: CallRow["status"];
  queued: true;
  replayed: boolean;
}

export type Replayable<T> = T & { replayed?: boolean };

/** How long after its timeout a running call is given before the sweeper calls it lost. */
export const LOST_GRACE_MS = 60_000;
const TIMED_OUT = Symbol("timeout");
const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface Prepared {
  fn: FunctionRow;
  version: VersionRow;
  args: unknown;
  argsJson: string;
  /** More for ctx.call: a scheduled call's scheduleId and scheduledTime. */
  call?: Record<string, string>;
  /** The workspace the call belongs to: the function's, or for a system function the caller's. */
  workspaceId: string;
  /** How deep the call is made through ctx.client, and the budget of its call tree (host state). */
  depth?: number;
  tree?: CallTree;
  /** How the call was made, and whether it is an async call (its row exists; a lost one is sent again). */
  trigger?: string;
  async?: boolean;
}

/** The workspace a call of this function by this key belongs to: a system function's calls are their caller's. */
export function callWorkspace(ctx: Pick<ServiceContext, "principal">, fn: Pick<FunctionRow, "system" | "workspaceId">) {
  return fn.system && ctx.principal.workspaceId !== null ? ctx.principal.workspaceId : fn.workspaceId;
}

/** Checks the key, the function, the version and the args; everything a call needs before it runs. */
export async function prepare(ctx: ServiceContext, functionId: string, input: InvokeInput): Promise<Prepared> {
  requireRole(ctx, "invoker", "invoke functions");
  const entry = await functionForInvoke(ctx.db, functionId, ctx.now);
  if (!entry || entry.fn.deletedAt !== null || !seesFunction(ctx, entry.fn)) {
    throw notFound("function", functionId);
  }
  const { fn } = entry;

  let version = entry.version;
  if (input.versionId !== undefined && input.versionId !== version?.id) {
    const pinned = await versionForInvoke(ctx.db, input.versionId);
    if (!pinned || pinned.functionId !== fn.id) throw notFound("version", input.versionId);
    version = pinned;
  }
  if (!version) throw conflict(`Function ${functionId} has no ready version yet: upload one and wait for its build`);
  if (version.status !== "ready") throw conflict(`Version ${version.id} is ${version.status}, not ready`);

  const args = input.args ?? null;
  const argsJson = JSON.stringify(args);
  if (byteLength(argsJson) > LIMITS.argsBytes) {
    throw new ApiError("payload_too_large", `args are larger than ${LIMITS.argsBytes} bytes`);
  }
  if (fn.inputSchemaId) {
    const problems = await violations(ctx, fn.inputSchemaId, args);
    if (problems.length > 0) {
      throw new ApiError("bad_request", `args do not match the function's input schema: ${problems.join("; ")}`, {
        violations: problems,
      });
    }
  }
  return { fn, version, args, argsJson, workspaceId: callWorkspace(ctx, fn), depth: input.depth, tree: input.tree };
}

/**
 * Runs one call. A plain synchronous call is: the cached function and version, the loader's warm isolate, one
 * RPC; its record and logs are written after the answer (`waitUntil`). An async call is recorded and queued;
 * an idempotent one claims its key first.
 */
export async function invokeFunction(
  ctx: ServiceContext,
  functionId: string,
  input: InvokeInput,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<Replayable<InvokeResult> | QueuedCall> {
  const prepared = await prepare(ctx, functionId, input);
  if (input.async || input.scheduledAt !== undefined || input.idempotencyKey !== undefined) {
    return claimedInvoke(ctx, prepared, input);
  }
  const callId = newId("call");
  let run: Execution;
  try {
    if (prepared.tree) chargeTree(prepared.tree, prepared.depth ?? 0);
    run = await execute(ctx, prepared, callId);
  } catch (err) {
    if (err instanceof BudgetExceeded) throw await refuse(ctx, prepared, callId, err, waitUntil, input.recorded);
    throw err;
  }
  const recording = recordAfterAnswer(ctx.env, callRecord(ctx, prepared, run), run);
  if (input.recorded) await recording.written;
  else if (recording.owner) waitUntil(recording.written);
  return answer(run);
}

/**
 * A call refused for a budget is still a call: it is recorded (failed, with the reason) and answered 429 with its
 * id, so a caller that made too many calls finds each of them.
 */
async function refuse(
  ctx: ServiceContext,
  p: Prepared,
  callId: string,
  err: BudgetExceeded,
  waitUntil: (promise: Promise<unknown>) => void,
  recorded?: boolean,
): Promise<ApiError> {
  const now = Date.now();
  const run = refusedRun(p, callId, err, now);
  const recording = recordAfterAnswer(ctx.env, callRecord(ctx, p, run), run);
  if (recorded) await recording.written;
  else if (recording.owner) waitUntil(recording.written);
  return new ApiError("rate_limited", err.message, { ...(err.details as object), callId });
}

/** The record of a call refused before it ran. */
export function refusedRun(p: Pick<Prepared, "version">, callId: string, err: BudgetExceeded, now: number): Execution {
  const errorDetail = { name: "LimitError", message: err.message, code: err.reason };
  return {
    callId,
    ok: false,
    error: `LimitError: ${err.message}`,
    errorDetail,
    status: "failed",
    durationMs: 0,
    versionId: p.version.id,
    resultJson: null,
    startedAt: now,
    endedAt: now,
    logs: [],
    logsTruncated: false,
    retryable: err.reason === "concurrency",
  };
}

export const answer = (run: Execution): InvokeResult => ({
  callId: run.callId,
  ok: run.ok,
  ...(run.ok ? { result: run.result } : {}),
  error: run.error,
  errorDetail: run.errorDetail,
  status: run.status,
  durationMs: run.durationMs,
  versionId: run.versionId,
});

/** The call row of a finished synchronous run. */
function callRecord(ctx: ServiceContext, p: Prepared, run: Execution): NewCall {
  return {
    id: run.callId,
    functionId: p.fn.id,
    workspaceId: p.workspaceId,
    versionId: run.versionId,
    status: run.status,
    trigger: "api",
    createdAt: run.startedAt,
    argsSize: byteLength(p.argsJson),
    createdBy: ctx.principal.keyId,
  };
}

/**
 * Async and idempotent calls: the call row is written first (holding the idempotency key, unique per
 * function), so a duplicate finds it instead of running again.
 */
async function claimedInvoke(
  ctx: ServiceContext,
  p: Prepared,
  input: InvokeInput,
): Promise<Replayable<InvokeResult> | QueuedCall> {
  const isAsync = input.async === true || input.scheduledAt !== undefined;
  const callId = newId("call");
  const now = Date.now();
  const maxRetries = p.fn.maxRetries ?? LIMITS.maxRetries.default;
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
    maxRetries: isAsync ? maxRetries : 0,
    createdAt: now,
    scheduledAt: input.scheduledAt ?? null,
    startedAt: isAsync ? null : now,
    deadlineAt: isAsync ? null : now + timeoutOf(p.fn) + LOST_GRACE_MS,
    argsSize: byteLength(p.argsJson),
    idempotencyKey: input.idempotencyKey ?? null,
    requestHash,
    createdBy: ctx.principal.keyId,
  };
  if (isAsync) {
    if (byteLength(p.argsJson) > INLINE_BYTES) {
      // Stored once the row holds the idempotency key: a replay or a refusal leaves no object behind.
      row.argsKey = `args/${callId}`;
    } else row.args = p.argsJson;
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
    return { ...(await finishedAnswer(ctx, claimed, timeoutOf(p.fn) + LOST_GRACE_MS)), replayed: true };
  }
  if (isAsync) {
    if (row.argsKey) await ctx.env.CODE.put(row.argsKey, p.argsJson);
    await enqueueCall(ctx.env, callId, input.scheduledAt);
    return { callId, status: "queued", queued: true, replayed: false };
  }
  let run: Execution;
  try {
    run = await execute(ctx, p, callId);
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err;
    await recordExecution(ctx.db, ctx.env, row, refusedRun(p, callId, err, Date.now()));
    throw new ApiError("rate_limited", err.message, { ...(err.details as object), callId });
  }
  // Duplicates are waiting on this row: write it before answering.
  await recordExecution(ctx.db, ctx.env, row, run);
  return answer(run);
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

/** Waits (polling the record) until the call is over, then answers as its first caller was answered. */
async function finishedAnswer(ctx: ServiceContext, call: CallRow, waitMs: number): Promise<InvokeResult> {
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
  const result = row.status === "completed" ? await readResult(ctx.env, row) : undefined;
  const e = row.error;
  return {
    callId: row.id,
    ok: row.status === "completed",
    ...(row.status === "completed" ? { result } : {}),
    error: e ? `${e.name}: ${e.message}` : row.status === "completed" ? null : `Error: the call was ${row.status}`,
    errorDetail: e ?? null,
    status: row.status === "completed" || row.status === "timeout" ? row.status : "failed",
    durationMs: row.durationMs ?? 0,
    versionId: row.versionId ?? "",
  };
}

const timeoutOf = (fn: FunctionRow): number => fn.timeoutMs ?? LIMITS.timeoutMs.default;

/**
 * Runs the call in the function's isolate, within its timeout; never throws for what the user's code does (it
 * throws BudgetExceeded, before running anything, when the workspace has as many calls running as it may).
 * What the isolate answers is checked by the host (runtime/outcome): a malformed answer is a failed call.
 */
export async function execute(
  ctx: Pick<ServiceContext, "db" | "env">,
  p: Prepared,
  callId: string,
): Promise<Execution> {
  const release = admit(ctx.env, p.workspaceId);
  const client = openClient({
    env: ctx.env,
    db: ctx.db,
    functionId: p.fn.id,
    workspaceId: p.workspaceId,
    callId,
    depth: p.depth ?? 0,
    tree: p.tree ?? newTree(),
    invoke: (nested, functionId, input) => invokeFunction(nested, functionId, { ...input, recorded: true }, () => {}),
  });
  try {
    return await executeIn(ctx, p, callId, client);
  } finally {
    closeClient(client);
    release();
    journalEnd(ctx.env, callId);
  }
}

async function executeIn(
  ctx: Pick<ServiceContext, "db" | "env">,
  p: Prepared,
  callId: string,
  client: ReturnType<typeof openClient>,
): Promise<Execution> {
  const { fn, version } = p;
  const startedAt = Date.now();
  const timeoutMs = timeoutOf(fn);
  const isolate = functionIsolate(ctx.env, fn, version);
  const journal = journalEnabled(ctx.env)
    ? new JournalTarget(ctx.env, {
        id: callId,
        kind: "call",
        functionId: fn.id,
        workspaceId: p.workspaceId,
        versionId: version.id,
        trigger: p.trigger ?? "api",
        async: p.async === true,
        startedAt,
        timeoutMs,
      })
    : undefined;
  const running = isolate.invoke(p.args, {
    call: { functionId: fn.id, callId, ...p.call },
    client,
    ...(journal ? { journal } : {}),
  });
  let timer: number | undefined;
  const raw = await Promise.race([
    running.catch(
      (err: unknown): InvokeOutcome => ({
        ok: false,
        error: { ...isolateFailure(err, callId), retryable: isPlatformFailure(err) },
        logs: [],
        logsTruncated: false,
      }),
    ),
    new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs) as unknown as number;
    }),
  ]);
  if (timer !== undefined) clearTimeout(timer);
  const endedAt = Date.now();
  const window = { from: startedAt, to: endedAt };
  const base = { callId, durationMs: endedAt - startedAt, versionId: version.id, startedAt, endedAt };

  let outcome: CheckedOutcome | typeof TIMED_OUT = raw === TIMED_OUT ? raw : checkOutcome(raw, window);
  if (outcome === TIMED_OUT || (!outcome.ok && outcome.logs.length === 0 && outcome.error?.name === "HangError")) {
    // What the call logged before it was given up on.
    const taken = await isolate.takeLogs(callId).catch(() => ({ logs: [], logsTruncated: false }));
    const partial = checkLogs(taken?.logs, taken?.logsTruncated, window);
    if (outcome !== TIMED_OUT) {
      outcome = { ...outcome, ...partial };
    } else {
      const message = `The call did not finish within ${timeoutMs} ms`;
      return {
        ...base,
        ok: false,
        error: `TimeoutError: ${message}`,
        errorDetail: { name: "TimeoutError", message },
        status: "timeout",
        resultJson: null,
        ...partial,
        retryable: false,
      };
    }
  }
  const logs = { logs: outcome.logs, logsTruncated: outcome.logsTruncated };
  if (!outcome.ok || outcome.result === undefined) {
    const e = userError(outcome.error);
    return {
      ...base,
      ...logs,
      ok: false,
      error: `${e.name}: ${e.message}`,
      errorDetail: e,
      status: "failed",
      resultJson: null,
      retryable: outcome.error?.retryable === true,
    };
  }
  const result = outcome.value;
  if (fn.outputSchemaId) {
    const problems = await violations(ctx, fn.outputSchemaId, result);
    if (problems.length > 0) {
      const message = `The result does not match the function's output schema: ${problems.join("; ")}`;
      return {
        ...base,
        ...logs,
        ok: false,
        error: `InvalidResult: ${message}`,
        errorDetail: { name: "InvalidResult", message, code: "invalid_result" },
        status: "failed",
        resultJson: null,
        retryable: false,
      };
    }
  }
  return {
    ...base,
    ...logs,
    ok: true,
    result,
    resultJson: outcome.result,
    error: null,
    errorDetail: null,
    status: "completed",
    retryable: false,
  };
}

const MAX_ERROR_TEXT = 16 * 1024;
const clip = (text: string) => (text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text);

/**
 * An error as the user's code raised it, made safe to answer with: plain strings of bounded size, and a stack
 * without the frames of the platform's generated modules (`__edgefn/...`), which say nothing about the user's code.
 */
function userError(raw: InvokeOutcome["error"]): ErrorDetail {
  if (!raw) return { name: "Error", message: "unknown failure" };
  const detail: ErrorDetail = {
    name: clip(String(raw.name ?? "Error")).slice(0, 200) || "Error",
    message: clip(String(raw.message ?? "")),
  };
  if (typeof raw.stack === "string") {
    const lines = raw.stack.split("\n").filter((line) => !line.includes("__edgefn/"));
    // An error the platform raised in the isolate (ResultError, StretchLimitError) has no frame of the user's.
    if (lines.some((line) => /^\s+at /.test(line))) detail.stack = clip(lines.join("\n"));
  }
  const code: unknown = raw.code;
  if (typeof code === "string" || typeof code === "number") detail.code = String(code).slice(0, 200);
  return detail;
}

/**
 * The call failed outside the user's code's reach: the isolate could not be loaded or was ended. What the
 * runtime says about the user's isolate (a hang, a resource limit) is passed on; anything else comes from the
 * host (a missing bundle, a secret that will not decrypt) and stays in the operators' log.
 */
function isPlatformFailure(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return !/had hung and would never generate a response|exceeded (its )?(CPU|memory)/i.test(message);
}

function isolateFailure(err: unknown, callId: string): ErrorDetail {
  const message = err instanceof Error ? err.message : String(err);
  if (/had hung and would never generate a response/.test(message)) {
    return {
      name: "HangError",
      message:
        "The call awaits something that can never happen (a promise nothing will ever settle), so the runtime ended it",
    };
  }
  const limit = /exceeded (its )?(CPU|memory)[^.]*/i.exec(message);
  if (limit) return { name: "LimitError", message: `The runtime ended the isolate: it ${limit[0]}` };
  console.error(
    JSON.stringify({
      callId,
      error: "isolate failure",
      cause: err instanceof Error ? (err.stack ?? message) : message,
    }),
  );
  return { name: "PlatformError", message: `The platform could not run this call (callId ${callId})` };
}
