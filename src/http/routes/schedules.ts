import { createRoute, z } from "@hono/zod-openapi";
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  type LastRun,
  lastRuns,
  listSchedules,
  readScheduleData,
  scheduleExtras,
  updateSchedule,
} from "../../domain/schedules";
import { badRequest } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { jsonParam, listQueryOf } from "../../lib/list/page";
import { CALL_STATUSES, CATCH_UP, type ScheduleRow } from "../../storage/schema";
import { serviceContext } from "../context";
import {
  body,
  errors,
  idParam,
  iso,
  json,
  ListQuerySchema,
  PageInfoSchema,
  SuccessSchema,
  TimestampSchema,
} from "../openapi";
import type { App } from "../router";

const ScheduleSchema = z
  .object({
    id: z.string().openapi({ example: "sch_01jd5x0m7a2b3c4d5e6f7g8h9j" }),
    functionId: z.string(),
    workspaceId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    cron: z.string().openapi({ example: "30 2 * * 1-5" }),
    timezone: z.string().openapi({ example: "Europe/Oslo" }),
    when: z
      .string()
      .openapi({ description: "The cron expression in words", example: "At 02:30, Monday through Friday" }),
    enabled: z.boolean(),
    catchUp: z.enum(CATCH_UP),
    nextRuns: z.array(TimestampSchema).openapi({ description: "The next five run times (none while paused)" }),
    lastRun: z
      .object({ callId: z.string(), status: z.enum(CALL_STATUSES).nullable(), at: TimestampSchema })
      .nullable()
      .openapi({ description: "The last call this schedule made; status is null once that call is deleted" }),
    dataSize: z.number().int(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi("Schedule");

const toApi = (row: ScheduleRow, lastRun: LastRun | undefined, now: number) => {
  const { when, nextRuns } = scheduleExtras(row, now);
  return {
    id: row.id,
    functionId: row.functionId,
    workspaceId: row.workspaceId,
    name: row.name,
    description: row.description,
    cron: row.cron,
    timezone: row.timezone,
    when,
    enabled: row.enabled,
    catchUp: row.catchUp,
    nextRuns: nextRuns.map((t) => iso(t) as string),
    lastRun: lastRun ? { ...lastRun, at: iso(lastRun.at) as string } : null,
    dataSize: row.dataSize,
    createdAt: iso(row.createdAt) as string,
    updatedAt: iso(row.updatedAt) as string,
  };
};

const name = z.string().min(1).max(LIMITS.functionName.max);
const mutable = {
  name,
  cron: z.string().min(1).max(200).openapi({
    description: "5 fields (minute hour day-of-month month day-of-week) or @yearly, @monthly, @weekly, @daily, @hourly",
    example: "*/15 * * * *",
  }),
  timezone: z.string().min(1).max(64).optional().openapi({ description: "IANA time zone (default UTC)" }),
  data: z.unknown().optional().openapi({ description: "The input each call gets (JSON, at most 1 MiB)" }),
  description: z.string().max(LIMITS.description.max).nullish(),
  enabled: z.boolean().optional(),
  catchUp: z.enum(CATCH_UP).optional().openapi({
    description:
      "After missed ticks (downtime): `last` fires once for the latest missed time (default), `none` skips them",
  }),
};

const CreateSchema = z
  .object({ functionId: z.string().min(1).max(64), ...mutable })
  .strict()
  .openapi("CreateSchedule");
const PatchSchema = z
  .object({ ...mutable, name: name.optional(), cron: mutable.cron.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "nothing to change")
  .openapi("PatchSchedule");

const tags = ["schedules"];
const params = idParam("sch", "schedule");

const list = createRoute({
  method: "get",
  path: "/api/schedules",
  tags,
  summary: "List schedules (newest first)",
  request: {
    query: ListQuerySchema.extend({
      functionId: z.string().max(64).optional(),
      name: z.string().max(200).optional().openapi({ description: "Substring of the name, any case" }),
      cron: z.string().max(200).optional().openapi({ description: "Exactly this cron expression" }),
      enabled: z.string().optional().openapi({ description: "true or false" }),
      createdTime: z.string().optional().openapi({ description: 'JSON {"min": time, "max": time}' }),
    }),
  },
  responses: {
    200: json(z.object({ data: z.array(ScheduleSchema), pageInfo: PageInfoSchema }), "A page of schedules"),
    ...errors("bad_request"),
  },
});
const create = createRoute({
  method: "post",
  path: "/api/schedules",
  tags,
  summary: "Create a schedule for a function",
  request: { body: body(CreateSchema) },
  responses: {
    201: json(ScheduleSchema, "The schedule"),
    ...errors("bad_request", "forbidden", "not_found", "conflict"),
  },
});
const get = createRoute({
  method: "get",
  path: "/api/schedules/{id}",
  tags,
  summary: "Get a schedule, with its next runs and last run",
  request: { params },
  responses: { 200: json(ScheduleSchema, "The schedule"), ...errors("not_found") },
});
const patch = createRoute({
  method: "patch",
  path: "/api/schedules/{id}",
  tags,
  summary: "Change a schedule; enabled:false pauses it",
  request: { params, body: body(PatchSchema) },
  responses: { 200: json(ScheduleSchema, "The schedule"), ...errors("bad_request", "forbidden", "not_found") },
});
const remove = createRoute({
  method: "delete",
  path: "/api/schedules/{id}",
  tags,
  summary: "Delete a schedule (its calls stay)",
  request: { params },
  responses: { 200: json(SuccessSchema, "Deleted"), ...errors("forbidden", "not_found") },
});
const inputData = createRoute({
  method: "get",
  path: "/api/schedules/{id}/input-data",
  tags,
  summary: "The data a schedule's calls get as input",
  request: { params },
  responses: {
    200: json(z.object({ id: z.string(), data: z.unknown() }).openapi("ScheduleInputData"), "The data"),
    ...errors("not_found"),
  },
});

export function registerScheduleRoutes(app: App) {
  app.openapi(list, async (c) => {
    const ctx = serviceContext(c);
    const q = c.req.valid("query");
    if (q.enabled !== undefined && q.enabled !== "true" && q.enabled !== "false") {
      throw badRequest("enabled must be true or false");
    }
    const page = await listSchedules(ctx, {
      ...listQueryOf(q),
      functionId: q.functionId,
      name: q.name,
      cron: q.cron,
      enabled: q.enabled === undefined ? undefined : q.enabled === "true",
      createdTime: jsonParam("createdTime", q.createdTime, '{"min": value, "max": value}'),
    });
    const runs = await lastRuns(ctx.db, page.rows);
    return c.json({ data: page.rows.map((r) => toApi(r, runs.get(r.id), ctx.now)), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(create, async (c) => {
    const ctx = serviceContext(c);
    return c.json(toApi(await createSchedule(ctx, c.req.valid("json")), null, ctx.now), 201);
  });
  app.openapi(get, async (c) => {
    const ctx = serviceContext(c);
    const row = await getSchedule(ctx, c.req.valid("param").id);
    return c.json(toApi(row, (await lastRuns(ctx.db, [row])).get(row.id), ctx.now), 200);
  });
  app.openapi(patch, async (c) => {
    const ctx = serviceContext(c);
    const row = await updateSchedule(ctx, c.req.valid("param").id, c.req.valid("json"));
    return c.json(toApi(row, (await lastRuns(ctx.db, [row])).get(row.id), ctx.now), 200);
  });
  app.openapi(remove, async (c) => {
    await deleteSchedule(serviceContext(c), c.req.valid("param").id);
    return c.json({ success: true as const }, 200);
  });
  app.openapi(inputData, async (c) => {
    const ctx = serviceContext(c);
    const row = await getSchedule(ctx, c.req.valid("param").id);
    return c.json({ id: row.id, data: await readScheduleData(ctx.env, row) }, 200);
  });
}
