/**
 * Where an import or require() of an upload leads, by Node's rules over the uploaded files (the upload's own
 * `node_modules/` folders included):
 *
 * - `node:*` and `cloudflare:*` are the runtime's; a bare name Node knows as a built-in (`buffer`, `events`,
 *   `fs`, ...) is `node:<name>`, before any package of that name (as in Node).
 * - `./x`, `../x` and `/x` (from the upload's root) name a file, trying the usual extensions and index files.
 * - `#x` goes through the `imports` of the nearest package.json.
 * - `pkg`, `pkg/sub`, `@scope/pkg/sub`: the package folder `node_modules/pkg` nearest the importing file (its own
 *   package's node_modules first, then each folder up to the root). Its package.json `exports` decides (subpaths,
 *   patterns, nested conditions: `workerd`, `worker`, `browser`, `import` for an import or `require` for a
 *   require(), and `default`, the package's own order of keys deciding between them, as in Node and esbuild;
 *   `node`, and `require` for an import or `import` for a require(), only when nothing else matches). Without
 *   `exports`: `module`, then `main`, then `index.js`; a subpath names a file of the package.
 */
import { isBuiltin } from "node:module";
import { exports as exportsOf, imports as importsOf } from "resolve.exports";
import { BuildError } from "./errors";
import { dirname, normalizePath } from "./paths";

export type ImportKind = "import" | "require";

export type Resolution =
  | { kind: "file"; path: string }
  | { kind: "builtin"; specifier: string }
  /** Not there: `why` says what was looked for (the caller adds the importing file and line). */
  | { kind: "missing"; why: string };

const CONDITIONS: Record<ImportKind, string[]> = {
  import: ["workerd", "worker", "browser", "import", "default"],
  require: ["workerd", "worker", "browser", "require", "default"],
};
const FALLBACK: Record<ImportKind, string[]> = { import: ["node", "require"], require: ["node", "import"] };

/** The extensions and index files a path without them may mean (TypeScript's `./x.js` for `./x.ts` too). */
function candidates(base: string): string[] {
  const exts = [".ts", ".mts", ".js", ".mjs"];
  return [
    base,
    ...exts.map((e) => base + e),
    ...exts.map((e) => `${base}/index${e}`),
    ...(base.endsWith(".js") ? [base.replace(/\.js$/, ".ts")] : []),
    ...(base.endsWith(".mjs") ? [base.replace(/\.mjs$/, ".mts")] : []),
    // CommonJS's own: .cjs and .json files, and the same as index files.
    `${base}.cjs`,
    `${base}.cts`,
    `${base}.json`,
    `${base}/index.cjs`,
    `${base}/index.json`,
  ];
}

const join = (dir: string, rest: string) => normalizePath(dir ? `${dir}/${rest}` : rest);

interface PackageJson {
  name?: unknown;
  type?: unknown;
  main?: unknown;
  module?: unknown;
  exports?: unknown;
  imports?: unknown;
}

export class Resolver {
  private readonly dirs = new Set<string>([""]);
  private readonly packages = new Map<string, PackageJson | null>();

  constructor(
    private readonly files: ReadonlySet<string>,
    private readonly textOf: (path: string) => string | null,
  ) {
    for (const path of files) {
      for (let dir = dirname(path); dir !== "" && !this.dirs.has(dir); dir = dirname(dir)) this.dirs.add(dir);
    }
  }

  /** The package.json of a folder, parsed once; null when there is none. */
  packageJson(dir: string): PackageJson | null {
    const cached = this.packages.get(dir);
    if (cached !== undefined) return cached;
    const path = dir ? `${dir}/package.json` : "package.json";
    const text = this.files.has(path) ? this.textOf(path) : null;
    let pkg: PackageJson | null = null;
    if (text !== null) {
      try {
        const value: unknown = JSON.parse(text);
        pkg = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as PackageJson) : {};
      } catch (err) {
        throw new BuildError(`${path} is not valid JSON: ${(err as Error).message}`);
      }
    }
    this.packages.set(dir, pkg);
    return pkg;
  }

  /** The `type` of the package.json nearest a file ("module", "commonjs"), if any says. */
  packageType(path: string): string | undefined {
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      const pkg = this.packageJson(dir);
      if (pkg) return typeof pkg.type === "string" ? pkg.type : undefined;
      if (dir === "" || dir.endsWith("node_modules")) return undefined;
    }
  }

  resolve(from: string, specifier: string, kind: ImportKind): Resolution {
    if (/^(node|cloudflare):/.test(specifier)) return { kind: "builtin", specifier };
    if (specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("/") || specifier === ".") {
      const base = specifier.startsWith("/") ? specifier : `${dirname(from)}/${specifier}`;
      const path = this.file(normalizePath(base));
      return path ? { kind: "file", path } : { kind: "missing", why: "not among the uploaded files" };
    }
    if (specifier.startsWith("#")) return this.packageImport(from, specifier, kind);
    if (isBuiltin(specifier)) return { kind: "builtin", specifier: `node:${specifier}` };
    return this.bare(from, specifier, kind);
  }

  /** A file by its exact path or the usual extensions and index files; a folder by its package.json main. */
  private file(base: string): string | undefined {
    const found = candidates(base).find((c) => this.files.has(c));
    if (found || !this.dirs.has(base)) return found;
    const main = this.packageJson(base)?.main;
    return typeof main === "string" ? candidates(join(base, main)).find((c) => this.files.has(c)) : undefined;
  }

  private bare(from: string, specifier: string, kind: ImportKind): Resolution {
    const m = /^((?:@[^/]+\/)?[^/]+)(\/.*)?$/.exec(specifier);
    if (!m) return { kind: "missing", why: "not a package name" };
    const [, name, sub] = m as unknown as [string, string, string | undefined];
    // From the importing file's folder up to the root; never looking inside a node_modules folder itself.
    for (let dir = dirname(from); ; dir = dirname(dir)) {
      if (!/(^|\/)node_modules$/.test(dir)) {
        const root = join(dir, `node_modules/${name}`);
        if (this.dirs.has(root)) return this.inPackage(root, name, sub ? `.${sub}` : ".", kind);
      }
      if (dir === "") break;
    }
    return { kind: "missing", why: "not in the upload's node_modules" };
  }

  private inPackage(root: string, name: string, subpath: string, kind: ImportKind): Resolution {
    const pkg = this.packageJson(root) ?? {};
    if (pkg.exports !== undefined && pkg.exports !== null) {
      const targets = this.conditional(
        (conditions) => exportsOf({ ...pkg, name }, subpath, { unsafe: true, conditions }) ?? undefined,
        kind,
      );
      if (!targets) return { kind: "missing", why: `${root}/package.json does not export '${subpath}'` };
      for (const target of targets) {
        const path = this.file(join(root, target));
        if (path) return { kind: "file", path };
      }
      return {
        kind: "missing",
        why: `${root}/package.json exports '${subpath}' as ${targets.join(", ")}, not uploaded`,
      };
    }
    if (subpath !== ".") {
      const path = this.file(join(root, subpath));
      return path ? { kind: "file", path } : { kind: "missing", why: `${root} has no ${subpath.slice(2)}` };
    }
    for (const field of [pkg.module, pkg.main]) {
      const path = typeof field === "string" ? this.file(join(root, field)) : undefined;
      if (path) return { kind: "file", path };
    }
    const index = this.file(`${root}/index`);
    return index ? { kind: "file", path: index } : { kind: "missing", why: `${root} has no module, main or index.js` };
  }

  /** `#name` through the `imports` of the package.json nearest the importing file. */
  private packageImport(from: string, specifier: string, kind: ImportKind): Resolution {
    for (let dir = dirname(from); ; dir = dirname(dir)) {
      const pkg = this.packageJson(dir);
      if (pkg) {
        if (pkg.imports === undefined || pkg.imports === null) break;
        const targets = this.conditional(
          (conditions) => importsOf({ ...pkg, name: "" }, specifier, { unsafe: true, conditions }) ?? undefined,
          kind,
        );
        for (const target of targets ?? []) {
          if (target.startsWith("./")) {
            const path = this.file(join(dir, target));
            if (path) return { kind: "file", path };
          } else return this.resolve(`${dir ? `${dir}/` : ""}package.json`, target, kind);
        }
        return { kind: "missing", why: `${dir ? `${dir}/` : ""}package.json does not map '${specifier}'` };
      }
      if (dir === "") break;
    }
    return { kind: "missing", why: "no package.json with imports maps it" };
  }

  /**
   * The targets of a package's exports or imports for this kind of import: the platform's conditions first, the
   * others only when those match nothing. Null when nothing matches.
   */
  private conditional(lookup: (conditions: string[]) => string[] | undefined, kind: ImportKind): string[] | null {
    for (const conditions of [CONDITIONS[kind], [...CONDITIONS[kind], ...FALLBACK[kind]]]) {
      try {
        const found = lookup(conditions);
        if (found && found.length > 0) return found;
      } catch {
        // resolve.exports throws for a subpath or condition the package does not map: try the fallback.
      }
    }
    return null;
  }
}
