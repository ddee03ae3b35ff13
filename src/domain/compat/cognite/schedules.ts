/** Cognite schedules: edgefn schedules (read in UTC) of the project's functions, by integer id. */
import { sql } from "drizzle-orm";
import { type FunctionRow, functions, type ScheduleRow } from "../../../storage/schema";
import { createSchedule, deleteSchedule, getSchedule, listSchedules, readScheduleData } from "../../schedules";
import { resolveFunctions } from "./functions";
import { numbersFor, refsFor, rejectDuplicates } from "./ids";
import { cogniteError, collect, type Identifier, type Project } from "./project";

/** A schedule with what its Cognite shape needs: its integer id, its function's, its function's externalId. */
export interface ScheduleView {
  row: ScheduleRow;
  id?: number;
  functionNumber?: number;
  functionExternalId?: string | null;
}

export async function scheduleViews(p: Project, rows: ScheduleRow[]): Promise<ScheduleView[]> {
  const ids = await numbersFor(
    p.ctx,
    "schedule",
    rows.map((r) => r.id),
  );
  const fnIds = await numbersFor(
    p.ctx,
    "function",
    rows.map((r) => r.functionId),
  );
  const fnRows = rows.length
    ? await p.ctx.db
        .select({ id: functions.id, externalId: functions.externalId })
        .from(functions)
        .where(sql`${functions.id} IN (SELECT value FROM json_each(${JSON.stringify(rows.map((r) => r.functionId))}))`)
        .all()
    : [];
  return rows.map((row) => ({
    row,
    id: ids.get(row.id)?.id,
    functionNumber: fnIds.get(row.functionId)?.id,
    functionExternalId: fnRows.find((f) => f.id === row.functionId)?.externalId,
  }));
}

export interface ScheduleItem {
  name: string;
  cronExpression: string;
  functionId?: number;
  functionExternalId?: string;
  description?: string;
  data?: unknown;
}

const identifierOf = (s: { functionId?: number; functionExternalId?: string }): Identifier =>
  s.functionId !== undefined ? { id: s.functionId } : { externalId: s.functionExternalId as string };

export async function createSchedules(p: Project, items: ScheduleItem[]): Promise<ScheduleView[]> {
  const created: ScheduleRow[] = [];
  for (const item of items) {
    const [fn] = await resolveFunctions(p, [identifierOf(item)]);
    created.push(
      await createSchedule(p.ctx, {
        functionId: (fn as FunctionRow).id,
        name: item.name,
        cron: item.cronExpression,
        description: item.description ?? null,
        data: item.data,
      }),
    );
  }
  return scheduleViews(p, created);
}

/** The function a schedule filter names (by integer id or externalId); null when the project shows none. */
export async function scheduleFunction(
  p: Project,
  filter: { functionId?: number; functionExternalId?: string },
): Promise<FunctionRow | null | undefined> {
  if (filter.functionId === undefined && filter.functionExternalId === undefined) return undefined;
  const [fn] = await resolveFunctions(p, [identifierOf(filter)], true);
  return fn ?? null;
}

/** Up to `limit` of the project's schedules that match `filter` (a node of the list language), newest first. */
export async function listScheduleViews(p: Project, filter: unknown, limit: number, cursor?: string) {
  const scoped = { and: [{ workspaceId: { eq: p.ws.id } }, ...(filter === undefined ? [] : [filter])] };
  return collect(
    limit,
    cursor,
    (q) => listSchedules(p.ctx, { ...q, filter: scoped }),
    (rows) => scheduleViews(p, rows),
  );
}

export async function resolveSchedules(
  p: Project,
  ids: number[],
  ignoreUnknownIds = false,
  status: 400 | 404 = 400,
): Promise<ScheduleRow[]> {
  rejectDuplicates(ids.map((id) => ({ id })));
  const refs = await refsFor(p.ctx, "schedule", ids);
  const found: ScheduleRow[] = [];
  const missing: Identifier[] = [];
  for (const id of ids) {
    const ref = refs.get(id);
    const row = ref ? await getSchedule(p.ctx, ref).catch(() => undefined) : undefined;
    if (row && row.workspaceId === p.ws.id) found.push(row);
    else missing.push({ id });
  }
  if (missing.length > 0 && !ignoreUnknownIds) {
    throw cogniteError(status, status === 404 ? "Schedule not found" : "Schedules not found", missing);
  }
  return found;
}

export async function deleteSchedules(p: Project, ids: number[]) {
  for (const row of await resolveSchedules(p, ids)) await deleteSchedule(p.ctx, row.id);
}

/** The data a schedule's calls get. */
export async function scheduleInputData(p: Project, id: number): Promise<unknown> {
  const [row] = await resolveSchedules(p, [id], false, 404);
  return readScheduleData(p.ctx.env, row as ScheduleRow);
}
