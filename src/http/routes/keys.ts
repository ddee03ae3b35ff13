import { createRoute, z } from "@hono/zod-openapi";
import { createKey, deleteKey, listKeys } from "../../domain/keys";
import { LIMITS } from "../../lib/limits";
import { listQueryOf } from "../../lib/list/page";
import { type ApiKeyRow, ROLES } from "../../storage/schema";
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

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The first characters of the secret, to tell keys apart" }),
    role: z.enum(ROLES),
    workspaceId: z.string().nullable().openapi({ description: "null: every workspace" }),
    functionIds: z
      .array(z.string())
      .nullable()
      .openapi({ description: "null: every function of its scope; else only these functions" }),
    createdBy: z.string().nullable(),
    expiresAt: TimestampSchema.nullable(),
    createdAt: TimestampSchema,
  })
  .openapi("ApiKey");

const CreatedKeySchema = KeySchema.extend({
  key: z.string().openapi({ description: "The secret. Shown only in this response; store it now." }),
}).openapi("CreatedApiKey");

const CreateKeySchema = z
  .object({
    name: z.string().min(1).max(LIMITS.keyName.max),
    role: z.enum(ROLES),
    workspaceId: z.string().max(64).nullish().openapi({ description: "Limit the key to one workspace" }),
    functionIds: z.array(z.string().min(1).max(64)).min(1).max(100).nullish().openapi({
      description:
        "Limit the key to these functions of its workspace (viewer or invoker keys only): it reads and invokes them, nothing else",
    }),
    expiresAt: z.string().nullish().openapi({ description: "ISO 8601 time after which the key stops working" }),
  })
  .openapi("CreateApiKey");

const toApi = (row: ApiKeyRow) => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  role: row.role,
  workspaceId: row.workspaceId,
  functionIds: row.functionIds,
  createdBy: row.createdBy,
  expiresAt: iso(row.expiresAt),
  createdAt: iso(row.createdAt) as string,
});

const tags = ["keys"];

const list = createRoute({
  method: "get",
  path: "/api/keys",
  tags,
  summary: "List API keys (never their secrets)",
  request: { query: ListQuerySchema },
  responses: {
    200: json(z.object({ data: z.array(KeySchema), pageInfo: PageInfoSchema }), "A page of keys"),
    ...errors("bad_request", "forbidden"),
  },
});

const create = createRoute({
  method: "post",
  path: "/api/keys",
  tags,
  summary: "Create an API key; the secret is returned once",
  request: { body: body(CreateKeySchema) },
  responses: {
    201: json(CreatedKeySchema, "The new key with its secret"),
    ...errors("bad_request", "forbidden", "not_found"),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/api/keys/{id}",
  tags,
  summary: "Revoke an API key",
  request: { params: idParam("key", "API key") },
  responses: { 200: json(SuccessSchema, "Revoked"), ...errors("forbidden", "not_found") },
});

export function registerKeyRoutes(app: App) {
  app.openapi(list, async (c) => {
    const page = await listKeys(serviceContext(c), listQueryOf(c.req.valid("query")));
    return c.json({ data: page.rows.map(toApi), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(create, async (c) => {
    const { row, secret } = await createKey(serviceContext(c), c.req.valid("json"));
    return c.json({ ...toApi(row), key: secret }, 201);
  });
  app.openapi(remove, async (c) => {
    await deleteKey(serviceContext(c), c.req.valid("param").id);
    return c.json({ success: true as const }, 200);
  });
}
