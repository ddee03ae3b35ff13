/**
 * Supabase Edge Functions' invoke surface (`/functions/v1/{name}`, what @supabase/functions-js calls) as a thin
 * adapter: the function is found by name in the key's workspace; one with a fetch handler gets the request as /run
 * forwards it, a `handle(data)` one is invoked with the body as its args and its result answered as JSON.
 */
import { and, eq, isNull, or } from "drizzle-orm";
import { functions, workspaces } from "../../../db/schema";
import type { Env } from "../../../env";
import { authenticate } from "../../../lib/auth";
import { ApiError, badRequest, errorBody, notFound } from "../../../lib/errors";
import { type ServiceContext, seesFunction, seesWorkspace } from "../../context";
import { invokeFunction } from "../../invoke";
import { functionForInvoke } from "../../invoke/cache";
import { runHttp } from "../../run";

/** Names the workspace for a key that sees every workspace (it has no workspace of its own). */
export const WORKSPACE_HEADER = "x-edgefn-workspace";

export interface SupabaseTarget {
  name: string;
  /** The path after /functions/v1/{name}, starting with "/". */
  path: string;
}

/** The workspace the call is for: the key's own, or (for a key of every workspace) the one the header names. */
async function workspaceOf(ctx: ServiceContext, header: string | null): Promise<string> {
  if (ctx.principal.workspaceId !== null) {
    if (header) {
      const row = await ctx.db
        .select({ id: workspaces.id })
        .from(workspaces)
        .where(or(eq(workspaces.id, header), eq(workspaces.name, header)))
        .get();
      if (!row || !seesWorkspace(ctx, row.id)) throw notFound("workspace", header);
    }
    return ctx.principal.workspaceId;
  }
  if (!header) {
    throw badRequest(
      `This key is for every workspace: name the function's workspace with the ${WORKSPACE_HEADER} header`,
    );
  }
  const row = await ctx.db
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(or(eq(workspaces.id, header), eq(workspaces.name, header)))
    .get();
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
  env: Env,
  ctxBase: Omit<ServiceContext, "principal">,
  request: Request,
  target: SupabaseTarget,
  requestId: string,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Response> {
  const principal = await authenticate(env, request.headers.get("authorization") ?? undefined);
  const ctx: ServiceContext = { ...ctxBase, principal };
  const workspaceId = await workspaceOf(ctx, request.headers.get(WORKSPACE_HEADER));

  const row = await ctx.db
    .select({ id: functions.id })
    .from(functions)
    .where(and(eq(functions.workspaceId, workspaceId), eq(functions.name, target.name), isNull(functions.deletedAt)))
    .get();
  const entry = row ? await functionForInvoke(ctx.db, row.id, ctx.now) : undefined;
  if (!entry || entry.fn.deletedAt !== null || !seesFunction(ctx, entry.fn)) throw notFound("function", target.name);
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
    return runHttp(env, ctx.db, forwarded, { workspace: workspaceId, fn: fn.id, path: target.path }, waitUntil);
  }

  const args = await argsOf(request);
  const outcome = await invokeFunction(ctx, fn.id, { args }, waitUntil);
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
