/**
 * The Supabase Edge Functions surface: `/functions/v1/{name}` calls the function named {name} of the key's
 * workspace: a fetch handler gets the request as /run forwards it, a `handle(data, ctx)` function the body as data.
 */
import { ApiError, badRequest, notFound } from "../../../lib/errors";
import type { FunctionRow, VersionRow } from "../../../storage/schema";
import { functionForInvoke } from "../../calls/cache";
import { resolve, runHttp } from "../../calls/http";
import { invokeFunction } from "../../calls/invoke";
import type { CallOutcome } from "../../calls/outcome";
import { type ServiceContext, seesFunction, visibleWorkspaceIds } from "../../context";
import { findWorkspace } from "../../workspaces";

/** Names the workspace for a key that sees every workspace (it has no workspace of its own). */
export const WORKSPACE_HEADER = "x-edgefn-workspace";

/** The function a request names, with its active version and the workspace it was found in. */
export interface SupabaseTarget {
  workspaceId: string;
  fn: FunctionRow;
  version: VersionRow | null;
}

/** The workspace the call is for: the caller's only one, or (for a caller of several) the one the header names. */
async function workspaceOf(ctx: ServiceContext, header: string | null): Promise<string> {
  if (!header) {
    const ids = visibleWorkspaceIds(ctx.principal);
    if (ids?.length === 1) return ids[0] as string;
    throw badRequest(
      `This key is for ${ids === null ? "every workspace" : "several workspaces"}: name the function's workspace with the ${WORKSPACE_HEADER} header`,
    );
  }
  const row = await findWorkspace(ctx, header);
  if (!row) throw notFound("workspace", header);
  return row.id;
}

/** The live function named `name` (the same cached lookup as /run: no D1 read per call); a hidden one is a 404. */
export async function findTarget(ctx: ServiceContext, workspaceHeader: string | null, name: string) {
  const workspaceId = await workspaceOf(ctx, workspaceHeader);
  const functionId = await resolve(ctx.db, { workspace: workspaceId, fn: name, origin: "platform" });
  const entry = await functionForInvoke(ctx.db, functionId, ctx.now);
  // A function the key may not see answers exactly as a missing name does.
  if (!entry || entry.fn.deletedAt !== null || !seesFunction(ctx, entry.fn)) {
    throw notFound("function", `${workspaceId.slice(0, 100)}/${name.slice(0, 160)}`);
  }
  return { workspaceId, fn: entry.fn, version: entry.version };
}

/** The request, to the function's fetch handler, as /run forwards it (`path`: after /functions/v1/{name}). */
export function forward(ctx: ServiceContext, request: Request, target: SupabaseTarget, path: string) {
  const headers = new Headers(request.headers);
  headers.delete(WORKSPACE_HEADER);
  // functions-js adds ?forceFunctionRegion=... for a region; regions mean nothing here.
  const url = new URL(request.url);
  url.searchParams.delete("forceFunctionRegion");
  const forwarded = new Request(url, {
    method: request.method,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? undefined : request.body,
    redirect: "manual",
  });
  return runHttp(ctx, forwarded, { workspace: target.workspaceId, fn: target.fn.id, path, origin: "platform" });
}

/** A synchronous call of a `handle(data, ctx)` function with these args. */
export async function call(ctx: ServiceContext, target: SupabaseTarget, args: unknown): Promise<CallOutcome> {
  const outcome = await invokeFunction(ctx, target.fn.id, { args });
  if (!("ok" in outcome)) throw new ApiError("internal_error", "The call was queued; expected a synchronous call");
  return outcome;
}
