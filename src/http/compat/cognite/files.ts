import { Hono } from "hono";
import {
  createFile,
  deleteFiles,
  type FileInput,
  listFiles,
  receiveUpload,
  resolveFiles,
} from "../../../domain/compat/cognite/files";
import { cogniteError as failure, type Project } from "../../../domain/compat/cognite/project";
import { requestContext } from "../../context";
import { Bodies } from "./bodies";
import { type FileFilter, fileFilter, fileModel } from "./mapping";
import { type C, type CEnv, limitOf, page, pathId, queryLimit, read } from "./request";

/** Where an upload URL's PUT goes (outside /projects/{project}: the URL is its own credential). */
const UPLOAD_PATH = "/files/upload/:token";

/** `?overwrite=`: true or false, as Python clients spell them too. */
function overwriteOf(c: C): boolean {
  const raw = c.req.query("overwrite");
  if (raw === undefined || /^(false|0)$/i.test(raw)) return false;
  if (/^(true|1)$/i.test(raw)) return true;
  throw failure(400, "overwrite must be true or false");
}

/** A create body as the domain takes it (null is absent; asset, label and security fields are not kept). */
const inputOf = (b: ReturnType<typeof Bodies.createFile.parse>): FileInput => ({
  name: b.name,
  externalId: b.externalId ?? undefined,
  directory: b.directory ?? undefined,
  source: b.source ?? undefined,
  mimeType: b.mimeType ?? undefined,
  metadata: b.metadata ?? undefined,
  dataSetId: b.dataSetId ?? undefined,
  sourceCreatedTime: b.sourceCreatedTime ?? undefined,
  sourceModifiedTime: b.sourceModifiedTime ?? undefined,
});

const listOf = async (p: Project, filter: FileFilter, limit: number, cursor?: string) =>
  page(await listFiles(p, fileFilter(filter), limit, cursor), (row) => fileModel(row));

/**
 * The Files API of the Cognite surface, for function code (see docs/compat.md): /api/v1/projects/{project}/files...,
 * and the upload URLs its create answers (/api/v1/files/upload/{token}).
 */
export function registerFileRoutes(v1: Hono<CEnv>): void {
  const files = new Hono<CEnv>();
  files.post("/", async (c) => {
    const body = await read(c, Bodies.createFile);
    const { row, token } = await createFile(c.var.project, inputOf(body), overwriteOf(c));
    const uploadUrl = `${new URL(c.req.url).origin}/api/v1${UPLOAD_PATH.replace(":token", token)}`;
    return c.json(fileModel(row, uploadUrl), 201);
  });
  files.get("/", async (c) => {
    const q = queryLimit(c);
    return c.json(await listOf(c.var.project, {}, q.limit, q.cursor));
  });
  files.post("/list", async (c) => {
    const body = await read(c, Bodies.listFiles, true);
    return c.json(await listOf(c.var.project, body.filter ?? {}, limitOf(body.limit), body.cursor ?? undefined));
  });
  files.post("/byids", async (c) => {
    const body = await read(c, Bodies.filesByIds);
    const rows = await resolveFiles(c.var.project, body.items, body.ignoreUnknownIds ?? false);
    return c.json({ items: rows.map((row) => fileModel(row)) });
  });
  files.post("/delete", async (c) => {
    const body = await read(c, Bodies.deleteFiles);
    await deleteFiles(c.var.project, body.items, body.ignoreUnknownIds ?? false);
    return c.json({});
  });
  files.get("/:fileId", async (c) => {
    const [row] = await resolveFiles(c.var.project, [{ id: pathId(c, "fileId") }], false, 404);
    return c.json(fileModel(row as NonNullable<typeof row>));
  });
  v1.route("/projects/:project/files", files);

  // The upload URL: raw bytes, capped while they stream (src/lib/body-cap.ts); the token is checked before and
  // claimed after they are stored.
  v1.put(UPLOAD_PATH, async (c) => {
    await receiveUpload(requestContext(c), c.req.param("token"), () => c.req.arrayBuffer());
    return c.body(null, 200);
  });
}
