import { createRoute, z } from "@hono/zod-openapi";
import {
  createWorkspace,
  deleteWorkspace,
  getWorkspace,
  listWorkspaces,
  updateWorkspace,
} from "../../domain/workspaces";
import { LIMITS } from "../../lib/limits";
import { listQueryOf } from "../../lib/list/page";
import type { WorkspaceRow } from "../../storage/schema";
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

const WorkspaceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    callRetentionDays: z.number().int().openapi({ description: "Calls and their logs are kept this many days" }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi("Workspace");

const name = z
  .string()
  .min(1)
  .max(LIMITS.workspaceName.max)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and inner hyphens only")
  .openapi({ description: "Unique; used in URLs, so lowercase letters, digits and hyphens", example: "acme" });
const description = z.string().max(LIMITS.description.max).nullish();

const callRetentionDays = z
  .number()
  .int()
  .min(LIMITS.callRetentionDays.min)
  .max(LIMITS.callRetentionDays.max)
  .optional()
  .openapi({ description: `Days calls and logs are kept (default ${LIMITS.callRetentionDays.default})` });
const CreateSchema = z.object({ name, description, callRetentionDays }).openapi("CreateWorkspace");
const PatchSchema = z
  .object({ name: name.optional(), description, callRetentionDays })
  .refine((v) => Object.keys(v).length > 0, "nothing to change")
  .openapi("PatchWorkspace");

const toApi = (row: WorkspaceRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  callRetentionDays: row.callRetentionDays,
  createdAt: iso(row.createdAt) as string,
  updatedAt: iso(row.updatedAt) as string,
});

const tags = ["workspaces"];
const params = idParam("ws", "workspace");

const list = createRoute({
  method: "get",
  path: "/api/workspaces",
  tags,
  summary: "List the workspaces this key can see",
  request: { query: ListQuerySchema },
  responses: {
    200: json(z.object({ data: z.array(WorkspaceSchema), pageInfo: PageInfoSchema }), "A page of workspaces"),
    ...errors("bad_request"),
  },
});
const create = createRoute({
  method: "post",
  path: "/api/workspaces",
  tags,
  summary: "Create a workspace (admin keys for every workspace)",
  request: { body: body(CreateSchema) },
  responses: { 201: json(WorkspaceSchema, "Created"), ...errors("bad_request", "forbidden", "conflict") },
});
const get = createRoute({
  method: "get",
  path: "/api/workspaces/{id}",
  tags,
  summary: "Get a workspace",
  request: { params },
  responses: { 200: json(WorkspaceSchema, "The workspace"), ...errors("not_found") },
});
const patch = createRoute({
  method: "patch",
  path: "/api/workspaces/{id}",
  tags,
  summary: "Rename or describe a workspace",
  request: { params, body: body(PatchSchema) },
  responses: { 200: json(WorkspaceSchema, "Updated"), ...errors("bad_request", "forbidden", "not_found", "conflict") },
});
const remove = createRoute({
  method: "delete",
  path: "/api/workspaces/{id}",
  tags,
  summary: "Delete an empty workspace and the keys scoped to it",
  description: "A workspace that still holds functions, soft-deleted ones included, is a 409: purge them first.",
  request: { params },
  responses: { 200: json(SuccessSchema, "Deleted"), ...errors("forbidden", "not_found", "conflict") },
});

export function registerWorkspaceRoutes(app: App) {
  app.openapi(list, async (c) => {
    const page = await listWorkspaces(serviceContext(c), listQueryOf(c.req.valid("query")));
    return c.json({ data: page.rows.map(toApi), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(create, async (c) => c.json(toApi(await createWorkspace(serviceContext(c), c.req.valid("json"))), 201));
  app.openapi(get, async (c) => c.json(toApi(await getWorkspace(serviceContext(c), c.req.valid("param").id)), 200));
  app.openapi(patch, async (c) =>
    c.json(toApi(await updateWorkspace(serviceContext(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  app.openapi(remove, async (c) => {
    await deleteWorkspace(serviceContext(c), c.req.valid("param").id);
    return c.json({ success: true as const }, 200);
  });
}
