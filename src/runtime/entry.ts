import { ANSWER_SOURCE } from "./entry-answer";
import { GUARD_MODULE, PLATFORM_DIR } from "./guard";

export const ENTRY_MODULE = `${PLATFORM_DIR}entry.js`;

export interface EntryOptions {
  /** The built user module to wrap (a loader module name). */
  userModule: string;
  /** The upload's files `ctx.asset(path)` reads: path -> the loader name of a `data` module. */
  assets?: Record<string, string>;
  /** Which env keys are secrets (they also appear in ctx.secrets). */
  secretNames: string[];
  maxResultBytes: number;
  maxLogBytes: number;
  maxLogLines: number;
  /** What each log line costs beyond its text, so empty lines are not free. */
  logLineOverhead: number;
}

export interface LogLine {
  timestamp: number;
  level: string;
  message: string;
}

/** What the entry module's `invoke` returns over RPC. The host checks every field: the isolate is not trusted. */
export interface InvokeOutcome {
  ok: boolean;
  /** The result as JSON text (so any value crosses RPC the same way, and its size is known). */
  result?: string;
  error?: { name: string; message: string; stack?: string; code?: string; retryable?: boolean };
  logs: LogLine[];
  logsTruncated: boolean;
}

/**
 * What a call's isolate may use of the platform (`ctx.client`): an object of the host's, handed over with the
 * call and good only while the call runs. Its state (the caller, the depth, the call tree's budget) stays in the
 * host; nothing the isolate sends can change it.
 */
export interface CallClient {
  invoke(target: string, args: unknown): Promise<unknown>;
  calls(limit?: number): Promise<unknown>;
}

/** The source of `node:module` as user code imports it (see the guard's moduleShim). */
export function nodeModuleShimSource(): string {
  const guard = `./${GUARD_MODULE.slice(PLATFORM_DIR.length)}`;
  return `import * as real from "node:module";
import { moduleShim } from ${JSON.stringify(guard)};
const shim = moduleShim(real);
export const builtinModules = shim.builtinModules;
export const isBuiltin = shim.isBuiltin;
export const createRequire = shim.createRequire;
export default shim;
`;
}

/**
 * Source of the generated entry module that wraps a user's module in every isolate. It exposes an RPC
 * entrypoint: `invoke(args, info)` runs `handle(data, ctx)` or the default export's `fetch`, captures the
 * call's logs (AsyncLocalStorage keeps concurrent calls in one isolate apart), turns a throw into
 * `{name, message, stack}` and enforces the result size limit. `fetch` forwards raw HTTP requests. It knows only
 * this generic contract: what other platforms' handlers need is a module of its own, added per version by the
 * build (src/runtime/adapters/), that the entry module imports as the user's.
 *
 * It runs before any user code: it takes the guard's controls and its own copies of the intrinsics it relies
 * on, then imports the user's module lazily, inside the first call (whose logs get the module's top-level
 * output). Code that replaces globals later cannot change what the wrapper reports.
 */
export function entryModuleSource(o: EntryOptions): string {
  const userSpecifier = `../${o.userModule}`;
  return `import { WorkerEntrypoint } from "cloudflare:workers";
import { AsyncLocalStorage } from "node:async_hooks";
import { takeControls, StretchLimitError, moduleShim } from "./${GUARD_MODULE.slice(PLATFORM_DIR.length)}";

const { enter, wasTripped } = takeControls();

// An answer to a subrequest is a turn of the event loop that the guard's timer may not see (a chain of quick
// subrequests can keep timers from running): what runs next is a new stretch, unless this one was cut short.
const newStretch = () => {
  if (!wasTripped()) enter();
};
if (typeof globalThis.fetch === "function") {
  const realFetch = globalThis.fetch;
  const thenOf = Promise.prototype.then;
  globalThis.fetch = function fetch(input, init) {
    return Reflect.apply(thenOf, Reflect.apply(realFetch, globalThis, [input, init]), [
      (response) => { newStretch(); return response; },
      (err) => { newStretch(); throw err; },
    ]);
  };
}

// The intrinsics the wrapper relies on, taken before any user code runs.
const apply = Reflect.apply;
const stringify = JSON.stringify;
const parseJson = JSON.parse;
const defineProperty = Object.defineProperty;
const hasOwn = Object.hasOwn;
const keysOf = Object.keys;
const StringOf = String;
const NumberOf = Number;
const ErrorBase = Error;
const isPrototypeOf = Object.prototype.isPrototypeOf;
const isError = (value) => value !== null && typeof value === "object" && apply(isPrototypeOf, ErrorBase.prototype, [value]);
const now = Date.now;
const MapBase = Map;
const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const mapDelete = Map.prototype.delete;
const encoder = new TextEncoder();
const encode = TextEncoder.prototype.encode;
const stringSlice = String.prototype.slice;
const arrayJoin = Array.prototype.join;
const storage = new AsyncLocalStorage();
const runIn = AsyncLocalStorage.prototype.run;
const currentStore = AsyncLocalStorage.prototype.getStore;
const RequestBase = Request;
const ResponseBase = Response;

const SECRET_NAMES = ${JSON.stringify(o.secretNames)};
// Parsed, so that every path is an own property (a file named __proto__ included).
const ASSETS = parseJson(${JSON.stringify(JSON.stringify(o.assets ?? {}))});
const MAX_RESULT = ${o.maxResultBytes};
const MAX_LOG_BYTES = ${o.maxLogBytes};
const MAX_LOG_LINES = ${o.maxLogLines};
const LINE_OVERHEAD = ${o.logLineOverhead};
const MAX_LINE = 16 * 1024;

const append = (list, value) => defineProperty(list, list.length, { value, writable: true, enumerable: true, configurable: true });
const slice = (text, start, end) => apply(stringSlice, text, [start, end]);
const utf8Length = (text) => apply(encode, encoder, [text]).byteLength;

// The log stores of calls in progress, by callId: the host takes a call's logs from here when it gives up on it.
const live = new MapBase();

let loading = null;
/**
 * The user's module, evaluated by the first call that needs it (inside that call, so its output is that call's).
 * The runtime may evaluate an imported module outside the request, where the clock does not move and timers cannot
 * be set: a stretch begun there (bounded by the guard's step count) ends with the evaluation, and the call goes
 * on with a fresh one, unless the evaluation ran away.
 */
async function userModule() {
  const first = loading === null;
  if (first) loading = import(${JSON.stringify(userSpecifier)});
  const user = await loading;
  if (first) {
    if (wasTripped()) throw new StretchLimitError();
    enter();
  }
  return user;
}

function show(value) {
  try {
    if (typeof value === "string") return value;
    if (isError(value) && typeof value.stack === "string") return value.stack;
    const text = stringify(value);
    return text === undefined ? StringOf(value) : text;
  } catch {
    try { return StringOf(value); } catch { return "[unprintable]"; }
  }
}

function newStore() {
  return { logs: [], bytes: 0, truncated: false, closed: false };
}

function capture(store, level, args) {
  if (store.closed || store.truncated) return;
  const parts = [];
  for (let i = 0; i < args.length; i++) append(parts, show(args[i]));
  let message = apply(arrayJoin, parts, [" "]);
  if (message.length > MAX_LINE) message = slice(message, 0, MAX_LINE) + "…";
  const size = utf8Length(message) + LINE_OVERHEAD;
  if (store.logs.length + 1 >= MAX_LOG_LINES || store.bytes + size > MAX_LOG_BYTES) {
    store.truncated = true;
    append(store.logs, { timestamp: now(), level: "warn", message: "[edgefn] log output truncated at " + MAX_LOG_LINES + " lines or " + MAX_LOG_BYTES + " bytes" });
    return;
  }
  store.bytes += size;
  append(store.logs, { timestamp: now(), level, message });
}

// Every console method writes to the current call's logs. Output outside any call (a timer left running after
// its call ended) is dropped: it never reaches the operator's log, where it could pass for the platform's.
const LEVELS = { log: "info", info: "info", warn: "warn", error: "error", debug: "debug", trace: "debug" };
for (const name of keysOf(console)) {
  if (typeof console[name] !== "function") continue;
  const level = hasOwn(LEVELS, name) ? LEVELS[name] : "info";
  console[name] = (...args) => {
    const store = apply(currentStore, storage, []);
    if (!store) return;
    if (name === "assert") {
      if (args[0]) return;
      const rest = ["Assertion failed"];
      for (let i = 1; i < args.length; i++) append(rest, args[i]);
      return capture(store, "error", rest);
    }
    capture(store, level, args);
  };
}
if (typeof addEventListener === "function") {
  const report = (event, what) => {
    try { event.preventDefault(); } catch {}
    const store = apply(currentStore, storage, []);
    if (store) capture(store, "error", [what]);
  };
  addEventListener("unhandledrejection", (event) => report(event, event.reason));
  addEventListener("error", (event) => report(event, event.error ?? event.message));
}
// process.getBuiltinModule("module") gives the same guarded require as an import of node:module.
if (globalThis.process && typeof process.getBuiltinModule === "function") {
  const getBuiltinModule = process.getBuiltinModule;
  let shimmed = null;
  process.getBuiltinModule = (name) => {
    const text = StringOf(name);
    if (text === "module" || text === "node:module") return (shimmed ??= moduleShim(apply(getBuiltinModule, process, ["node:module"])));
    return apply(getBuiltinModule, process, [name]);
  };
}

function describeError(err) {
  try {
    if (isError(err)) {
      const out = { name: StringOf(err.name ?? "Error"), message: StringOf(err.message ?? "") };
      if (typeof err.stack === "string") out.stack = err.stack;
      if (typeof err.code === "string" || typeof err.code === "number") out.code = StringOf(err.code);
      if (err.retryable === true) out.retryable = true;
      return out;
    }
    return { name: "Error", message: show(err) };
  } catch {
    return { name: "Error", message: "The function threw a value that could not be described" };
  }
}

class ResultError extends ErrorBase {
  constructor(message, code) {
    super(message);
    this.name = "ResultError";
    this.code = code;
  }
}

const stringReplace = String.prototype.replace;
const stringSplit = String.prototype.split;
const arraySlice = ArrayBuffer.prototype.slice;

/**
 * ctx.asset(path): the bytes of one of the upload's own files that is not code, as a fresh ArrayBuffer; null for
 * any other path. "./a/b.bin", "/a/b.bin" and "a/b.bin" name the same file; a path climbing out names none.
 */
async function asset(path) {
  const parts = [];
  for (const segment of apply(stringSplit, apply(stringReplace, StringOf(path), [/\\\\/g, "/"]), ["/"])) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") return null;
    append(parts, segment);
  }
  const key = apply(arrayJoin, parts, ["/"]);
  if (!hasOwn(ASSETS, key)) return null;
  const module = await import("../" + ASSETS[key]);
  return apply(arraySlice, module.default, [0]);
}

/** The env user code sees: its vars and secrets (nothing of the platform's is in it). */
function userEnv(env) {
  return { ...env };
}

/**
 * ctx.client: the host's object for this call, reached only through these two functions. Once the call is over
 * they answer as the host would (the host refuses too: it closed its object when the call ended).
 */
function client(handle, store) {
  const ended = () => {
    const message = "ctx.client can act only while the call that uses it runs";
    return { ok: false, error: "ClientError: " + message, errorDetail: { name: "ClientError", message, code: "unauthorized" } };
  };
  const use = async (act) => {
    if (!handle) throw new ErrorBase("ctx.client is not available here");
    if (store.closed) return ended();
    try {
      const out = await act();
      // Waiting on the host, like a subrequest, starts a new stretch (see newStretch).
      newStretch();
      return out;
    } catch (err) {
      if (store.closed) return ended();
      throw err;
    }
  };
  return {
    invoke: (fn, args) => use(() => handle.invoke(StringOf(fn), args === undefined ? null : args)),
    calls: (limit) => use(() => handle.calls(NumberOf(limit ?? 20))),
  };
}

const hasHttpHandler = (user) => !!user.default && typeof user.default.fetch === "function";

/** The module's answer to an HTTP request: its fetch handler's, whose ctx can read assets too. */
function serveHttp(user, env, ctx, request) {
  try { if (!hasOwn(ctx, "asset")) defineProperty(ctx, "asset", { value: asset }); } catch {}
  return user.default.fetch(request, userEnv(env), ctx);
}

${ANSWER_SOURCE}
async function run(user, env, ctx, args, info, store) {
  if (typeof user.handle === "function") {
    const secrets = {};
    for (const name of SECRET_NAMES) secrets[name] = env[name];
    const log = (...parts) => console.info(...parts);
    return user.handle(args, { env: userEnv(env), secrets, call: { ...info.call }, log, client: client(info.client, store), asset });
  }
  if (hasHttpHandler(user)) {
    // A plain invoke is \`POST https://function.invalid/\` with the args as JSON (and no edgefn-call-id header, which
    // every HTTP request carries: an adapter module can tell an invoke by it); the answer's body is the result.
    const response = await serveHttp(user, env, ctx, new RequestBase("https://function.invalid/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stringify(args === undefined ? null : args),
    }));
    const text = await response.text();
    let body = text;
    try { body = text === "" ? null : parseJson(text); } catch {}
    if (!response.ok) {
      throw new ResultError("The fetch handler answered " + response.status + ": " + slice(show(body), 0, 500), "http_" + response.status);
    }
    return body;
  }
  throw new ResultError("The module exports neither handle(data, ctx) nor a default object with fetch()", "no_handler");
}

/** The outcome of a finished call, checked here first (the host checks it again). */
function finish(store, value) {
  if (wasTripped()) throw new StretchLimitError();
  const json = value === undefined ? "null" : stringify(value);
  if (typeof json !== "string") throw new ResultError("The result is not JSON-serializable", "invalid_result");
  // A string's UTF-8 size is between its length and three times it: encode only when that cannot tell.
  if (json.length > MAX_RESULT || (json.length * 3 > MAX_RESULT && utf8Length(json) > MAX_RESULT)) {
    throw new ResultError("The result is larger than " + MAX_RESULT + " bytes", "result_too_large");
  }
  return { ok: true, result: json, logs: store.logs, logsTruncated: store.truncated };
}

/**
 * A call is over: a stretch it ran away in has unwound with it. Its reset timer may never fire (timers die with
 * their request), and another call's code must not inherit its trip.
 */
function ended() {
  enter();
}

function callIdOf(info) {
  const call = info !== null && typeof info === "object" && hasOwn(info, "call") ? info.call : null;
  return call !== null && typeof call === "object" && hasOwn(call, "callId") ? StringOf(call.callId) : "";
}

/**
 * An HTTP call: the function's fetch handler in the call's log store, which is kept for the host by the request's
 * edgefn-call-id while the answer streams (the host takes the logs at its end); \`answer\` makes the reply.
 */
function httpCall(self, request, answer) {
  enter();
  const callId = request.headers.get("edgefn-call-id");
  const store = newStore();
  if (callId) apply(mapSet, live, [callId, store]);
  return apply(runIn, storage, [store, async () => {
    try {
      const user = await userModule();
      const response = hasHttpHandler(user)
        ? await serveHttp(user, self.env, self.ctx, request)
        : markComplete(new ResponseBase("This function has no fetch handler", { status: 501 }));
      return await answer(response, store, callId);
    } finally {
      ended();
    }
  }]);
}

export default class extends WorkerEntrypoint {
  /** Nothing: asked right after a deploy, so the isolate exists (its modules compiled) before the first call. */
  warm() {
    return true;
  }

  /** Loads the user's module (its top-level code runs now, under the guard) and says what it exports. */
  async describe() {
    enter();
    const store = newStore();
    try {
      const user = await apply(runIn, storage, [store, userModule]);
      if (wasTripped()) throw new StretchLimitError();
      return { handle: typeof user.handle === "function", fetch: hasHttpHandler(user), defaultType: typeof user.default };
    } catch (err) {
      return { handle: false, fetch: false, error: describeError(wasTripped() ? new StretchLimitError() : err) };
    } finally {
      store.closed = true;
      ended();
    }
  }

  /** The logs a call in progress has written so far (the host asks when the call timed out or hung). */
  takeLogs(callId) {
    const key = StringOf(callId);
    const store = apply(mapGet, live, [key]);
    apply(mapDelete, live, [key]);
    if (!store) return { logs: [], logsTruncated: false };
    store.closed = true;
    return { logs: store.logs, logsTruncated: store.truncated };
  }

  invoke(args, info) {
    enter();
    const store = newStore();
    const callId = callIdOf(info);
    if (callId) apply(mapSet, live, [callId, store]);
    return apply(runIn, storage, [store, async () => {
      try {
        const user = await userModule();
        return finish(store, await run(user, this.env, this.ctx, args, info, store));
      } catch (err) {
        return { ok: false, error: describeError(wasTripped() ? new StretchLimitError() : err), logs: store.logs, logsTruncated: store.truncated };
      } finally {
        store.closed = true;
        if (callId) apply(mapDelete, live, [callId]);
        ended();
      }
    }]);
  }

  /**
   * An HTTP call (the host's HTTP trigger): the function's answer, carrying the call's logs when its body is
   * complete (see answerWithLogs); otherwise its logs are taken at the end of its body.
   */
  fetch(request) {
    return httpCall(this, request, answerWithLogs);
  }
}
`;
}
