/** Cognite calls: the calls of a function, by integer id. */
import type { CallRow, FunctionRow } from "../../../storage/schema";
import { getCall, getCallLogs, getCallResponse, listCalls } from "../../calls/history";
import { invokeFunction } from "../../calls/invoke";
import type { CallOutcome } from "../../calls/outcome";
import { functionNumber } from "./functions";
import { numberOf, numbersFor, refsFor, rejectDuplicates } from "./ids";
import { cogniteError, collect, type Identifier, type Project } from "./project";

/** A call with what its Cognite shape needs: its integer id, its function's and its schedule's. */
export interface CallView {
  row: CallRow;
  id?: number;
  functionNumber: number;
  scheduleNumber?: number;
}

export async function callViews(p: Project, fnNumber: number, rows: CallRow[]): Promise<CallView[]> {
  const callIds = await numbersFor(
    p.ctx,
    "call",
    rows.map((r) => r.id),
  );
  const scheduleIds = await numbersFor(
    p.ctx,
    "schedule",
    rows.flatMap((r) => (r.scheduleId ? [r.scheduleId] : [])),
  );
  return rows.map((row) => ({
    row,
    id: callIds.get(row.id)?.id,
    functionNumber: fnNumber,
    scheduleNumber: row.scheduleId ? scheduleIds.get(row.scheduleId)?.id : undefined,
  }));
}

/** A call whose record could not be written: what its outcome says. */
export interface UnrecordedCall {
  id: number;
  functionNumber: number;
  outcome: Partial<Pick<CallOutcome, "status" | "durationMs" | "errorDetail">>;
}

/** Runs a call and waits for it, and for its record, so the call can be read back at once. */
export async function callFunction(p: Project, fn: FunctionRow, data: unknown): Promise<CallView | UnrecordedCall> {
  const result = await invokeFunction(p.ctx, fn.id, { args: data, recorded: true });
  const fnNumber = await functionNumber(p, fn);
  const record = await getCall(p.ctx, result.callId).catch(() => undefined);
  if (record) return (await callViews(p, fnNumber, [record]))[0] as CallView;
  // The record could not be written: answer from the outcome itself.
  return {
    id: await numberOf(p.ctx, "call", result.callId),
    functionNumber: fnNumber,
    outcome: result as UnrecordedCall["outcome"],
  };
}

/** The edgefn id of a schedule's integer id (null: none). */
export const scheduleRef = async (p: Project, id: number): Promise<string | null> =>
  (await refsFor(p.ctx, "schedule", [id])).get(id) ?? null;

/** Up to `limit` of the function's calls that match `filter` (a node of the list language), newest first. */
export async function listCallViews(p: Project, fn: FunctionRow, filter: unknown, limit: number, cursor?: string) {
  const fnNumber = await functionNumber(p, fn);
  return collect(
    limit,
    cursor,
    (q) => listCalls(p.ctx, fn.id, { ...q, filter }),
    (rows) => callViews(p, fnNumber, rows),
  );
}

/** The calls of this function that the ids name; unknown ones are `missing` (400, or 404 for a single call). */
export async function resolveCalls(
  p: Project,
  fn: FunctionRow,
  ids: number[],
  status: 400 | 404 = 400,
): Promise<CallRow[]> {
  rejectDuplicates(ids.map((id) => ({ id })));
  const refs = await refsFor(p.ctx, "call", ids);
  const found: CallRow[] = [];
  const missing: Identifier[] = [];
  for (const id of ids) {
    const ref = refs.get(id);
    const row = ref ? await getCall(p.ctx, ref).catch(() => undefined) : undefined;
    if (row && row.functionId === fn.id) found.push(row);
    else missing.push({ id });
  }
  if (missing.length > 0) throw cogniteError(status, status === 404 ? "Call not found" : "Calls not found", missing);
  return found;
}

/** What the call returned (null while it runs, and for a call that failed). */
export async function callResponse(p: Project, call: CallRow): Promise<unknown> {
  if (call.status === "queued" || call.status === "running") return null;
  return (await getCallResponse(p.ctx, call.id)).response;
}

export async function callLogLines(p: Project, call: CallRow) {
  return (await getCallLogs(p.ctx, call.id)).items;
}
