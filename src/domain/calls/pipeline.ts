import { LIMITS } from "../../lib/limits";
import type { InvokeOutcome } from "../../runtime/entry";
import { type JournalEntry, journalBegin, journalEnd, PYTHON_STALL_MS } from "../../runtime/journal";
import { type CheckedOutcome, checkLogs, checkOutcome } from "../../runtime/outcome";
import { isPythonEntry } from "../../runtime/python/bundle";
import type { FunctionRow } from "../../storage/schema";
import { runArgs } from "../compat/appwrite/run";
import type { ServiceContext } from "../context";
import { violations } from "../json-schemas";
import { admit, type CallTree, newTree } from "./budget";
import { closeClient, type NestedInvoke, openClient } from "./client";
import { isolateOf } from "./isolate";
import type { CallOutcome, ErrorDetail } from "./outcome";
import type { Target } from "./target";

/**
 * The second step of every call: running it in the function's isolate. The same for a synchronous invoke, a queued
 * call, a retry, a schedule's call and the compatibility surfaces' calls (the HTTP trigger runs a request in the
 * same isolate, with the same admission and journal: see ./http).
 */

/** What the pipeline needs of its context: storage, bindings and waitUntil, never an HTTP request. */
export type CallContext = Pick<ServiceContext, "db" | "env" | "defer">;

/** A call ready to run: its target, its input, whose it is and how it was made. */
export interface CallRequest extends Target {
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
  /** How a call this one makes through ctx.client is run (the invoke service, given in to avoid a cycle). */
  nested: NestedInvoke;
}

/** How long after its timeout a running call is given before the sweeper calls it lost. */
export const LOST_GRACE_MS = 60_000;
const TIMED_OUT = Symbol("timeout");

export const timeoutOf = (fn: Pick<FunctionRow, "timeoutMs">): number => fn.timeoutMs ?? LIMITS.timeoutMs.default;

/** The journal entry of a call about to run user code (a supervised local runtime keeps it; see runtime/journal). */
export function journalEntry(
  p: Pick<CallRequest, "fn" | "version" | "workspaceId" | "trigger" | "async">,
  id: string,
  kind: JournalEntry["kind"],
  startedAt: number,
): JournalEntry {
  return {
    id,
    kind,
    functionId: p.fn.id,
    workspaceId: p.workspaceId,
    versionId: p.version.id,
    trigger: p.trigger ?? (kind === "http" ? "http" : "api"),
    async: p.async === true,
    startedAt,
    timeoutMs: timeoutOf(p.fn),
    ...(isPythonEntry(p.version.entrypoint) ? { stallMs: PYTHON_STALL_MS.call } : {}),
  };
}

/**
 * Runs the call in the function's isolate, within its timeout; never throws for what the user's code does (it
 * throws BudgetExceeded, before running anything, when the workspace has as many calls running as it may).
 * What the isolate answers is checked by the host (runtime/outcome): a malformed answer is a failed call.
 */
export async function executeCall(ctx: CallContext, p: CallRequest, callId: string): Promise<CallOutcome> {
  const release = admit(ctx.env, p.workspaceId);
  const client = openClient({
    env: ctx.env,
    db: ctx.db,
    defer: ctx.defer,
    functionId: p.fn.id,
    workspaceId: p.workspaceId,
    callId,
    call: p.call,
    depth: p.depth ?? 0,
    tree: p.tree ?? newTree(),
    invoke: p.nested,
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
  ctx: CallContext,
  p: CallRequest,
  callId: string,
  client: ReturnType<typeof openClient>,
): Promise<CallOutcome> {
  const { fn, version } = p;
  const startedAt = Date.now();
  const timeoutMs = timeoutOf(fn);
  const isolate = isolateOf(ctx.env, fn, version);
  const args = await runArgs(ctx.env, p, callId, startedAt + timeoutMs);
  // A supervised local runtime is told which call is about to run user code (see runtime/journal).
  journalBegin(ctx.env, journalEntry(p, callId, "call", startedAt));
  const running = isolate.invoke(args, { call: { functionId: fn.id, callId, ...p.call }, client });
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
export function userError(raw: InvokeOutcome["error"]): ErrorDetail {
  if (!raw) return { name: "Error", message: "unknown failure" };
  const detail: ErrorDetail = {
    name: clip(String(raw.name ?? "Error")).slice(0, 200) || "Error",
    message: clip(String(raw.message ?? "")),
  };
  if (typeof raw.stack === "string") {
    const lines = raw.stack.split("\n").filter((line) => !line.includes("__edgefn/"));
    // An error the platform raised in the isolate (ResultError, StretchLimitError) has no frame of the user's:
    // a JavaScript frame ("    at fn (file:1:2)") or a Python one ('  File "main.py", line 3, in fn').
    if (lines.some((line) => /^\s+(at |File ".*", line \d+)/.test(line))) detail.stack = clip(lines.join("\n"));
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
