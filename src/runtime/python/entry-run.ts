/**
 * Calls in a Python isolate's entry module (JavaScript, part of pythonEntrySource): boot and import inside the first
 * call, errors as the host reads them, handle/on_fetch/Appwrite's main, and the RPC surface (describe, invoke, fetch,
 * takeLogs, makeSnapshot).
 */
export const ENTRY_RUN = `
let glue = null;
let booting = null;
const bootNotes = [];

/** Python, booted (from the snapshot when there is a good one), with the app written and the bridge attached. */
async function boot(env) {
  const started = now();
  let py = null;
  if (SNAPSHOT) {
    try {
      const snap = await openSnapshot(SNAPSHOT);
      py = await startPyodide({ _loadSnapshot: snap.pyHeader }, snap);
      writeApp(py);
      bootNotes.push({ level: "debug", message: "[edgefn] Python booted from its memory snapshot in " + (now() - started) + " ms" });
    } catch (err) {
      py = null;
      bootNotes.push({ level: "warn", message: "[edgefn] the memory snapshot was refused (" + StringOf(err && err.message || err).slice(0, 300) + "): booting Python without it" });
    }
  } else if (CONFIG.snapshot === "missing") {
    bootNotes.push({ level: "warn", message: "[edgefn] this version's memory snapshot is missing: booting Python without it" });
  }
  if (!py) {
    const plain = now();
    py = await startPyodide({}, null);
    writeApp(py);
    runGlue(py);
    bootNotes.push({ level: "debug", message: "[edgefn] Python booted in " + (now() - plain) + " ms" });
  }
  glue = py.pyimport(CONFIG.glueModule);
  const secrets = CONFIG.secretNames.filter((name) => Object.hasOwn(env, name));
  glue.attach(HOST, stringify(env), stringify(secrets));
  py.runPython("import importlib; importlib.invalidate_caches()");
  py.setInterruptBuffer(INTERRUPT);
  guarding = true;
  return py;
}

let loaded = null;
/** Boots if needed, then imports the function's module inside the first call (its output is that call's). */
let told = false;
async function ready(env, key, store) {
  // The boot may have begun before any call (warm): its notes go to the first call all the same.
  const first = !told;
  told = true;
  if (booting === null) booting = boot(env);
  try {
    await booting;
  } finally {
    if (first) for (const note of bootNotes) capture(store, note.level, note.message);
  }
  if (loaded === null) {
    loaded = (async () => {
      importing = true;
      reset();
      try {
        return parseJson(await glue.load(key, CONFIG.entry));
      } finally {
        importing = false;
        reset();
      }
    })();
  }
  const out = await loaded;
  if (!out.ok) throw pythonError(out.error);
  return out.kind;
}

function pythonError(e) {
  const err = new ErrorBase(StringOf(e && e.message || ""));
  err.name = StringOf(e && e.name || "Error");
  if (e && typeof e.stack === "string") err.pyStack = e.stack;
  if (e && typeof e.code === "string") err.code = e.code;
  if (e && e.retryable === true) err.retryable = true;
  return err;
}

class ResultError extends ErrorBase {
  constructor(message, code) {
    super(message);
    this.name = "ResultError";
    this.code = code;
  }
}

function describeError(err) {
  try {
    if (tripped || (err && err.name === "StretchLimitError")) {
      const out = { name: "StretchLimitError", message: new StretchLimitError(limitMs()).message };
      if (err && typeof err.pyStack === "string") out.stack = err.pyStack;
      return out;
    }
    if (err instanceof ErrorBase) {
      const out = { name: StringOf(err.name || "Error"), message: StringOf(err.message || "") };
      const stack = typeof err.pyStack === "string" ? err.pyStack : err.stack;
      if (typeof stack === "string") out.stack = stack;
      if (typeof err.code === "string") out.code = err.code;
      if (err.retryable === true) out.retryable = true;
      return out;
    }
    return { name: "Error", message: StringOf(err) };
  } catch {
    return { name: "Error", message: "The function failed in a way that could not be described" };
  }
}

function finish(store, json) {
  if (tripped) throw new StretchLimitError(limitMs());
  if (json.length > CONFIG.maxResult || (json.length * 3 > CONFIG.maxResult && utf8Length(json) > CONFIG.maxResult)) {
    throw new ResultError("The result is larger than " + CONFIG.maxResult + " bytes", "result_too_large");
  }
  return { ok: true, result: json, logs: store.logs, logsTruncated: store.truncated };
}

function callOf(info) {
  const call = info !== null && typeof info === "object" && Object.hasOwn(info, "call") ? info.call : null;
  return call !== null && typeof call === "object" ? call : {};
}

/** An HTTP request to on_fetch or Appwrite's main, answered as a Response. */
async function serveHttp(key, request, call) {
  const headers = {};
  for (const [k, v] of request.headers) if (k !== "edgefn-call-id") headers[k] = v;
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const body = hasBody ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array(0);
  const answer = await glue.serve(key, request.method, request.url, stringify(headers), body, stringify(call));
  const pair = answer.toJs();
  answer.destroy();
  const meta = parseJson(pair[0]);
  if (meta.error) throw pythonError(meta.error);
  const empty = meta.status === 204 || meta.status === 304 || request.method === "HEAD";
  return new Response(empty ? null : pair[1], { status: meta.status, headers: meta.headers });
}

const APPWRITE = "$appwrite";

async function run(kind, key, args, call) {
  if (kind.handle) {
    const argsJson = stringify(args === undefined ? null : args);
    // A plain def handle() runs at once (no task); an async one, or one that needs the host first, as a task.
    const now = glue.invoke_now(key, argsJson, stringify(call));
    let out = typeof now === "string" ? parseJson(now) : parseJson(await glue.invoke(key, argsJson, stringify(call)));
    if (out.later === true) out = parseJson(await glue.settle_later(key));
    if (!out.ok) throw pythonError(out.error);
    return out.result;
  }
  if (kind.fetch) {
    const given = args && typeof args === "object" && !Array.isArray(args) && Object.hasOwn(args, APPWRITE) ? args[APPWRITE] : undefined;
    if (given) {
      const method = StringOf(given.method || "POST").toUpperCase();
      const hasBody = method !== "GET" && method !== "HEAD";
      const response = await serveHttp(key, new Request(new URL(StringOf(given.path || "/"), "https://function.invalid").href, {
        method,
        headers: given.headers || {},
        body: hasBody && typeof given.body === "string" ? given.body : undefined,
      }), call);
      const headers = {};
      for (const [k, v] of response.headers) headers[k] = v;
      return stringify({ [APPWRITE]: { statusCode: response.status, headers, body: await response.text() } });
    }
    const none = args === undefined || args === null;
    const response = await serveHttp(key, new Request("https://function.invalid/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: none && kind.appwrite ? undefined : stringify(none ? null : args),
    }), call);
    const text = await response.text();
    let body = text;
    try { body = text === "" ? null : parseJson(text); } catch {}
    if (!response.ok) {
      const who = kind.appwrite ? "The Appwrite handler" : "on_fetch";
      throw new ResultError(who + " answered " + response.status + ": " + (typeof body === "string" ? body : stringify(body)).slice(0, 500), "http_" + response.status);
    }
    return stringify(body);
  }
  throw new ResultError("The module defines neither handle(data, ctx), main(context) nor on_fetch(request)", "no_handler");
}

export default class extends WorkerEntrypoint {
  /**
   * Boots Python (from the version's snapshot), asked right after a deploy so that the first call finds it booted;
   * how it booted is still told in the first call's logs. The function's module is imported by the first call.
   */
  async warm() {
    if (booting === null) booting = boot(this.env);
    await booting.catch(() => {});
    return true;
  }

  /** Boots Python, imports the function's module and says what it defines. */
  async describe() {
    reset();
    const key = "describe-" + ++keys;
    const store = newStore();
    live.set(key, store);
    try {
      const kind = await ready(this.env, key, store);
      return { handle: kind.handle, fetch: kind.fetch };
    } catch (err) {
      return { handle: false, fetch: false, error: describeError(err) };
    } finally {
      store.closed = true;
      live.delete(key);
      reset();
    }
  }

  /** The logs a call in progress has written so far (the host asks when the call timed out or hung). */
  takeLogs(callId) {
    const key = StringOf(callId);
    const store = live.get(key);
    live.delete(key);
    if (!store) return { logs: [], logsTruncated: false };
    store.closed = true;
    return { logs: store.logs, logsTruncated: store.truncated };
  }

  async invoke(args, info) {
    reset();
    const call = callOf(info);
    const key = typeof call.callId === "string" && call.callId !== "" ? call.callId : "call-" + ++keys;
    const store = newStore();
    live.set(key, store);
    clients.set(key, { handle: info && typeof info === "object" ? info.client : undefined, store });
    try {
      const kind = await ready(this.env, key, store);
      return finish(store, await run(kind, key, args, call));
    } catch (err) {
      return { ok: false, error: describeError(err), logs: store.logs, logsTruncated: store.truncated };
    } finally {
      store.closed = true;
      live.delete(key);
      clients.delete(key);
      reset();
    }
  }

  async fetch(request) {
    reset();
    const key = request.headers.get("edgefn-call-id") || "http-" + ++keys;
    const store = newStore();
    live.set(key, store);
    try {
      const kind = await ready(this.env, key, store);
      if (!kind.fetch) return new Response("This function has no fetch handler", { status: 501 });
      return await serveHttp(key, request, {});
    } catch (err) {
      const e = describeError(err);
      const error = new ErrorBase(e.message);
      error.name = e.name;
      if (e.stack) error.stack = e.stack;
      throw error;
    } finally {
      reset();
    }
  }

  /**
   * Snapshot mode only: boots Python to be snapshotted, installs the wheels, writes the files, imports the
   * function's module (its output is returned as logs) and takes Pyodide's memory snapshot, zero pages left out.
   */
  async makeSnapshot() {
    if (CONFIG.mode !== "snapshot") throw new ErrorBase("This isolate does not make snapshots");
    const started = now();
    const logs = [];
    const py = await startPyodide({ _makeSnapshot: true }, null);
    const booted = now();
    writeApp(py);
    runGlue(py);
    const g = py.pyimport(CONFIG.glueModule);
    py.setInterruptBuffer(INTERRUPT);
    guarding = true;
    importing = true;
    reset();
    let kind = null;
    let error = null;
    try {
      const out = parseJson(g.prepare(CONFIG.entry));
      if (out.ok) kind = out.kind;
      else error = describeError(pythonError(out.error));
    } catch (err) {
      error = describeError(err);
    } finally {
      guarding = false;
      importing = false;
      reset();
      py.setInterruptBuffer(undefined);
    }
    g.destroy();
    for (const line of bootLog) logs.push({ timestamp: now(), level: line.level, message: line.message });
    if (error) return { ok: false, error, logs };
    py.runPython("import gc; gc.collect()");
    const snapped = now();
    const raw = py.makeMemorySnapshot();
    const snapshot = await encodeSnapshot(raw);
    return {
      ok: true,
      kind,
      snapshot,
      logs,
      stats: { rawBytes: raw.byteLength, bytes: snapshot.byteLength, bootMs: booted - started, importMs: snapped - booted, snapshotMs: now() - snapped, totalMs: now() - started },
    };
  }
}
`;
