/**
 * The loop guard and the module resolver of every isolate, as the source of a platform module. Built code calls
 * `guard()` at the top of every loop body and function body. A "stretch" is the time since the isolate last gave
 * the event loop a turn (a macrotask); a stretch longer than the limit throws, and keeps throwing until the event
 * loop turns, so a runaway call ends even if it catches the error. Locally workerd enforces no CPU limit, so
 * without this one `while (true) {}` would freeze every request of the process; on Cloudflare the isolate's cpuMs
 * limit does the same job.
 *
 * The controls that start a stretch (`enter`) and read its state are handed out once, to the entry module, which
 * takes them before any user module has been evaluated (user modules are imported lazily, by the first call).
 * What user code can import from here is harmless: `guard`, `resolveImport`, `moduleShim` (a guarded require over
 * whatever it is given) and the error class.
 */
export const GUARD_MODULE = "__edgefn/guard.js";

/** The folder of the platform's own modules; no uploaded file may live there and no import may reach it. */
export const PLATFORM_DIR = "__edgefn/";

/** The platform's stand-in for `node:module`, whose require() reaches only the upload's own modules. */
export const NODE_MODULE_SHIM = `${PLATFORM_DIR}node-module.js`;

/** The prefix of identifiers the build reserves for the platform (user code may not declare or use them). */
export const RESERVED_PREFIX = "__edgefn";

/**
 * `userModules`: what user code may import by a computed name (its own modules, by loader name); `facades`: the
 * module to import instead of a CommonJS one (its ES-module face).
 */
export function guardModuleSource(
  stretchMs: number,
  userModules: string[],
  facades: Record<string, string> = {},
): string {
  return `const now = Date.now;
const schedule = setTimeout;
const ErrorBase = Error;
const hasOwn = Object.hasOwn;
const LIMIT = ${Math.max(1, Math.floor(stretchMs))};
// The clock may not move while a module is being evaluated, and does not move during synchronous execution on
// Cloudflare, so a stretch also ends after this many guard calls: far more than any honest code makes between
// two turns of the event loop.
const MAX_CALLS = 50_000_000;
let start = 0;
let calls = 0;
let armed = false;
let tripped = false;
let taken = false;

export class StretchLimitError extends ErrorBase {
  constructor() {
    super("Synchronous execution ran longer than " + LIMIT + " ms (or " + MAX_CALLS + " loop and call steps) without yielding: a runaway loop or recursion?");
    this.name = "StretchLimitError";
  }
}

function reset() {
  armed = false;
  tripped = false;
}

export function guard() {
  if (tripped) throw new StretchLimitError();
  const t = now();
  if (!armed) {
    armed = true;
    start = t;
    calls = 0;
    try { schedule(reset, 0); } catch {}
    return;
  }
  if (t - start > LIMIT || ++calls > MAX_CALLS) {
    tripped = true;
    throw new StretchLimitError();
  }
}

/**
 * The entry module's controls: \`enter\` starts a fresh stretch for a new event (a call or request; timers die with
 * the request that set them, so the reset timer of an earlier call may never fire), \`wasTripped\` tells whether
 * the current stretch was cut short (reported even if user code swallowed the error). Given out once.
 */
export function takeControls() {
  if (taken) throw new ErrorBase("The guard's controls are taken");
  taken = true;
  return { enter: reset, wasTripped: () => tripped };
}

// The modules user code may import by a computed specifier: its own, by their loader names.
const USER_MODULES = new Set(${JSON.stringify(userModules)});
const FACADES = new Map(Object.entries(JSON.parse(${JSON.stringify(JSON.stringify(facades))})));
const BUILTIN = /^(node:|cloudflare:)/;

function resolvePath(specifier, from) {
  const base = specifier.startsWith("/") ? [] : from.split("/").slice(0, -1);
  for (const seg of specifier.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") { if (base.length === 0) return null; base.pop(); }
    else base.push(seg);
  }
  return base.join("/");
}

/**
 * Checks a specifier that is only known at run time (\`import(x)\`, a required path) against the user's own
 * modules; returns the module's loader name, or throws. Platform modules and files outside the upload are
 * unreachable, whatever the spelling.
 */
export function resolveImport(specifier, from) {
  const text = String(specifier);
  if (BUILTIN.test(text)) {
    if (text === "node:module") return "${PLATFORM_DIR}node-module.js";
    return text;
  }
  if (text.startsWith("./") || text.startsWith("../") || text.startsWith("/")) {
    const name = resolvePath(text, String(from));
    if (name !== null && USER_MODULES.has(name)) return FACADES.get(name) ?? name;
  }
  throw new ErrorBase("Cannot import '" + text.slice(0, 200) + "': not a module of this upload");
}

/** A relative specifier from module \`from\` to module \`to\` (both loader names). */
export function relativeTo(from, to) {
  const a = String(from).split("/").slice(0, -1);
  return (a.length === 0 ? "./" : "../".repeat(a.length)) + to;
}

/** What \`import(x)\` with a computed x is rewritten to: the checked module, imported relative to its importer. */
export function importChecked(specifier, from) {
  const name = resolveImport(specifier, from);
  if (BUILTIN.test(name)) return name;
  return relativeTo(from, name);
}

/**
 * node:module as user code sees it, made from the real one: require() reaches the upload's own modules and
 * builtins only. Made only where user code asks for node:module (the shim module an import of it is rewritten to,
 * and the entry's process.getBuiltinModule, once each), so that an isolate that never does loads no node:module.
 */
export function moduleShim(real) {
  const realCreateRequire = real.createRequire;
  const realIsBuiltin = real.isBuiltin;
  const baseName = (from) => {
    let text = typeof from === "string" ? from : from && typeof from.href === "string" ? from.href : "";
    text = text.replace(/^file:\\/\\//, "").replace(/^\\/+/, "");
    return text === "" ? "index.js" : text;
  };
  function createRequire(from) {
    const base = baseName(from);
    const inner = realCreateRequire("/" + base);
    const require = (specifier) => {
      const text = String(specifier);
      // node:module by either name is this guarded one: the real one's createRequire would reach any module.
      if (text === "module" || text === "node:module") return shim;
      if (!BUILTIN.test(text) && realIsBuiltin(text)) return inner(text);
      const name = resolveImport(text, base);
      return BUILTIN.test(name) ? inner(name) : inner(relativeTo(base, name));
    };
    require.resolve = (specifier) => resolveImport(specifier, base);
    return require;
  }
  const shim = { builtinModules: real.builtinModules, isBuiltin: realIsBuiltin, createRequire };
  return shim;
}

export const __hasOwn = hasOwn;
`;
}
