import { transform } from "sucrase";
import { fileText, type UploadFile } from "../lib/files";
import { GUARD_MODULE, PLATFORM_DIR } from "./guard";
import { instrumentModule, ReservedIdentifierError } from "./instrument";

/** The platform's stand-in for `node:module`, whose require() reaches only the upload's own modules. */
export const NODE_MODULE_SHIM = `${PLATFORM_DIR}node-module.js`;

/**
 * What a user uploads: files by path (a string is UTF-8 text, `{ base64 }` a binary file), and which one is the
 * entry. Kept in R2 as JSON; sources stored before binary files existed hold only strings.
 */
export interface SourceBundle {
  files: Record<string, UploadFile>;
  entrypoint: string;
}

/** Built code, ready for the Worker Loader: module name -> JS source (or JSON value). */
export interface BuiltBundle {
  entry: string;
  modules: Record<string, string | { json: unknown }>;
}

export class BuildError extends Error {
  constructor(
    message: string,
    readonly trace = "",
  ) {
    super(message);
    this.name = "BuildError";
  }
}

const CODE_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"];
const BUILTIN = /^(node|cloudflare):/;

/**
 * Cleans a user path: forward slashes, no leading "./" or "/", no "..", no empty segments. The platform's folder
 * of its own modules is refused in any letter case, so no upload can take the name of a platform module.
 */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const seg of path.replace(/\\/g, "/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) throw new BuildError(`Path '${path.slice(0, 200)}' points outside the upload`);
      parts.pop();
    } else parts.push(seg);
  }
  if (`${parts[0] ?? ""}/`.toLowerCase() === PLATFORM_DIR && parts.length > 1) {
    throw new BuildError(`Path '${path.slice(0, 200)}' is reserved for the platform's own modules`);
  }
  return parts.join("/");
}

const dirname = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
const isTs = (p: string) => p.endsWith(".ts") || p.endsWith(".mts");
/**
 * Names source files as loader modules, which must end in `.js`: `a.ts`, `a.mts` and `a.mjs` become `a.js`
 * unless a file earlier in that order (or `a.js` itself) already claims it; then they keep their name plus `.js`.
 */
function moduleNamer(files: Record<string, string>) {
  const order = [".js", ".ts", ".mts", ".mjs"];
  return (p: string): string => {
    const ext = order.find((e) => p.endsWith(e));
    if (!ext || ext === ".js") return p;
    const base = p.slice(0, -ext.length);
    const claimed = order.slice(0, order.indexOf(ext)).some((e) => Object.hasOwn(files, base + e));
    return claimed ? `${p}.js` : `${base}.js`;
  };
}

function relativeSpecifier(from: string, to: string): string {
  const a = dirname(from).split("/").filter(Boolean);
  const b = to.split("/");
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.length - i;
  return (up === 0 ? "./" : "../".repeat(up)) + b.slice(i).join("/");
}

/** Finds the uploaded file a relative import means, trying the usual extensions and index files. */
/** The uploaded file an import names: relative to the importing file, or to the upload's root for "/x". */
function resolveFile(files: Record<string, string>, from: string, specifier: string): string | undefined {
  const base = normalizePath(specifier.startsWith("/") ? specifier : `${dirname(from)}/${specifier}`);
  const candidates = [
    base,
    ...CODE_EXTENSIONS.map((e) => base + e),
    ...CODE_EXTENSIONS.map((e) => `${base}/index${e}`),
    // TypeScript's convention: `./util.js` in source means `./util.ts`.
    ...(base.endsWith(".js") ? [base.replace(/\.js$/, ".ts")] : []),
    ...(base.endsWith(".mjs") ? [base.replace(/\.mjs$/, ".mts")] : []),
  ];
  return candidates.find((c) => Object.hasOwn(files, c));
}

/**
 * Builds an upload: strips TypeScript types, follows imports from the entrypoint through the uploaded files,
 * instruments every module with the loop guard and rewrites imports to loader module names.
 * Only modules reachable from the entrypoint are kept.
 */
export function buildBundle(source: SourceBundle, log: (message: string) => void): BuiltBundle {
  const files: Record<string, string> = {};
  const binary = new Set<string>();
  for (const [path, file] of Object.entries(source.files)) {
    const text = fileText(file);
    if (text === null) binary.add(normalizePath(path));
    files[normalizePath(path)] = text ?? "";
  }
  const entry = normalizePath(source.entrypoint);
  if (!Object.hasOwn(files, entry))
    throw new BuildError(`Entrypoint '${source.entrypoint}' is not among the uploaded files`);

  const moduleName = moduleNamer(files);
  const modules: BuiltBundle["modules"] = {};
  const pending = [entry];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const text = files[path] as string;
    const name = moduleName(path);
    if (binary.has(path)) throw new BuildError(`${path} is a binary file; it cannot be imported as a module`);

    if (path.endsWith(".json")) {
      try {
        modules[name] = { json: JSON.parse(text) };
      } catch (err) {
        throw new BuildError(`${path} is not valid JSON: ${(err as Error).message}`);
      }
      continue;
    }
    if (!CODE_EXTENSIONS.some((e) => path.endsWith(e))) {
      throw new BuildError(`${path}: only .ts, .mts, .js, .mjs and .json files can be imported`);
    }

    let js = text;
    if (isTs(path)) {
      try {
        js = transform(text, { transforms: ["typescript"], disableESTransforms: true, filePath: path }).code;
      } catch (err) {
        throw new BuildError(`${path}: ${(err as Error).message}`);
      }
    }

    let instrumented: ReturnType<typeof instrumentModule>;
    try {
      instrumented = instrumentModule(js, {
        guardSpecifier: relativeSpecifier(name, GUARD_MODULE),
        moduleName: name,
        resolve: (specifier) => {
          if (specifier === "node:module") return relativeSpecifier(name, NODE_MODULE_SHIM);
          if (BUILTIN.test(specifier)) return specifier;
          if (!specifier.startsWith("./") && !specifier.startsWith("../") && !specifier.startsWith("/")) {
            throw new BuildError(
              `${path} imports the package '${specifier.slice(0, 200)}', which edgefn does not install. ` +
                "Bundle your dependencies into the upload (for example with `esbuild --bundle --format=esm`) and upload the bundle.",
            );
          }
          let target: string | undefined;
          try {
            target = resolveFile(files, path, specifier);
          } catch {
            target = undefined;
          }
          if (!target) {
            throw new BuildError(`${path} imports '${specifier.slice(0, 200)}', which is not among the uploaded files`);
          }
          pending.push(target);
          return relativeSpecifier(name, moduleName(target));
        },
      });
    } catch (err) {
      if (err instanceof BuildError) throw err;
      const e = err as Error & { loc?: { line: number; column: number } };
      const loc = err instanceof ReservedIdentifierError ? err.loc : e.loc;
      const where = loc ? `:${loc.line}:${loc.column + 1}` : "";
      throw new BuildError(`${path}${where}: ${e.message.replace(/ \(\d+:\d+\)$/, "")}`);
    }
    modules[name] = instrumented.code;
  }
  const skipped = Object.keys(files).filter((f) => !seen.has(f));
  if (skipped.length > 0) log(`Not imported from the entrypoint, left out: ${skipped.slice(0, 20).join(", ")}`);
  log(`Built ${seen.size} module(s) from ${entry}`);
  return { entry: moduleName(entry), modules };
}
