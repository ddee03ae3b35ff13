import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  activateVersion,
  cancelVersion,
  createVersion,
  getVersion,
  listVersions,
  RUNTIMES,
  type Runtime,
  runtimeOf,
  type Upload,
  versionSource,
} from "../../domain/versions";
import type { AppEnv } from "../../env";
import { unpackArchive } from "../../lib/archive";
import { ApiError, badRequest } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { listQueryOf } from "../../lib/list/page";
import { VERSION_STATUSES, type VersionRow } from "../../storage/schema";
import { serviceContext } from "../context";
import { errors, iso, json, ListQuerySchema, PageInfoSchema, TimestampSchema, UploadFileSchema } from "../openapi";
import type { App } from "../router";
import { FunctionSchema, toApiFunction } from "./functions";

const VersionSchema = z
  .object({
    id: z.string(),
    functionId: z.string(),
    number: z.number().int(),
    status: z.enum(VERSION_STATUSES),
    entrypoint: z.string(),
    runtime: z.enum(RUNTIMES).openapi({ description: "javascript (JavaScript or TypeScript) or python" }),
    activate: z.boolean(),
    isDefault: z.boolean(),
    sourceSize: z.number().int(),
    bundleSize: z.number().int().nullable(),
    handlers: z.array(z.string()).nullable(),
    error: z.object({ message: z.string(), trace: z.string() }).nullable(),
    buildLogs: z.array(z.object({ at: TimestampSchema, level: z.string(), message: z.string() })),
    createdBy: z.string().nullable(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    buildStartedAt: TimestampSchema.nullable(),
    buildFinishedAt: TimestampSchema.nullable(),
  })
  .openapi("Version");

const toApi = (v: VersionRow, defaultVersionId: string | null) => ({
  id: v.id,
  functionId: v.functionId,
  number: v.number,
  status: v.status,
  entrypoint: v.entrypoint,
  runtime: runtimeOf(v.entrypoint),
  activate: v.activate,
  isDefault: v.id === defaultVersionId,
  sourceSize: v.sourceSize,
  bundleSize: v.bundleSize,
  handlers: v.handlers,
  error: v.error,
  buildLogs: (v.buildLogs ?? []).map((l) => ({ ...l, at: iso(l.at) as string })),
  createdBy: v.createdBy,
  createdAt: iso(v.createdAt) as string,
  updatedAt: iso(v.updatedAt) as string,
  buildStartedAt: iso(v.buildStartedAt),
  buildFinishedAt: iso(v.buildFinishedAt),
});

const UploadSchema = z
  .object({
    files: z.record(z.string().min(1).max(256), UploadFileSchema).optional().openapi({
      description:
        'Files by path: text, or {"base64": "..."} for binary files, e.g. {"index.ts": "export async function handle(data) {...}", "add.wasm": {"base64": "AGFzbQ..."}}.',
    }),
    code: z
      .string()
      .optional()
      .openapi({ description: "A single-file function (Gcore's code_text); stored as index.ts" }),
    entrypoint: z.string().max(256).optional().openapi({ description: "The entry file; guessed when omitted" }),
    activate: z.boolean().optional().openapi({ description: "Make it the default version once ready (default true)" }),
    runtime: z
      .enum(RUNTIMES)
      .optional()
      .openapi({ description: "javascript or python; inferred from the entry file (a .py entry is Python)" }),
  })
  .strict()
  .refine((v) => (v.files === undefined) !== (v.code === undefined), "send either files or code")
  .openapi("UploadVersion");

const FunctionParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, description: "The function's id" }),
});
const VersionParams = FunctionParams.extend({
  vid: z
    .string()
    .max(64)
    .openapi({ param: { name: "vid", in: "path" }, description: "The version's id" }),
});
const tags = ["versions"];

const upload = createRoute({
  method: "post",
  path: "/api/functions/{id}/versions",
  tags,
  summary: "Upload a version",
  description:
    "The body is JSON (`files` or `code`), or an archive: zip, tar or tar.gz, raw (Content-Type application/zip, application/gzip, application/x-tar or application/octet-stream; `entrypoint`, `activate` and `runtime` as query parameters) or as the `code` field of a multipart/form-data body. The version is queued and built off the request path; poll it until `ready` or `failed`.",
  request: {
    params: FunctionParams,
    body: {
      required: true,
      content: {
        "application/json": { schema: UploadSchema },
        "application/zip": { schema: z.string().openapi({ format: "binary" }) },
        "application/gzip": { schema: z.string().openapi({ format: "binary" }) },
        "multipart/form-data": {
          schema: z.object({
            code: z.string().openapi({ format: "binary" }),
            entrypoint: z.string().optional(),
            activate: z.string().optional(),
            runtime: z.enum(RUNTIMES).optional(),
          }),
        },
      },
    },
  },
  responses: {
    201: json(VersionSchema, "The queued version"),
    ...errors("bad_request", "forbidden", "not_found", "conflict", "payload_too_large", "unsupported_media_type"),
  },
});
const list = createRoute({
  method: "get",
  path: "/api/functions/{id}/versions",
  tags,
  summary: "List a function's versions (newest first)",
  request: { params: FunctionParams, query: ListQuerySchema },
  responses: {
    200: json(z.object({ data: z.array(VersionSchema), pageInfo: PageInfoSchema }), "A page of versions"),
    ...errors("bad_request", "not_found"),
  },
});
const get = createRoute({
  method: "get",
  path: "/api/functions/{id}/versions/{vid}",
  tags,
  summary: "Get a version, with its build status, error and logs",
  request: { params: VersionParams },
  responses: { 200: json(VersionSchema, "The version"), ...errors("not_found") },
});
const source = createRoute({
  method: "get",
  path: "/api/functions/{id}/versions/{vid}/source",
  tags,
  summary: "The uploaded source files of a version",
  request: { params: VersionParams },
  responses: {
    200: json(
      z.object({ entrypoint: z.string(), files: z.record(z.string(), UploadFileSchema) }),
      "The sources: text files as strings, binary files as {base64}",
    ),
    ...errors("not_found"),
  },
});
const activate = createRoute({
  method: "post",
  path: "/api/functions/{id}/versions/{vid}/activate",
  tags,
  summary: "Make a ready version the default (rollback to an older one)",
  request: { params: VersionParams },
  responses: {
    200: json(FunctionSchema, "The function with its new defaultVersionId"),
    ...errors("forbidden", "not_found", "conflict"),
  },
});
const cancel = createRoute({
  method: "post",
  path: "/api/functions/{id}/versions/{vid}/cancel",
  tags,
  summary: "Cancel a queued or building version",
  request: { params: VersionParams },
  responses: { 200: json(VersionSchema, "The canceled version"), ...errors("forbidden", "not_found", "conflict") },
});

/** Reads the upload in whichever form it came. */
async function readUpload(c: Context<AppEnv>): Promise<Upload> {
  const declared = Number(c.req.header("content-length") ?? 0);
  const maxBody = LIMITS.codeBytes * 2;
  if (declared > maxBody) throw new ApiError("payload_too_large", `The upload is larger than ${maxBody} bytes`);
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const flag = (v: string | undefined | null) => (v === undefined || v === null ? undefined : v !== "false");
  const runtimeParam = (v: unknown): Runtime | undefined => {
    if (v === undefined || v === null || v === "") return undefined;
    if (!(RUNTIMES as readonly unknown[]).includes(v)) throw badRequest(`runtime: use ${RUNTIMES.join(" or ")}`);
    return v as Runtime;
  };

  if (type === "application/json") {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw badRequest("Body is not valid JSON");
    }
    const parsed = UploadSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw badRequest(`Invalid body: ${issue?.path.join(".") || "body"}: ${issue?.message}`);
    }
    const { files, code, entrypoint, activate, runtime } = parsed.data;
    return code !== undefined
      ? { files: { "index.ts": code }, entrypoint: entrypoint ?? "index.ts", activate, runtime }
      : { files: files ?? {}, entrypoint, activate, runtime };
  }
  if (type === "multipart/form-data") {
    const form = await c.req.formData().catch(() => {
      throw badRequest("The multipart body could not be read");
    });
    const file = form.get("code") ?? form.get("file");
    if (!(file instanceof File)) throw badRequest("multipart: put the archive in a file field named code");
    const entrypoint = form.get("entrypoint");
    return {
      files: await unpackArchive(new Uint8Array(await file.arrayBuffer())),
      entrypoint: typeof entrypoint === "string" && entrypoint ? entrypoint : undefined,
      activate: flag(form.get("activate") as string | null),
      runtime: runtimeParam(form.get("runtime")),
    };
  }
  if (
    [
      "application/zip",
      "application/gzip",
      "application/x-gzip",
      "application/x-tar",
      "application/octet-stream",
    ].includes(type)
  ) {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > maxBody)
      throw new ApiError("payload_too_large", `The upload is larger than ${maxBody} bytes`);
    return {
      files: await unpackArchive(bytes),
      entrypoint: c.req.query("entrypoint") || undefined,
      activate: flag(c.req.query("activate")),
      runtime: runtimeParam(c.req.query("runtime")),
    };
  }
  throw new ApiError("unsupported_media_type", "Upload JSON, a zip/tar/tar.gz archive, or multipart/form-data");
}

export function registerVersionRoutes(app: App) {
  // The body comes in several forms, so the route is documented here and parsed by hand.
  app.openAPIRegistry.registerPath(upload);
  app.post("/api/functions/:id/versions", async (c) => {
    const ctx = serviceContext(c);
    const version = await createVersion(ctx, c.req.param("id"), await readUpload(c));
    return c.json(toApi(version, null), 201);
  });
  app.openapi(list, async (c) => {
    const { id } = c.req.valid("param");
    const { fn, page } = await listVersions(serviceContext(c), id, listQueryOf(c.req.valid("query")));
    return c.json({ data: page.rows.map((v) => toApi(v, fn.defaultVersionId)), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(get, async (c) => {
    const { id, vid } = c.req.valid("param");
    const { fn, version } = await getVersion(serviceContext(c), id, vid);
    return c.json(toApi(version, fn.defaultVersionId), 200);
  });
  app.openapi(source, async (c) => {
    const { id, vid } = c.req.valid("param");
    return c.json(await versionSource(serviceContext(c), id, vid), 200);
  });
  app.openapi(activate, async (c) => {
    const { id, vid } = c.req.valid("param");
    return c.json(toApiFunction(await activateVersion(serviceContext(c), id, vid)), 200);
  });
  app.openapi(cancel, async (c) => {
    const { id, vid } = c.req.valid("param");
    return c.json(toApi(await cancelVersion(serviceContext(c), id, vid), null), 200);
  });
}
