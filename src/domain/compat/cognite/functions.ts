/** Cognite functions: edgefn functions of the project's workspace, by integer id or externalId. */
import { and, eq, or, sql } from "drizzle-orm";
import { ApiError } from "../../../lib/errors";
import type { UploadFile } from "../../../lib/files";
import type { CogniteFacts } from "../../../storage/cognite-ids";
import { type FunctionRow, functions, type VersionRow, versions } from "../../../storage/schema";
import { seesFunction } from "../../context";
import { createFunction, deleteFunction, getFunction, listFunctions, purgeFunction } from "../../functions";
import { createVersion, type Runtime, type Upload } from "../../versions";
import { codeOfZip, HANDLER_FILE } from "./code";
import { fileContent } from "./files";
import { duplicatesOf, numberOf, numbersFor, refsFor, rejectDuplicates } from "./ids";
import { cogniteError, collect, type Identifier, type Project } from "./project";

/**
 * A function with what its Cognite shape needs: its integer id, its owner, the file its code came from, its current
 * and latest versions.
 */
export interface FunctionView {
  fn: FunctionRow;
  id?: number;
  owner?: string | null;
  fileId?: number | null;
  /** The default (active) version. */
  current?: VersionRow;
  /** The newest version, whatever its status. */
  latest?: VersionRow;
}

/** A function this project shows: live, of this workspace, visible to the key. */
const shows = (p: Project, fn: FunctionRow | undefined): fn is FunctionRow =>
  fn !== undefined && fn.deletedAt === null && fn.workspaceId === p.ws.id && seesFunction(p.ctx, fn);

/** The functions the identifiers name, in request order; unknown ones are a 400 with `missing` unless ignored. */
export async function resolveFunctions(
  p: Project,
  items: Identifier[],
  ignoreUnknownIds = false,
  status: 400 | 404 = 400,
): Promise<FunctionRow[]> {
  rejectDuplicates(items);
  const numbers = items.flatMap((i) => ("id" in i ? [i.id] : []));
  const externalIds = items.flatMap((i) => ("externalId" in i ? [i.externalId] : []));
  const refs = await refsFor(p.ctx, "function", numbers);
  const byRef = [...refs.values()];
  const rows =
    byRef.length + externalIds.length === 0
      ? []
      : await p.ctx.db
          .select()
          .from(functions)
          .where(
            or(
              byRef.length
                ? sql`${functions.id} IN (SELECT value FROM json_each(${JSON.stringify(byRef)}))`
                : undefined,
              externalIds.length
                ? and(
                    eq(functions.workspaceId, p.ws.id),
                    sql`${functions.externalId} IN (SELECT value FROM json_each(${JSON.stringify(externalIds)}))`,
                  )
                : undefined,
            ),
          )
          .all();
  const visible = rows.filter((r) => shows(p, r));
  const found: FunctionRow[] = [];
  const missing: Identifier[] = [];
  for (const item of items) {
    const fn =
      "id" in item
        ? visible.find((r) => r.id === refs.get(item.id))
        : visible.find((r) => r.externalId === item.externalId);
    if (fn) found.push(fn);
    else missing.push(item);
  }
  if (missing.length > 0 && !ignoreUnknownIds) {
    throw cogniteError(status, status === 404 ? "Function not found" : "Functions not found", missing);
  }
  return found;
}

export const resolveFunction = async (p: Project, item: Identifier) =>
  (await resolveFunctions(p, [item], false, 404))[0] as FunctionRow;

/** The function's integer id. */
export const functionNumber = (p: Project, fn: FunctionRow) => numberOf(p.ctx, "function", fn.id);

/** The views of these functions: one D1 batch for their ids, one query for their current and latest versions. */
export async function functionViews(
  p: Project,
  rows: FunctionRow[],
  facts?: Map<string, CogniteFacts>,
): Promise<FunctionView[]> {
  if (rows.length === 0) return [];
  const ids = await numbersFor(
    p.ctx,
    "function",
    rows.map((r) => r.id),
    facts,
  );
  const fnIds = JSON.stringify(rows.map((r) => r.id));
  const defaults = JSON.stringify(rows.flatMap((r) => (r.defaultVersionId ? [r.defaultVersionId] : [])));
  const vs = await p.ctx.db
    .select()
    .from(versions)
    .where(
      and(
        sql`${versions.functionId} IN (SELECT value FROM json_each(${fnIds}))`,
        sql`(${versions.id} IN (SELECT value FROM json_each(${defaults})) OR ${versions.number} = (SELECT MAX(v2.number) FROM versions v2 WHERE v2.function_id = ${versions.functionId}))`,
      ),
    )
    .all();
  return rows.map((fn) => ({
    fn,
    id: ids.get(fn.id)?.id,
    owner: ids.get(fn.id)?.owner,
    fileId: ids.get(fn.id)?.fileId,
    current: vs.find((v) => v.id === fn.defaultVersionId),
    latest: vs
      .filter((v) => v.functionId === fn.id)
      .reduce<VersionRow | undefined>((a, v) => (!a || v.number > a.number ? v : a), undefined),
  }));
}

export interface FunctionItem {
  name: string;
  externalId?: string;
  description?: string;
  owner?: string;
  /** The file (of the project's Files API) holding the code as a zip. */
  fileId?: number;
  functionPath?: string;
  /** The runtime asked for (Cognite's py3x names are Python); inferred from the entry file when absent. */
  runtime?: Runtime;
  secrets?: Record<string, string>;
  envVars?: Record<string, string>;
  metadata?: Record<string, string>;
  /** edgefn extension: the code, as one module (index.ts) or as files (text, or `{ base64 }` for binary files). */
  code?: string;
  files?: Record<string, UploadFile>;
}

/** An item's code as an upload: from its file's zip, or from the edgefn extensions `files` and `code`. */
async function uploadOf(p: Project, item: FunctionItem): Promise<Upload> {
  const given = [item.fileId !== undefined, item.files !== undefined, item.code !== undefined].filter(Boolean);
  if (given.length !== 1) {
    throw cogniteError(
      400,
      given.length === 0
        ? "The item needs its code: `fileId` (a zip uploaded through /files), or edgefn's `files` (path -> text or {base64}) or `code` (one module)"
        : "Give the item's code once: `fileId`, `files` or `code`",
    );
  }
  if (item.fileId !== undefined) {
    const { bytes } = await fileContent(p, item.fileId);
    const { files, entrypoint } = await codeOfZip(item.fileId, bytes, item.functionPath || undefined);
    return { files, entrypoint, runtime: item.runtime };
  }
  const files = item.files ?? { "index.ts": item.code as string };
  const entrypoint = item.functionPath && Object.hasOwn(files, item.functionPath) ? item.functionPath : undefined;
  // The SDK sends its default functionPath (handler.py) whatever the code: then edgefn picks the entry file.
  if (item.functionPath && !entrypoint && item.functionPath !== HANDLER_FILE) {
    throw new ApiError("bad_request", `functionPath '${item.functionPath}' is not among the uploaded files`);
  }
  return { files, entrypoint, runtime: item.runtime };
}

/** Creates each function and uploads its code as its first version; the build runs in the background (Queued). */
export async function createFunctions(p: Project, items: FunctionItem[]): Promise<FunctionView[]> {
  const dupNames = duplicatesOf(items.flatMap((i) => (i.externalId ? [{ externalId: i.externalId }] : [])));
  if (dupNames.length > 0) throw cogniteError(400, "Duplicate externalIds in the request", undefined, dupNames);
  const created: FunctionRow[] = [];
  const facts = new Map<string, CogniteFacts>();
  for (const item of items) {
    // The code first: a file that is missing or not a zip of code leaves nothing behind.
    const upload = await uploadOf(p, item);
    let fn: FunctionRow;
    try {
      fn = await createFunction(p.ctx, {
        workspaceId: p.ws.id,
        name: item.name,
        externalId: item.externalId ?? null,
        description: item.description ?? null,
        metadata: item.metadata ?? null,
        envVars: item.envVars ?? null,
        secrets: item.secrets ?? null,
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === "conflict") {
        const dup = /external/i.test(err.message) && item.externalId ? [{ externalId: item.externalId }] : undefined;
        throw cogniteError(409, err.message, undefined, dup);
      }
      throw err;
    }
    try {
      await createVersion(p.ctx, fn.id, upload);
    } catch (err) {
      // The upload was refused: remove the function again, so the request has no effect.
      await deleteFunction(p.ctx, fn.id)
        .then(() => purgeFunction(p.ctx, fn.id))
        .catch(() => undefined);
      throw err;
    }
    if (item.owner !== undefined || item.fileId !== undefined) {
      facts.set(fn.id, { owner: item.owner ?? null, fileId: item.fileId ?? null });
    }
    created.push(await getFunction(p.ctx, fn.id));
  }
  return functionViews(p, created, facts);
}

/**
 * Up to `limit` of the project's functions that match `filter` (a node of the list language: see the Cognite
 * mapping), newest first, from `cursor` on.
 */
export async function listFunctionViews(p: Project, filter: unknown, limit: number, cursor?: string) {
  const scoped = { and: [{ workspaceId: { eq: p.ws.id } }, ...(filter === undefined ? [] : [filter])] };
  return collect(
    limit,
    cursor,
    (q) => listFunctions(p.ctx, { ...q, filter: scoped }),
    (rows) => functionViews(p, rows),
  );
}

export async function deleteFunctions(p: Project, items: Identifier[]) {
  const rows = await resolveFunctions(p, items);
  for (const fn of rows) await deleteFunction(p.ctx, fn.id);
}
