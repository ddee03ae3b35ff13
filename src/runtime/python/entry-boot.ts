/**
 * Booting Pyodide in a Python isolate's entry module (JavaScript, part of pythonEntrySource): the precompiled wasm
 * and the stdlib answered from the isolate's modules, the function's files written, the glue run.
 */
export const ENTRY_BOOT = `
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

`;
