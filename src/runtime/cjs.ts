/**
 * CommonJS in an isolate, the way bundlers run it. Each CommonJS file becomes a loader `cjs` module (sloppy mode,
 * as Node runs it) whose `module.exports` is a factory of the file's code, instrumented with the loop guard like
 * every module; the guard and the checked `import()` are the factory's first parameters. One registry module of
 * the bundle runs a factory once, on its first require(), with a `require` that answers the specifiers the build
 * resolved for that file (other files of the upload, JSON and other files, ES modules as their namespace),
 * the runtime's built-ins, and throws `MODULE_NOT_FOUND` otherwise. An ES module importing a CommonJS file imports
 * its facade: `module.exports` as the default export (`exports.default` when the file says `__esModule`, as
 * bundlers do), and the names cjs-module-lexer finds statically as named exports.
 */
// The lexer's JavaScript build: its default (WebAssembly) build compiles from bytes at run time, which Workers
// refuse, and the package's `import` condition would pick it.
import { parse as lexCommonJs } from "../../node_modules/cjs-module-lexer/lexer.js";
import { GUARD_MODULE, NODE_MODULE_SHIM, PLATFORM_DIR, RESERVED_PREFIX } from "./guard";
import { relativeSpecifier } from "./paths";

/** The platform's CommonJS runtime (require, module records), added to every isolate by the loader. */
export const CJS_RUNTIME = `${PLATFORM_DIR}cjs.js`;
/** The bundle's registry of CommonJS factories and what each file's require() reaches. */
export const CJS_REGISTRY = `${PLATFORM_DIR}cjs-modules.js`;
/** Where the ES-module face of a CommonJS file (by its loader module name) lives. */
export const facadeOf = (moduleName: string) => `${PLATFORM_DIR}esm/${moduleName}`;

/** What the lexer makes of a file: ES module syntax, or the names a CommonJS file exports (null: it gave up). */
export type Lexed = "esm" | { exports: string[]; reexports: string[] } | null;

export function lex(js: string): Lexed {
  try {
    return lexCommonJs(js);
  } catch (err) {
    return /Unexpected (import|export)/.test((err as Error).message) ? "esm" : null;
  }
}

/**
 * Whether a JavaScript file is CommonJS: by its extension (.cjs, .mjs), else ES module syntax makes it an ES
 * module, else the nearest package.json's `type`, else whether it uses require, module or exports.
 */
export function isCommonJs(path: string, js: string, lexed: Lexed, packageType: string | undefined): boolean {
  if (/\.c[jt]s$/.test(path)) return true;
  if (/\.m[jt]s$/.test(path) || lexed === "esm" || packageType === "module") return false;
  if (packageType === "commonjs") return true;
  if (lexed && (lexed.exports.length > 0 || lexed.reexports.length > 0)) return true;
  return /\b(require\s*\(|module\.exports\b|exports\.|exports\[)/.test(js);
}

/** The parameters of a CommonJS factory: the platform's two, then Node's five. */
const PARAMS = `${RESERVED_PREFIX}_guard, ${RESERVED_PREFIX}_import, exports, require, module, __filename, __dirname`;

/** A CommonJS file's loader module, from its instrumented code (its line numbers stay as they were). */
export function commonJsModule(instrumented: string): { cjs: string } {
  return { cjs: `module.exports = function (${PARAMS}) {${instrumented}\n};\n` };
}

/** What a require() of a file reaches: a CommonJS file, an ES module's namespace, or another module's value. */
export type Requirable = { cjs: string } | { esm: string } | { value: string };

/** The registry module: every CommonJS factory of the bundle, and each file's resolved require()s. */
export function registrySource(files: Map<string, Record<string, Requirable>>): string {
  const imports: string[] = [
    `import { commonjs } from ${JSON.stringify(relativeSpecifier(CJS_REGISTRY, CJS_RUNTIME))};`,
  ];
  const bindings = new Map<string, string>();
  const bind = (name: string, how: "default" | "namespace") => {
    const key = `${how}:${name}`;
    let binding = bindings.get(key);
    if (!binding) {
      binding = `m${bindings.size}`;
      bindings.set(key, binding);
      const from = JSON.stringify(relativeSpecifier(CJS_REGISTRY, name));
      imports.push(how === "default" ? `import ${binding} from ${from};` : `import * as ${binding} from ${from};`);
    }
    return binding;
  };
  const entries: string[] = [];
  for (const [name, requires] of files) {
    const deps = Object.entries(requires).map(([specifier, target]) => {
      const value =
        "cjs" in target
          ? `{ c: ${JSON.stringify(target.cjs)} }`
          : "esm" in target
            ? `{ n: ${bind(target.esm, "namespace")}, p: ${JSON.stringify(target.esm)} }`
            : `{ v: ${bind(target.value, "namespace")}, p: ${JSON.stringify(target.value)} }`;
      return `${JSON.stringify(specifier)}: ${value}`;
    });
    entries.push(`  ${JSON.stringify(name)}: [${bind(name, "default")}, { ${deps.join(", ")} }],`);
  }
  // Function declarations and a var: a facade in an import cycle may call in before this module has run.
  return `${imports.join("\n")}
var load;
export function loadCommonJs(name) {
  load ??= commonjs({
${entries.join("\n")}
  });
  return load(name);
}
`;
}

/** Export names must be well-formed Unicode (no lone surrogates). */
function wellFormed(name: string): boolean {
  try {
    encodeURIComponent(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The ES-module face of a CommonJS file: its `module.exports` as the default export (`.default` when it says
 * `__esModule`), and `names` as named exports (the entry's face always names `handle`).
 */
export function facadeSource(moduleName: string, names: string[]): string {
  const facade = facadeOf(moduleName);
  const named = [...new Set(names)]
    .filter((n) => n !== "default" && n.length <= 200 && wellFormed(n))
    .slice(0, 2000)
    .map(
      (n, i) =>
        `const e${i} = m == null ? undefined : m[${JSON.stringify(n)}];\nexport { e${i} as ${JSON.stringify(n)} };`,
    );
  return `import { loadCommonJs } from ${JSON.stringify(relativeSpecifier(facade, CJS_REGISTRY))};
const m = loadCommonJs(${JSON.stringify(moduleName)});
export default m != null && (typeof m === "object" || typeof m === "function") && m.__esModule ? m.default : m;
${named.join("\n")}
`;
}

/** The platform's CommonJS runtime: module records, require(), the built-ins. */
export function cjsRuntimeSource(): string {
  const here = (module: string) => JSON.stringify(`./${module.slice(PLATFORM_DIR.length)}`);
  return `import { createRequire, isBuiltin } from "node:module";
import { guard, importChecked } from ${here(GUARD_MODULE)};
import nodeModuleShim from ${here(NODE_MODULE_SHIM)};

const builtin = createRequire("/");
const apply = Reflect.apply;
const hasOwn = Object.hasOwn;
const StringOf = String;
const ErrorBase = Error;
const create = Object.create;

function notFound(specifier, from) {
  const err = new ErrorBase("Cannot find module '" + specifier.slice(0, 200) + "' from '" + from + "' (not resolved when the version was built)");
  err.code = "MODULE_NOT_FOUND";
  return err;
}

/**
 * A registry: module name -> [factory, {specifier: {c: name} | {n: namespace, p: name} | {v: namespace of a
 * value, p: name}}].
 */
export function commonjs(table) {
  const records = new Map();

  function requireFrom(name, deps) {
    const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
    function require(specifier) {
      const text = StringOf(specifier);
      if (hasOwn(deps, text)) {
        const dep = deps[text];
        if (hasOwn(dep, "c")) return load(dep.c);
        if (hasOwn(dep, "n")) return dep.n;
        return dep.v.default;
      }
      if (text === "module" || text === "node:module") return nodeModuleShim;
      if (text.startsWith("node:") || isBuiltin(text)) return builtin(text);
      throw notFound(text, name);
    }
    require.resolve = (specifier) => {
      const text = StringOf(specifier);
      if (hasOwn(deps, text)) return "/" + (hasOwn(deps[text], "c") ? deps[text].c : deps[text].p);
      if (text.startsWith("node:") || isBuiltin(text)) return text;
      throw notFound(text, name);
    };
    require.cache = create(null);
    require.main = undefined;
    return { require, dir };
  }

  function load(name) {
    const known = records.get(name);
    // A module being loaded (a require cycle) gives what it has exported so far, as in Node.
    if (known) return known.exports;
    if (!hasOwn(table, name)) throw notFound(name, "the bundle");
    const [factory, deps] = table[name];
    const { require, dir } = requireFrom(name, deps);
    const module = { id: "/" + name, filename: "/" + name, path: "/" + dir, exports: {}, loaded: false, children: [], paths: [], require };
    records.set(name, module);
    try {
      apply(factory, module.exports, [guard, importChecked, module.exports, require, module, "/" + name, "/" + dir]);
    } catch (err) {
      records.delete(name);
      throw err;
    }
    module.loaded = true;
    return module.exports;
  }
  return load;
}
`;
}
