/**
 * The generated JavaScript entry module of a Python isolate: the same RPC surface as the JavaScript functions' entry
 * (src/runtime/entry.ts: `invoke(args, info)` answering an InvokeOutcome, `describe()`, `takeLogs(callId)`,
 * `fetch(request)`), with Pyodide booted lazily inside the first call, plainly or from a memory snapshot; or, in
 * snapshot mode, `makeSnapshot()` only. The Python half is glue.ts.
 */
import { GLUE_FILENAME, GLUE_MODULE, USER_DIR } from "./glue";

/** The isolate's module names (all under the platform's folder, which no upload can use). */
export const PY_DIR = "__edgefn/python/";
export const PY_MODULES = {
  entry: `${PY_DIR}entry.js`,
  prelude: `${PY_DIR}prelude.js`,
  pyodide: `${PY_DIR}pyodide.mjs`,
  pyodideAsm: `${PY_DIR}pyodide.asm.mjs`,
  wasm: `${PY_DIR}pyodide.asm.wasm`,
  stdlib: `${PY_DIR}python_stdlib.zip`,
  glue: `${PY_DIR}glue.py`,
  app: `${PY_DIR}app.json`,
  snapshot: `${PY_DIR}snapshot.bin`,
  wheel: (i: number) => `${PY_DIR}wheels/${i}.whl`,
} as const;

export interface PythonEntryOptions {
  mode: "run" | "snapshot";
  /** The function's entry file, relative to its folder ("main.py", "pkg/handler.py"). */
  entry: string;
  secretNames: string[];
  wheelCount: number;
  /** "given": a snapshot module is there; "missing": one was expected but is not (plain boot, said in the logs). */
  snapshot: "given" | "missing" | "none";
  stretchMs: number;
  /** The stretch limit while the function's module is imported (its top level may import much of the stdlib). */
  importMs: number;
  /** Interrupt-buffer reads in one stretch past which it is cut short even if the clock does not move. */
  maxReads: number;
  maxResultBytes: number;
  maxLogBytes: number;
  maxLogLines: number;
  logLineOverhead: number;
  lockInfo: Record<string, string>;
}

/** Globals Pyodide needs before it evaluates (it must take its browser path, not Node's: nodejs_compat is on). */
export const PRELUDE_SOURCE = `if (typeof globalThis.location === "undefined") globalThis.location = new URL("https://pyodide.invalid/");
if (typeof globalThis.setImmediate !== "function") globalThis.setImmediate = (fn, ...args) => setTimeout(fn, 0, ...args);
if (globalThis.process) {
  globalThis.process.browser = true;
  globalThis.process.type = "renderer";
}
`;

/** The snapshot format's magic number ("EFPY") and its page size (zero pages are left out). */
export const SNAPSHOT_MAGIC = 0x59504645;
export const SNAPSHOT_PAGE = 4096;
export const SNAPSHOT_HEADER = 64;

export function pythonEntrySource(o: PythonEntryOptions): string {
  const rel = (name: string) => JSON.stringify(`./${name.slice(PY_DIR.length)}`);
  const wheels = Array.from({ length: o.wheelCount }, (_, i) => `import WHEEL_${i} from ${rel(PY_MODULES.wheel(i))};`);
  const config = {
    mode: o.mode,
    entry: o.entry,
    secretNames: o.secretNames,
    snapshot: o.snapshot,
    stretchMs: Math.max(1, Math.floor(o.stretchMs)),
    importMs: Math.max(1, Math.floor(o.importMs)),
    maxReads: Math.max(1, Math.floor(o.maxReads)),
    maxResult: o.maxResultBytes,
    maxLogBytes: o.maxLogBytes,
    maxLogLines: o.maxLogLines,
    lineOverhead: o.logLineOverhead,
    lockInfo: o.lockInfo,
    userDir: USER_DIR,
    glueModule: GLUE_MODULE,
    glueFile: GLUE_FILENAME,
    magic: SNAPSHOT_MAGIC,
    page: SNAPSHOT_PAGE,
    header: SNAPSHOT_HEADER,
  };
  return `import ${rel(PY_MODULES.prelude)};
import { WorkerEntrypoint } from "cloudflare:workers";
import { loadPyodide } from ${rel(PY_MODULES.pyodide)};
import createPyodideModule from ${rel(PY_MODULES.pyodideAsm)};
import WASM from ${rel(PY_MODULES.wasm)};
import STDLIB from ${rel(PY_MODULES.stdlib)};
import GLUE from ${rel(PY_MODULES.glue)};
import APP from ${rel(PY_MODULES.app)};
${wheels.join("\n")}
${o.snapshot === "given" ? `import SNAPSHOT from ${rel(PY_MODULES.snapshot)};` : "const SNAPSHOT = null;"}

const CONFIG = ${JSON.stringify(config)};
const WHEELS = [${wheels.map((_, i) => `WHEEL_${i}`).join(", ")}];

const stringify = JSON.stringify;
const parseJson = JSON.parse;
const now = Date.now;
const StringOf = String;
const NumberOf = Number;
const ErrorBase = Error;
const encoder = new TextEncoder();
const utf8Length = (text) => encoder.encode(text).byteLength;
const MAX_LINE = 16 * 1024;

// --- The runaway guard: an interrupt buffer whose [0] reads as SIGINT (2) once a stretch runs past its limit ------
// CPython reads it every 50 eval-loop checks (about 180,000 reads a second here). A stretch is the time since the isolate last gave the event loop a
// turn; it stays tripped until then, so a loop that swallows the error is interrupted again (the glue's SIGINT
// handler raises only where user code runs). Each call entering the isolate starts a fresh stretch.
let guarding = false;
let importing = false;
let armed = false;
let tripped = false;
let start = 0;
let reads = 0;
function reset() {
  // Called only between turns of Python (a new event, a timer): the glue stops raising in user code too.
  if (tripped && glue) {
    try { glue._resume_user_code(); } catch {}
  }
  armed = false;
  tripped = false;
}
function limitMs() {
  return importing ? CONFIG.importMs : CONFIG.stretchMs;
}
let sinceFired = 0;
function read() {
  if (!guarding) return 0;
  if (tripped) {
    // Fired again every so many reads, never on consecutive ones: CPython would call the handler inside the
    // handler, and recurse until the stack overflows.
    if (++sinceFired < 64) return 0;
    sinceFired = 0;
    return 2;
  }
  const t = now();
  if (!armed) {
    armed = true;
    start = t;
    reads = 0;
    try { setTimeout(reset, 0); } catch {}
    return 0;
  }
  if (t - start > limitMs() || ++reads > CONFIG.maxReads) {
    tripped = true;
    sinceFired = 0;
    return 2;
  }
  return 0;
}
const INTERRUPT = Object.create(null);
Object.defineProperty(INTERRUPT, 0, { get: read, set() {}, enumerable: true });
Object.defineProperty(INTERRUPT, "length", { value: 1 });

class StretchLimitError extends ErrorBase {
  constructor(ms) {
    super("Python ran longer than " + ms + " ms (or " + CONFIG.maxReads + " interrupt checks) without yielding to the event loop: a runaway loop?");
    this.name = "StretchLimitError";
  }
}

// --- Logs: one store per call in progress, by key (the call id); Python writes into it through the bridge --------
const live = new Map();
const clients = new Map();
let keys = 0;

function newStore() {
  return { logs: [], bytes: 0, truncated: false, closed: false };
}

function capture(store, level, text) {
  if (!store || store.closed || store.truncated) return;
  let message = StringOf(text);
  if (message.length > MAX_LINE) message = message.slice(0, MAX_LINE) + "…";
  const size = utf8Length(message) + CONFIG.lineOverhead;
  if (store.logs.length + 1 >= CONFIG.maxLogLines || store.bytes + size > CONFIG.maxLogBytes) {
    store.truncated = true;
    store.logs.push({ timestamp: now(), level: "warn", message: "[edgefn] log output truncated at " + CONFIG.maxLogLines + " lines or " + CONFIG.maxLogBytes + " bytes" });
    return;
  }
  store.bytes += size;
  store.logs.push({ timestamp: now(), level, message });
}

// Console output of the runtime itself (Pyodide's warnings) is dropped, as is any output outside a call.
for (const name of Object.keys(console)) if (typeof console[name] === "function") console[name] = () => {};

/** The bridge Python's glue calls: log lines and ctx.client, by call key. Strings only cross it. */
const HOST = {
  log(key, level, text) {
    capture(live.get(StringOf(key)), StringOf(level), text);
  },
  invoke(key, fn, argsJson) {
    return useClient(StringOf(key), (handle) => handle.invoke(StringOf(fn), parseJson(StringOf(argsJson)) ?? null));
  },
  calls(key, limit) {
    return useClient(StringOf(key), (handle) => handle.calls(NumberOf(limit ?? 20)));
  },
  /** Cognite's function_call_info from the host (JSON), or null when the isolate runs without the host's client. */
  async callInfo(key) {
    const entry = clients.get(StringOf(key));
    if (!entry || !entry.handle) return null;
    return useClient(StringOf(key), (handle) => handle.cogniteCallInfo());
  },
};

async function useClient(key, act) {
  const entry = clients.get(key);
  const ended = () => {
    const message = "ctx.client can act only while the call that uses it runs";
    return { ok: false, error: "ClientError: " + message, errorDetail: { name: "ClientError", message, code: "unauthorized" } };
  };
  if (!entry) return stringify(ended());
  if (!entry.handle) throw new ErrorBase("ctx.client is not available here");
  try {
    return stringify((await act(entry.handle)) ?? null);
  } catch (err) {
    if (entry.store.closed) return stringify(ended());
    throw err;
  }
}

// --- Boot ------------------------------------------------------------------------------------------------------------
const bootLog = [];
const LOCK = { info: CONFIG.lockInfo, packages: {} };
const INDEX_URL = "https://pyodide.invalid/";

/** loadPyodide with the precompiled wasm and the stdlib from this isolate's modules; no network is used. */
async function startPyodide(options, heap) {
  const realFetch = globalThis.fetch;
  // Pyodide asks for its files by URL while it boots: they are answered from the modules.
  globalThis.fetch = async (input) => {
    const url = typeof input === "string" ? input : input && typeof input.url === "string" ? input.url : StringOf(input);
    if (url.endsWith("python_stdlib.zip")) return new Response(STDLIB.slice(0));
    if (url.endsWith(".wasm")) return new Response(new Uint8Array(0));
    throw new ErrorBase("No network while Python boots: " + url);
  };
  try {
    return await loadPyodide({
      indexURL: INDEX_URL,
      lockFileContents: LOCK,
      env: { HOME: "/home/pyodide", PYTHONDONTWRITEBYTECODE: "1" },
      stdout: (line) => bootLog.push({ level: "info", message: StringOf(line) }),
      stderr: (line) => bootLog.push({ level: "error", message: StringOf(line) }),
      createPyodideModule: (settings) => {
        settings.instantiateWasm = (imports, done) => {
          // What Pyodide's own instantiation adds when its helper wasm cannot be compiled here (it cannot: no
          // WebAssembly from bytes in an isolate).
          const marker = Symbol("error marker");
          imports.env.Jsv_GetError_import = () => marker;
          imports.env.JsvError_Check = (value) => value === marker;
          WebAssembly.instantiate(WASM, imports).then((instance) => {
            if (heap) {
              const memory = instance.exports.memory;
              const missing = heap.length - memory.buffer.byteLength;
              if (missing > 0) memory.grow(Math.ceil(missing / 65536));
            }
            done(instance, WASM);
          });
          return {};
        };
        return createPyodideModule(settings).then((module) => {
          if (heap) heap.write(module.HEAP8);
          return module;
        });
      },
      ...options,
    });
  } finally {
    globalThis.fetch = realFetch;
  }
}

function safePath(path) {
  const parts = StringOf(path).split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.some((p) => p === "..")) throw new ErrorBase("Bad file path: " + path);
  return parts.join("/");
}

function bytesOfBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** The function's files into /function and its wheels into site-packages (again after a restore: the FS is new). */
function writeApp(py) {
  const FS = py.FS;
  for (const [path, file] of Object.entries(APP.files)) {
    const full = CONFIG.userDir + "/" + safePath(path);
    FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
    FS.writeFile(full, typeof file === "string" ? file : bytesOfBase64(file.base64));
  }
  FS.mkdirTree(CONFIG.userDir);
  if (WHEELS.length === 0) return;
  // Into site-packages (unpackArchive's default is the working folder, which is the function's own).
  const site = py.runPython("import sysconfig; sysconfig.get_path('purelib')");
  FS.mkdirTree(site);
  for (const wheel of WHEELS) py.unpackArchive(new Uint8Array(wheel), "wheel", { extractDir: site });
}

function runGlue(py) {
  py.FS.mkdirTree("/edgefn");
  py.FS.writeFile("/edgefn/glue.py", GLUE);
  py.runPython(
    "import sys, types\\n" +
      "m = types.ModuleType(" + stringify(CONFIG.glueModule) + ")\\n" +
      "sys.modules[m.__name__] = m\\n" +
      "exec(compile(open('/edgefn/glue.py').read(), " + stringify(CONFIG.glueFile) + ", 'exec'), m.__dict__)\\n" +
      "del m, sys, types",
  );
  py.FS.unlink("/edgefn/glue.py");
}

/** Reads and checks a snapshot (format: see encodeSnapshot); throws when it is not one, or not whole. */
async function openSnapshot(bytes) {
  const all = new Uint8Array(bytes);
  if (all.byteLength < CONFIG.header) throw new ErrorBase("too short");
  const head = new DataView(all.buffer, all.byteOffset, CONFIG.header);
  if (head.getUint32(0, true) !== CONFIG.magic || head.getUint32(4, true) !== 1) throw new ErrorBase("not an edgefn snapshot");
  const pyHeaderLength = head.getUint32(8, true);
  const heapLength = head.getUint32(12, true);
  const page = head.getUint32(16, true);
  const pages = head.getUint32(20, true);
  const kept = head.getUint32(24, true);
  const bitmapLength = Math.ceil(pages / 64) * 8;
  const expected = CONFIG.header + bitmapLength + pyHeaderLength + kept * page;
  if (page !== CONFIG.page || pages * page !== heapLength || all.byteLength !== expected) throw new ErrorBase("its size does not add up");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all.subarray(CONFIG.header)));
  for (let i = 0; i < 32; i++) if (digest[i] !== all[32 + i]) throw new ErrorBase("its checksum does not match");
  const bitmap = all.subarray(CONFIG.header, CONFIG.header + bitmapLength);
  const pyHeader = all.slice(CONFIG.header + bitmapLength, CONFIG.header + bitmapLength + pyHeaderLength);
  const body = CONFIG.header + bitmapLength + pyHeaderLength;
  return {
    pyHeader,
    length: heapLength,
    write(HEAP8) {
      HEAP8.fill(0, 0, heapLength);
      let at = body;
      for (let i = 0; i < pages; i++) {
        if (bitmap[i >> 3] & (1 << (i & 7))) {
          HEAP8.set(all.subarray(at, at + page), i * page);
          at += page;
        }
      }
    },
  };
}

/** Pyodide's snapshot (its header, then the whole heap) with the all-zero pages left out, checksummed. */
async function encodeSnapshot(raw) {
  const pyHeaderLength = new DataView(raw.buffer, raw.byteOffset, 8).getUint32(4, true);
  const heap = raw.subarray(pyHeaderLength);
  const page = CONFIG.page;
  const pages = Math.ceil(heap.byteLength / page);
  const bitmapLength = Math.ceil(pages / 64) * 8;
  const bitmap = new Uint8Array(bitmapLength);
  const words = new Uint32Array(heap.buffer, heap.byteOffset, Math.floor(heap.byteLength / 4));
  let kept = 0;
  for (let i = 0; i < pages; i++) {
    const from = (i * page) / 4;
    const to = Math.min(words.length, from + page / 4);
    for (let w = from; w < to; w++) {
      if (words[w] !== 0) {
        bitmap[i >> 3] |= 1 << (i & 7);
        kept++;
        break;
      }
    }
  }
  const out = new Uint8Array(CONFIG.header + bitmapLength + pyHeaderLength + kept * page);
  const head = new DataView(out.buffer, 0, CONFIG.header);
  head.setUint32(0, CONFIG.magic, true);
  head.setUint32(4, 1, true);
  head.setUint32(8, pyHeaderLength, true);
  head.setUint32(12, pages * page, true);
  head.setUint32(16, page, true);
  head.setUint32(20, pages, true);
  head.setUint32(24, kept, true);
  out.set(bitmap, CONFIG.header);
  out.set(raw.subarray(0, pyHeaderLength), CONFIG.header + bitmapLength);
  let at = CONFIG.header + bitmapLength + pyHeaderLength;
  for (let i = 0; i < pages; i++) {
    if (bitmap[i >> 3] & (1 << (i & 7))) {
      out.set(heap.subarray(i * page, Math.min(heap.byteLength, (i + 1) * page)), at);
      at += page;
    }
  }
  out.set(new Uint8Array(await crypto.subtle.digest("SHA-256", out.subarray(CONFIG.header))), 32);
  return out;
}

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
async function ready(env, key, store) {
  const first = booting === null;
  if (first) booting = boot(env);
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
    const out = parseJson(await glue.invoke(key, stringify(args === undefined ? null : args), stringify(call)));
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
      const journal = info !== null && typeof info === "object" && Object.hasOwn(info, "journal") ? info.journal : null;
      if (journal) await journal.begin().catch(() => {});
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
}
