/** Appwrite executions: an execution is a call; what the function answered is read back from the call's record. */
import { ApiError, badRequest } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import type { CallRow, FunctionRow } from "../../../storage/schema";
import { getCall, getCallLogs } from "../../calls/history";
import { invokeFunction } from "../../calls/invoke";
import { readResult } from "../../calls/record";
import type { ServiceContext } from "../../context";
import { getVersion } from "../../versions";
import { appwriteFailure } from "./failures";
import { latestVersion } from "./functions";
import type { ExecutionRecord } from "./models";
import { envelope } from "./run";

/** The HTTP request an execution describes. */
export interface ExecutionRequest {
  method: string;
  /** The path with its query string. */
  path: string;
  /** What reaches the function (no platform credential, no `x-appwrite-*` header of the caller's). */
  headers: Record<string, string>;
  /** What the record keeps of them (no header that carries a credential). */
  kept: Record<string, string>;
}

/** The call's record with its result and logs. */
export async function executionRecord(ctx: ServiceContext, row: CallRow): Promise<ExecutionRecord> {
  const finished = row.status === "completed" || row.status === "failed" || row.status === "timeout";
  return {
    row,
    result: row.status === "completed" ? await readResult(ctx.env, row) : undefined,
    logs: finished ? (await getCallLogs(ctx, row.id)).items : [],
  };
}

/** A call of this function, or 404. */
export async function findExecution(ctx: ServiceContext, fn: FunctionRow, executionId: string): Promise<CallRow> {
  const row = await getCall(ctx, executionId);
  if (row.functionId !== fn.id) throw new ApiError("not_found", `call ${executionId} not found`);
  return row;
}

export interface ExecutionInput {
  request: ExecutionRequest;
  body: string;
  async?: boolean;
  /** ISO 8601: queue the call for then (Appwrite: only with async). */
  scheduledAt?: string;
}

/**
 * Runs (or queues) the execution and answers once its record is written, so it can be read back at once, with what
 * the function answered (shown to this request even when the function keeps no output). A `handle(data, ctx)`
 * function gets the body (JSON when it parses) as its data; the others get the whole request.
 */
export async function execute(
  ctx: ServiceContext,
  fn: FunctionRow,
  input: ExecutionInput,
): Promise<{ record: ExecutionRecord; answer: unknown }> {
  let scheduledAt: number | undefined;
  if (input.scheduledAt !== undefined && input.scheduledAt !== null) {
    if (!input.async) {
      throw badRequest(
        "Scheduled executions must run asynchronously. Set scheduledAt to a future date, or set async to true.",
      );
    }
    scheduledAt = Date.parse(input.scheduledAt);
    if (Number.isNaN(scheduledAt) || scheduledAt < Date.now()) {
      throw badRequest("Execution schedule must be a valid date, and at least 1 minute from now");
    }
    if (scheduledAt > Date.now() + LIMITS.scheduleAheadMs) throw badRequest("scheduledAt is too far ahead");
  }
  if (!fn.defaultVersionId) {
    // Appwrite's answers: an activated deployment still building, else none to run.
    const latest = await latestVersion(ctx, fn);
    if (latest?.activate && (latest.status === "queued" || latest.status === "building")) {
      throw appwriteFailure(
        "bad_request",
        "build_not_ready",
        "Build with the requested ID is building and not ready for execution.",
      );
    }
    throw appwriteFailure(
      "not_found",
      "deployment_not_found",
      "Deployment not found. Create a deployment before trying to execute a function",
    );
  }
  const handlers = (await getVersion(ctx, fn.id, fn.defaultVersionId)).version.handlers;
  let args: unknown;
  if (handlers?.includes("handle")) {
    try {
      args = input.body === "" ? null : JSON.parse(input.body);
    } catch {
      args = input.body;
    }
  } else {
    const headers = { ...input.request.headers };
    if (scheduledAt !== undefined) headers["x-appwrite-trigger"] = "schedule";
    if (ctx.principal.user) headers["x-appwrite-user-id"] = ctx.principal.user.id;
    args = envelope({ method: input.request.method, path: input.request.path, headers, body: input.body });
  }
  const r = await invokeFunction(ctx, fn.id, {
    args,
    async: input.async === true || scheduledAt !== undefined || undefined,
    scheduledAt,
    recorded: true,
    request: { method: input.request.method, path: input.request.path, headers: input.request.kept },
  });
  const row = await getCall(ctx, r.callId);
  const answer = "queued" in r ? undefined : r.result;
  return { record: await executionRecord(ctx, row), answer };
}
