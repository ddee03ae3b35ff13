import type { Context } from "hono";
import { deleteCall, listCalls } from "../../../domain/calls/history";
import { deploy, sourceArchive } from "../../../domain/compat/appwrite/deployments";
import { execute, executionRecord, findExecution } from "../../../domain/compat/appwrite/executions";
import {
  checkSchedule,
  createVariable,
  deleteForGood,
  deleteVariable,
  findFunction,
  latestVersion,
  resolveProject,
  syncSchedule,
  updateVariable,
  variableOf,
} from "../../../domain/compat/appwrite/functions";
import { receivePart, wholeUpload } from "../../../domain/compat/appwrite/uploads";
import { createFunction, listFunctions, updateFunction } from "../../../domain/functions";
import { activateVersion, cancelVersion, getVersion, listVersions } from "../../../domain/versions";
import { ApiError, badRequest } from "../../../lib/errors";
import type { FunctionRow } from "../../../storage/schema";
import type { App } from "../../router";
import { type CompatEnv, compatRouter, readJson } from "../kit";
import {
  ActivateBody,
  APPWRITE_ID,
  ExecutionBody,
  FunctionBody,
  FunctionCreateBody,
  toFunctionInput,
  VariableBody,
  VariableCreateBody,
} from "./bodies";
import { appwriteError } from "./errors";
import {
  deploymentModel,
  executionModel,
  executionRequest,
  functionModel,
  functionPatch,
  partialUploadModel,
  runtimesList,
  specificationsList,
  variableModel,
  variablesOf,
} from "./mapping";
import { parseQueries, toListQuery, withCursor } from "./queries";

type C = Context<CompatEnv<{ workspaceId: string }>>;

const fnModel = async (c: C, fn: FunctionRow) => functionModel(fn, await latestVersion(c.var.ctx, fn));
const getFn = (c: C) => findFunction(c.var.ctx, c.var.workspaceId, c.req.param("functionId") as string);

/** A multipart flag ("true" / "1"). */
const flag = (v: unknown) => (typeof v === "string" ? v === "true" || v === "1" : undefined);

const DEPLOYMENT_STATUS: Record<string, string> = { waiting: "queued", processing: "queued" };
const EXECUTION_STATUS: Record<string, string> = { waiting: "queued", scheduled: "queued", processing: "running" };
const TRIGGER: Record<string, string> = { http: "api", schedule: "schedule" };

/**
 * The Appwrite Functions surface (see docs/compat.md): `/v1/functions...` with `X-Appwrite-Project` (a workspace)
 * and `X-Appwrite-Key` (an edgefn key); every answer in Appwrite's models and error shape.
 */
export function registerAppwriteRoutes(app: App): void {
  const aw = compatRouter<{ workspaceId: string }>({
    credential: (req) => {
      const key = req.header("x-appwrite-key");
      return key ? `Bearer ${key}` : undefined;
    },
    missingKey: "Missing the X-Appwrite-Key header: send an edgefn API key",
    toBody: appwriteError,
  });
  aw.use("*", async (c, next) => {
    c.set("workspaceId", await resolveProject(c.var.ctx, c.req.header("x-appwrite-project")));
    await next();
  });

  // --- Functions ------------------------------------------------------------------------------------------------

  aw.get("/runtimes", (c) => c.json(runtimesList()));
  aw.get("/specifications", (c) => c.json(specificationsList()));

  aw.get("/", async (c) => {
    const ctx = c.var.ctx;
    const { query, cursor } = toListQuery(parseQueries(c.req.url), {
      fields: {
        name: "name",
        $id: "id",
        $createdAt: "createdAt",
        $updatedAt: "updatedAt",
        deploymentId: "defaultVersionId",
      },
    });
    // A cursor names a function by its Appwrite id.
    const bounded = cursor
      ? withCursor(query, { ...cursor, id: (await findFunction(ctx, c.var.workspaceId, cursor.id)).id })
      : query;
    const search = c.req.query("search");
    const page = await listFunctions(ctx, {
      ...bounded,
      workspaceId: c.var.workspaceId,
      system: false,
      ...(search ? { name: search } : {}),
    });
    const items = await Promise.all(page.rows.map((fn) => fnModel(c, fn)));
    return c.json({ total: page.pageInfo.total, functions: items });
  });

  aw.post("/", async (c) => {
    const body = await readJson(c, FunctionCreateBody);
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
    const body = await readJson(c, FunctionBody);
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
    await deleteForGood(c.var.ctx, await getFn(c));
    return c.body(null, 204);
  });

  // --- Deployments ----------------------------------------------------------------------------------------------

  const activate = async (c: C, deploymentId: string) => {
    const fn = await getFn(c);
    const updated = await activateVersion(c.var.ctx, fn.id, deploymentId);
    return c.json(await fnModel(c, updated));
  };
  aw.patch("/:functionId/deployment", async (c) => activate(c, (await readJson(c, ActivateBody)).deploymentId));
  // The older SDKs' updateDeployment.
  aw.patch("/:functionId/deployments/:deploymentId", (c) => activate(c, c.req.param("deploymentId")));

  aw.get("/:functionId/deployments", async (c) => {
    const fn = await getFn(c);
    const { query, cursor } = toListQuery(parseQueries(c.req.url), {
      fields: { status: "status", $id: "id", $createdAt: "createdAt", entrypoint: "entrypoint" },
      values: { status: (v) => DEPLOYMENT_STATUS[String(v)] ?? v },
    });
    const { page } = await listVersions(c.var.ctx, fn.id, cursor ? withCursor(query, cursor) : query);
    return c.json({ total: page.pageInfo.total, deployments: page.rows.map((v) => deploymentModel(fn, v)) });
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
    const bytes = new Uint8Array(await file.arrayBuffer());
    const range = c.req.header("content-range");
    const upload = range
      ? await receivePart(c.var.ctx, fn, bytes, range, c.req.header("x-appwrite-id"))
      : wholeUpload(bytes);
    if (upload.state === "partial") return c.json(partialUploadModel(fn, upload), 202);
    const entrypoint = form.get("entrypoint");
    const version = await deploy(c.var.ctx, fn, upload, {
      entrypoint: typeof entrypoint === "string" ? entrypoint : undefined,
      activate: flag(form.get("activate")) ?? false,
    });
    return c.json(deploymentModel(fn, version, { total: upload.total, uploaded: upload.total }), 202);
  });

  aw.get("/:functionId/deployments/:deploymentId", async (c) => {
    const fn = await getFn(c);
    const { version } = await getVersion(c.var.ctx, fn.id, c.req.param("deploymentId"));
    return c.json(deploymentModel(fn, version));
  });

  aw.get("/:functionId/deployments/:deploymentId/download", async (c) => {
    const fn = await getFn(c);
    if ((c.req.query("type") ?? "source") !== "source") {
      throw badRequest('Only type "source" can be downloaded: edgefn keeps no build output archive');
    }
    const tgz = await sourceArchive(c.var.ctx, fn, c.req.param("deploymentId"));
    return new Response(tgz, {
      headers: {
        "content-type": "application/gzip",
        "content-disposition": `attachment; filename="${c.req.param("deploymentId")}.tar.gz"`,
      },
    });
  });

  aw.patch("/:functionId/deployments/:deploymentId/status", async (c) => {
    const fn = await getFn(c);
    return c.json(deploymentModel(fn, await cancelVersion(c.var.ctx, fn.id, c.req.param("deploymentId"))));
  });

  aw.delete("/:functionId/deployments/:deploymentId", async (c) => {
    const fn = await getFn(c);
    await getVersion(c.var.ctx, fn.id, c.req.param("deploymentId"));
    throw new ApiError("method_not_allowed", "edgefn keeps every version: deleting a deployment is not supported");
  });

  // --- Executions -----------------------------------------------------------------------------------------------

  aw.post("/:functionId/executions", async (c) => {
    const fn = await getFn(c);
    const body = await readJson(c, ExecutionBody);
    const request = executionRequest(body, c.env.EDGEFN_ADMIN_KEY);
    const record = await execute(c.var.ctx, fn, {
      request,
      body: body.body ?? "",
      async: body.async,
      scheduledAt: body.scheduledAt,
    });
    return c.json(executionModel(fn, record, c.var.ctx.now, request), 201);
  });

  aw.get("/:functionId/executions", async (c) => {
    const fn = await getFn(c);
    const { query, cursor } = toListQuery(parseQueries(c.req.url), {
      fields: {
        status: "status",
        trigger: "trigger",
        deploymentId: "versionId",
        $id: "id",
        $createdAt: "createdAt",
        duration: "durationMs",
      },
      values: { status: (v) => EXECUTION_STATUS[String(v)] ?? v, trigger: (v) => TRIGGER[String(v)] ?? v },
    });
    const page = await listCalls(c.var.ctx, fn.id, cursor ? withCursor(query, cursor) : query);
    const records = await Promise.all(page.rows.map((row) => executionRecord(c.var.ctx, row)));
    const executions = records.map((r) => executionModel(fn, r, c.var.ctx.now));
    return c.json({ total: page.pageInfo.total, executions });
  });

  aw.get("/:functionId/executions/:executionId", async (c) => {
    const fn = await getFn(c);
    const row = await findExecution(c.var.ctx, fn, c.req.param("executionId"));
    return c.json(executionModel(fn, await executionRecord(c.var.ctx, row), c.var.ctx.now));
  });
  aw.delete("/:functionId/executions/:executionId", async (c) => {
    const fn = await getFn(c);
    await deleteCall(c.var.ctx, (await findExecution(c.var.ctx, fn, c.req.param("executionId"))).id);
    return c.body(null, 204);
  });

  // --- Variables ------------------------------------------------------------------------------------------------

  aw.get("/:functionId/variables", async (c) => {
    const variables = variablesOf(await getFn(c));
    return c.json({ total: variables.length, variables });
  });

  aw.post("/:functionId/variables", async (c) => {
    const fn = await getFn(c);
    const body = await readJson(c, VariableCreateBody);
    const updated = await createVariable(c.var.ctx, fn, body);
    return c.json(variableModel(updated, body.key), 201);
  });

  aw.get("/:functionId/variables/:variableId", async (c) =>
    c.json(variableModel(await getFn(c), c.req.param("variableId"))),
  );

  aw.put("/:functionId/variables/:variableId", async (c) => {
    const fn = await getFn(c);
    variableOf(fn, c.req.param("variableId")); // a 404 before the body is read
    const body = await readJson(c, VariableBody);
    const updated = await updateVariable(c.var.ctx, fn, c.req.param("variableId"), body);
    return c.json(variableModel(updated.fn, updated.key));
  });

  aw.delete("/:functionId/variables/:variableId", async (c) => {
    await deleteVariable(c.var.ctx, await getFn(c), c.req.param("variableId"));
    return c.body(null, 204);
  });

  aw.all("*", () => {
    throw new ApiError("not_found", "The requested route was not found");
  });

  app.route("/v1/functions", aw as unknown as App);
}
