import { ApiError, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { LIMITS } from "../../lib/limits";
import type { InvokeOutcome } from "../../runtime/entry";
import { functionIsolate } from "../../runtime/loader";
import { requireRole, type ServiceContext, seesWorkspace } from "../context";
import { violations } from "../schemas";
import { functionForInvoke, versionForInvoke } from "./cache";

export interface InvokeInput {
  args?: unknown;
  versionId?: string;
}

export type CallStatus = "completed" | "failed" | "timeout";

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
  status: CallStatus;
  durationMs: number;
  versionId: string;
  logs: InvokeOutcome["logs"];
}

const TIMED_OUT = Symbol("timeout");

/**
 * Runs one call. On a warm path this is: the cached function and version, the loader's warm isolate, one
 * RPC. Nothing is written before the answer.
 */
export async function invokeFunction(
  ctx: ServiceContext,
  functionId: string,
  input: InvokeInput,
): Promise<InvokeResult> {
  requireRole(ctx, "invoker", "invoke functions");
  const entry = await functionForInvoke(ctx.db, functionId, ctx.now);
  if (!entry || entry.fn.deletedAt !== null || !(entry.fn.system || seesWorkspace(ctx, entry.fn.workspaceId))) {
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

  const argsJson = JSON.stringify(input.args ?? null);
  if (new TextEncoder().encode(argsJson).byteLength > LIMITS.argsBytes) {
    throw new ApiError("payload_too_large", `args are larger than ${LIMITS.argsBytes} bytes`);
  }
  if (fn.inputSchemaId) {
    const problems = await violations(ctx, fn.inputSchemaId, input.args ?? null);
    if (problems.length > 0) {
      throw new ApiError("bad_request", `args do not match the function's input schema: ${problems.join("; ")}`, {
        violations: problems,
      });
    }
  }

  const callId = newId("call");
  const started = Date.now();
  const timeoutMs: number = fn.timeoutMs ?? LIMITS.timeoutMs.default;
  const isolate = functionIsolate(ctx.env, fn, version);
  const running = isolate.invoke(input.args ?? null, { call: { functionId: fn.id, callId } });
  let timer: number | undefined;
  const outcome = await Promise.race([
    running.catch(
      (err: unknown): InvokeOutcome => ({
        ok: false,
        error: isolateFailure(err, callId),
        logs: [],
        logsTruncated: false,
      }),
    ),
    new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs) as unknown as number;
    }),
  ]);
  if (timer !== undefined) clearTimeout(timer);
  const durationMs = Date.now() - started;
  const base = { callId, durationMs, versionId: version.id };

  if (outcome === TIMED_OUT) {
    const message = `The call did not finish within ${timeoutMs} ms`;
    return {
      ...base,
      ok: false,
      error: `TimeoutError: ${message}`,
      errorDetail: { name: "TimeoutError", message },
      status: "timeout",
      logs: [],
    };
  }
  if (!outcome.ok || outcome.result === undefined) {
    const e = userError(outcome.error);
    return {
      ...base,
      ok: false,
      error: `${e.name}: ${e.message}`,
      errorDetail: e,
      status: "failed",
      logs: outcome.logs,
    };
  }
  const result = JSON.parse(outcome.result) as unknown;
  if (fn.outputSchemaId) {
    const problems = await violations(ctx, fn.outputSchemaId, result);
    if (problems.length > 0) {
      const message = `The result does not match the function's output schema: ${problems.join("; ")}`;
      return {
        ...base,
        ok: false,
        error: `InvalidResult: ${message}`,
        errorDetail: { name: "InvalidResult", message, code: "invalid_result" },
        status: "failed",
        logs: outcome.logs,
      };
    }
  }
  return { ...base, ok: true, result, error: null, errorDetail: null, status: "completed", logs: outcome.logs };
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
