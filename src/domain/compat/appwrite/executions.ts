/** Appwrite executions: an execution is a call; what the function answered is read back from the call's record. */
import { ApiError, badRequest } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import { APPWRITE_ENVELOPE } from "../../../runtime/adapters/appwrite";
import type { CallRow, FunctionRow } from "../../../storage/schema";
import { getCall, getCallLogs } from "../../calls/history";
import { invokeFunction } from "../../calls/invoke";
import { readResult } from "../../calls/record";
import type { ServiceContext } from "../../context";
import { getVersion } from "../../versions";

/** The key of an execution's args and result (see src/runtime/adapters/appwrite.ts). */
export { APPWRITE_ENVELOPE };

/** The HTTP request an execution describes. */
export interface ExecutionRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** A call with what it answered (once completed) and its log lines (once over). */
export interface ExecutionRecord {
  row: CallRow;
  result: unknown;
  logs: { level: string; message: string }[];
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
  /** ISO 8601: queue the call for then. */
  scheduledAt?: string;
}

/**
 * Runs (or queues) the execution and answers once its record is written, so it can be read back at once. A
 * `handle(data, ctx)` function gets the body (JSON when it parses) as its data; the others get the whole request.
 */
export async function execute(ctx: ServiceContext, fn: FunctionRow, input: ExecutionInput): Promise<ExecutionRecord> {
  let scheduledAt: number | undefined;
  if (input.scheduledAt !== undefined) {
    scheduledAt = Date.parse(input.scheduledAt);
    if (Number.isNaN(scheduledAt)) throw badRequest('Invalid param "scheduledAt": an ISO 8601 time');
    if (scheduledAt > Date.now() + LIMITS.scheduleAheadMs) throw badRequest("scheduledAt is too far ahead");
  }
  let handlers: string[] | null = null;
  if (fn.defaultVersionId) handlers = (await getVersion(ctx, fn.id, fn.defaultVersionId)).version.handlers;
  let args: unknown;
  if (handlers?.includes("handle")) {
    try {
      args = input.body === "" ? null : JSON.parse(input.body);
    } catch {
      args = input.body;
    }
  } else args = { [APPWRITE_ENVELOPE]: { ...input.request, body: input.body } };
  const isAsync = input.async === true || scheduledAt !== undefined;
  const r = await invokeFunction(ctx, fn.id, { args, async: isAsync || undefined, scheduledAt, recorded: true });
  return executionRecord(ctx, await getCall(ctx, r.callId));
}
