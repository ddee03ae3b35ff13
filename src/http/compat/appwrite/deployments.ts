/** `/v1/functions/{id}/deployments`: uploads (whole or chunked), templates, copies, downloads, activation. */
import { deploy, duplicateDeployment, outputArchive, sourceArchive } from "../../../domain/compat/appwrite/deployments";
import { deploymentModel } from "../../../domain/compat/appwrite/models";
import { deployTemplate } from "../../../domain/compat/appwrite/templates";
import { receivePart, wholeUpload } from "../../../domain/compat/appwrite/uploads";
import { requireWrite } from "../../../domain/functions";
import { activateVersion, cancelVersion, deleteVersion, getVersion, listVersions } from "../../../domain/versions";
import { ApiError, badRequest } from "../../../lib/errors";
import { readJson } from "../kit";
import { ActivateBody, DuplicateBody, TemplateDeploymentBody } from "./bodies";
import { type AwRouter, type C, flag, fnModel, functionOf, scope, withTotal } from "./context";
import { DEPLOYMENT_ATTRIBUTES } from "./mapping";
import { parseQueries, toListQuery, withCursor } from "./queries";

/** Appwrite's partial answer to a part of a chunked upload while more are to come. */
function partialUploadModel(fnId: string, part: { uploadId: string; total: number; uploaded: number }) {
  const now = new Date().toISOString();
  return {
    $id: part.uploadId,
    $createdAt: now,
    $updatedAt: now,
    type: "manual",
    resourceId: fnId,
    resourceType: "functions",
    status: "waiting",
    chunksTotal: part.total,
    chunksUploaded: part.uploaded,
  };
}

export function registerDeploymentRoutes(aw: AwRouter): void {
  const activate = async (c: C, deploymentId: string) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    const updated = await activateVersion(c.var.ctx, fn.id, deploymentId);
    return c.json(await fnModel(c, updated));
  };
  aw.patch("/:functionId/deployment", async (c) => activate(c, (await readJson(c, ActivateBody)).deploymentId));
  // The older SDKs' updateDeployment.
  aw.patch("/:functionId/deployments/:deploymentId", (c) => activate(c, c.req.param("deploymentId")));

  aw.get("/:functionId/deployments", async (c) => {
    scope(c, "functions.read");
    const fn = await functionOf(c);
    const { query, cursor } = toListQuery(parseQueries(c.req.url), DEPLOYMENT_ATTRIBUTES);
    const search = c.req.query("search");
    const searched = search
      ? {
          ...query,
          filter: {
            and: [
              ...(query.filter ? [query.filter] : []),
              { or: [{ id: { ilike: `%${search}%` } }, { entrypoint: { ilike: `%${search}%` } }] },
            ],
          },
        }
      : query;
    const { page } = await listVersions(c.var.ctx, fn.id, cursor ? withCursor(searched, cursor) : searched);
    return c.json({
      total: withTotal(c, page.pageInfo.total),
      deployments: page.rows.map((v) => deploymentModel(fn, v)),
    });
  });

  aw.post("/:functionId/deployments", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
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
    if (upload.state === "partial") return c.json(partialUploadModel(fn.externalId ?? fn.id, upload), 202);
    const entrypoint = form.get("entrypoint");
    const version = await deploy(c.var.ctx, fn, upload, {
      entrypoint: typeof entrypoint === "string" ? entrypoint : undefined,
      activate: flag(form.get("activate")) ?? false,
    });
    return c.json(deploymentModel(fn, version, { total: upload.total, uploaded: upload.total }), 202);
  });

  aw.post("/:functionId/deployments/duplicate", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    const body = await readJson(c, DuplicateBody, { required: true });
    return c.json(deploymentModel(fn, await duplicateDeployment(c.var.ctx, fn, body.deploymentId)), 202);
  });
  // Appwrite 1.6's createBuild: the same, for an existing deployment named in the path.
  aw.post("/:functionId/deployments/:deploymentId/build", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    await duplicateDeployment(c.var.ctx, fn, c.req.param("deploymentId"));
    return c.body(null, 204);
  });

  aw.post("/:functionId/deployments/template", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    const body = await readJson(c, TemplateDeploymentBody, { required: true });
    const version = await deployTemplate(c.var.ctx, fn, { ...body, activate: body.activate ?? false });
    return c.json(deploymentModel(fn, version), 202);
  });

  aw.post("/:functionId/deployments/vcs", async (c) => {
    scope(c, "functions.write");
    requireWrite(c.var.ctx, await functionOf(c), "deploy");
    throw new ApiError("method_not_allowed", "edgefn has no version control integration: upload the code instead");
  });

  aw.get("/:functionId/deployments/:deploymentId", async (c) => {
    scope(c, "functions.read");
    const fn = await functionOf(c);
    const { version } = await getVersion(c.var.ctx, fn.id, c.req.param("deploymentId"));
    return c.json(deploymentModel(fn, version));
  });

  aw.get("/:functionId/deployments/:deploymentId/download", async (c) => {
    scope(c, "functions.read");
    const fn = await functionOf(c);
    const type = c.req.query("type") ?? "source";
    if (type !== "source" && type !== "output") {
      throw badRequest("Invalid `type` param: Value must be one of (source, output)");
    }
    const id = c.req.param("deploymentId");
    const tgz = type === "source" ? await sourceArchive(c.var.ctx, fn, id) : await outputArchive(c.var.ctx, fn, id);
    return new Response(tgz, {
      headers: {
        "content-type": "application/gzip",
        "content-disposition": `attachment; filename="${id.replace(/[^A-Za-z0-9_.-]/g, "")}.tar.gz"`,
        "cache-control": "private, max-age=3888000",
      },
    });
  });

  aw.patch("/:functionId/deployments/:deploymentId/status", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    return c.json(deploymentModel(fn, await cancelVersion(c.var.ctx, fn.id, c.req.param("deploymentId"))));
  });

  aw.delete("/:functionId/deployments/:deploymentId", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    await deleteVersion(c.var.ctx, fn.id, c.req.param("deploymentId"));
    return c.body(null, 204);
  });
}
