/**
 * The generated JavaScript entry module of a Python isolate: the same RPC surface as the JavaScript functions' entry
 * (src/runtime/entry.ts: `invoke(args, info)` answering an InvokeOutcome, `describe()`, `takeLogs(callId)`,
 * `fetch(request)`), with Pyodide booted lazily inside the first call, plainly or from a memory snapshot; or, in
 * snapshot mode, `makeSnapshot()` only. Its parts are entry-*.ts (guard, bridge, boot, snapshot, run); the Python
 * half is glue.ts.
 */
import { ENTRY_BOOT } from "./entry-boot";
import { ENTRY_BRIDGE } from "./entry-bridge";
import { ENTRY_GUARD } from "./entry-guard";
import { ENTRY_RUN } from "./entry-run";
import { ENTRY_SNAPSHOT } from "./entry-snapshot";
import { GLUE_FILENAME, GLUE_MODULE, GLUE_SOURCE, USER_DIR } from "./glue";

/** The platform's code in a Python isolate, whatever the function (what a loader id must change with). */
export const PYTHON_RUNTIME_SOURCES =
  ENTRY_GUARD + ENTRY_BRIDGE + ENTRY_BOOT + ENTRY_SNAPSHOT + ENTRY_RUN + GLUE_SOURCE;

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
  return (
    `import ${rel(PY_MODULES.prelude)};
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

` +
    ENTRY_GUARD +
    ENTRY_BRIDGE +
    ENTRY_BOOT +
    ENTRY_SNAPSHOT +
    ENTRY_RUN
  );
}
