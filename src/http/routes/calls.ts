import { createRoute, z } from "@hono/zod-openapi";
import {
  cancelCall,
  deleteCall,
  functionMetrics,
  getCall,
  getCallLogs,
  getCallResponse,
  listCalls,
  METRIC_WINDOWS,
  type MetricWindow,
} from "../../domain/calls/history";
import { jsonParam, listQueryOf } from "../../lib/list/page";
import { CALL_STATUSES, CALL_TRIGGERS, type CallRow } from "../../storage/schema";
import { serviceContext } from "../context";
import {
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
import { ErrorDetailSchema } from "./invoke";

export const CallSchema = z
  .object({
    id: z.string().openapi({ example: "call_01jd5x0m7a2b3c4d5e6f7g8h9j" }),
    functionId: z.string(),
    workspaceId: z.string(),
    versionId: z.string().nullable(),
    status: z.enum(CALL_STATUSES),
    trigger: z.enum(CALL_TRIGGERS),
    attempt: z.number().int().openapi({ description: "1 for the first try; counts up when a retry runs" }),
    maxRetries: z.number().int(),
    createdAt: TimestampSchema,
    scheduledAt: TimestampSchema.nullable().openapi({ description: "When a queued call is due" }),
    startTime: TimestampSchema.nullable(),
    endTime: TimestampSchema.nullable(),
    durationMs: z.number().int().nullable(),
    scheduleId: z.string().nullable(),
    scheduledTime: TimestampSchema.nullable(),
    error: ErrorDetailSchema.nullable(),
    argsSize: z.number().int(),
    resultSize: z.number().int().nullable(),
    createdBy: z.string().nullable().openapi({
      description:
        "Who made the call: an API key id, or call:<callId> for a call made by a function through ctx.client",
    }),
    http: z
      .object({ method: z.string(), path: z.string(), status: z.number().int().nullable() })
      .nullable()
      .openapi({ description: "An HTTP call's request method and path, and the status it was answered with" }),
  })
  .openapi("Call");

const toApi = (row: CallRow) => ({
  id: row.id,
  functionId: row.functionId,
  workspaceId: row.workspaceId,
  versionId: row.versionId,
  status: row.status,
  trigger: row.trigger,
  attempt: row.attempt,
  maxRetries: row.maxRetries,
  createdAt: iso(row.createdAt) as string,
  scheduledAt: iso(row.scheduledAt),
  startTime: iso(row.startedAt),
  endTime: iso(row.endedAt),
  durationMs: row.durationMs,
  scheduleId: row.scheduleId,
  scheduledTime: iso(row.scheduledTime),
  error: row.error,
  argsSize: row.argsSize,
  resultSize: row.resultSize,
  createdBy: row.createdBy,
  http: row.httpMethod ? { method: row.httpMethod, path: row.httpPath ?? "/", status: row.httpStatus } : null,
});

const tags = ["calls"];
const CallParams = idParam("call", "call");
const FunctionParams = idParam("fun", "function");
const range = (what: string) =>
  z
    .string()
    .optional()
    .openapi({
      description: `JSON {"min": time, "max": time} on the call's ${what} (ISO 8601 or epoch ms; both ends inclusive, each optional)`,
      example: '{"min":"2026-11-01T00:00:00Z"}',
    });

const list = createRoute({
  method: "get",
  path: "/api/functions/{id}/calls",
  tags,
  summary: "List a function's calls (newest first)",
  request: {
    params: FunctionParams,
    query: ListQuerySchema.extend({
      status: z
        .string()
        .optional()
        .openapi({ description: `One of ${CALL_STATUSES.join(", ")}` }),
      trigger: z
        .string()
        .optional()
        .openapi({ description: `One of ${CALL_TRIGGERS.join(", ")}` }),
      scheduleId: z.string().max(64).optional(),
      versionId: z.string().max(64).optional(),
      startTime: range("start"),
      endTime: range("end"),
    }),
  },
  responses: {
    200: json(z.object({ data: z.array(CallSchema), pageInfo: PageInfoSchema }), "A page of calls"),
    ...errors("bad_request", "not_found"),
  },
});

const metrics = createRoute({
  method: "get",
  path: "/api/functions/{id}/metrics",
  tags,
  summary: "A function's calls in a window: counts by status, error rate, duration percentiles, calls over time",
  request: {
    params: FunctionParams,
    query: z.object({ window: z.enum(Object.keys(METRIC_WINDOWS) as [MetricWindow]).default("24h") }),
  },
  responses: {
    200: json(
      z
        .object({
          functionId: z.string(),
          window: z.string(),
          from: TimestampSchema,
          to: TimestampSchema,
          total: z.number().int(),
          counts: z.record(z.enum(CALL_STATUSES), z.number().int()),
          errorRate: z.number().openapi({ description: "(failed + timeout) / finished calls" }),
          durationMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }),
          bucketSeconds: z.number().int(),
          buckets: z.array(
            z.object({
              start: TimestampSchema,
              total: z.number().int(),
              completed: z.number().int(),
              failed: z.number().int(),
              timeout: z.number().int(),
            }),
          ),
        })
        .openapi("FunctionMetrics"),
      "The metrics",
    ),
    ...errors("bad_request", "not_found"),
  },
});

const get = createRoute({
  method: "get",
  path: "/api/calls/{id}",
  tags,
  summary: "Get a call: status, times, error",
  request: { params: CallParams },
  responses: { 200: json(CallSchema, "The call"), ...errors("not_found") },
});

const response = createRoute({
  method: "get",
  path: "/api/calls/{id}/response",
  tags,
  summary: "What a finished call returned (null unless it completed)",
  request: { params: CallParams },
  responses: {
    200: json(
      z.object({ functionId: z.string(), callId: z.string(), response: z.unknown() }).openapi("CallResponse"),
      "The response",
    ),
    ...errors("not_found", "conflict"),
  },
});

const logs = createRoute({
  method: "get",
  path: "/api/calls/{id}/logs",
  tags,
  summary: "A call's logs: console.* and ctx.log, in order",
  request: { params: CallParams },
  responses: {
    200: json(
      z
        .object({
          items: z.array(z.object({ timestamp: TimestampSchema, level: z.string(), message: z.string() })),
          truncated: z.boolean().openapi({ description: "The call logged more than the per-call cap" }),
        })
        .openapi("CallLogs"),
      "The logs",
    ),
    ...errors("not_found"),
  },
});

const cancel = createRoute({
  method: "post",
  path: "/api/calls/{id}/cancel",
  tags,
  summary: "Cancel a queued call: it will not run",
  request: { params: CallParams },
  responses: { 200: json(CallSchema, "The canceled call"), ...errors("forbidden", "not_found", "conflict") },
});

const remove = createRoute({
  method: "delete",
  path: "/api/calls/{id}",
  tags,
  summary: "Delete a call with its logs and result",
  request: { params: CallParams },
  responses: { 200: json(SuccessSchema, "Deleted"), ...errors("forbidden", "not_found", "conflict") },
});

export function registerCallRoutes(app: App) {
  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = await listCalls(serviceContext(c), c.req.valid("param").id, {
      ...listQueryOf(q),
      status: q.status,
      trigger: q.trigger,
      scheduleId: q.scheduleId,
      versionId: q.versionId,
      startTime: jsonParam("startTime", q.startTime, '{"min": value, "max": value}'),
      endTime: jsonParam("endTime", q.endTime, '{"min": value, "max": value}'),
    });
    return c.json({ data: page.rows.map(toApi), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(metrics, async (c) => {
    return c.json(await functionMetrics(serviceContext(c), c.req.valid("param").id, c.req.valid("query").window), 200);
  });
  app.openapi(get, async (c) => c.json(toApi(await getCall(serviceContext(c), c.req.valid("param").id)), 200));
  app.openapi(response, async (c) => c.json(await getCallResponse(serviceContext(c), c.req.valid("param").id), 200));
  app.openapi(logs, async (c) => {
    const { items, truncated } = await getCallLogs(serviceContext(c), c.req.valid("param").id);
    return c.json({ items: items.map((l) => ({ ...l, timestamp: iso(l.timestamp) as string })), truncated }, 200);
  });
  app.openapi(cancel, async (c) => c.json(toApi(await cancelCall(serviceContext(c), c.req.valid("param").id)), 200));
  app.openapi(remove, async (c) => {
    await deleteCall(serviceContext(c), c.req.valid("param").id);
    return c.json({ success: true as const }, 200);
  });
}
