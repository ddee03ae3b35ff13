import { conflict, notFound } from "../../lib/errors";
import type { Db } from "../../storage/db";
import type { FunctionRow, VersionRow } from "../../storage/schema";
import { type ServiceContext, workspaceOfUse } from "../context";
import { functionForInvoke, versionForInvoke } from "./cache";

/**
 * The first step of every call: the live function and the version that runs it. The function and its default
 * version come from the per-isolate cache (one D1 read on a miss); a pinned version must be the function's and ready.
 */

export interface Target {
  fn: FunctionRow;
  version: VersionRow;
}

/** The live function (with its default version, if any), or null when there is none (or it is deleted). */
export async function liveFunction(db: Db, functionId: string, now: number) {
  const entry = await functionForInvoke(db, functionId, now);
  return entry && entry.fn.deletedAt === null ? entry : null;
}

/**
 * The version a call of this function runs: the pinned one or the default. 404 for a version of another function,
 * 409 when there is no ready version (or the pinned one is not ready), and for an HTTP call 409 when the version has
 * no fetch handler.
 */
export async function versionToRun(
  db: Db,
  fn: FunctionRow,
  defaultVersion: VersionRow | null,
  pinned?: string | null,
  needs?: "fetch",
): Promise<VersionRow> {
  let version = defaultVersion;
  if (pinned && pinned !== version?.id) {
    const v = await versionForInvoke(db, pinned);
    if (!v || v.functionId !== fn.id) throw notFound("version", pinned);
    version = v;
  }
  if (!version) throw conflict(`Function ${fn.id} has no ready version yet: upload one and wait for its build`);
  if (version.status !== "ready") throw conflict(`Version ${version.id} is ${version.status}, not ready`);
  if (needs === "fetch" && version.handlers && !version.handlers.includes("fetch")) {
    throw conflict(`Version ${version.id} has no fetch handler: export default { fetch(request) } to serve HTTP`);
  }
  return version;
}

/** The workspace a call of this function by this caller belongs to: a system function's calls are their caller's. */
export function callWorkspace(
  ctx: Pick<ServiceContext, "principal">,
  fn: Pick<FunctionRow, "id" | "system" | "workspaceId">,
): string {
  return workspaceOfUse(ctx, fn);
}
