import { createRoute, z } from "@hono/zod-openapi";
import { invokeFunction } from "../../domain/calls/invoke";
import { invokeAnswer } from "../../domain/calls/outcome";
import { badRequest } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { serviceContext } from "../context";
import { body, errors, json } from "../openapi";
import type { App } from "../router";

const InvokeSchema = z
  .object({
    args: z.unknown().optional().openapi({ description: "The function's input (JSON), passed as `data` to handle()" }),
    versionId: z.string().max(64).optional().openapi({ description: "Run this version instead of the default" }),
    async: z.boolean().optional().openapi({
      description:
        "Queue the call and answer 202 with its id at once (as the header `Prefer: respond-async` does); read the outcome from /api/calls/{callId}",
    }),
    scheduledAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "Run the call (async) no earlier than this time" }),
  })
  .strict()
  .openapi("Invoke");

export const ErrorDetailSchema = z
  .object({
    name: z.string().openapi({ example: "TypeError" }),
    message: z.string(),
    stack: z.string().optional().openapi({
      description: "The stack of an error the function threw (its own frames only); absent for the platform's errors",
    }),
    code: z.string().optional().openapi({
      description:
        "The thrown error's `code`, or the platform's reason: invalid_result, result_too_large, no_handler, http_<status> (a fetch handler's error status)",
      example: "invalid_result",
    }),
  })
  .openapi("InvokeErrorDetail");

const InvokeResultSchema = z
  .object({
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: z.string().nullable().openapi({ description: '"Name: message" when ok is false' }),
    errorDetail: ErrorDetailSchema.nullable().openapi({
      description: "What went wrong when ok is false; null when ok",
    }),
    durationMs: z.number().int(),
    callId: z.string(),
    versionId: z.string(),
    status: z.enum(["completed", "failed", "timeout"]),
  })
  .openapi("InvokeResult");

const QueuedSchema = z
  .object({
    callId: z.string(),
    status: z.enum(["queued", "running", "completed", "failed", "timeout", "canceled"]),
  })
  .openapi("QueuedCall");

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const invoke = createRoute({
  method: "post",
  path: "/api/functions/{id}/invoke",
  tags: ["functions"],
  summary: "Invoke a function as a Cloudflare Dynamic Worker",
  description:
    "Runs the call in the function's isolate and answers with its result. A function that throws or times out still answers 200 with `ok: false`. " +
    "With `async: true` (or `Prefer: respond-async`, or `scheduledAt`) the call is recorded and queued, and the answer is 202 with its id. " +
    "An `Idempotency-Key` header (1-255 visible ASCII characters) makes a repeat within 24 hours answer with the same call, which runs once; a replayed answer carries `Idempotent-Replayed: true`.",
  request: {
    params: z.object({
      id: z
        .string()
        .max(64)
        .openapi({ param: { name: "id", in: "path" } }),
    }),
    headers: z.object({
      prefer: z.string().optional().openapi({ description: "`respond-async` queues the call (202)" }),
      "idempotency-key": z.string().optional().openapi({ description: "The same key within 24 h: the same call" }),
    }),
    body: { ...body(InvokeSchema), required: false },
  },
  responses: {
    200: json(InvokeResultSchema, "The call's outcome"),
    202: json(QueuedSchema, "The call is recorded and queued"),
    ...errors("bad_request", "forbidden", "not_found", "conflict", "payload_too_large"),
  },
});

export function registerInvokeRoutes(app: App) {
  app.openapi(invoke, async (c) => {
    const input = c.req.valid("json") ?? {};
    const headers = c.req.valid("header");
    const idempotencyKey = headers["idempotency-key"];
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters");
    }
    const preferAsync = /(^|[,;\s])respond-async($|[,;\s])/i.test(headers.prefer ?? "");
    let scheduledAt: number | undefined;
    if (input.scheduledAt !== undefined) {
      scheduledAt = Date.parse(input.scheduledAt);
      if (scheduledAt > Date.now() + LIMITS.scheduleAheadMs) {
        throw badRequest(`scheduledAt is more than ${LIMITS.scheduleAheadMs / 86_400_000} days ahead`);
      }
    }
    const r = await invokeFunction(serviceContext(c), c.req.valid("param").id, {
      args: input.args,
      versionId: input.versionId,
      async: input.async ?? (preferAsync || undefined),
      scheduledAt,
      idempotencyKey,
    });
    if ("replayed" in r && r.replayed) c.header("Idempotent-Replayed", "true");
    if ("queued" in r) {
      if (preferAsync) c.header("Preference-Applied", "respond-async");
      return c.json({ callId: r.callId, status: r.status }, 202);
    }
    return c.json(invokeAnswer(r), 200);
  });
}
