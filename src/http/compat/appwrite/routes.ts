import type { Context } from "hono";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createTarGzip } from "nanotar";
import { z } from "zod";
import { deleteCall, getCall, listCalls } from "../../../domain/calls/history";
import { invokeFunction } from "../../../domain/calls/invoke";
import {
  APPWRITE_MARKER,
  type AppwriteFunctionInput,
  appwriteError,
  checkSchedule,
  deploymentModel,
  type ExecutionRequest,
  executionModel,
  findFunction,
  findVariable,
  functionModel,
  functionPatch,
  parseQueries,
  resolveProject,
  runtimesList,
  specificationsList,
  syncSchedule,
  toListQuery,
} from "../../../domain/compat/appwrite";
import type { ServiceContext } from "../../../domain/context";
import {
  createFunction,
  deleteFunction,
  listFunctions,
  purgeFunction,
  updateFunction,
} from "../../../domain/functions";
import { authenticate } from "../../../domain/keys/authenticate";
import {
  activateVersion,
  cancelVersion,
  createVersion,
  getVersion,
  listVersions,
  versionSource,
} from "../../../domain/versions";
import type { AppEnv } from "../../../env";
import { unpackArchive } from "../../../lib/archive";
import { bodyCapError } from "../../../lib/body-cap";
import { stripCredentialsFrom } from "../../../lib/credentials";
import { ApiError, badRequest } from "../../../lib/errors";
import { newId } from "../../../lib/ids";
import { LIMITS } from "../../../lib/limits";
import { chunkClaimKey, chunkPartKey, chunkPartsPrefix } from "../../../storage/objects";
import type { FunctionRow, VersionRow } from "../../../storage/schema";
import type { App } from "../../app";
import { requestContext } from "../../context";

type AwEnv = AppEnv & { Variables: AppEnv["Variables"] & { ctx: ServiceContext; workspaceId: string } };
type C = Context<AwEnv>;

/** Reads a JSON body and validates it; a failure is a 400 naming the field. */
async function input<T extends z.ZodType>(c: C, schema: T): Promise<z.infer<T>> {
  let raw: unknown = {};
  const text = await c.req.text();
  if (text.trim()) {
    try {
      raw = JSON.parse(text);
    } catch {
      throw badRequest("Body is not valid JSON");
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(`Invalid param "${issue?.path.join(".") || "body"}": ${issue?.message}`);
  }
  return parsed.data;
}

const FunctionBody = z.object({
  functionId: z.string().max(36).optional(),
  name: z.string().min(1).max(128).optional(),
  runtime: z.string().optional(),
  execute: z.array(z.string().max(64)).max(100).optional(),
  events: z.array(z.string()).max(100).optional(),
  schedule: z.string().max(256).optional(),
  timeout: z.number().int().optional(),
  enabled: z.boolean().optional(),
  logging: z.boolean().optional(),
  entrypoint: z.string().max(256).optional(),
  commands: z.string().max(512).optional(),
  scopes: z.array(z.string()).max(100).optional(),
  specification: z.string().optional(),
  buildSpecification: z.string().optional(),
  runtimeSpecification: z.string().optional(),
});

const ExecutionBody = z.object({
  body: z.string().optional(),
  async: z.boolean().optional(),
  path: z.string().max(2048).optional(),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]).optional(),
  headers: z.record(z.string(), z.unknown()).optional(),
  scheduledAt: z.string().optional(),
});

const VariableBody = z.object({
  // Accepted, but a variable's $id is always its key: edgefn keeps env vars and secrets by name.
  variableId: z.string().max(36).optional(),
  key: z.string().min(1).max(255).optional(),
  value: z.string().max(8192).optional(),
  secret: z.boolean().optional(),
});

const APPWRITE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$/;

function toFunctionInput(body: z.infer<typeof FunctionBody>): AppwriteFunctionInput {
  const { functionId: _id, buildSpecification, runtimeSpecification, specification, ...rest } = body;
  const spec = specification ?? buildSpecification ?? runtimeSpecification;
  return spec === undefined ? rest : { ...rest, specification: spec };
}

async function latestVersion(ctx: ServiceContext, fn: FunctionRow) {
  const page = await listVersions(ctx, fn.id, { limit: 1 });
  return page.page.rows[0] ?? null;
}

const fnModel = async (c: C, fn: FunctionRow) => functionModel(fn, await latestVersion(c.var.ctx, fn));
const getFn = (c: C) => findFunction(c.var.ctx, c.var.workspaceId, c.req.param("functionId") as string);

/** Multipart fields of a deployment upload. */
const flag = (v: unknown) => (typeof v === "string" ? v === "true" || v === "1" : undefined);

/**
 * Appwrite's entrypoint is relative to the archive's root; edgefn strips a folder every file shares, so
 * `src/main.js` of an archive holding only `src/` is `main.js` here.
 */
function entrypointIn(files: Record<string, string>, entrypoint: string | undefined): string | undefined {
  if (!entrypoint) return undefined;
  let path = entrypoint.replace(/^\.\//, "");
  for (;;) {
    if (Object.hasOwn(files, path)) return path;
    const slash = path.indexOf("/");
    if (slash < 0) return entrypoint;
    path = path.slice(slash + 1);
  }
}

type Chunked =
  | { state: "partial"; uploadId: string; total: number; uploaded: number }
  | { state: "whole"; bytes: Uint8Array; total: number; done: (versionId: string | null) => Promise<void> }
  | { state: "taken"; versionId: string; total: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One part of a chunked upload (content-range), stored in R2 until every byte is there, whatever the order the
 * parts came in. The request that completes the set claims it (a create-only R2 put, so only one does even when
 * the last parts arrive together), assembles the archive and hands it back; another request that saw the set
 * complete waits for that one's version.
 */
async function chunk(c: C, fn: FunctionRow, file: File, range: string): Promise<Chunked> {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range.trim());
  if (!m) throw badRequest("content-range: expected bytes <start>-<end>/<size>");
  const [start, end, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (end < start || end >= size || end - start + 1 !== file.size) {
    throw badRequest("content-range does not match the chunk's size");
  }
  const maxBytes = LIMITS.codeBytes * 2;
  if (size > maxBytes) throw new ApiError("payload_too_large", `The upload is larger than ${maxBytes} bytes`);
  if (start === 0 && end + 1 === size) {
    return { state: "whole", bytes: new Uint8Array(await file.arrayBuffer()), total: 1, done: async () => {} };
  }
  const given = c.req.header("x-appwrite-id");
  if (start !== 0 && !given) throw badRequest("x-appwrite-id: every chunk after the first must name its upload");
  if (given && !/^upl_[0-9a-z]{26}$/.test(given)) throw badRequest("x-appwrite-id: not an upload id of this server");
  const uploadId = given ?? `upl_${newId("ver").slice(4)}`;
  const prefix = chunkPartsPrefix(fn.id, uploadId);
  const claimKey = chunkClaimKey(fn.id, uploadId);
  const bucket = c.env.CODE;
  await bucket.put(chunkPartKey(fn.id, uploadId, start), await file.arrayBuffer());
  const listed = await bucket.list({ prefix });
  let have = 0;
  let largest = 1;
  for (const o of listed.objects) {
    have += o.size;
    largest = Math.max(largest, o.size);
  }
  const total = Math.ceil(size / largest);
  if (have < size) return { state: "partial", uploadId, total, uploaded: listed.objects.length };

  if (!(await bucket.put(claimKey, "", { onlyIf: { etagDoesNotMatch: "*" } }))) {
    // Another request completed the set at the same moment and builds it: answer with its version.
    for (let i = 0; i < 300; i++) {
      const claim = await bucket.head(claimKey);
      const versionId = claim?.customMetadata?.versionId;
      if (versionId) return { state: "taken", versionId, total };
      if (!claim) break;
      await sleep(100);
    }
    throw new ApiError("conflict", "This upload was finished by another request that failed: upload it again");
  }
  const keys = listed.objects.map((o) => o.key).sort();
  const out = new Uint8Array(size);
  let at = 0;
  for (const key of keys) {
    const part = await bucket.get(key);
    if (!part) throw new ApiError("conflict", "A chunk of this upload is gone: upload it again");
    const bytes = new Uint8Array(await part.arrayBuffer());
    const offset = Number(key.slice(prefix.length));
    if (offset + bytes.byteLength > size) throw badRequest("A chunk of this upload overlaps the end: upload it again");
    out.set(bytes, offset);
    at += bytes.byteLength;
  }
  await bucket.delete(keys);
  if (at !== size) {
    await bucket.delete(claimKey);
    throw badRequest("The chunks of this upload overlap: upload it again");
  }
  return {
    state: "whole",
    bytes: out,
    total: keys.length,
    done: async (versionId) => {
      if (versionId === null) return bucket.delete(claimKey); // failed: waiting requests give up at once
      // Tells any request waiting on the claim; the claim is removed once they have had time to read it.
      await bucket.put(claimKey, "", { customMetadata: { versionId } });
      c.executionCtx.waitUntil(sleep(10_000).then(() => bucket.delete(claimKey)));
    },
  };
}

export function registerAppwriteRoutes(app: App): void {
  const aw = new Hono<AwEnv>();

  aw.onError((err, c) => {
    let e: ApiError;
    const capped = bodyCapError(c.req.raw);
    if (capped) e = capped;
    else if (err instanceof ApiError) e = err;
    else if (err instanceof SyntaxError) e = badRequest("Body is not valid JSON");
    else {
      console.error(JSON.stringify({ requestId: c.get("requestId"), error: err.stack ?? err.message }));
      e = new ApiError("internal_error", "Server Error");
    }
    return c.json(appwriteError(e), e.status as ContentfulStatusCode);
  });

  aw.use("*", async (c, next) => {
    const key = c.req.header("x-appwrite-key");
    if (!key) throw new ApiError("unauthorized", "Missing the X-Appwrite-Key header: send an edgefn API key");
    const principal = await authenticate(c.env, `Bearer ${key}`);
    c.set("principal", principal);
    const ctx: ServiceContext = { ...requestContext(c), principal };
    c.set("ctx", ctx);
    c.set("workspaceId", await resolveProject(ctx, c.req.header("x-appwrite-project")));
    await next();
  });

  // --- Functions ------------------------------------------------------------------------------------------------

  aw.get("/runtimes", (c) => c.json(runtimesList()));
  aw.get("/specifications", (c) => c.json(specificationsList()));

  aw.get("/", async (c) => {
    const ctx = c.var.ctx;
    const params = await toListQuery(parseQueries(c.req.url), {
      fields: {
        name: "name",
        $id: "id",
        $createdAt: "createdAt",
        $updatedAt: "updatedAt",
        deploymentId: "defaultVersionId",
      },
      cursorId: async (id) => (await findFunction(ctx, c.var.workspaceId, id)).id,
    });
    const search = c.req.query("search");
    const page = await listFunctions(ctx, {
      ...params,
      workspaceId: c.var.workspaceId,
      system: false,
      ...(search ? { name: search } : {}),
    });
    const items = await Promise.all(page.rows.map((fn: FunctionRow) => fnModel(c, fn)));
    return c.json({ total: page.pageInfo.total, functions: items });
  });

  aw.post("/", async (c) => {
    const body = await input(c, FunctionBody.extend({ functionId: z.string(), name: z.string().min(1).max(128) }));
    const requested = body.functionId;
    const custom = requested !== "unique()" && requested !== "";
    if (custom && !APPWRITE_ID.test(requested)) {
      throw badRequest(
        'Invalid param "functionId": up to 36 characters a-z, A-Z, 0-9, period, hyphen and underscore, not starting with a special character',
      );
    }
    if (body.runtime === undefined) throw badRequest('Param "runtime" is not optional.');
    checkSchedule(body.schedule);
    const patch = functionPatch(toFunctionInput(body), null);
    const fn = await createFunction(c.var.ctx, {
      workspaceId: c.var.workspaceId,
      name: body.name,
      metadata: patch.metadata,
      ...(patch.timeoutMs !== undefined ? { timeoutMs: patch.timeoutMs } : {}),
      ...(custom ? { externalId: requested } : {}),
    });
    if (body.schedule) await syncSchedule(c.var.ctx, fn, body.schedule, body.enabled ?? true);
    return c.json(functionModel(fn, null), 201);
  });

  aw.get("/:functionId", async (c) => c.json(await fnModel(c, await getFn(c))));

  aw.put("/:functionId", async (c) => {
    const fn = await getFn(c);
    const body = await input(c, FunctionBody);
    checkSchedule(body.schedule);
    const patch = functionPatch(toFunctionInput(body), fn.metadata);
    const updated = await updateFunction(c.var.ctx, fn.id, patch);
    if (body.schedule !== undefined || body.enabled !== undefined) {
      const model = functionModel(updated);
      await syncSchedule(c.var.ctx, updated, model.schedule, model.enabled);
    }
    return c.json(await fnModel(c, updated));
  });

  aw.delete("/:functionId", async (c) => {
    const fn = await getFn(c);
    // Appwrite deletes for good: a soft delete, then the purge, which frees the id for a new function.
    await deleteFunction(c.var.ctx, fn.id);
    await purgeFunction(c.var.ctx, fn.id);
    return c.body(null, 204);
  });

  // --- Deployments ----------------------------------------------------------------------------------------------

  const activate = async (c: C, deploymentId: string) => {
    const fn = await getFn(c);
    const updated = await activateVersion(c.var.ctx, fn.id, deploymentId);
    return c.json(await fnModel(c, updated));
  };
  aw.patch("/:functionId/deployment", async (c) => {
    const { deploymentId } = await input(c, z.object({ deploymentId: z.string().min(1) }));
    return activate(c, deploymentId);
  });
  // The older SDKs' updateDeployment.
  aw.patch("/:functionId/deployments/:deploymentId", (c) => activate(c, c.req.param("deploymentId")));

  aw.get("/:functionId/deployments", async (c) => {
    const fn = await getFn(c);
    const STATUS: Record<string, string> = { waiting: "queued", processing: "queued" };
    const params = await toListQuery(parseQueries(c.req.url), {
      fields: { status: "status", $id: "id", $createdAt: "createdAt", entrypoint: "entrypoint" },
      values: { status: (v) => STATUS[String(v)] ?? v },
    });
    const { page } = await listVersions(c.var.ctx, fn.id, params);
    return c.json({
      total: page.pageInfo.total,
      deployments: page.rows.map((v) => deploymentModel(fn, v)),
    });
  });

  aw.post("/:functionId/deployments", async (c) => {
    const fn = await getFn(c);
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "multipart/form-data") {
      throw new ApiError(
        "unsupported_media_type",
        "Send the deployment as multipart/form-data with the tar.gz in code",
      );
    }
    const form = await c.req.formData().catch(() => {
      throw badRequest("The multipart body could not be read");
    });
    const file = form.get("code");
    if (!(file instanceof File)) throw badRequest('Param "code" is not optional: the tar.gz of the function');
    const range = c.req.header("content-range");
    const part: Chunked = range
      ? await chunk(c, fn, file, range)
      : { state: "whole", bytes: new Uint8Array(await file.arrayBuffer()), total: 1, done: async () => {} };
    if (part.state === "partial") {
      const now = new Date().toISOString();
      return c.json(
        {
          $id: part.uploadId,
          $createdAt: now,
          $updatedAt: now,
          type: "manual",
          resourceId: fn.externalId ?? fn.id,
          resourceType: "functions",
          status: "waiting",
          chunksTotal: part.total,
          chunksUploaded: part.uploaded,
        },
        202,
      );
    }
    const chunks = { total: part.total, uploaded: part.total };
    if (part.state === "taken") {
      const { version } = await getVersion(c.var.ctx, fn.id, part.versionId);
      return c.json(deploymentModel(fn, version, chunks), 202);
    }
    const bytes = part.bytes;
    let version: VersionRow;
    try {
      const files = await unpackArchive(bytes);
      const given = form.get("entrypoint");
      version = await createVersion(c.var.ctx, fn.id, {
        files,
        entrypoint: entrypointIn(files, typeof given === "string" && given ? given : fn.metadata?.["aw.entrypoint"]),
        activate: flag(form.get("activate")) ?? false,
      });
    } catch (err) {
      await part.done(null);
      throw err;
    }
    await part.done(version.id);
    return c.json(deploymentModel(fn, version, chunks), 202);
  });

  aw.get("/:functionId/deployments/:deploymentId", async (c) => {
    const fn = await getFn(c);
    const { version } = await getVersion(c.var.ctx, fn.id, c.req.param("deploymentId"));
    return c.json(deploymentModel(fn, version));
  });

  aw.get("/:functionId/deployments/:deploymentId/download", async (c) => {
    const fn = await getFn(c);
    const type = c.req.query("type") ?? "source";
    if (type !== "source")
      throw badRequest('Only type "source" can be downloaded: edgefn keeps no build output archive');
    const source = await versionSource(c.var.ctx, fn.id, c.req.param("deploymentId"));
    const tgz = await createTarGzip(Object.entries(source.files).map(([name, data]) => ({ name, data })));
    return new Response(tgz, {
      headers: {
        "content-type": "application/gzip",
        "content-disposition": `attachment; filename="${c.req.param("deploymentId")}.tar.gz"`,
      },
    });
  });

  aw.patch("/:functionId/deployments/:deploymentId/status", async (c) => {
    const fn = await getFn(c);
    const version = await cancelVersion(c.var.ctx, fn.id, c.req.param("deploymentId"));
    return c.json(deploymentModel(fn, version));
  });

  aw.delete("/:functionId/deployments/:deploymentId", async (c) => {
    const fn = await getFn(c);
    await getVersion(c.var.ctx, fn.id, c.req.param("deploymentId"));
    throw new ApiError("method_not_allowed", "edgefn keeps every version: deleting a deployment is not supported");
  });

  // --- Executions -----------------------------------------------------------------------------------------------

  aw.post("/:functionId/executions", async (c) => {
    const ctx = c.var.ctx;
    const fn = await getFn(c);
    const body = await input(c, ExecutionBody);
    const request: ExecutionRequest = {
      method: body.method ?? "POST",
      path: body.path ?? "/",
      // The execution's headers reach the function; a credential of the platform among them never does.
      headers: stripCredentialsFrom(
        Object.fromEntries(Object.entries(body.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
        c.env.EDGEFN_ADMIN_KEY,
      ),
    };
    let scheduledAt: number | undefined;
    if (body.scheduledAt !== undefined) {
      scheduledAt = Date.parse(body.scheduledAt);
      if (Number.isNaN(scheduledAt)) throw badRequest('Invalid param "scheduledAt": an ISO 8601 time');
      if (scheduledAt > Date.now() + LIMITS.scheduleAheadMs) throw badRequest("scheduledAt is too far ahead");
    }
    // A handle(data, ctx) function gets the body as its data; HTTP-style handlers get the whole request.
    let handlers: string[] | null = null;
    if (fn.defaultVersionId) handlers = (await getVersion(ctx, fn.id, fn.defaultVersionId)).version.handlers;
    let args: unknown;
    if (handlers?.includes("handle")) {
      const text = body.body ?? "";
      try {
        args = text === "" ? null : JSON.parse(text);
      } catch {
        args = text;
      }
    } else args = { [APPWRITE_MARKER]: { ...request, body: body.body ?? "" } };
    const isAsync = body.async === true || scheduledAt !== undefined;
    // Answered once the call's record is written (async: once it is queued), so it can be read back at once.
    const r = await invokeFunction(ctx, fn.id, { args, async: isAsync || undefined, scheduledAt, recorded: true });
    const row = await getCall(ctx, r.callId);
    return c.json(await executionModel(ctx, fn, row, request), 201);
  });

  aw.get("/:functionId/executions", async (c) => {
    const fn = await getFn(c);
    const STATUS: Record<string, string> = { waiting: "queued", scheduled: "queued", processing: "running" };
    const TRIGGER: Record<string, string> = { http: "api", schedule: "schedule" };
    const params = await toListQuery(parseQueries(c.req.url), {
      fields: {
        status: "status",
        trigger: "trigger",
        deploymentId: "versionId",
        $id: "id",
        $createdAt: "createdAt",
        duration: "durationMs",
      },
      values: { status: (v) => STATUS[String(v)] ?? v, trigger: (v) => TRIGGER[String(v)] ?? v },
    });
    const page = await listCalls(c.var.ctx, fn.id, params);
    const items = await Promise.all(page.rows.map((row) => executionModel(c.var.ctx, fn, row)));
    return c.json({ total: page.pageInfo.total, executions: items });
  });

  const getExecution = async (c: C, fn: FunctionRow) => {
    const row = await getCall(c.var.ctx, c.req.param("executionId") as string);
    if (row.functionId !== fn.id) throw new ApiError("not_found", `call ${c.req.param("executionId")} not found`);
    return row;
  };
  aw.get("/:functionId/executions/:executionId", async (c) => {
    const fn = await getFn(c);
    return c.json(await executionModel(c.var.ctx, fn, await getExecution(c, fn)));
  });
  aw.delete("/:functionId/executions/:executionId", async (c) => {
    const fn = await getFn(c);
    const row = await getExecution(c, fn);
    await deleteCall(c.var.ctx, row.id);
    return c.body(null, 204);
  });

  // --- Variables ------------------------------------------------------------------------------------------------

  /** The function's env vars and secrets with `key` set (or removed when value is undefined). */
  const setVariable = async (c: C, fn: FunctionRow, key: string, value: string | undefined, secret: boolean) => {
    const envVars = { ...(fn.envVars ?? {}) };
    const secrets: Record<string, string> = {};
    for (const name of Object.keys(fn.secrets ?? {})) secrets[name] = "***";
    delete envVars[key];
    delete secrets[key];
    if (value !== undefined) (secret ? secrets : envVars)[key] = value;
    const patch: { envVars: Record<string, string> | null; secrets?: Record<string, string> | null } = {
      envVars: Object.keys(envVars).length ? envVars : null,
    };
    const hadSecret = fn.secrets && Object.hasOwn(fn.secrets, key);
    if (secret || hadSecret) patch.secrets = Object.keys(secrets).length ? secrets : null;
    return updateFunction(c.var.ctx, fn.id, patch);
  };

  aw.get("/:functionId/variables", async (c) => {
    const fn = await getFn(c);
    const variables = functionModel(fn).vars;
    return c.json({ total: variables.length, variables });
  });

  aw.post("/:functionId/variables", async (c) => {
    const fn = await getFn(c);
    const body = await input(c, VariableBody.extend({ key: z.string().min(1).max(255), value: z.string().max(8192) }));
    if (Object.hasOwn(fn.envVars ?? {}, body.key) || Object.hasOwn(fn.secrets ?? {}, body.key)) {
      throw new ApiError("conflict", `Variable ${body.key} already exists`);
    }
    const updated = await setVariable(c, fn, body.key, body.value, body.secret ?? false);
    return c.json(findVariable(updated, body.key), 201);
  });

  aw.get("/:functionId/variables/:variableId", async (c) => {
    const fn = await getFn(c);
    return c.json(findVariable(fn, c.req.param("variableId")));
  });

  aw.put("/:functionId/variables/:variableId", async (c) => {
    const fn = await getFn(c);
    const id = c.req.param("variableId");
    const current = findVariable(fn, id);
    const body = await input(c, VariableBody);
    const key = body.key ?? id;
    const secret = body.secret ?? current.secret;
    if (current.secret && !secret) throw badRequest("A secret variable cannot be made plain again");
    if (current.secret && body.value === undefined && key !== id) {
      throw badRequest("Renaming a secret variable needs its value");
    }
    let updated = fn;
    if (key !== id) updated = await setVariable(c, updated, id, undefined, current.secret);
    const value = body.value ?? (current.secret ? undefined : current.value);
    if (value === undefined) {
      // A secret kept as it is, made a secret if it was not one: nothing to change without its value.
      if (!current.secret) throw badRequest('Param "value" is needed to make a variable secret');
    } else updated = await setVariable(c, updated, key, value, secret);
    return c.json(findVariable(updated, key));
  });

  aw.delete("/:functionId/variables/:variableId", async (c) => {
    const fn = await getFn(c);
    const id = c.req.param("variableId");
    const current = findVariable(fn, id);
    await setVariable(c, fn, id, undefined, current.secret);
    return c.body(null, 204);
  });

  aw.all("*", () => {
    throw new ApiError("not_found", "The requested route was not found");
  });

  app.route("/v1/functions", aw as unknown as App);
}
