/**
 * `edgefn deploy` of a Python folder: every file as it is (binary files as base64), and the pure-Python wheels that
 * requirements.txt needs, fetched with pip when the folder does not carry them. pip reads its own settings from the
 * environment (PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX, a pip.conf), so a private index or a folder of wheels
 * works as it does for pip itself.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { fileValue } from "./pack.js";
import { CliError, EXIT } from "./ui.js";

/** Python entry files, in the platform's order (GET /api/runtimes). */
const PY_ENTRIES = ["handler.py", "src/main.py", "main.py", "index.py", "src/handler.py"];
/** What makes a folder a JavaScript one when no entry is named. */
const JS_MARKERS = ["package.json", "index.ts", "index.js", "index.mjs", "index.mts", "src/index.ts", "src/index.js"];
/** Folders never uploaded: virtual environments, caches, version control. */
const SKIPPED_DIRS = new Set(["__pycache__", "node_modules", "venv", "env", "site-packages"]);
const MAX_FILES = 10_000;

/**
 * True when `edgefn deploy` should upload the folder as Python: the entry named is a `.py` file, or none is named,
 * the folder has no JavaScript entry and has a Python one.
 * @param {string} folder
 * @param {string} [entry]
 */
export function isPythonFolder(folder, entry) {
  if (entry) return entry.endsWith(".py");
  const root = resolve(folder);
  if (JS_MARKERS.some((f) => existsSync(join(root, f)))) return false;
  return PY_ENTRIES.some((f) => existsSync(join(root, f)));
}

/**
 * The folder's files by path (`/`-separated): text as strings, binary files as `{ base64 }`. Dotfiles, dot-folders,
 * virtual environments and bytecode caches are left out.
 * @param {string} root
 * @returns {Record<string, string | { base64: string }>}
 */
function readFolder(root) {
  /** @type {Record<string, string | { base64: string }>} */
  const files = {};
  let count = 0;
  /** @param {string} dir */
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name) && !existsSync(join(path, "pyvenv.cfg"))) walk(path);
        continue;
      }
      if (!entry.isFile() || entry.name.endsWith(".pyc")) continue;
      if (++count > MAX_FILES) throw new CliError(`${root} holds more than ${MAX_FILES} files`);
      const bytes = readFileSync(path);
      const name = relative(root, path).split(sep).join("/");
      files[name] = fileValue(bytes);
    }
  };
  walk(root);
  return files;
}

/** PEP 503 names: case-insensitive, runs of `-`, `_`, `.` alike. @param {string} name */
const normalize = (name) => name.toLowerCase().replace(/[-_.]+/g, "-");

/**
 * The distribution names requirements.txt asks for (comments, blank lines and options left out).
 * @param {string} text
 */
export function requiredNames(text) {
  const names = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line || line.startsWith("-")) continue;
    const name = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(line)?.[0];
    if (name) names.push(normalize(name));
  }
  return names;
}

/** The distribution a wheel file holds, from its name. @param {string} path */
const wheelName = (path) => normalize(path.slice(path.lastIndexOf("/") + 1).split("-")[0] ?? "");

/**
 * Runs `pip download` for requirements.txt into a temporary folder: pure-Python wheels only, for the platform's
 * Python, dependencies included. Answers the wheels' file names and bytes.
 * @param {string} requirements  the path of requirements.txt
 * @param {string} python  the platform's Python version, e.g. "3.14"
 * @returns {{ name: string, bytes: Buffer }[]}
 */
function pipDownload(requirements, python) {
  const dest = mkdtempSync(join(tmpdir(), "edgefn-wheels-"));
  try {
    const pip = process.env.EDGEFN_PIP ? process.env.EDGEFN_PIP.split(" ") : ["python3", "-m", "pip"];
    const args = [
      ...pip.slice(1),
      "download",
      "--requirement",
      requirements,
      "--only-binary=:all:",
      "--platform",
      "any",
      "--implementation",
      "py",
      "--python-version",
      python,
      "--dest",
      dest,
      "--disable-pip-version-check",
      "--quiet",
    ];
    const run = spawnSync(/** @type {string} */ (pip[0]), args, { encoding: "utf8", env: process.env });
    if (run.error || run.status !== 0) {
      const why = run.error ? run.error.message : (run.stderr || run.stdout).trim().split("\n").slice(-6).join("\n");
      throw new CliError(
        `pip could not fetch pure-Python wheels for ${requirements}:\n${why}\n` +
          "Put the wheels in the folder yourself (e.g. wheels/), or point pip at an index or a folder of wheels " +
          "(PIP_INDEX_URL, PIP_FIND_LINKS); --no-pip skips this step.",
        EXIT.error,
      );
    }
    return readdirSync(dest)
      .filter((f) => f.endsWith(".whl"))
      .map((name) => ({ name, bytes: readFileSync(join(dest, name)) }));
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

/**
 * A Python folder as an upload: its files, and wheels fetched with pip for the requirements it does not carry.
 * @param {string} folder
 * @param {{ entry?: string, pip: boolean, python: string }} o
 * @returns {{ files: Record<string, string | { base64: string }>, entrypoint?: string, fetched: string[], size: number }}
 */
export function pythonUpload(folder, o) {
  const root = resolve(folder);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new CliError(`${folder} is not a folder`);
  const files = readFolder(root);
  if (o.entry && !Object.hasOwn(files, o.entry)) throw new CliError(`${o.entry} is not a file of ${folder}`);
  /** @type {string[]} */
  const fetched = [];
  const requirements = files["requirements.txt"];
  if (o.pip && typeof requirements === "string") {
    const carried = new Set(
      Object.keys(files)
        .filter((f) => f.endsWith(".whl"))
        .map(wheelName),
    );
    const missing = requiredNames(requirements).filter((n) => !carried.has(n));
    if (missing.length > 0) {
      for (const wheel of pipDownload(join(root, "requirements.txt"), o.python)) {
        if (carried.has(wheelName(wheel.name))) continue;
        files[`wheels/${wheel.name}`] = { base64: wheel.bytes.toString("base64") };
        fetched.push(wheel.name);
      }
    }
  }
  const size = Object.values(files).reduce(
    (n, f) => n + (typeof f === "string" ? Buffer.byteLength(f) : Math.floor((f.base64.length * 3) / 4)),
    0,
  );
  return { files, ...(o.entry ? { entrypoint: o.entry } : {}), fetched, size };
}
