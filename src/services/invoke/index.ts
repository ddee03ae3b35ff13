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

export interface InvokeResult {
  callId: string;
  ok: boolean;
  result?: unknown;
  /** "Name: message", as seed 004's invoke answers. */
  error: string | null;
  errorDetail: { name: string; message: string; stack?: string; code?: string } | null;
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
      (err: Error): InvokeOutcome => ({
        ok: false,
        error: /had hung and would never generate a response/.test(err.message)
          ? {
              name: "HangError",
              message:
                "The call awaits something that can never happen (a promise nothing will ever settle), so the runtime ended it",
            }
          : { name: "PlatformError", message: `The isolate failed: ${err.message}` },
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
    const e = outcome.error ?? { name: "Error", message: "unknown failure" };
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
