/**
 * Pyodide's runtime files (the npm package `pyodide`, pinned in package.json), taken from node_modules into the host
 * bundle and never committed: the wasm compiled by the runtime when the host starts (wrangler's CompiledWasm rule;
 * an isolate cannot compile WebAssembly from bytes), the two JavaScript modules as text (`?raw`: Vite in tests, a
 * Text rule in wrangler.toml for deploys) and the standard library zip as bytes (a Data rule). A Python isolate
 * gets these objects as modules of its own (see modules.ts): nothing is fetched at run time.
 */

import pyodideAsmJs from "../../../node_modules/pyodide/pyodide.asm.mjs?raw";
import pyodideAsmWasm from "../../../node_modules/pyodide/pyodide.asm.wasm";
import pyodideJs from "../../../node_modules/pyodide/pyodide.mjs?raw";
import { info } from "../../../node_modules/pyodide/pyodide-lock.json";
import stdlibZip from "../../../node_modules/pyodide/python_stdlib.zip";

export const PYODIDE = {
  /** The Emscripten module factory (`export default`), as source. */
  asmJs: pyodideAsmJs,
  /** `loadPyodide`, as source. */
  js: pyodideJs,
  /** The interpreter, compiled once per host isolate. */
  wasm: pyodideAsmWasm,
  /** The standard library, installed into the interpreter's file system at boot. */
  stdlib: stdlibZip,
  /** What `loadPyodide` needs of the package's lock file: the build's ABI, platform and Python version. */
  lockInfo: info,
};

/** The Python version of the runtime ("3.14.2"). */
export const PYTHON_VERSION: string = info.python;
