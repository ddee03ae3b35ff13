import { transform } from "sucrase";
import { fileSize, fileText, isBinary, type UploadFile } from "../lib/files";
import {
  CJS_REGISTRY,
  commonJsModule,
  facadeOf,
  facadeSource,
  isCommonJs,
  type Lexed,
  lex,
  type Requirable,
  registrySource,
} from "./cjs";
import { BuildError } from "./errors";
import { GUARD_MODULE, NODE_MODULE_SHIM, PLATFORM_DIR } from "./guard";
import { instrumentModule, ReservedIdentifierError } from "./instrument";
import { normalizePath, relativeSpecifier } from "./paths";
import { type ImportKind, Resolver } from "./resolve";

export { BuildError } from "./errors";
export { NODE_MODULE_SHIM } from "./guard";
export { normalizePath } from "./paths";

/**
 * What a user uploads: files by path (a string is UTF-8 text, `{ base64 }` a binary file), and which one is the
 * entry. Kept in R2 as JSON; sources stored before binary files existed hold only strings.
 */
export interface SourceBundle {
  files: Record<string, UploadFile>;
  entrypoint: string;
}

/**
 * One module of a built bundle, as stored (JSON in R2): an ES module's source (a string, or `{ js }` when its name
 * does not end in .js), a CommonJS module (`{ cjs }`), a JSON value, a text, or bytes kept as base64 that the
 * loader passes as an ArrayBuffer (`data`) or a WebAssembly module (`wasm`).
 */
export type BuiltModule =
  | string
  | { js: string }
  | { cjs: string }
  | { json: unknown }
  | { text: string }
  | { data: { base64: string } }
  | { wasm: { base64: string } };

/** Built code, ready for the Worker Loader. */
export interface BuiltBundle {
  entry: string;
  modules: Record<string, BuiltModule>;
  /** The upload's files `ctx.asset(path)` reads: path -> the name of a `data` module. */
  assets?: Record<string, string>;
}

const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const isTs = (p: string) => /\.[mc]?ts$/.test(p);
/** Text files an import gives as a string (when they are UTF-8); other files are bytes (an ArrayBuffer). */
const TEXT =
  /\.(txt|text|md|markdown|html?|css|csv|tsv|svg|xml|ya?ml|toml|ini|sql|graphql|gql|mustache|hbs|handlebars|ejs|liquid)$/i;

type Kind = "code" | "json" | "wasm" | "text" | "data";
const kindOf = (path: string, file: UploadFile): Kind =>
  CODE.test(path)
    ? "code"
    : path.endsWith(".json")
      ? "json"
      : path.endsWith(".wasm")
        ? "wasm"
        : TEXT.test(path) && !isBinary(file)
          ? "text"
          : "data";

/**
 * Names source files as loader modules: `a.ts`, `a.mts` and `a.mjs` become `a.js` unless a file earlier in that
 * order (or `a.js` itself) already claims it; then they keep their name plus `.js`. Other files keep their path.
 */
function moduleNamer(files: Map<string, UploadFile>) {
  const order = [".js", ".ts", ".mts", ".mjs"];
  return (p: string): string => {
    const ext = order.find((e) => p.endsWith(e));
    if (!ext || ext === ".js") return p;
    const base = p.slice(0, -ext.length);
    const claimed = order.slice(0, order.indexOf(ext)).some((e) => files.has(base + e));
    return claimed ? `${p}.js` : `${base}.js`;
  };
}

/** A code file read for the build: its JavaScript, and whether it is CommonJS. */
interface Prepared {
  js: string;
  lexed: Lexed;
  commonJs: boolean;
}

/**
 * Builds an upload: strips TypeScript types, follows imports and require()s from the entrypoint through the
 * uploaded files (node_modules by Node's rules, see ./resolve), runs CommonJS files as CommonJS (see ./cjs),
 * instruments every module with the loop guard, and gives other files as JSON, text, bytes or WebAssembly
 * modules. Only what the entrypoint reaches is kept, plus the upload's own non-code files for `ctx.asset`.
 */
export function buildBundle(source: SourceBundle, log: (message: string) => void): BuiltBundle {
  const files = new Map<string, UploadFile>();
  for (const [path, file] of Object.entries(source.files)) files.set(normalizePath(path), file);
  const entry = normalizePath(source.entrypoint);
  if (!files.has(entry)) throw new BuildError(`Entrypoint '${source.entrypoint}' is not among the uploaded files`);

  const textOf = (path: string) => {
    const file = files.get(path);
    return file === undefined ? null : fileText(file);
  };
  const resolver = new Resolver(new Set(files.keys()), textOf);
  const moduleName = moduleNamer(files);

  const prepared = new Map<string, Prepared>();
  const prepare = (path: string): Prepared => {
    const known = prepared.get(path);
    if (known) return known;
    const text = textOf(path);
    if (text === null) throw new BuildError(`${path} is not UTF-8 text, so it cannot be a module`);
    let js = text;
    if (isTs(path)) {
      try {
        js = transform(text, { transforms: ["typescript"], disableESTransforms: true, filePath: path }).code;
      } catch (err) {
        throw new BuildError(`${path}: ${(err as Error).message}`);
      }
    }
    const lexed = lex(js);
    const result = { js, lexed, commonJs: isCommonJs(path, js, lexed, resolver.packageType(path)) };
    prepared.set(path, result);
    return result;
  };
  const isCjs = (path: string) => kindOf(path, files.get(path) as UploadFile) === "code" && prepare(path).commonJs;

  const modules: BuiltBundle["modules"] = {};
  const registry = new Map<string, Record<string, Requirable>>();
  const facades = new Set<string>();
  const pending = [entry];
  const seen = new Set<string>();
  const warnings: string[] = [];

  /** Resolves an import or require() of `path`; throws a BuildError naming the file and line when it cannot. */
  const resolve = (path: string, specifier: string, line: number, kind: ImportKind) => {
    let found: ReturnType<Resolver["resolve"]>;
    try {
      found = resolver.resolve(path, specifier, kind);
    } catch (err) {
      if (err instanceof BuildError) throw new BuildError(`${path}:${line}: ${err.message}`);
      throw err;
    }
    if (found.kind === "missing") {
      const what = specifier.slice(0, 200);
      const bare = !/^(\.|\/|#)/.test(specifier);
      return {
        ...found,
        message: bare
          ? `${path}:${line}: cannot resolve '${what}' (${found.why})`
          : `${path}:${line}: imports '${what}', which is ${found.why}`,
      };
    }
    if (found.kind === "file") pending.push(found.path);
    return found;
  };

  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const file = files.get(path) as UploadFile;
    const name = moduleName(path);
    const kind = kindOf(path, file);
    if (kind !== "code") {
      modules[name] = otherModule(path, file, kind);
      continue;
    }

    const { js, commonJs } = prepare(path);
    const requires: Record<string, Requirable> = {};
    let instrumented: ReturnType<typeof instrumentModule>;
    try {
      instrumented = instrumentModule(js, {
        guardSpecifier: relativeSpecifier(name, GUARD_MODULE),
        moduleName: name,
        sourceType: commonJs ? "script" : "module",
        resolve: (specifier, line) => {
          if (specifier === "node:module" || (commonJs && specifier === "module")) {
            return relativeSpecifier(name, NODE_MODULE_SHIM);
          }
          const found = resolve(path, specifier, line, "import");
          if (found.kind === "missing") throw new BuildError(found.message);
          if (found.kind === "builtin") return found.specifier;
          if (!isCjs(found.path)) return relativeSpecifier(name, moduleName(found.path));
          facades.add(found.path);
          return relativeSpecifier(name, facadeOf(moduleName(found.path)));
        },
        require: (specifier, line, inTry) => {
          const found = resolve(path, specifier, line, "require");
          if (found.kind === "missing") {
            // Node fails a require() only when it runs: optional dependencies are required in a try, and
            // packages require what only some platforms have. The upload's own code fails the build.
            if (inTry || path.startsWith("node_modules/") || path.includes("/node_modules/")) {
              warnings.push(`${found.message}; require('${specifier.slice(0, 200)}') throws if it runs`);
              return;
            }
            throw new BuildError(found.message);
          }
          if (found.kind === "builtin") return;
          const target = moduleName(found.path);
          requires[specifier] = isCjs(found.path)
            ? { cjs: target }
            : kindOf(found.path, files.get(found.path) as UploadFile) === "code"
              ? { esm: target }
              : { value: target };
        },
      });
    } catch (err) {
      if (err instanceof BuildError) throw err;
      const e = err as Error & { loc?: { line: number; column: number } };
      const loc = err instanceof ReservedIdentifierError ? err.loc : e.loc;
      const where = loc ? `:${loc.line}:${loc.column + 1}` : "";
      throw new BuildError(`${path}${where}: ${e.message.replace(/ \(\d+:\d+\)$/, "")}`);
    }
    if (commonJs) {
      modules[name] = commonJsModule(instrumented.code);
      registry.set(name, requires);
    } else {
      modules[name] = name.endsWith(".js") ? instrumented.code : { js: instrumented.code };
    }
  }

  // The entry, when CommonJS, is seen through its facade, which always names `handle`.
  const entryIsCjs = isCjs(entry);
  if (entryIsCjs) facades.add(entry);
  for (const path of facades) {
    const names = namedExports(path, resolver, prepare, isCjs);
    if (path === entry) names.push("handle");
    modules[facadeOf(moduleName(path))] = { js: facadeSource(moduleName(path), names) };
  }
  if (registry.size > 0) modules[CJS_REGISTRY] = registrySource(registry);

  const assets = assetsOf(files, modules, moduleName);
  for (const warning of warnings.slice(0, 20)) log(warning);
  if (warnings.length > 20) log(`... and ${warnings.length - 20} more unresolved require()s`);
  const skipped = [...files.keys()].filter((f) => !seen.has(f) && CODE.test(f));
  const skippedOwn = skipped.filter((f) => !/(^|\/)node_modules\//.test(f));
  if (skippedOwn.length > 0) {
    log(`Not imported from the entrypoint, left out: ${skippedOwn.slice(0, 20).join(", ")}`);
  }
  if (skipped.length > skippedOwn.length) {
    log(`Left out ${skipped.length - skippedOwn.length} file(s) of node_modules that nothing imports or requires`);
  }
  const cjsCount = registry.size;
  log(
    `Built ${seen.size} module(s) from ${entry}` +
      (cjsCount > 0 ? ` (${cjsCount} CommonJS)` : "") +
      (Object.keys(assets.files).length > 0
        ? `; ${Object.keys(assets.files).length} file(s) for ctx.asset, ${assets.bytes} bytes`
        : ""),
  );
  return {
    entry: entryIsCjs ? facadeOf(moduleName(entry)) : moduleName(entry),
    modules,
    ...(Object.keys(assets.files).length > 0 ? { assets: assets.files } : {}),
  };
}

/** The module a file that is not code becomes when imported or required. */
function otherModule(path: string, file: UploadFile, kind: Exclude<Kind, "code">): BuiltModule {
  const bytes = () => ({ base64: isBinary(file) ? file.base64 : new TextEncoder().encode(file).toBase64() });
  if (kind === "json") {
    const text = fileText(file);
    try {
      return { json: JSON.parse(text ?? "") };
    } catch (err) {
      throw new BuildError(`${path} is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (kind === "text") return { text: fileText(file) as string };
  if (kind === "wasm") return { wasm: bytes() };
  return { data: bytes() };
}

/**
 * The upload's own files that are not code (outside node_modules), readable by `ctx.asset(path)`: each a `data`
 * module, the imported one itself when the file is imported as bytes.
 */
function assetsOf(files: Map<string, UploadFile>, modules: BuiltBundle["modules"], moduleName: (p: string) => string) {
  const out: Record<string, string> = {};
  let bytes = 0;
  let n = 0;
  for (const [path, file] of files) {
    if (CODE.test(path) || /(^|\/)node_modules\//.test(path)) continue;
    const imported = modules[moduleName(path)];
    if (imported !== undefined && typeof imported === "object" && "data" in imported) out[path] = moduleName(path);
    else {
      const name = `${PLATFORM_DIR}assets/${n++}`;
      modules[name] = otherModule(path, file, "data");
      out[path] = name;
    }
    bytes += fileSize(file);
  }
  return { files: out, bytes };
}

/**
 * The names a CommonJS file exports that can be found without running it (cjs-module-lexer), following
 * `module.exports = require("./other")` re-exports through other CommonJS files.
 */
function namedExports(
  path: string,
  resolver: Resolver,
  prepare: (p: string) => Prepared,
  isCjs: (p: string) => boolean,
  seen = new Set<string>(),
): string[] {
  if (seen.has(path)) return [];
  seen.add(path);
  const { lexed } = prepare(path);
  if (!lexed || lexed === "esm") return [];
  const names = [...lexed.exports];
  for (const specifier of lexed.reexports) {
    const found = resolver.resolve(path, specifier, "require");
    if (found.kind === "file" && isCjs(found.path))
      names.push(...namedExports(found.path, resolver, prepare, isCjs, seen));
  }
  return names;
}
