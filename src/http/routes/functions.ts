import { createRoute, z } from "@hono/zod-openapi";
import {
  createFunction,
  deleteFunction,
  getFunction,
  listFunctions,
  purgeFunction,
  restoreFunction,
  updateFunction,
} from "../../domain/functions";
import { forbiddenPatternReason } from "../../lib/hosts";
import { envVarsProblem, LIMITS, metadataProblem, secretsProblem } from "../../lib/limits";
import { listQueryOf } from "../../lib/list/page";
import { maskSecrets } from "../../lib/secrets";
import { FUNCTION_SOURCES, type FunctionRow, RETENTION_TIERS } from "../../storage/schema";
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

export const FunctionSchema = z
  .object({
    id: z.string().openapi({ example: "fun_01jd5x0m7a2b3c4d5e6f7g8h9j" }),
    workspaceId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    externalId: z.string().nullable(),
    metadata: z.record(z.string(), z.string()).nullable(),
    defaultVersionId: z.string().nullable(),
    source: z.enum(FUNCTION_SOURCES),
    system: z.boolean(),
    createdBy: z.string().nullable(),
    runtimeUserId: z.string().nullable(),
    inputSchemaId: z.string().nullable(),
    outputSchemaId: z.string().nullable(),
    deletedAt: TimestampSchema.nullable(),
    retentionTier: z.enum(RETENTION_TIERS),
    envVars: z.record(z.string(), z.string()).nullable(),
    secrets: z
      .record(z.string(), z.literal("***"))
      .nullable()
      .openapi({ description: "Names only; values are never shown" }),
    timeoutMs: z.number().int().nullable(),
    cpuMs: z.number().int().nullable(),
    allowedHosts: z.array(z.string()).nullable(),
    configRevision: z.number().int(),
    maxRetries: z
      .number()
      .int()
      .nullable()
      .openapi({
        description: `How often a failed async call is tried again when the failure is retryable (default ${LIMITS.maxRetries.default})`,
      }),
    lastCalledAt: TimestampSchema.nullable().openapi({ description: "When the function was last called" }),
    public: z.boolean().openapi({ description: "Whether /run/{workspace}/{function} accepts requests without a key" }),
    rateLimitPerMinute: z.number().int().nullable(),
    corsOrigins: z.array(z.string()).nullable(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi("Function");

export const toApiFunction = (row: FunctionRow) => ({
  id: row.id,
  workspaceId: row.workspaceId,
  name: row.name,
  description: row.description,
  externalId: row.externalId,
  metadata: row.metadata,
  defaultVersionId: row.defaultVersionId,
  source: row.source,
  system: row.system,
  createdBy: row.createdBy,
  runtimeUserId: row.runtimeUserId,
  inputSchemaId: row.inputSchemaId,
  outputSchemaId: row.outputSchemaId,
  deletedAt: iso(row.deletedAt),
  retentionTier: row.retentionTier,
  envVars: row.envVars,
  secrets: maskSecrets(row.secrets) as Record<string, "***"> | null,
  timeoutMs: row.timeoutMs,
  cpuMs: row.cpuMs,
  allowedHosts: row.allowedHosts,
  configRevision: row.configRevision,
  maxRetries: row.maxRetries,
  lastCalledAt: iso(row.lastCalledAt),
  public: row.public,
  rateLimitPerMinute: row.rateLimitPerMinute,
  corsOrigins: row.corsOrigins,
  createdAt: iso(row.createdAt) as string,
  updatedAt: iso(row.updatedAt) as string,
});

const name = z
  .string()
  .min(LIMITS.functionName.min)
  .max(LIMITS.functionName.max)
  .refine(
    (s) => s.trim().length > 0 && !/[\u0000-\u001f\u007f]/.test(s),
    "must be visible text without control characters",
  );
const metadata = z
  .record(z.string(), z.string())
  .superRefine((m, ctx) => {
    const problem = metadataProblem(m);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({ description: "Up to 16 string pairs: key <= 32 bytes, value <= 512 bytes, 4096 bytes in all" });
const shortId = z.string().min(1).max(64);

const mutable = {
  description: z.string().max(LIMITS.description.max).nullish(),
  externalId: z.string().min(1).max(LIMITS.externalId.max).nullish().openapi({ description: "Unique per workspace" }),
  metadata: metadata.nullish(),
  runtimeUserId: shortId.nullish(),
  inputSchemaId: shortId.nullish(),
  outputSchemaId: shortId.nullish(),
  envVars: z
    .record(z.string(), z.string())
    .superRefine((m, ctx) => {
      const problem = envVarsProblem(m);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .nullish()
    .openapi({ description: "Plain environment variables of the isolate (up to 100)" }),
  secrets: z
    .record(z.string(), z.string())
    .superRefine((m, ctx) => {
      const problem = secretsProblem(m);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .nullish()
    .openapi({
      description:
        'Encrypted at rest, shown as "***", visible only inside the isolate (ctx.secrets and env). A PATCH replaces the set; "***" keeps a current value.',
    }),
  timeoutMs: z.number().int().min(LIMITS.timeoutMs.min).max(LIMITS.timeoutMs.max).nullish(),
  cpuMs: z.number().int().min(LIMITS.cpuMs.min).max(LIMITS.cpuMs.max).nullish(),
  allowedHosts: z
    .array(
      z
        .string()
        .max(253)
        .regex(/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/, "a host name, optionally starting with *.")
        .refine(
          (host) => host.split(".").every((label) => label.length <= 63),
          "a host name's labels are at most 63 characters",
        )
        .superRefine((host, ctx) => {
          // Loopback, private networks, metadata services, local names, in every spelling (lib/hosts.ts).
          const reason = forbiddenPatternReason(host);
          if (reason) ctx.addIssue({ code: "custom", message: `${host} may not be reached by a function: ${reason}` });
        }),
    )
    .max(LIMITS.allowedHosts)
    .nullish()
    .openapi({
      description:
        "Hosts the function may fetch (`*.example.com` for subdomains); none: no network. Loopback, private and link-local addresses and local names (localhost, *.local, *.internal, ...) are refused",
    }),
  maxRetries: z.number().int().min(LIMITS.maxRetries.min).max(LIMITS.maxRetries.max).nullish(),
  rateLimitPerMinute: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .nullish()
    .openapi({ description: "Requests per minute /run accepts; more are answered 429 with Retry-After" }),
  corsOrigins: z
    .array(
      z
        .string()
        .max(200)
        .regex(
          /^(\*|[Hh][Tt][Tt][Pp][Ss]?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/,
          'an origin such as https://app.example.com, or "*"',
        ),
    )
    .max(20)
    .nullish()
    .openapi({ description: 'Origins whose browsers may call /run for this function; "*" for any' }),
  public: z.boolean().optional().openapi({
    description: "Let /run/{workspace}/{function} accept anonymous requests (default false: an invoker key is needed)",
  }),
  retentionTier: z.enum(RETENTION_TIERS).optional().openapi({
    description: "How long a soft-deleted function is kept before the sweeper purges it: 30 days, 90 days or forever",
  }),
};

const CreateSchema = z
  .object({
    workspaceId: shortId,
    name,
    source: z.enum(FUNCTION_SOURCES).optional(),
    system: z.boolean().optional().openapi({ description: "Visible from every workspace; admins only" }),
    ...mutable,
  })
  .strict()
  .openapi("CreateFunction");

const PatchSchema = z
  .object({ name: name.optional(), ...mutable })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "nothing to change")
  .openapi("PatchFunction");

const ListSchema = ListQuerySchema.extend({
  ids: z.string().optional().openapi({ description: "Comma-separated ids; narrows within what the key can see" }),
  workspace_id: z
    .string()
    .optional()
    .openapi({ description: "Only this workspace's functions (plus system functions)" }),
  source: z.enum(["workspace", "system", "integration"]).optional(),
  include_deleted: z.enum(["false", "true", "only"]).optional(),
  name: z
    .string()
    .max(LIMITS.functionName.max)
    .optional()
    .openapi({ description: "Case-insensitive substring of the name" }),
  default_version_id: z.string().optional(),
  system: z.enum(["true", "false"]).optional(),
  created_by: z.string().optional(),
  runtime_user_id: z.string().optional(),
  retention_tier: z.enum(RETENTION_TIERS).optional(),
});

const tags = ["functions"];
const params = idParam("fun", "function");
const one = (description: string) => json(FunctionSchema, description);

const list = createRoute({
  method: "get",
  path: "/api/functions",
  tags,
  summary: "List functions",
  description:
    "Keyset-paginated. `filter` fields: id, workspaceId, name, description, externalId, defaultVersionId, source, system, createdBy, runtimeUserId, inputSchemaId, outputSchemaId, retentionTier, deletedAt, createdAt, updatedAt, and the relation `workspace` {id, name, description, createdAt}.",
  request: { query: ListSchema },
  responses: {
    200: json(
      z.object({ data: z.array(FunctionSchema), pageInfo: PageInfoSchema }).openapi("FunctionPage"),
      "A page of functions",
    ),
    ...errors("bad_request", "not_found"),
  },
});
const create = createRoute({
  method: "post",
  path: "/api/functions",
  tags,
  summary: "Create a function",
  request: { body: body(CreateSchema) },
  responses: { 201: one("Created"), ...errors("bad_request", "forbidden", "not_found", "conflict") },
});
const get = createRoute({
  method: "get",
  path: "/api/functions/{id}",
  tags,
  summary: "Get a function (soft-deleted ones too)",
  request: { params },
  responses: { 200: one("The function"), ...errors("not_found") },
});
const patch = createRoute({
  method: "patch",
  path: "/api/functions/{id}",
  tags,
  summary: "Update a function",
  request: { params, body: body(PatchSchema) },
  responses: { 200: one("Updated"), ...errors("bad_request", "forbidden", "not_found", "conflict") },
});
const remove = createRoute({
  method: "delete",
  path: "/api/functions/{id}",
  tags,
  summary: "Soft-delete a function",
  description: "It can be restored until it is purged, by hand or by the sweeper after its retention tier's period.",
  request: { params },
  responses: { 200: json(SuccessSchema, "Soft-deleted"), ...errors("forbidden", "not_found", "conflict") },
});
const restore = createRoute({
  method: "post",
  path: "/api/functions/{id}/restore",
  tags,
  summary: "Restore a soft-deleted function",
  description: "409 when the function is not deleted, or when its name has since been taken by another live function.",
  request: { params },
  responses: { 200: one("Restored"), ...errors("forbidden", "not_found", "conflict") },
});
const purge = createRoute({
  method: "delete",
  path: "/api/functions/{id}/purge",
  tags,
  summary: "Permanently delete a soft-deleted function",
  request: { params },
  responses: { 200: json(SuccessSchema, "Purged"), ...errors("forbidden", "not_found", "conflict") },
});

export function registerFunctionRoutes(app: App) {
  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = await listFunctions(serviceContext(c), {
      ...listQueryOf(q),
      ids: q.ids === undefined ? undefined : q.ids.split(","),
      source: q.source,
      name: q.name,
      system: q.system === undefined ? undefined : q.system === "true",
      workspaceId: q.workspace_id,
      includeDeleted: q.include_deleted,
      defaultVersionId: q.default_version_id,
      createdBy: q.created_by,
      runtimeUserId: q.runtime_user_id,
      retentionTier: q.retention_tier,
    });
    return c.json({ data: page.rows.map(toApiFunction), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(create, async (c) =>
    c.json(toApiFunction(await createFunction(serviceContext(c), c.req.valid("json"))), 201),
  );
  app.openapi(get, async (c) =>
    c.json(toApiFunction(await getFunction(serviceContext(c), c.req.valid("param").id)), 200),
  );
  app.openapi(patch, async (c) =>
    c.json(toApiFunction(await updateFunction(serviceContext(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  app.openapi(remove, async (c) => {
    await deleteFunction(serviceContext(c), c.req.valid("param").id);
    return c.json({ success: true as const }, 200);
  });
  app.openapi(restore, async (c) =>
    c.json(toApiFunction(await restoreFunction(serviceContext(c), c.req.valid("param").id)), 200),
  );
  app.openapi(purge, async (c) => {
    await purgeFunction(serviceContext(c), c.req.valid("param").id);
    return c.json({ success: true as const }, 200);
  });
}
