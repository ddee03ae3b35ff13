import { bodyCapError } from "../../../lib/body-cap";
import { ApiError, badRequest, errorBody, notFound } from "../../../lib/errors";
import { functionForInvoke } from "../../calls/cache";
import { resolve, runHttp } from "../../calls/http";
import { invokeFunction } from "../../calls/invoke";
import { type ServiceContext, seesFunction } from "../../context";
import { authenticate } from "../../keys/authenticate";
import { findWorkspace } from "../../workspaces";

/** Names the workspace for a key that sees every workspace (it has no workspace of its own). */
export const WORKSPACE_HEADER = "x-edgefn-workspace";

export interface SupabaseTarget {
  name: string;
  /** The path after /functions/v1/{name}, starting with "/". */
  path: string;
}

/** The workspace the call is for: the key's own, or (for a key of every workspace) the one the header names. */
async function workspaceOf(ctx: ServiceContext, header: string | null): Promise<string> {
  if (!header) {
    if (ctx.principal.workspaceId !== null) return ctx.principal.workspaceId;
    throw badRequest(
      `This key is for every workspace: name the function's workspace with the ${WORKSPACE_HEADER} header`,
    );
  }
  const row = await findWorkspace(ctx, header);
  if (!row) throw notFound("workspace", header);
  return row.id;
}

/** The request's body as a call's args: JSON when it says so, text otherwise, null when there is none. */
async function argsOf(request: Request): Promise<unknown> {
  if (request.method === "GET" || request.method === "HEAD") return null;
  const text = await request.text();
  if (!text) return null;
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      return JSON.parse(text);
    } catch {
      throw badRequest("Body is not valid JSON");
    }
  }
  return text;
}

const json = (body: unknown, status: number) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/**
 * Serves one `/functions/v1/{name}` request. Errors are thrown as ApiError (the one error shape); a function that
 * throws is answered here, 500 with the error in the body (504 when it timed out), so the client's
 * FunctionsHttpError carries it.
 */
export async function invokeSupabase(
  ctxBase: Omit<ServiceContext, "principal">,
  request: Request,
  target: SupabaseTarget,
  requestId: string,
): Promise<Response> {
  const capped = bodyCapError(request);
  if (capped) throw capped;
  const env = ctxBase.env;
  const principal = await authenticate(env, request.headers.get("authorization") ?? undefined);
  const ctx: ServiceContext = { ...ctxBase, principal };
  const workspaceId = await workspaceOf(ctx, request.headers.get(WORKSPACE_HEADER));

  // The same cached name lookup as /run: no D1 read per call.
  const functionId = await resolve(ctx.db, { workspace: workspaceId, fn: target.name, origin: "platform" });
  const entry = await functionForInvoke(ctx.db, functionId, ctx.now);
  // A function the key may not see answers exactly as a missing name does.
  if (!entry || entry.fn.deletedAt !== null || !seesFunction(ctx, entry.fn)) {
    throw notFound("function", `${workspaceId.slice(0, 100)}/${target.name.slice(0, 160)}`);
  }
  const { fn, version } = entry;

  if (version?.handlers?.includes("fetch")) {
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
    return runHttp(ctx, forwarded, { workspace: workspaceId, fn: fn.id, path: target.path, origin: "platform" });
  }

  const args = await argsOf(request);
  const outcome = await invokeFunction(ctx, fn.id, { args });
  if (!("ok" in outcome)) throw new ApiError("internal_error", "The call was queued; expected a synchronous call");
  if (outcome.ok) {
    const res = json(outcome.result === undefined ? null : outcome.result, 200);
    res.headers.set("edgefn-call-id", outcome.callId);
    return res;
  }
  const status = outcome.status === "timeout" ? 504 : 500;
  const res = json(
    errorBody("function_failed", outcome.error ?? "The function failed", requestId, {
      callId: outcome.callId,
      name: outcome.errorDetail?.name,
    }),
    status,
  );
  res.headers.set("edgefn-call-id", outcome.callId);
  return res;
}
