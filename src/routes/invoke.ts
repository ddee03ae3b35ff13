import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app";
import { invokeFunction } from "../services/invoke";
import { serviceContext } from "./context";
import { body, errors, json } from "./schemas";

const InvokeSchema = z
  .object({
    args: z.unknown().optional().openapi({ description: "The function's input (JSON), passed as `data` to handle()" }),
    versionId: z.string().max(64).optional().openapi({ description: "Run this version instead of the default" }),
  })
  .strict()
  .openapi("Invoke");

const ErrorDetailSchema = z
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

const invoke = createRoute({
  method: "post",
  path: "/api/functions/{id}/invoke",
  tags: ["functions"],
  summary: "Invoke a function as a Cloudflare Dynamic Worker",
  description:
    "Runs the call in the function's isolate and answers with its result. A function that throws or times out still answers 200 with `ok: false`.",
  request: {
    params: z.object({
      id: z
        .string()
        .max(64)
        .openapi({ param: { name: "id", in: "path" } }),
    }),
    body: { ...body(InvokeSchema), required: false },
  },
  responses: {
    200: json(InvokeResultSchema, "The call's outcome"),
    ...errors("bad_request", "forbidden", "not_found", "conflict", "payload_too_large"),
  },
});

export function registerInvokeRoutes(app: App) {
  app.openapi(invoke, async (c) => {
    const input = c.req.valid("json") ?? {};
    const r = await invokeFunction(serviceContext(c), c.req.valid("param").id, input);
    return c.json(
      {
        ok: r.ok,
        ...(r.ok ? { result: r.result } : {}),
        error: r.error,
        errorDetail: r.errorDetail,
        durationMs: r.durationMs,
        callId: r.callId,
        versionId: r.versionId,
        status: r.status,
      },
      200,
    );
  });
}
