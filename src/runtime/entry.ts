import { GUARD_MODULE } from "./guard";

export const ENTRY_MODULE = "__edgefn/entry.js";

/** The env key the entry module receives the platform gateway under (ctx.client); user code never sees it. */
export const PLATFORM_BINDING = "__EDGEFN_PLATFORM";

export interface EntryOptions {
  /** The built user module to wrap (a loader module name). */
  userModule: string;
  /** Which env keys are secrets (they also appear in ctx.secrets). */
  secretNames: string[];
  maxResultBytes: number;
  maxLogBytes: number;
}

/** What the entry module's `invoke` returns over RPC. */
export interface InvokeOutcome {
  ok: boolean;
  /** The result as JSON text (so any value crosses RPC the same way, and its size is known). */
  result?: string;
  error?: { name: string; message: string; stack?: string; code?: string; retryable?: boolean };
  logs: { timestamp: number; level: string; message: string }[];
  logsTruncated: boolean;
}

/**
 * Source of the generated entry module that wraps a user's module in every isolate. It exposes an RPC
 * entrypoint: `invoke(args, info)` runs `handle(data, ctx)` or the default export's `fetch`, captures the
 * call's logs (AsyncLocalStorage keeps concurrent calls in one isolate apart), turns a throw into
 * `{name, message, stack}` and enforces the result size limit. `fetch` forwards raw HTTP requests.
 */
export function entryModuleSource(o: EntryOptions): string {
  const userSpecifier = `../${o.userModule}`;
  return `import { WorkerEntrypoint } from "cloudflare:workers";
import { AsyncLocalStorage } from "node:async_hooks";
import { enter, wasTripped, StretchLimitError } from "./${GUARD_MODULE.slice("__edgefn/".length)}";
import * as user from ${JSON.stringify(userSpecifier)};

const SECRET_NAMES = ${JSON.stringify(o.secretNames)};
const MAX_RESULT = ${o.maxResultBytes};
const MAX_LOGS = ${o.maxLogBytes};
const calls = new AsyncLocalStorage();
// The log stores of calls in progress, by callId: the host takes a call's logs from here when it gives up on it.
const live = new Map();
const encoder = new TextEncoder();

function show(value) {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.stack || String(value);
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text;
  } catch {
    return String(value);
  }
}

function capture(store, level, args) {
  if (store.truncated) return;
  const message = args.map(show).join(" ");
  const size = encoder.encode(message).byteLength;
  if (store.bytes + size > MAX_LOGS) {
    store.truncated = true;
    store.logs.push({ timestamp: Date.now(), level: "warn", message: "[edgefn] log output truncated at " + MAX_LOGS + " bytes" });
    return;
  }
  store.bytes += size;
  store.logs.push({ timestamp: Date.now(), level, message });
}

for (const level of ["log", "info", "warn", "error", "debug"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    const store = calls.getStore();
    if (store) capture(store, level === "log" ? "info" : level, args);
    else original(...args);
  };
}

function describeError(err) {
  if (err instanceof Error) {
    return { name: err.name, message: err.message, stack: err.stack, code: err.code, retryable: err.retryable === true };
  }
  return { name: "Error", message: show(err) };
}

class ResultError extends Error {
  constructor(message, code) {
    super(message);
    this.name = "ResultError";
    this.code = code;
  }
}

const PLATFORM = ${JSON.stringify(PLATFORM_BINDING)};

/** The env user code sees: its vars and secrets, without the platform's own binding. */
function userEnv(env) {
  const copy = { ...env };
  delete copy[PLATFORM];
  return copy;
}

/** ctx.client: the platform, reached through the host's entrypoint with this call's short-lived token. */
function client(env, call, token) {
  const platform = env[PLATFORM];
  const depth = Number(call.depth ?? 0);
  return {
    invoke: (fn, args) => {
      if (!platform) throw new Error("ctx.client is not available here");
      return platform.invoke(token, call.callId, depth, fn, args === undefined ? null : args);
    },
    calls: (limit) => {
      if (!platform) throw new Error("ctx.client is not available here");
      return platform.calls(token, call.callId, limit);
    },
  };
}

// Appwrite-style handlers: \`export default async ({ req, res, log, error }) => res.json(...)\`.
const APPWRITE = "$appwrite";
const isAppwrite = () => typeof user.handle !== "function" && typeof user.default === "function";

/** The context an Appwrite handler receives, for one request {method, url, headers, bodyText}. */
function appwriteContext(request, env) {
  const url = new URL(request.url);
  const headers = {};
  for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = String(v);
  const bodyText = request.bodyText;
  let bodyJson = null;
  try { bodyJson = bodyText === "" ? null : JSON.parse(bodyText); } catch {}
  const isJson = (headers["content-type"] || "").includes("application/json");
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const scheme = url.protocol.replace(":", "");
  const req = {
    bodyText, bodyRaw: bodyText, bodyJson, body: isJson ? bodyJson : bodyText,
    bodyBinary: encoder.encode(bodyText),
    headers, method: request.method, path: url.pathname, query, queryString: url.search.replace(/^\\?/, ""),
    scheme, host: url.hostname, port: Number(url.port || (scheme === "https" ? 443 : 80)), url: url.href,
  };
  const reply = (body, statusCode, headers) => ({ body, statusCode: statusCode ?? 200, headers: headers ?? {} });
  const res = {
    send: (body, statusCode, headers) => reply(body === undefined || body === null ? "" : String(body), statusCode, headers),
    text: (body, statusCode, headers) => reply(String(body), statusCode, { "content-type": "text/plain", ...headers }),
    json: (obj, statusCode, headers) => reply(JSON.stringify(obj), statusCode, { "content-type": "application/json", ...headers }),
    binary: (bytes, statusCode, headers) => reply(bytes, statusCode, { "content-type": "application/octet-stream", ...headers }),
    empty: () => reply("", 204, {}),
    redirect: (location, statusCode, headers) => reply("", statusCode ?? 301, { ...headers, location: String(location) }),
  };
  const log = (...parts) => console.info(...parts);
  const error = (...parts) => console.error(...parts);
  return { req, res, log, error, env: userEnv(env) };
}

/** Runs an Appwrite handler; its answer as {statusCode, headers, body} (body: string or bytes). */
async function runAppwrite(env, request) {
  const context = appwriteContext(request, env);
  if (globalThis.process && globalThis.process.env) Object.assign(globalThis.process.env, context.env);
  const out = await user.default(context);
  if (!out || typeof out !== "object" || !("statusCode" in out)) {
    throw new ResultError("The Appwrite handler must return one of res.send/json/text/binary/empty/redirect", "no_response");
  }
  const headers = {};
  for (const [k, v] of Object.entries(out.headers || {})) headers[k.toLowerCase()] = String(v);
  return { statusCode: Number(out.statusCode) || 200, headers, body: out.body };
}

/** An HTTP request to an Appwrite handler, answered as a Response. */
async function appwriteResponse(env, request) {
  const headers = {};
  for (const [k, v] of request.headers) if (k !== "edgefn-call-id") headers[k] = v;
  const bodyText = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
  const out = await runAppwrite(env, { method: request.method, url: request.url, headers, bodyText });
  const empty = out.statusCode === 204 || out.statusCode === 304 || request.method === "HEAD";
  return new Response(empty ? null : out.body, { status: out.statusCode, headers: out.headers });
}

const hasHttpHandler = () => isAppwrite() || (!!user.default && typeof user.default.fetch === "function");

/** The module's answer to an HTTP request: its Appwrite handler's or its fetch handler's. */
function serveHttp(env, ctx, request) {
  return isAppwrite() ? appwriteResponse(env, request) : user.default.fetch(request, userEnv(env), ctx);
}

async function run(env, ctx, args, info) {
  if (typeof user.handle === "function") {
    const secrets = {};
    for (const name of SECRET_NAMES) secrets[name] = env[name];
    const log = (...parts) => console.info(...parts);
    const { depth, ...call } = info.call;
    return user.handle(args, { env: userEnv(env), secrets, call, log, client: client(env, info.call, info.token) });
  }
  if (hasHttpHandler()) {
    // An Appwrite execution sends {"$appwrite": {method, path, headers, body}} and gets the whole response back.
    const given = args && typeof args === "object" && !Array.isArray(args) ? args[APPWRITE] : undefined;
    if (given) {
      const method = String(given.method || "POST").toUpperCase();
      const hasBody = method !== "GET" && method !== "HEAD";
      const response = await serveHttp(env, ctx, new Request(new URL(String(given.path || "/"), "https://function.invalid").href, {
        method,
        headers: given.headers || {},
        body: hasBody && typeof given.body === "string" ? given.body : undefined,
      }));
      const headers = {};
      for (const [k, v] of response.headers) headers[k] = v;
      return { [APPWRITE]: { statusCode: response.status, headers, body: await response.text() } };
    }
    // A plain invoke is a POST of the args as JSON; the answer's body is the result. (No args: an Appwrite handler
    // sees an empty body, as Appwrite gives it.)
    const none = args === undefined || args === null;
    const response = await serveHttp(env, ctx, new Request("https://function.invalid/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: none && isAppwrite() ? undefined : JSON.stringify(none ? null : args),
    }));
    const text = await response.text();
    let body = text;
    try { body = text === "" ? null : JSON.parse(text); } catch {}
    if (!response.ok) {
      const who = isAppwrite() ? "The Appwrite handler" : "The fetch handler";
      throw new ResultError(who + " answered " + response.status + ": " + show(body).slice(0, 500), "http_" + response.status);
    }
    return body;
  }
  throw new ResultError("The module exports neither handle(data, ctx) nor a default object with fetch()", "no_handler");
}

export default class extends WorkerEntrypoint {
  describe() {
    return {
      handle: typeof user.handle === "function",
      fetch: hasHttpHandler(),
    };
  }

  /** The logs a call in progress has written so far (the host asks when the call timed out or hung). */
  takeLogs(callId) {
    const store = live.get(callId);
    live.delete(callId);
    return store ? { logs: store.logs, logsTruncated: store.truncated } : { logs: [], logsTruncated: false };
  }

  invoke(args, info) {
    enter();
    const store = { logs: [], bytes: 0, truncated: false };
    const callId = info && info.call && info.call.callId;
    if (callId) live.set(callId, store);
    return calls.run(store, async () => {
      try {
        const value = await run(this.env, this.ctx, args, info);
        if (wasTripped()) throw new StretchLimitError();
        const json = value === undefined ? "null" : JSON.stringify(value);
        if (json === undefined) throw new ResultError("The result is not JSON-serializable", "invalid_result");
        // A string's UTF-8 size is between its length and three times it: encode only when that cannot tell.
        if (json.length > MAX_RESULT || (json.length * 3 > MAX_RESULT && encoder.encode(json).byteLength > MAX_RESULT)) {
          throw new ResultError("The result is larger than " + MAX_RESULT + " bytes", "result_too_large");
        }
        return { ok: true, result: json, logs: store.logs, logsTruncated: store.truncated };
      } catch (err) {
        return { ok: false, error: describeError(wasTripped() ? new StretchLimitError() : err), logs: store.logs, logsTruncated: store.truncated };
      } finally {
        live.delete(callId);
      }
    });
  }

  fetch(request) {
    enter();
    if (!hasHttpHandler()) return new Response("This function has no fetch handler", { status: 501 });
    // An HTTP call: its logs (while the response streams too) are kept for the host, which takes them at the end.
    const callId = request.headers.get("edgefn-call-id");
    if (!callId) return serveHttp(this.env, this.ctx, request);
    const store = { logs: [], bytes: 0, truncated: false };
    live.set(callId, store);
    return calls.run(store, () => serveHttp(this.env, this.ctx, request));
  }
}
`;
}
