/**
 * The Python isolate runtime, as the platform uses it:
 *
 * - build: `makePythonSnapshot(env.LOADER, id, app)` boots Python in a throwaway isolate, installs the wheels,
 *   imports the function's module and answers Pyodide's memory snapshot (zero pages left out, checksummed) with
 *   what the module defines; store `snapshot` beside the version (R2) and record `kind` as its handlers.
 * - run: `pythonWorkerCode(app, {...})` is what `env.LOADER.get(id, () => ...)` returns for a call's isolate (pass
 *   the stored snapshot, or `null` when it should be there and is not); its entrypoint has the RPC surface of the
 *   JavaScript functions' isolates (IsolateEntrypoint in ../loader.ts), so the host's call path reads it the same way
 *   (runtime/outcome.ts).
 */
import { LIMITS } from "../../lib/limits";
import { ISOLATE_COMPAT } from "../compat";
import { PYODIDE } from "./assets";
import { PRELUDE_SOURCE as PRELUDE, PY_MODULES, pythonEntrySource } from "./entry";
import { GLUE_SOURCE } from "./glue";

export { PY_MODULES } from "./entry";

/** A Python function's code: its files by path (text, or `{ base64 }`), its entry file, and pure-Python wheels. */
export interface PythonApp {
  files: Record<string, string | { base64: string }>;
  /** The entry file, e.g. "main.py" or "pkg/handler.py". */
  entry: string;
  wheels?: (Uint8Array | ArrayBuffer)[];
}

export interface PythonRuntimeOptions {
  secretNames?: string[];
  /** The loop guard's stretch limit (the JavaScript guard's stretchMs, EDGEFN_STRETCH_MS). */
  stretchMs?: number;
  /** The stretch limit while the function's module is imported. */
  importMs?: number;
  /** Interrupt-buffer reads in one stretch after which it ends even if the clock stands still (as on Cloudflare). */
  maxReads?: number;
}

export interface PythonRunOptions extends PythonRuntimeOptions {
  /** The version's snapshot; `null`: it should exist and does not (plain boot, said in the first call's logs). */
  snapshot?: Uint8Array | ArrayBuffer | null;
}

/** What the entry's snapshot isolate answers. */
export type PythonSnapshotResult =
  | {
      ok: true;
      kind: { handle: boolean; fetch: boolean; appwrite: boolean };
      snapshot: Uint8Array;
      logs: { timestamp: number; level: string; message: string }[];
      stats: { rawBytes: number; bytes: number; bootMs: number; importMs: number; snapshotMs: number; totalMs: number };
    }
  | {
      ok: false;
      error: { name: string; message: string; stack?: string };
      logs: { timestamp: number; level: string; message: string }[];
    };

export interface PythonSnapshotEntrypoint {
  makeSnapshot(): Promise<PythonSnapshotResult>;
}

export const PYTHON_MAIN_MODULE = PY_MODULES.entry;
/**
 * Python's stretch limit is this many times JavaScript's (1 s by default): the same work takes CPython on wasm many
 * times longer, and a module imported inside a call (decompressed and compiled from the standard library) can take
 * a few hundred milliseconds by itself.
 */
export const PYTHON_STRETCH_FACTOR = 5;
export const pythonStretchMs = (jsStretchMs: number) => jsStretchMs * PYTHON_STRETCH_FACTOR;
/** The import stretch limit by default: importing much of the standard library can take a second or more. */
export const PYTHON_IMPORT_MS = 5_000;
/**
 * Reads of the interrupt buffer in one stretch by default: CPython reads it every 50 eval-loop checks, about 10,000
 * times a second of pure-Python work here; the clock ends local stretches long before this count does.
 */
export const PYTHON_MAX_READS = 100_000;

type Modules = Record<string, WorkerLoaderModule>;

const bytesOf = (b: Uint8Array | ArrayBuffer): ArrayBuffer =>
  b instanceof ArrayBuffer ? b : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);

function baseModules(
  app: PythonApp,
  o: PythonRuntimeOptions,
  mode: "run" | "snapshot",
  snapshot: PythonRunOptions["snapshot"],
): Modules {
  const wheels = app.wheels ?? [];
  const modules: Modules = {
    [PY_MODULES.entry]: {
      js: pythonEntrySource({
        mode,
        entry: app.entry,
        secretNames: o.secretNames ?? [],
        wheelCount: wheels.length,
        snapshot: snapshot ? "given" : snapshot === null ? "missing" : "none",
        stretchMs: o.stretchMs ?? LIMITS.stretchMs,
        importMs: o.importMs ?? PYTHON_IMPORT_MS,
        maxReads: o.maxReads ?? PYTHON_MAX_READS,
        maxResultBytes: LIMITS.resultBytes,
        maxLogBytes: LIMITS.logBytes,
        maxLogLines: LIMITS.logLines,
        logLineOverhead: LIMITS.logLineOverhead,
        lockInfo: PYODIDE.lockInfo,
      }),
    },
    [PY_MODULES.prelude]: { js: PRELUDE },
    [PY_MODULES.pyodide]: { js: PYODIDE.js },
    [PY_MODULES.pyodideAsm]: { js: PYODIDE.asmJs },
    [PY_MODULES.wasm]: { wasm: PYODIDE.wasm },
    [PY_MODULES.stdlib]: { data: PYODIDE.stdlib },
    [PY_MODULES.glue]: { text: GLUE_SOURCE },
    [PY_MODULES.app]: { json: { files: app.files } },
  };
  wheels.forEach((wheel, i) => {
    modules[PY_MODULES.wheel(i)] = { data: bytesOf(wheel) };
  });
  if (snapshot) modules[PY_MODULES.snapshot] = { data: bytesOf(snapshot) };
  return modules;
}

/** The modules of a Python function's isolate (mainModule: PYTHON_MAIN_MODULE). */
export function pythonIsolateModules(app: PythonApp, o: PythonRunOptions = {}): Modules {
  return baseModules(app, o, "run", o.snapshot);
}

/** The modules of the isolate that makes a version's snapshot (its entrypoint's `makeSnapshot()`). */
export function pythonSnapshotModules(app: PythonApp, o: PythonRuntimeOptions = {}): Modules {
  return baseModules(app, o, "snapshot", undefined);
}

/** What LOADER.get's callback returns for a Python function's isolate. */
export function pythonWorkerCode(
  app: PythonApp,
  o: PythonRunOptions & { env?: Record<string, string>; globalOutbound?: Fetcher | null; cpuMs?: number },
): WorkerLoaderWorkerCode {
  return {
    ...ISOLATE_COMPAT,
    mainModule: PYTHON_MAIN_MODULE,
    modules: pythonIsolateModules(app, o),
    env: { ...(o.env ?? {}) },
    globalOutbound: o.globalOutbound ?? null,
    limits: { cpuMs: o.cpuMs ?? LIMITS.cpuMs.default },
  };
}

/**
 * Makes a version's snapshot in a throwaway isolate (`id` names it for the loader: use a fresh one per attempt).
 * The module's top-level code runs here, without the function's env or secrets.
 */
export async function makePythonSnapshot(
  loader: WorkerLoader,
  id: string,
  app: PythonApp,
  o: PythonRuntimeOptions & { cpuMs?: number } = {},
): Promise<PythonSnapshotResult> {
  const worker = loader.get(id, () => ({
    ...ISOLATE_COMPAT,
    mainModule: PYTHON_MAIN_MODULE,
    modules: pythonSnapshotModules(app, o),
    env: {},
    globalOutbound: null,
    limits: { cpuMs: o.cpuMs ?? LIMITS.cpuMs.default },
  }));
  const entry = worker.getEntrypoint() as unknown as PythonSnapshotEntrypoint;
  return entry.makeSnapshot();
}
