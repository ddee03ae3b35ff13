/**
 * The Cognite Functions surface's verbs (/api/v1/projects/{project}/functions...): a project is a workspace, ids
 * are integers (./ids), lists page through the list engine. What the answers look like is the HTTP layer's.
 */
import { ApiError, type ErrorCode } from "../../../lib/errors";
import type { PageInfo } from "../../../lib/list/page";
import type { WorkspaceRow } from "../../../storage/schema";
import type { ServiceContext } from "../../context";
import { findWorkspace } from "../../workspaces";

/** What Cognite puts in `missing` / `duplicated`: the identifiers as the request gave them. */
export type Identifier = { id: number } | { externalId: string };

const CODES: Record<number, ErrorCode> = { 400: "bad_request", 403: "forbidden", 404: "not_found", 409: "conflict" };

/** A failure Cognite reports with its status, and the identifiers it is about (`details.missing`, `duplicated`). */
export function cogniteError(
  status: 400 | 403 | 404 | 409,
  message: string,
  missing?: Identifier[],
  duplicated?: Identifier[],
): ApiError {
  const details = missing || duplicated ? { missing, duplicated } : undefined;
  return new ApiError(CODES[status] as ErrorCode, message, details);
}

/** An authenticated request to one project (= edgefn workspace). */
export interface Project {
  ctx: ServiceContext;
  ws: WorkspaceRow;
}

/** The project `{project}` names (a workspace id or name), which the key must see; else 403. */
export async function openProject(ctx: ServiceContext, project: string): Promise<Project> {
  const ws = await findWorkspace(ctx, project);
  if (!ws) throw cogniteError(403, `The key has no access to project '${project.slice(0, 100)}'`);
  return { ctx, ws };
}

/** How many pages of the list engine one answer reads at most; then it answers with what it has and a cursor. */
const MAX_PAGES = 50;

/**
 * Up to `limit` items of a list, from `cursor` on: pages of the list engine (at most 100 rows each) until the limit,
 * the end, or MAX_PAGES; `show` turns each page's rows into items. `nextCursor` is set when there is more.
 */
export async function collect<Row, Item>(
  limit: number,
  cursor: string | undefined,
  page: (q: { limit: number; after?: string }) => Promise<{ rows: Row[]; pageInfo: PageInfo }>,
  show: (rows: Row[]) => Promise<Item[]>,
): Promise<{ items: Item[]; nextCursor?: string }> {
  const items: Item[] = [];
  let after = cursor;
  let more = true;
  for (let pages = 0; more && items.length < limit && pages < MAX_PAGES; pages++) {
    const { rows, pageInfo } = await page({ limit: Math.min(100, limit - items.length), after });
    items.push(...(await show(rows)));
    more = pageInfo.hasNextPage;
    after = pageInfo.endCursor ?? undefined;
  }
  return { items, nextCursor: more ? after : undefined };
}
