/**
 * `edgefn deploy`: a folder as it is, read into the upload's `files` (text files as strings, binary files as
 * `{ base64 }`), the platform resolving imports from the uploaded `node_modules` when it builds.
 *
 * Left out: names starting with "." (dotfiles, .git, .env, node_modules/.bin and .package-lock.json), symbolic
 * links in the project's own files, and from node_modules: packages the project does not depend on (only the
 * packages reachable through `dependencies`, `optionalDependencies` and `peerDependencies` from the folder's
 * package.json go, devDependencies do not; without a package.json, all of node_modules goes), and files no
 * function runs (type declarations `.d.ts`, source maps `.map`).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { entryOf, packageJson } from "./bundle.js";
import { CliError } from "./ui.js";

/** Bytes that are valid UTF-8 with no NUL are text; anything else is a binary file. */
const utf8 = new TextDecoder("utf-8", { fatal: true });
/** @param {Buffer} bytes @returns {string | { base64: string }} */
export function fileValue(bytes) {
  if (!bytes.includes(0)) {
    try {
      return utf8.decode(bytes);
    } catch {
      // not UTF-8: binary
    }
  }
  return { base64: bytes.toString("base64") };
}

const NOT_RUN = /\.(d\.[mc]?ts|map)$/;
const DEPENDENCY_FIELDS = /** @type {const} */ (["dependencies", "optionalDependencies", "peerDependencies"]);

/**
 * @typedef {{ files: Record<string, string | { base64: string }>, entry: string, bytes: number,
 *   packages: string[], warnings: string[] }} Packed
 */

/**
 * @param {string} folder
 * @param {{ entry?: string }} [options]
 * @returns {Packed}
 */
export function pack(folder, { entry } = {}) {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`${folder} is not a folder`);
  const found = entryOf(folder, dir, entry);
  /** @type {Packed["files"]} */
  const files = {};
  let bytes = 0;
  /** @type {string[]} */
  const warnings = [];

  /**
   * Adds the files under `real` as `logical` (a path of the upload), skipping dot names; `follow` follows
   * symbolic links (inside node_modules, where pnpm and `npm link` put them), `nodeModules` descends into
   * nested node_modules folders.
   * @param {string} real @param {string} logical @param {{ follow: boolean, nodeModules: boolean, skip?: RegExp }} how
   * @param {Set<string>} [visiting]
   */
  function addTree(real, logical, how, visiting = new Set()) {
    const key = realpathSync(real);
    if (visiting.has(key)) return;
    visiting.add(key);
    for (const name of readdirSync(real).sort()) {
      if (name.startsWith(".")) continue;
      const path = join(real, name);
      const target = logical ? `${logical}/${name}` : name;
      const link = lstatSync(path);
      if (link.isSymbolicLink() && !how.follow) continue;
      let stat;
      try {
        stat = statSync(path);
      } catch {
        continue; // a dangling link
      }
      if (stat.isDirectory()) {
        if (name === "node_modules" && !how.nodeModules) continue;
        addTree(path, target, how, visiting);
      } else if (stat.isFile() && !how.skip?.test(name)) {
        const content = readFileSync(path);
        files[target] = fileValue(content);
        bytes += content.byteLength;
      }
    }
    visiting.delete(key);
  }

  addTree(dir, "", { follow: false, nodeModules: false });

  const modules = join(dir, "node_modules");
  /** @type {string[]} */
  let packages = [];
  if (existsSync(modules)) {
    const pkg = packageJson(dir);
    if (pkg && DEPENDENCY_FIELDS.some((f) => pkg[f])) {
      const reachable = reachablePackages(dir, pkg, warnings);
      for (const p of reachable) {
        addTree(join(dir, p.real), p.logical, { follow: true, nodeModules: false, skip: NOT_RUN });
      }
      packages = reachable.map((p) => p.logical.slice("node_modules/".length));
    } else {
      addTree(modules, "node_modules", { follow: true, nodeModules: true, skip: NOT_RUN });
      packages = Object.keys(files)
        .filter((f) => f.startsWith("node_modules/") && /\/package\.json$/.test(f))
        .map((f) => f.slice("node_modules/".length, -"/package.json".length));
    }
  }
  return { files, entry: found, bytes, packages, warnings };
}

/**
 * The installed packages the folder's package.json depends on, directly or through other packages, found by
 * Node's rules (a package's own node_modules first, then each folder up). A package reached through a symbolic
 * link (pnpm) has its dependencies looked up from where it really is, and is uploaded nested under the package
 * that needs it when that is where Node would not otherwise find it.
 * @param {string} root @param {Record<string, unknown>} rootPkg @param {string[]} warnings
 * @returns {{ logical: string, real: string }[]} paths relative to the folder, with / separators
 */
function reachablePackages(root, rootPkg, warnings) {
  /** @type {Map<string, { logical: string, real: string }>} */
  const out = new Map();
  /** @type {{ logical: string, real: string, pkg: Record<string, unknown> }[]} */
  const queue = [{ logical: "", real: root, pkg: rootPkg }];
  const slash = (/** @type {string} */ p) => p.split(sep).join("/");
  /** The nearest `node_modules/<name>` folder from `dir` up to the project's folder. */
  const lookup = (/** @type {string} */ dir, /** @type {string} */ name, /** @type {string} */ top) => {
    for (let d = dir; ; d = dirname(d)) {
      if (!d.endsWith(`${sep}node_modules`)) {
        const candidate = join(d, "node_modules", name);
        if (existsSync(join(candidate, "package.json"))) return candidate;
      }
      if (d === top || d === dirname(d)) return null;
    }
  };
  while (queue.length > 0) {
    const at = /** @type {(typeof queue)[number]} */ (queue.shift());
    for (const field of DEPENDENCY_FIELDS) {
      const deps = at.pkg[field];
      if (!deps || typeof deps !== "object") continue;
      for (const name of Object.keys(deps)) {
        if (!/^(@[^/]+\/)?[^/.][^/]*$/.test(name)) continue;
        // Where Node looks from the package's place in the upload; for a linked package, from where it is.
        const logicalFound = lookup(join(root, at.logical), name, root);
        let logical;
        let real;
        if (logicalFound) {
          logical = slash(relative(root, logicalFound));
          real = logicalFound;
        } else {
          const realFound = lookup(realpathSync(at.real), name, realpathSync(root));
          if (!realFound) {
            if (field === "dependencies") {
              warnings.push(`${at.logical || "package.json"} depends on ${name}, which is not installed`);
            }
            continue;
          }
          logical = `${at.logical ? `${at.logical}/` : ""}node_modules/${name}`;
          real = realFound;
        }
        if (out.has(logical)) continue;
        const entry = { logical, real: slash(relative(root, real)) };
        out.set(logical, entry);
        const pkg = packageJson(real);
        if (pkg) queue.push({ logical, real, pkg });
      }
    }
  }
  return [...out.values()].sort((a, b) => a.logical.localeCompare(b.logical));
}
