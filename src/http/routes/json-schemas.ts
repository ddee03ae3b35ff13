import { createRoute, z } from "@hono/zod-openapi";
import { createSchema, deleteSchema, getSchema, listSchemas } from "../../domain/json-schemas";
import { listQueryOf } from "../../lib/list/page";
import type { SchemaRow } from "../../storage/schema";
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

const JsonSchemaSchema = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    schema: z.unknown().openapi({ description: "A JSON Schema (draft 2020-12)" }),
    createdBy: z.string().nullable(),
    createdAt: TimestampSchema,
  })
  .openapi("JsonSchema");

const CreateSchema = z
  .object({
    workspaceId: z.string().max(64),
    name: z.string().min(1).max(140),
    description: z.string().max(500).nullish(),
    schema: z.unknown(),
  })
  .strict()
  .openapi("CreateJsonSchema");

const toApi = (r: SchemaRow) => ({ ...r, createdAt: iso(r.createdAt) as string });
const tags = ["schemas"];
const params = idParam("scm", "schema");

export function registerSchemaRoutes(app: App) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/schemas",
      tags,
      summary: "List JSON Schemas",
      request: { query: ListQuerySchema },
      responses: {
        200: json(z.object({ data: z.array(JsonSchemaSchema), pageInfo: PageInfoSchema }), "A page of schemas"),
        ...errors("bad_request"),
      },
    }),
    async (c) => {
      const page = await listSchemas(serviceContext(c), listQueryOf(c.req.valid("query")));
      return c.json({ data: page.rows.map(toApi), pageInfo: page.pageInfo }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/schemas",
      tags,
      summary: "Store a JSON Schema for a function's inputSchemaId or outputSchemaId",
      request: { body: body(CreateSchema) },
      responses: { 201: json(JsonSchemaSchema, "Created"), ...errors("bad_request", "forbidden", "not_found") },
    }),
    async (c) => c.json(toApi(await createSchema(serviceContext(c), c.req.valid("json"))), 201),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/schemas/{id}",
      tags,
      summary: "Get a JSON Schema",
      request: { params },
      responses: { 200: json(JsonSchemaSchema, "The schema"), ...errors("not_found") },
    }),
    async (c) => c.json(toApi(await getSchema(serviceContext(c), c.req.valid("param").id)), 200),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/schemas/{id}",
      tags,
      summary: "Delete a JSON Schema",
      description: "409 while a function (soft-deleted ones included) uses it as its inputSchemaId or outputSchemaId.",
      request: { params },
      responses: { 200: json(SuccessSchema, "Deleted"), ...errors("forbidden", "not_found", "conflict") },
    }),
    async (c) => {
      await deleteSchema(serviceContext(c), c.req.valid("param").id);
      return c.json({ success: true as const }, 200);
    },
  );
}
