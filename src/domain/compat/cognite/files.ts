/**
 * Cognite files: the Cognite surface's Files API, as much of it as function code needs (see docs/compat.md). A file
 * is metadata of one project (workspace; table cognite_files) plus content in R2. The content arrives by a PUT to
 * the upload URL the create answered: a random token, kept only as its SHA-256, that works once and expires. Only
 * the upload that uses the token first becomes the content; a new upload (after an overwrite) replaces the old
 * content, and deleting a file deletes its content.
 */
import { and, eq, sql } from "drizzle-orm";
import { base64url, sha256Hex } from "../../../lib/crypto";
import { ApiError } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import type { EntityDef } from "../../../lib/list/entity";
import { compileListQuery, paginate } from "../../../lib/list/page";
import { cogniteFileKeyOf } from "../../../storage/objects";
import { type CogniteFileRow, cogniteFiles } from "../../../storage/schema";
import { isUniqueViolation, requireRole, requireUnscopedToFunctions, type ServiceContext } from "../../context";
import { rejectDuplicates } from "./ids";
import { cogniteError, collect, type Identifier, type Project } from "./project";

/** How long an upload URL works. */
export const UPLOAD_TTL_MS = 60 * 60 * 1000;
/** The largest file: a code upload's limit (the code limit, plus room for the archive's own bytes). */
export const FILE_BYTES = LIMITS.body.upload;

export const fileEntity: EntityDef = {
  name: "file",
  id: cogniteFiles.id,
  fields: {
    id: { column: cogniteFiles.id, type: "number" },
    name: { column: cogniteFiles.name, type: "string" },
    externalId: { column: cogniteFiles.externalId, type: "string", nullable: true },
    directory: { column: cogniteFiles.directory, type: "string", nullable: true },
    source: { column: cogniteFiles.source, type: "string", nullable: true },
    mimeType: { column: cogniteFiles.mimeType, type: "string", nullable: true },
    metadata: { column: cogniteFiles.metadata, type: "map", nullable: true },
    dataSetId: { column: cogniteFiles.dataSetId, type: "number", nullable: true },
    uploaded: { column: sql`(${cogniteFiles.objectKey} IS NOT NULL)`, type: "boolean", sortable: false },
    createdTime: { column: cogniteFiles.createdAt, type: "datetime", property: "createdAt" },
    lastUpdatedTime: { column: cogniteFiles.updatedAt, type: "datetime", property: "updatedAt" },
    uploadedTime: { column: cogniteFiles.uploadedAt, type: "datetime", nullable: true, property: "uploadedAt" },
    sourceCreatedTime: { column: cogniteFiles.sourceCreatedTime, type: "number", nullable: true },
    sourceModifiedTime: { column: cogniteFiles.sourceModifiedTime, type: "number", nullable: true },
  },
  // The id last, as a number (the list engine's own tie-breaker is a string id).
  defaultOrder: [
    { field: "createdTime", direction: "desc" },
    { field: "id", direction: "desc" },
  ],
};

export interface FileInput {
  name: string;
  externalId?: string;
  directory?: string;
  source?: string;
  mimeType?: string;
  metadata?: Record<string, string>;
  dataSetId?: number;
  sourceCreatedTime?: number;
  sourceModifiedTime?: number;
}

/** Writing files needs a developer key that is not scoped to single functions. */
function requireFileWrites(p: Project, action: string) {
  requireRole(p.ctx, "developer", action, p.ws.id);
  requireUnscopedToFunctions(p.ctx, action);
}

/** A key scoped to single functions sees no files (they are the project's, not a function's). */
const seesFiles = (p: Project) => !p.ctx.principal.functionIds;

const invalidUpload = () =>
  new ApiError("forbidden", "This upload URL is not valid: it expired, was used already, or was never issued");

/**
 * Creates a file's metadata and a fresh upload URL token (shown once). With `overwrite`, a file of the project with
 * the same externalId gets the given fields and a new token instead; its content stays until a new upload lands.
 */
export async function createFile(
  p: Project,
  input: FileInput,
  overwrite: boolean,
): Promise<{ row: CogniteFileRow; token: string }> {
  requireFileWrites(p, "upload files");
  const token = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const now = p.ctx.now;
  const fields = {
    name: input.name,
    directory: input.directory,
    source: input.source,
    mimeType: input.mimeType,
    metadata: input.metadata,
    dataSetId: input.dataSetId,
    sourceCreatedTime: input.sourceCreatedTime,
    sourceModifiedTime: input.sourceModifiedTime,
    uploadTokenHash: await sha256Hex(token),
    uploadExpiresAt: now + UPLOAD_TTL_MS,
    updatedAt: now,
  };
  try {
    const [row] = await p.ctx.db
      .insert(cogniteFiles)
      .values({
        ...fields,
        workspaceId: p.ws.id,
        externalId: input.externalId ?? null,
        createdBy: p.ctx.principal.keyId,
        createdAt: now,
      })
      .returning();
    return { row: row as CogniteFileRow, token };
  } catch (err) {
    if (!isUniqueViolation(err) || input.externalId === undefined) throw err;
  }
  const taken = [{ externalId: input.externalId }];
  if (!overwrite) {
    throw cogniteError(409, "A file with this externalId exists (overwrite=true replaces it)", undefined, taken);
  }
  const [row] = await p.ctx.db
    .update(cogniteFiles)
    .set(fields)
    .where(and(eq(cogniteFiles.workspaceId, p.ws.id), eq(cogniteFiles.externalId, input.externalId)))
    .returning();
  if (!row) throw cogniteError(409, "The file with this externalId changed meanwhile: try again", undefined, taken);
  return { row, token };
}

/**
 * The PUT to an upload URL: the body (read once the token is found valid) becomes the file's content if the token is
 * still unused when it is stored. Needs no API key: the URL is the credential, as Cognite's (cloud storage) upload
 * URLs are.
 */
export async function receiveUpload(
  ctx: Pick<ServiceContext, "db" | "env" | "now">,
  token: string,
  body: () => Promise<ArrayBuffer>,
): Promise<void> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw invalidUpload();
  const hash = await sha256Hex(token);
  const row = await ctx.db.select().from(cogniteFiles).where(eq(cogniteFiles.uploadTokenHash, hash)).get();
  if (!row || (row.uploadExpiresAt ?? 0) <= ctx.now) throw invalidUpload();
  const bytes = new Uint8Array(await body());
  if (bytes.byteLength > FILE_BYTES) {
    throw new ApiError("payload_too_large", `The file is larger than ${FILE_BYTES} bytes`);
  }
  const key = cogniteFileKeyOf(row.workspaceId, row.id, crypto.randomUUID());
  await ctx.env.CODE.put(key, bytes, { httpMetadata: { contentType: row.mimeType ?? "application/octet-stream" } });
  // The token works once: the first upload to store its bytes claims it, a later one (or one whose file was deleted
  // or given a new URL meanwhile) removes its own bytes again.
  const [claimed] = await ctx.db
    .update(cogniteFiles)
    .set({
      objectKey: key,
      size: bytes.byteLength,
      uploadedAt: ctx.now,
      uploadTokenHash: null,
      uploadExpiresAt: null,
      updatedAt: ctx.now,
    })
    .where(and(eq(cogniteFiles.id, row.id), eq(cogniteFiles.uploadTokenHash, hash)))
    .returning({ id: cogniteFiles.id });
  if (!claimed) {
    await ctx.env.CODE.delete(key);
    throw invalidUpload();
  }
  // The content it replaces (only a claim changes it, and this one was the token's only claim).
  if (row.objectKey) await ctx.env.CODE.delete(row.objectKey);
}

/** The project's files the identifiers name, in request order; unknown ones are `missing` unless ignored. */
export async function resolveFiles(
  p: Project,
  items: Identifier[],
  ignoreUnknownIds = false,
  status: 400 | 404 = 400,
): Promise<CogniteFileRow[]> {
  rejectDuplicates(items);
  const ids = items.flatMap((i) => ("id" in i ? [i.id] : []));
  const externalIds = items.flatMap((i) => ("externalId" in i ? [i.externalId] : []));
  const rows = seesFiles(p)
    ? await p.ctx.db
        .select()
        .from(cogniteFiles)
        .where(
          and(
            eq(cogniteFiles.workspaceId, p.ws.id),
            sql`(${cogniteFiles.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)})) OR ${cogniteFiles.externalId} IN (SELECT value FROM json_each(${JSON.stringify(externalIds)})))`,
          ),
        )
        .all()
    : [];
  const found: CogniteFileRow[] = [];
  const missing: Identifier[] = [];
  for (const item of items) {
    const row = rows.find((r) => ("id" in item ? r.id === item.id : r.externalId === item.externalId));
    if (row) found.push(row);
    else missing.push(item);
  }
  if (missing.length > 0 && !ignoreUnknownIds) {
    throw cogniteError(status, status === 404 ? "File not found" : "Files not found", missing);
  }
  return found;
}

/** Up to `limit` of the project's files that match `filter` (a node of the list language), newest first. */
export async function listFiles(p: Project, filter: unknown, limit: number, cursor?: string) {
  if (!seesFiles(p)) return { items: [] as CogniteFileRow[] };
  return collect(
    limit,
    cursor,
    async (q) => {
      const { query, filter: where } = compileListQuery(fileEntity, { ...q, filter });
      return paginate<CogniteFileRow>(
        p.ctx.db,
        cogniteFiles,
        fileEntity,
        and(eq(cogniteFiles.workspaceId, p.ws.id), where),
        query,
      );
    },
    async (rows) => rows,
  );
}

/** Deletes the files (their rows, then their content); unknown ones are a 400 with `missing` unless ignored. */
export async function deleteFiles(p: Project, items: Identifier[], ignoreUnknownIds = false): Promise<void> {
  requireFileWrites(p, "delete files");
  const rows = await resolveFiles(p, items, ignoreUnknownIds);
  if (rows.length === 0) return;
  // The row's latest content key, read as the row goes: an upload that lands meanwhile is not left behind.
  const gone = await p.ctx.db
    .delete(cogniteFiles)
    .where(
      and(
        eq(cogniteFiles.workspaceId, p.ws.id),
        sql`${cogniteFiles.id} IN (SELECT value FROM json_each(${JSON.stringify(rows.map((r) => r.id))}))`,
      ),
    )
    .returning({ objectKey: cogniteFiles.objectKey });
  const keys = gone.flatMap((g) => (g.objectKey ? [g.objectKey] : []));
  if (keys.length > 0) await p.ctx.env.CODE.delete(keys);
}

/** A file's content, for a function made from it: 400 unless the project has the file and its content is there. */
export async function fileContent(p: Project, id: number): Promise<{ row: CogniteFileRow; bytes: Uint8Array }> {
  const [row] = await resolveFiles(p, [{ id }]).catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 400) throw cogniteError(400, `fileId ${id}: no such file`);
    throw err;
  });
  const file = row as CogniteFileRow;
  if (!file.objectKey) {
    throw cogniteError(400, `fileId ${id}: the file has no content yet; PUT the zip to its uploadUrl first`);
  }
  const object = await p.ctx.env.CODE.get(file.objectKey);
  if (!object) throw cogniteError(400, `fileId ${id}: the file's content is gone; upload it again`);
  return { row: file, bytes: new Uint8Array(await object.arrayBuffer()) };
}
