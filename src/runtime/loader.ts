import { exports } from "cloudflare:workers";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { decryptAll } from "../lib/secrets";
import type { FunctionRow, VersionRow } from "../storage/schema";
import { type Exports, withAppwriteAdapter } from "./adapters/appwrite";
import type { BuiltBundle, BuiltModule } from "./bundle";
import { CJS_RUNTIME, cjsRuntimeSource, facadeOf } from "./cjs";
import { ISOLATE_COMPAT } from "./compat";
import { type CallClient, ENTRY_MODULE, entryModuleSource, type InvokeOutcome, nodeModuleShimSource } from "./entry";
import { GUARD_MODULE, guardModuleSource, NODE_MODULE_SHIM, PLATFORM_DIR } from "./guard";
import { isPythonBundle, type PythonBundle } from "./python/bundle";
import { PYTHON_RUNTIME_SOURCES } from "./python/entry";
import { pythonIsolateCode } from "./python/load";

export type RuntimeFunction = Pick<
  FunctionRow,
  "id" | "workspaceId" | "configRevision" | "envVars" | "secrets" | "allowedHosts" | "cpuMs"
>;
export type RuntimeVersion = Pick<VersionRow, "id" | "bundleKey"> & Partial<Pick<VersionRow, "handlers">>;

/**
 * What a compatibility surface adds to a function's isolate: env vars of its own (under the function's own, which
 * win) and whether the function may reach the platform's API from inside (see egress.ts). It must follow from the
 * function and version alone: the loader may build the isolate again at any time, and must get the same.
 */
export interface IsolateExtras {
  env?: Record<string, string>;
  platform?: boolean;
}

export interface IsolateEntrypoint {
  invoke(args: unknown, info: { call: Record<string, unknown>; client?: CallClient }): Promise<InvokeOutcome>;
  describe(): Promise<Exports & { error?: InvokeOutcome["error"] }>;
  takeLogs(callId: string): Promise<Pick<InvokeOutcome, "logs" | "logsTruncated">>;
  /**
   * An HTTP call. A JavaScript isolate's answer carries the call's logs (CALL_LOGS_HEADER) when its body was
   * complete as the handler returned it; otherwise (and always for Python) they are taken with takeLogs at its end.
   */
  fetch(request: Request): Promise<Response>;
  /** Creates the isolate (Python: boots it) without running the function's code. */
  warm(): Promise<boolean>;
}

export function stretchMs(env: Env): number {
  const n = Number(env.EDGEFN_STRETCH_MS);
  return Number.isFinite(n) && n > 0 ? n : LIMITS.stretchMs;
}

/**
 * The modules an isolate runs: the built user modules plus the platform's (the guard, the generated entry module
 * and the node:module stand-in), which no uploaded file can replace (the build refuses their folder).
 */
export function isolateModules(env: Env, bundle: BuiltBundle, secretNames: string[]) {
  const userModules = Object.keys(bundle.modules).filter((name) => !name.startsWith(PLATFORM_DIR));
  const facades = Object.fromEntries(
    userModules.filter((name) => Object.hasOwn(bundle.modules, facadeOf(name))).map((name) => [name, facadeOf(name)]),
  );
  return {
    ...loaderModules(bundle.modules),
    // What user code may import by a computed name: its own modules, not an adapter the build added.
    [GUARD_MODULE]: guardModuleSource(stretchMs(env), userModules, facades),
    [NODE_MODULE_SHIM]: nodeModuleShimSource(),
    [CJS_RUNTIME]: cjsRuntimeSource(),
    [ENTRY_MODULE]: entryModuleSource({
      userModule: bundle.entry,
      assets: bundle.assets ?? {},
      secretNames,
      maxResultBytes: LIMITS.resultBytes,
      maxLogBytes: LIMITS.logBytes,
      maxLogLines: LIMITS.logLines,
      logLineOverhead: LIMITS.logLineOverhead,
    }),
  };
}

/** The stored modules as the loader takes them: bytes kept as base64 become ArrayBuffers. */
function loaderModules(modules: Record<string, BuiltModule>): Record<string, string | WorkerLoaderModule> {
  const out: Record<string, string | WorkerLoaderModule> = {};
  for (const [name, module] of Object.entries(modules)) {
    if (typeof module === "object" && "data" in module) out[name] = { data: bufferOf(module.data.base64) };
    else if (typeof module === "object" && "wasm" in module) out[name] = { wasm: bufferOf(module.wasm.base64) };
    else out[name] = module;
  }
  return out;
}

const bufferOf = (base64: string) => Uint8Array.fromBase64(base64).buffer as ArrayBuffer;

async function readStored(env: Env, key: string): Promise<BuiltBundle | PythonBundle> {
  const object = await env.CODE.get(key);
  if (!object) throw new Error(`Bundle ${key} is missing from R2`);
  return object.json<BuiltBundle | PythonBundle>();
}

/** A JavaScript version's built bundle. */
export async function readBundle(env: Env, key: string): Promise<BuiltBundle> {
  const stored = await readStored(env, key);
  if (isPythonBundle(stored)) throw new Error(`Bundle ${key} is a Python bundle`);
  return stored;
}

/**
 * The function's isolate for this version and config. The loader id changes whenever code or config
 * changes, so a warm isolate is reused until then; the code callback (one R2 read, secret decryption) runs
 * only when the loader has no isolate for the id.
 */
export function functionIsolate(
  env: Env,
  fn: RuntimeFunction,
  version: RuntimeVersion,
  extras: IsolateExtras = {},
): IsolateEntrypoint {
  // What a surface adds follows from the function's name and metadata, which do not bump configRevision.
  const added = extras.env || extras.platform ? `:${digest(JSON.stringify(extras))}` : "";
  const base = `${version.id}:${fn.configRevision}${added}:${runtimeRevision()}`;
  const id = loaderIdOf(base);
  const worker = env.LOADER.get(id, () => isolateCode(env, fn, version, extras).catch(retire(base)));
  return worker.getEntrypoint() as unknown as IsolateEntrypoint;
}

/**
 * Loader ids whose isolate could not be made (a bundle missing from R2, a secret that would not decrypt), with how
 * many times: the loader keeps such a failure for its id, so the next call asks for the isolate under a new id and
 * a passing failure (or one fixed since) does not stay with the version for the life of this host isolate.
 */
const retired = new Map<string, number>();

function loaderIdOf(base: string): string {
  const times = retired.get(base);
  return times === undefined ? base : `${base}~${times}`;
}

function retire(base: string) {
  return (err: unknown): never => {
    if (retired.size >= 10_000) retired.clear();
    retired.set(base, (retired.get(base) ?? 0) + 1);
    throw err;
  };
}

/** What the loader runs for a function's isolate: its modules, env (secrets decrypted), egress and limits. */
async function isolateCode(
  env: Env,
  fn: RuntimeFunction,
  version: RuntimeVersion,
  extras: IsolateExtras,
): Promise<WorkerLoaderWorkerCode> {
  const stored = await readStored(env, version.bundleKey as string);
  const secrets = await decryptAll(env, fn.id, fn.secrets);
  // Egress: the function's allowed hosts, and the platform's own API for a surface that gives it (Appwrite).
  const globalOutbound =
    fn.allowedHosts?.length || extras.platform
      ? exports.EgressGateway({
          props: { functionId: fn.id, allowedHosts: fn.allowedHosts ?? [], platform: extras.platform === true },
        })
      : null;
  const vars = { ...(extras.env ?? {}), ...(fn.envVars ?? {}), ...secrets };
  const cpuMs = fn.cpuMs ?? LIMITS.cpuMs.default;
  if (isPythonBundle(stored)) {
    return pythonIsolateCode(env, { functionId: fn.id, versionId: version.id }, stored, {
      env: vars,
      secretNames: Object.keys(secrets),
      stretchMs: stretchMs(env),
      cpuMs,
      globalOutbound,
    });
  }
  // A bundle built before the build added adapters gets the Appwrite adapter a build gives it now.
  const bundle = version.handlers && !version.handlers.includes("handle") ? withAppwriteAdapter(stored) : stored;
  return {
    ...ISOLATE_COMPAT,
    mainModule: ENTRY_MODULE,
    modules: isolateModules(env, bundle, Object.keys(secrets)),
    env: vars,
    globalOutbound,
    limits: { cpuMs },
  };
}

let revision: string | undefined;

/**
 * The platform's own code in every isolate (the entry modules, the guard, the Python glue), as a digest: part of
 * each loader id, so that a Worker deployed with other such code never gets an isolate the previous one made.
 */
function runtimeRevision(): string {
  revision ??= digest(
    [
      entryModuleSource({
        userModule: "",
        assets: {},
        secretNames: [],
        maxResultBytes: 0,
        maxLogBytes: 0,
        maxLogLines: 0,
        logLineOverhead: 0,
      }),
      guardModuleSource(0, []),
      cjsRuntimeSource(),
      nodeModuleShimSource(),
      PYTHON_RUNTIME_SOURCES,
    ].join("\n"),
  );
  return revision;
}

/** A short digest of a string (FNV-1a, 32 bits): tells configs apart in a loader id, no secret in it. */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}
