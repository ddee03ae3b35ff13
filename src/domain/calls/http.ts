import { and, eq, isNull, or, sql } from "drizzle-orm";
import type { Env, Principal } from "../../env";
import { bodyCapError } from "../../lib/body-cap";
import { stripCredentials } from "../../lib/credentials";
import { ApiError, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { confinedToFunctionOrigin, inertOnPlatformOrigin, inertPairs } from "../../lib/origin";
import { CALL_LOGS_HEADER } from "../../runtime/entry-answer";
import { journalBegin, journalEnd } from "../../runtime/journal";
import { checkLogs } from "../../runtime/outcome";
import { isPythonEntry } from "../../runtime/python/bundle";
import type { Db } from "../../storage/db";
import { type FunctionRow, functions, workspaces } from "../../storage/schema";
import { requireRole, seesFunction, workspaceOfUse } from "../context";
import { authenticate } from "../keys/authenticate";
import { admit, BudgetExceeded } from "./budget";
import { isolateOf } from "./isolate";
import { type CallOutcome, type ErrorDetail, platformFailure } from "./outcome";
import { type CallContext, journalEntry, timeoutOf } from "./pipeline";
import { type NewCall, recordAfterAnswer } from "./record";
import { refusal, refusedOutcome } from "./refusal";
import { callWorkspace, liveFunction, versionToRun } from "./target";

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
  /** The request's URL, parsed (when the caller has it already). */
  url?: URL;
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
 * The HTTP trigger: forwards a request to the function's `fetch` handler in its isolate and streams the answer back,
 * through the same steps as every call (target, admission, journal, isolate, record). A function is protected unless
 * it is public: then any invoker key that sees its workspace may call it. No platform credential is passed on; the
 * call is recorded (trigger http) once the response body has been sent.
 */
export async function runHttp(ctx: CallContext, request: Request, target: RunTarget): Promise<Response> {
  const { db, env } = ctx;
  // A body declared larger than the cap is refused before anything runs.
  const capped = bodyCapError(request);
  if (capped) throw capped;
  const entry = await liveFunction(db, await resolve(db, target), Date.now());
  if (!entry) throw notFound("function", named(target));
  const { fn } = entry;

  // A browser's preflight carries no credentials: the platform answers it from the function's CORS origins.
  const origin = request.headers.get("origin");
  const allowedOrigin = origin && fn.corsOrigins?.some((o) => o === "*" || o.toLowerCase() === origin.toLowerCase());
  if (request.method === "OPTIONS" && origin && request.headers.has("access-control-request-method")) {
    // Nor does it reveal a function that is not public to an origin the function does not allow.
    if (!allowedOrigin && !fn.public) throw notFound("function", named(target));
    return preflight(request, allowedOrigin ? origin : null);
  }

  const url = target.url ?? new URL(request.url);
  // The query goes on as sent, less ?version= (a URLSearchParams rewrites a query it touches).
  const queried = url.search !== "" && url.searchParams.has("version");
  const pinned = (queried ? url.searchParams.get("version") : null) ?? request.headers.get(VERSION_HEADER);
  if (queried) url.searchParams.delete("version");
  const principal = await caller(ctx, request, fn, entry.version?.id ?? null, pinned, target);
  await rateLimit(env, fn);
  const version = await versionToRun(db, fn, entry.version, pinned, "fetch");

  const callId = newId("call");
  const bodiless = request.method === "GET" || request.method === "HEAD";
  const forwarded = new Request(`${url.origin}${target.path}${url.search}`, {
    method: request.method,
    headers: request.headers,
    body: bodiless ? undefined : request.body,
    redirect: "manual",
  });
  // No credential of the platform reaches the function, public or not; its own auth headers do.
  stripCredentials(forwarded.headers, request.headers, env.EDGEFN_ADMIN_KEY);
  forwarded.headers.delete(VERSION_HEADER);
  if (!fn.public) forwarded.headers.delete("authorization");
  forwarded.headers.set(CALL_HEADER, callId);
  const python = isPythonEntry(version.entrypoint);

  const isolate = isolateOf(env, fn, version);
  const startedAt = Date.now();
  const timeoutMs = timeoutOf(fn);
  const workspaceId = principal ? callWorkspace({ principal }, fn) : fn.workspaceId;
  const row: NewCall = {
    id: callId,
    functionId: fn.id,
    workspaceId,
    versionId: version.id,
    status: "running",
    trigger: "http",
    createdAt: startedAt,
    argsSize: Number(request.headers.get("content-length") ?? 0) || 0,
    createdBy: principal?.keyId ?? null,
    httpMethod: request.method,
    httpPath: target.path.slice(0, 2048),
  };
  /** Records the call; `given`: the logs the isolate answered with (else they are taken from it now). */
  const record = async (
    status: number,
    failure: ErrorDetail | null,
    timedOut = false,
    given?: { logs: unknown; logsTruncated: unknown },
  ) => {
    journalEnd(env, callId);
    const endedAt = Date.now();
    const taken = given ?? (await isolate.takeLogs(callId).catch(() => ({ logs: [], logsTruncated: false })));
    const logs = checkLogs(taken?.logs, taken?.logsTruncated, { from: startedAt, to: endedAt });
    // An answer of 5xx is a failed call; the answer itself is the function's, so the record names no error.
    const answered = !failure && status < 500;
    const outcome: CallOutcome = failure
      ? platformFailure(
          callId,
          version.id,
          failure,
          { startedAt, endedAt },
          { status: timedOut ? "timeout" : "failed" },
        )
      : {
          ...platformFailure(callId, version.id, { name: "", message: "" }, { startedAt, endedAt }),
          ok: answered,
          error: null,
          errorDetail: null,
          status: answered ? "completed" : "failed",
        };
    const recording = recordAfterAnswer(env, { ...row, httpStatus: status }, { ...outcome, ...logs });
    if (recording.owner) await recording.written;
  };

  let release: () => void;
  try {
    release = admit(env, workspaceId);
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err;
    const refused = recordAfterAnswer(
      env,
      { ...row, httpStatus: 429 },
      refusedOutcome({ version }, callId, err, startedAt),
    );
    if (refused.owner) ctx.defer(refused.written);
    throw refusal(err, callId);
  }

  // A supervised local runtime is told which call is about to run (see runtime/journal).
  journalBegin(env, journalEntry({ fn, version, workspaceId, trigger: "http" }, callId, "http", startedAt));

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
      ctx.defer(record(504, { name: "TimeoutError", message }, true));
      throw new ApiError("function_failed", message);
    }
    response = answer;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    release();
    const e = err instanceof Error ? err : new Error(String(err));
    const failure = { name: e.name || "Error", message: e.message.slice(0, 16 * 1024) };
    ctx.defer(record(502, failure));
    throw new ApiError("function_failed", `The function's fetch handler threw ${failure.name}: ${failure.message}`);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }

  const platformOrigin = target.origin === "platform";
  /** The answer as the caller gets it: made inert on the platform's origin (unless its headers already are). */
  const finish = (res: Response, inert = false) => {
    if (!platformOrigin) confinedToFunctionOrigin(res.headers);
    else if (!inert) inertOnPlatformOrigin(res.headers);
    if (allowedOrigin) {
      res.headers.set("access-control-allow-origin", origin);
      res.headers.append("vary", "Origin");
    }
    return res;
  };
  // A JavaScript isolate's complete answer carries the call's logs: the call is over, and recorded with them.
  const carried = python || response.webSocket ? null : response.headers.get(CALL_LOGS_HEADER);
  if (carried !== null) {
    release();
    const pairs: [string, string][] = [];
    response.headers.forEach((value, name) => {
      if (name !== CALL_LOGS_HEADER) pairs.push([name, value]);
    });
    const { status, statusText } = response;
    const headers = platformOrigin ? inertPairs(pairs) : pairs;
    ctx.defer(record(status, null, false, carriedLogs(carried)));
    return finish(new Response(response.body, { status, statusText, headers }), true);
  }
  if (!response.body) {
    release();
    ctx.defer(record(response.status, null));
    return finish(new Response(null, response));
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
  ctx.defer(
    response.body
      .pipeTo(writable)
      .catch(() => {})
      .finally(() => {
        release();
        done();
      }),
  );
  ctx.defer(ended.then(() => record(response.status, null)));
  return finish(new Response(readable, response));
}

/** The logs an answer carried (the isolate's word: checked when the call is recorded, like any it gives). */
function carriedLogs(header: string): { logs: unknown; logsTruncated: unknown } {
  try {
    const parsed = JSON.parse(header) as { logs?: unknown; logsTruncated?: unknown } | null;
    return { logs: parsed?.logs, logsTruncated: parsed?.logsTruncated };
  } catch {
    return { logs: [], logsTruncated: true };
  }
}

/** A browser's preflight, answered from the function's CORS origins (nothing for an origin it does not allow). */
function preflight(request: Request, allowedOrigin: string | null): Response {
  const headers = new Headers({ vary: "Origin" });
  if (allowedOrigin) {
    headers.set("access-control-allow-origin", allowedOrigin);
    headers.set("access-control-allow-methods", request.headers.get("access-control-request-method") ?? "GET");
    const asked = request.headers.get("access-control-request-headers");
    if (asked) headers.set("access-control-allow-headers", asked);
    headers.set("access-control-max-age", "600");
  }
  return new Response(null, { status: 204, headers });
}

/**
 * Who calls: null for an anonymous call of a public function. A protected function needs an invoker key that sees
 * it; so does pinning a version of a public one that is not its active version (a version not active is not public).
 */
async function caller(
  ctx: CallContext,
  request: Request,
  fn: FunctionRow,
  activeVersionId: string | null,
  pinned: string | null,
  target: RunTarget,
): Promise<Principal | null> {
  const authorization = request.headers.get("authorization");
  const anonymousPin = fn.public && pinned !== null && pinned !== activeVersionId;
  if (fn.public && !anonymousPin) return null;
  if (anonymousPin && !authorization) throw notFound("version", pinned);
  const principal = await authenticate(ctx.env, authorization ?? undefined);
  // A function the key cannot see does not exist for it, whatever the key's role.
  if (!seesFunction({ principal }, fn)) {
    throw notFound(anonymousPin ? "version" : "function", anonymousPin ? pinned : named(target));
  }
  requireRole({ ...ctx, principal, now: Date.now() }, "invoker", "run functions", workspaceOfUse({ principal }, fn));
  return principal;
}

/** The function's own per-minute rate limit, counted by its FunctionObject. */
async function rateLimit(env: Env, fn: FunctionRow): Promise<void> {
  if (!fn.rateLimitPerMinute) return;
  const admitted = await env.FUNCTIONS.get(env.FUNCTIONS.idFromName(fn.id)).admit(fn.rateLimitPerMinute, Date.now());
  if (!admitted.ok) {
    throw new ApiError("rate_limited", `More than ${fn.rateLimitPerMinute} requests this minute; retry later`, {
      retryAfterSeconds: admitted.retryAfterSeconds,
    });
  }
}
