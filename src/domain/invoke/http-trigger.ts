import { and, eq, isNull, or, sql } from "drizzle-orm";
import type { Env, Principal } from "../../env";
import { bodyCapError } from "../../lib/body-cap";
import { stripCredentials } from "../../lib/credentials";
import { ApiError, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { LIMITS } from "../../lib/limits";
import { confinedToFunctionOrigin, inertOnPlatformOrigin } from "../../lib/origin";
import { journalBegin, journalEnd } from "../../runtime/journal";
import { functionIsolate } from "../../runtime/loader";
import { checkLogs } from "../../runtime/outcome";
import type { Db } from "../../storage/db";
import { functions, workspaces } from "../../storage/schema";
import { type NewCall, recordAfterAnswer } from "../calls/record";
import { requireRole, type ServiceContext, seesFunction } from "../context";
import { authenticate } from "../keys/authenticate";
import { callWorkspace, type Execution, refusedRun } from ".";
import { admit, BudgetExceeded } from "./budget";
import { functionForInvoke, versionForInvoke } from "./cache";

/** Headers the platform reads and does not pass on. */
const VERSION_HEADER = "edgefn-version";
const CALL_HEADER = "edgefn-call-id";

export interface RunTarget {
  workspace: string;
  fn: string;
  /** The path after /run/{workspace}/{function}, starting with "/". */
  path: string;
  /**
   * Where the request arrived: the platform's own origin (/run/...: the answer is made inert) or the function's
   * own origin (a host of the run domain, whose labels are lower case: names match without regard to case).
   */
  origin: "platform" | "function";
}

/** The function a /run path names, as error messages repeat it (names are clipped: a path can be long). */
const named = (target: Omit<RunTarget, "path">) => `${target.workspace.slice(0, 100)}/${target.fn.slice(0, 160)}`;

/** /run paths resolved in this isolate, kept as briefly as the invoke cache keeps a function. */
const resolved = new Map<string, { id: string; at: number }>();
const RESOLVE_TTL_MS = 2_000;

/** The live function a /run path names, by workspace name or id and function name or id (cached briefly). */
export async function resolve(db: Db, target: Omit<RunTarget, "path">): Promise<string> {
  const key = `${target.origin}:${target.workspace}/${target.fn}`;
  const hit = resolved.get(key);
  const now = Date.now();
  if (hit && now - hit.at < RESOLVE_TTL_MS) return hit.id;
  const id = await lookup(db, target);
  if (resolved.size >= 5_000) resolved.clear();
  resolved.set(key, { id, at: now });
  return id;
}

async function lookup(db: Db, target: Omit<RunTarget, "path">): Promise<string> {
  const folded = target.origin === "function";
  const rows = await db
    .select({ id: functions.id, name: functions.name, workspaceName: workspaces.name })
    .from(functions)
    .innerJoin(workspaces, eq(workspaces.id, functions.workspaceId))
    .where(
      and(
        folded
          ? or(eq(workspaces.id, target.workspace), sql`lower(${workspaces.name}) = ${target.workspace}`)
          : or(eq(workspaces.id, target.workspace), eq(workspaces.name, target.workspace)),
        folded
          ? or(eq(functions.id, target.fn), sql`lower(${functions.name}) = ${target.fn}`)
          : or(eq(functions.id, target.fn), eq(functions.name, target.fn)),
        isNull(functions.deletedAt),
      ),
    )
    .limit(2)
    .all();
  if (rows.length === 0) throw notFound("function", named(target));
  // Names that differ only in case cannot be told apart in a host name.
  if (rows.length > 1) throw conflict(`More than one function answers to ${named(target)}: use its id`);
  return (rows[0] as { id: string }).id;
}

/**
 * Forwards an HTTP request to the function's `fetch` handler in its isolate and streams the answer back. A
 * function is protected unless it is public: then any invoker key that sees its workspace may call it. The
 * platform's key is not passed on; the call is recorded (trigger http) once the response body has been sent.
 */
export async function runHttp(
  env: Env,
  db: Db,
  request: Request,
  target: RunTarget,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Response> {
  // A body declared larger than the cap is refused before anything runs.
  const capped = bodyCapError(request);
  if (capped) throw capped;
  const functionId = await resolve(db, target);
  const entry = await functionForInvoke(db, functionId, Date.now());
  if (!entry || entry.fn.deletedAt !== null) throw notFound("function", named(target));
  const { fn } = entry;

  // A browser's preflight carries no credentials: the platform answers it from the function's CORS origins.
  const origin = request.headers.get("origin");
  const allowedOrigin = origin && fn.corsOrigins?.some((o) => o === "*" || o.toLowerCase() === origin.toLowerCase());
  if (request.method === "OPTIONS" && origin && request.headers.has("access-control-request-method")) {
    // Nor does it reveal a function that is not public to an origin the function does not allow.
    if (!allowedOrigin && !fn.public) throw notFound("function", named(target));
    const headers = new Headers({ vary: "Origin" });
    if (allowedOrigin) {
      headers.set("access-control-allow-origin", origin);
      headers.set("access-control-allow-methods", request.headers.get("access-control-request-method") ?? "GET");
      const asked = request.headers.get("access-control-request-headers");
      if (asked) headers.set("access-control-allow-headers", asked);
      headers.set("access-control-max-age", "600");
    }
    return new Response(null, { status: 204, headers });
  }

  const url = new URL(request.url);
  const pinned = url.searchParams.get("version") ?? request.headers.get(VERSION_HEADER);
  url.searchParams.delete("version");

  let principal: Principal | null = null;
  const authorization = request.headers.get("authorization");
  // A protected function needs a key; so does pinning a version of a public one (anonymous callers get the active
  // version only: a version that is not active is not public).
  const anonymousPin = fn.public && pinned !== null && pinned !== entry.version?.id;
  if (!fn.public || anonymousPin) {
    if (anonymousPin && !authorization) throw notFound("version", pinned);
    principal = await authenticate(env, authorization ?? undefined);
    const ctx = { db, env, principal, now: Date.now() } satisfies ServiceContext;
    // A function the key cannot see does not exist for it, whatever the key's role.
    if (!seesFunction(ctx, fn)) {
      throw notFound(anonymousPin ? "version" : "function", anonymousPin ? pinned : named(target));
    }
    requireRole(ctx, "invoker", "run functions");
  }

  if (fn.rateLimitPerMinute) {
    const admitted = await env.FUNCTIONS.get(env.FUNCTIONS.idFromName(fn.id)).admit(fn.rateLimitPerMinute, Date.now());
    if (!admitted.ok) {
      throw new ApiError("rate_limited", `More than ${fn.rateLimitPerMinute} requests this minute; retry later`, {
        retryAfterSeconds: admitted.retryAfterSeconds,
      });
    }
  }

  let version = entry.version;
  if (pinned) {
    const v = await versionForInvoke(db, pinned);
    if (!v || v.functionId !== fn.id) throw notFound("version", pinned);
    version = v;
  }
  if (!version) throw conflict(`Function ${fn.id} has no ready version yet: upload one and wait for its build`);
  if (version.status !== "ready") throw conflict(`Version ${version.id} is ${version.status}, not ready`);
  // A module without a fetch handler cannot serve HTTP: a 409 in the one error shape, and no call is recorded.
  if (version.handlers && !version.handlers.includes("fetch")) {
    throw conflict(`Version ${version.id} has no fetch handler: export default { fetch(request) } to serve /run`);
  }

  const callId = newId("call");
  // No credential of the platform reaches the function, public or not; its own auth headers do.
  const headers = stripCredentials(new Headers(request.headers), env.EDGEFN_ADMIN_KEY);
  headers.delete(VERSION_HEADER);
  if (!fn.public) headers.delete("authorization");
  headers.set(CALL_HEADER, callId);
  const forwarded = new Request(`${url.origin}${target.path}${url.search}`, {
    method: request.method,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? undefined : request.body,
    redirect: "manual",
  });

  const isolate = functionIsolate(env, fn, version);
  const startedAt = Date.now();
  const timeoutMs = fn.timeoutMs ?? LIMITS.timeoutMs.default;
  const row: NewCall = {
    id: callId,
    functionId: fn.id,
    workspaceId: principal ? callWorkspace({ principal }, fn) : fn.workspaceId,
    versionId: version.id,
    status: "running",
    trigger: "http",
    createdAt: startedAt,
    argsSize: Number(request.headers.get("content-length") ?? 0) || 0,
    createdBy: principal?.keyId ?? null,
    httpMethod: request.method,
    httpPath: target.path.slice(0, 2048),
  };
  const record = async (status: number, failure: Execution["errorDetail"], timedOut = false) => {
    journalEnd(env, callId);
    const endedAt = Date.now();
    const taken = await isolate.takeLogs(callId).catch(() => ({ logs: [], logsTruncated: false }));
    const logs = checkLogs(taken?.logs, taken?.logsTruncated, { from: startedAt, to: endedAt });
    const run: Execution = {
      callId,
      ok: !failure && status < 500,
      error: failure ? `${failure.name}: ${failure.message}` : null,
      errorDetail: failure,
      status: timedOut ? "timeout" : !failure && status < 500 ? "completed" : "failed",
      durationMs: endedAt - startedAt,
      versionId: version.id,
      resultJson: null,
      startedAt,
      endedAt,
      logs: logs.logs,
      logsTruncated: logs.logsTruncated,
      retryable: false,
    };
    const recording = recordAfterAnswer(env, { ...row, httpStatus: status }, run);
    if (recording.owner) await recording.written;
  };

  let release: () => void;
  try {
    release = admit(env, row.workspaceId);
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err;
    const refused = recordAfterAnswer(
      env,
      { ...row, httpStatus: 429 },
      refusedRun({ version }, callId, err, startedAt),
    );
    if (refused.owner) waitUntil(refused.written);
    throw new ApiError("rate_limited", err.message, { ...(err.details as object), callId });
  }

  // A supervised local runtime is told which call is about to run (see runtime/journal).
  await journalBegin(env, {
    id: callId,
    kind: "http",
    functionId: fn.id,
    workspaceId: row.workspaceId,
    versionId: version.id,
    trigger: "http",
    async: false,
    startedAt,
    timeoutMs,
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  let response: Response;
  try {
    const answer = await Promise.race([
      isolate.fetch(forwarded),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
      }),
    ]);
    if (answer === null) {
      release();
      const message = `The function did not answer within ${timeoutMs} ms`;
      waitUntil(record(504, { name: "TimeoutError", message }, true));
      throw new ApiError("function_failed", message);
    }
    response = answer;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    release();
    const e = err instanceof Error ? err : new Error(String(err));
    const failure = { name: e.name || "Error", message: e.message.slice(0, 16 * 1024) };
    waitUntil(record(502, failure));
    throw new ApiError("function_failed", `The function's fetch handler threw ${failure.name}: ${failure.message}`);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }

  const withCors = (res: Response) => {
    if (target.origin === "platform") inertOnPlatformOrigin(res.headers);
    else confinedToFunctionOrigin(res.headers);
    if (allowedOrigin) {
      res.headers.set("access-control-allow-origin", origin);
      res.headers.append("vary", "Origin");
    }
    return res;
  };
  if (!response.body) {
    release();
    waitUntil(record(response.status, null));
    return withCors(new Response(null, response));
  }
  // Recorded when the body has been sent (or the stream broke), so the duration covers the whole answer.
  let done: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    done = resolve;
  });
  // A native stream (no JavaScript runs per chunk); a fixed-length one keeps the answer's Content-Length.
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  const { readable, writable } =
    Number.isSafeInteger(length) && length >= 0 ? new FixedLengthStream(length) : new IdentityTransformStream();
  waitUntil(
    response.body
      .pipeTo(writable)
      .catch(() => {})
      .finally(() => {
        release();
        done();
      }),
  );
  waitUntil(ended.then(() => record(response.status, null)));
  return withCors(new Response(readable, response));
}
