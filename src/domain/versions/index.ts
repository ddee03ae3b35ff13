import { and, eq, inArray, sql } from "drizzle-orm";
import { sha256Hex } from "../../lib/crypto";
import { ApiError, badRequest, conflict, notFound } from "../../lib/errors";
import { fileSize, fileText, isBase64, type UploadFile } from "../../lib/files";
import { newId } from "../../lib/ids";
import { LIMITS } from "../../lib/limits";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import { BuildError, normalizePath, type SourceBundle } from "../../runtime/bundle";
import { isPythonEntry } from "../../runtime/python/bundle";
import { sourceKeyOf } from "../../storage/objects";
import { type VersionRow, versions } from "../../storage/schema";
import { forgetFunction } from "../calls/cache";
import { raiseEvent } from "../compat/appwrite/events";
import type { ServiceContext } from "../context";
import { getFunction, lifecycle, requireWrite, unwrap } from "../functions";
import { confirmCode, releaseCode } from "./code";

export const versionEntity: EntityDef = {
  name: "version",
  id: versions.id,
  fields: {
    id: { column: versions.id, type: "string" },
    number: { column: versions.number, type: "number" },
    status: { column: versions.status, type: "string" },
    entrypoint: { column: versions.entrypoint, type: "string" },
    sourceSize: { column: versions.sourceSize, type: "number" },
    bundleSize: { column: versions.bundleSize, type: "number", nullable: true },
    activate: { column: versions.activate, type: "boolean" },
    createdAt: { column: versions.createdAt, type: "datetime" },
    updatedAt: { column: versions.updatedAt, type: "datetime" },
    buildStartedAt: { column: versions.buildStartedAt, type: "datetime", nullable: true },
    buildFinishedAt: { column: versions.buildFinishedAt, type: "datetime", nullable: true },
    createdBy: { column: versions.createdBy, type: "string", nullable: true },
  },
  relations: {
    /** What the Appwrite surface shows of a version (sizes summed, the build's time in seconds); the version's row. */
    appwrite: {
      fields: {
        totalSize: { column: sql`(${versions.sourceSize} + IFNULL(${versions.bundleSize}, 0))`, type: "number" },
        buildDuration: {
          column: sql`CAST((IFNULL(${versions.buildFinishedAt} - ${versions.buildStartedAt}, 0) + 500) / 1000 AS INTEGER)`,
          type: "number",
        },
      },
      exists: (condition) => condition,
    },
  },
  defaultOrder: [{ field: "number", direction: "desc" }],
};

export interface Upload {
  /** Files by path: a string is UTF-8 text, `{ base64 }` a binary file. */
  files: Record<string, UploadFile>;
  entrypoint?: string;
  activate?: boolean;
  /** "javascript" (JavaScript or TypeScript) or "python"; inferred from the entry file when omitted. */
  runtime?: Runtime;
}

export const RUNTIMES = ["javascript", "python"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** A version's runtime, told by its entry file. */
export const runtimeOf = (entrypoint: string): Runtime => (isPythonEntry(entrypoint) ? "python" : "javascript");

const ENTRY_CANDIDATES: Record<Runtime, string[]> = {
  javascript: ["index.ts", "index.js", "index.mjs", "index.mts", "src/index.ts", "src/index.js", "main.ts", "main.js"],
  // Cognite's default functionPath, Appwrite's starter, then the usual names.
  python: ["handler.py", "src/main.py", "main.py", "index.py", "src/handler.py"],
};
const CODE_FILE: Record<Runtime, RegExp> = { javascript: /\.(m?ts|m?js)$/, python: /\.py$/ };

/**
 * The entry file: as given, else package.json's main, else a conventional name, else the only code file. Without a
 * runtime, JavaScript's names come first and Python's are tried when the upload has no JavaScript.
 */
function pickEntrypoint(files: Record<string, UploadFile>, given?: string, runtime?: Runtime): string {
  const entry = findEntrypoint(files, given, runtime);
  if (runtime && runtimeOf(entry) !== runtime) {
    throw badRequest(
      `runtime is ${runtime} but the entry file '${entry}' is ${runtimeOf(entry) === "python" ? "Python" : "not Python"}`,
    );
  }
  return entry;
}

function findEntrypoint(files: Record<string, UploadFile>, given?: string, runtime?: Runtime): string {
  if (given) {
    let path: string;
    try {
      path = normalizePath(given);
    } catch (err) {
      // "../x": a path out of the upload is the caller's mistake, not an internal error.
      if (err instanceof BuildError) throw badRequest(`entrypoint: ${err.message}`);
      throw err;
    }
    if (!Object.hasOwn(files, path)) throw badRequest(`entrypoint '${given}' is not among the uploaded files`);
    return path;
  }
  const pkg = runtime === "python" || files["package.json"] === undefined ? null : fileText(files["package.json"]);
  if (pkg) {
    try {
      const main = (JSON.parse(pkg) as { main?: unknown }).main;
      if (typeof main === "string" && Object.hasOwn(files, normalizePath(main))) return normalizePath(main);
    } catch {
      // not JSON: fall through to the conventions
    }
  }
  const kinds: Runtime[] = runtime
    ? [runtime]
    : Object.keys(files).some((f) => CODE_FILE.javascript.test(f))
      ? ["javascript"]
      : ["python"];
  for (const kind of kinds) {
    const conventional = ENTRY_CANDIDATES[kind].find((c) => Object.hasOwn(files, c));
    if (conventional) return conventional;
    // The only code file of the upload's own (a node_modules folder holds many).
    const code = Object.keys(files).filter((f) => CODE_FILE[kind].test(f) && !/(^|\/)node_modules\//.test(f));
    if (code.length === 1) return code[0] as string;
  }
  throw badRequest("Cannot tell which file is the entrypoint: name it with `entrypoint`");
}

/** Stores an upload's sources in R2 (content-addressed), records a queued version and enqueues its build. */
export async function createVersion(ctx: ServiceContext, functionId: string, upload: Upload): Promise<VersionRow> {
  const fn = await getFunction(ctx, functionId);
  requireWrite(ctx, fn, "upload versions of");
  if (fn.deletedAt !== null) throw conflict(`Function ${functionId} is deleted; restore it first`);

  const files: Record<string, UploadFile> = {};
  let size = 0;
  try {
    for (const [path, file] of Object.entries(upload.files)) {
      const clean = normalizePath(path);
      if (!clean) throw badRequest(`files: '${path}' is not a file path`);
      if (typeof file !== "string" && !isBase64(file.base64)) {
        throw badRequest(`files: '${path.slice(0, 200)}': base64 is not valid (standard alphabet, padded)`);
      }
      files[clean] = file;
      // A binary file counts by its decoded size.
      size += fileSize(file);
    }
  } catch (err) {
    if (err instanceof BuildError) throw badRequest(`files: ${err.message}`);
    throw err;
  }
  if (Object.keys(files).length === 0) throw badRequest("files: upload at least one file");
  if (Object.keys(files).length > LIMITS.codeFiles) {
    throw new ApiError("payload_too_large", `The upload holds more than ${LIMITS.codeFiles} files`);
  }
  if (size > LIMITS.codeBytes) {
    throw new ApiError("payload_too_large", `The code is ${size} bytes; the limit is ${LIMITS.codeBytes} bytes`);
  }
  const entrypoint = pickEntrypoint(files, upload.entrypoint, upload.runtime);

  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
  const source: SourceBundle = { files: sorted, entrypoint };
  const body = JSON.stringify(source);
  const sourceKey = sourceKeyOf(await sha256Hex(body));
  // Always written, even when the object exists; confirmed once the row refers to it (see ./code).
  const stored = { httpMetadata: { contentType: "application/json" } };
  await ctx.env.CODE.put(sourceKey, body, stored);

  const outcome = await lifecycle(ctx, functionId).createVersion({
    id: newId("ver", ctx.now),
    functionId,
    workspaceId: fn.workspaceId,
    status: "queued",
    entrypoint,
    sourceKey,
    sourceSize: size,
    bundleKey: null,
    bundleSize: null,
    handlers: null,
    activate: upload.activate ?? true,
    error: null,
    buildLogs: [],
    createdBy: ctx.principal.keyId,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    buildStartedAt: null,
    buildFinishedAt: null,
  });
  // Refused (the function was deleted or purged meanwhile): the object goes unless another version uses it.
  if (!outcome.ok) await releaseCode(ctx.db, ctx.env, [sourceKey]);
  const version = unwrap(outcome);
  await confirmCode(ctx.env, sourceKey, body, stored);
  await ctx.env.JOBS.send({ type: "build", versionId: version.id });
  raiseEvent(ctx, { kind: "deployment", fn, version }, "create");
  return version;
}

export async function getVersion(ctx: ServiceContext, functionId: string, versionId: string) {
  const fn = await getFunction(ctx, functionId);
  const version = await ctx.db
    .select()
    .from(versions)
    .where(and(eq(versions.id, versionId), eq(versions.functionId, functionId)))
    .get();
  if (!version) throw notFound("version", versionId);
  return { fn, version };
}

export async function listVersions(ctx: ServiceContext, functionId: string, q: ListQuery) {
  const fn = await getFunction(ctx, functionId);
  const { query, filter } = compileListQuery(versionEntity, q);
  const page = await paginate<VersionRow>(
    ctx.db,
    versions,
    versionEntity,
    and(eq(versions.functionId, functionId), filter),
    query,
  );
  return { fn, page };
}

/** The uploaded sources of a version, as they were stored. */
export async function versionSource(ctx: ServiceContext, functionId: string, versionId: string): Promise<SourceBundle> {
  const { version } = await getVersion(ctx, functionId, versionId);
  const object = await ctx.env.CODE.get(version.sourceKey);
  if (!object) throw notFound("source of version", versionId);
  return object.json<SourceBundle>();
}

/** Makes a ready version the function's default; activating an older one is the rollback. */
export async function activateVersion(ctx: ServiceContext, functionId: string, versionId: string) {
  const { fn, version } = await getVersion(ctx, functionId, versionId);
  requireWrite(ctx, fn, "activate versions of");
  const updated = unwrap(await lifecycle(ctx, functionId).activate(functionId, versionId, ctx.now));
  forgetFunction(functionId);
  raiseEvent(ctx, { kind: "deployment", fn: updated, version }, "update");
  return updated;
}

/** Cancels a build that has not finished; a finished one is a 409. */
export async function cancelVersion(ctx: ServiceContext, functionId: string, versionId: string): Promise<VersionRow> {
  const { fn, version } = await getVersion(ctx, functionId, versionId);
  requireWrite(ctx, fn, "cancel builds of");
  const [row] = await ctx.db
    .update(versions)
    .set({ status: "canceled", updatedAt: ctx.now, buildFinishedAt: ctx.now })
    .where(and(eq(versions.id, versionId), inArray(versions.status, ["queued", "building"])))
    .returning();
  if (!row)
    throw conflict(`Version ${versionId} is ${version.status}; only a queued or building version can be canceled`);
  raiseEvent(ctx, { kind: "deployment", fn, version: row }, "update");
  return row;
}

/**
 * Deletes a version for good: its row goes, and its code objects unless another version uses them. The default
 * version can be deleted too: the function then has none (as Appwrite resets a function's deployment) until one is
 * activated. A build still running for it finds no row and stops.
 */
export async function deleteVersion(ctx: ServiceContext, functionId: string, versionId: string): Promise<void> {
  const { fn, version } = await getVersion(ctx, functionId, versionId);
  requireWrite(ctx, fn, "delete versions of");
  unwrap(await lifecycle(ctx, functionId).deleteVersion(functionId, versionId, ctx.now));
  forgetFunction(functionId);
  raiseEvent(ctx, { kind: "deployment", fn, version }, "delete");
}
