/**
 * Gcore FaaS as a thin adapter over the same services: namespaces are workspaces, functions are found by name
 * within one, `code_text` + `main_method` become an upload of two files (the user's module and a generated entry
 * that exports `handle` and a `fetch` handler calling `main_method`), and the answers take Gcore's shapes.
 */
import { and, count, desc, eq, isNull } from "drizzle-orm";
import { badRequest, notFound } from "../../../lib/errors";
import type { SourceBundle } from "../../../runtime/build";
import {
  type FunctionRow,
  functions,
  type VersionRow,
  versions,
  type WorkspaceRow,
  workspaces,
} from "../../../storage/schema";
import { type ServiceContext, seesWorkspace } from "../../context";
import {
  createFunction,
  deleteFunction,
  type FunctionInput,
  getFunction,
  purgeFunction,
  updateFunction,
} from "../../functions";
import { createVersion } from "../../versions";
import { createWorkspace, deleteWorkspace } from "../../workspaces";

/** The files a Gcore function's versions are made of. */
export const USER_FILE = "user.js";
export const ENTRY_FILE = "gcore-entry.js";
const DEPENDENCIES_FILE = "dependencies.txt";

/** Gcore's settings edgefn has no column for, kept in the function's metadata under these keys. */
const META = {
  runtime: "gcore.runtime",
  mainMethod: "gcore.main_method",
  flavor: "gcore.flavor",
  autoscaling: "gcore.autoscaling",
  keys: "gcore.keys",
} as const;

export interface GcoreFunctionInput {
  name?: string;
  description?: string;
  code_text?: string;
  main_method?: string;
  runtime?: string;
  envs?: Record<string, string> | null;
  timeout?: number;
  flavor?: string;
  autoscaling?: { min_instances?: number; max_instances?: number };
  enable_api_key?: boolean | null;
  keys?: string[];
  disabled?: boolean;
  dependencies?: string;
}

/** True when the code has no ESM export: it is then run as CommonJS (`module.exports` / `exports.x`). */
export function isCommonJs(code: string): boolean {
  return !/^\s*export\s/m.test(code);
}

/** The user's module: ESM as written, or CommonJS wrapped so that `module.exports` becomes its default export. */
export function userModule(code: string): string {
  if (!isCommonJs(code)) return code;
  return `const module = { exports: {} };\nconst exports = module.exports;\n${code}\n;export default module.exports;\n`;
}

/**
 * The generated entry: `handle(data, ctx)` calls `main_method` with the call's args, and `fetch` calls it with the
 * request's data (the query of a GET, else the body: JSON when it parses, else text) and answers its result
 * (a Response as is, a string as text, anything else as JSON). A `main_method` the code does not export fails the
 * build, whose message says so.
 */
export function entryModule(mainMethod: string, commonJs: boolean): string {
  const name = JSON.stringify(mainMethod);
  return `import * as user from "./${USER_FILE}";
const mod = ${commonJs ? "user.default ?? {}" : "user"};
const main = mod[${name}];
if (typeof main !== "function") {
  throw new Error("main_method " + ${JSON.stringify(JSON.stringify(mainMethod))} + " is not a function exported by code_text");
}

export async function handle(data, ctx) {
  return main(data, ctx);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    let data = null;
    if (request.method === "GET" || request.method === "HEAD") {
      data = Object.fromEntries(url.searchParams);
    } else {
      const text = await request.text();
      if (text) {
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
      }
    }
    const result = await main(data, { env, request });
    if (result instanceof Response) return result;
    if (typeof result === "string") return new Response(result, { headers: { "content-type": "text/plain; charset=utf-8" } });
    return Response.json(result === undefined ? null : result);
  },
};
`;
}

// ---------------------------------------------------------------------------------------------------------------
// Namespaces

/** The workspace named `name` if this key can see it; otherwise 404, as if it did not exist. */
export async function findNamespace(ctx: ServiceContext, name: string): Promise<WorkspaceRow> {
  const row = await ctx.db.select().from(workspaces).where(eq(workspaces.name, name)).get();
  if (!row || !seesWorkspace(ctx, row.id)) throw notFound("namespace", name);
  return row;
}

async function functionCount(ctx: ServiceContext, workspaceId: string): Promise<number> {
  const [row] = await ctx.db
    .select({ n: count() })
    .from(functions)
    .where(and(eq(functions.workspaceId, workspaceId), isNull(functions.deletedAt)));
  return row?.n ?? 0;
}

export async function namespaceView(ctx: ServiceContext, ws: WorkspaceRow) {
  return {
    name: ws.name,
    description: ws.description ?? "",
    envs: {},
    status: "active",
    created_at: iso(ws.createdAt),
    functions_count: await functionCount(ctx, ws.id),
  };
}

export async function listNamespaces(ctx: ServiceContext) {
  const scope = ctx.principal.workspaceId === null ? undefined : eq(workspaces.id, ctx.principal.workspaceId);
  const rows = await ctx.db.select().from(workspaces).where(scope).orderBy(workspaces.createdAt).limit(1000);
  const results = await Promise.all(rows.map((ws) => namespaceView(ctx, ws)));
  return { count: results.length, results };
}

export async function createNamespace(ctx: ServiceContext, input: { name: string; description?: string }) {
  return createWorkspace(ctx, { name: input.name, description: input.description || null });
}

export async function deleteNamespace(ctx: ServiceContext, name: string) {
  const ws = await findNamespace(ctx, name);
  await deleteWorkspace(ctx, ws.id);
}

// ---------------------------------------------------------------------------------------------------------------
// Functions

/** The live function named `name` in the namespace, if this key can see it; otherwise 404. */
export async function findFunction(ctx: ServiceContext, ws: WorkspaceRow, name: string): Promise<FunctionRow> {
  const row = await ctx.db
    .select({ id: functions.id })
    .from(functions)
    .where(and(eq(functions.workspaceId, ws.id), eq(functions.name, name), isNull(functions.deletedAt)))
    .get();
  if (!row) throw notFound("function", name);
  try {
    return await getFunction(ctx, row.id);
  } catch {
    throw notFound("function", name);
  }
}

function metadataOf(input: GcoreFunctionInput, current: Record<string, string> | null): Record<string, string> {
  const meta = { ...(current ?? {}) };
  if (input.runtime !== undefined) meta[META.runtime] = input.runtime;
  if (input.main_method !== undefined) meta[META.mainMethod] = input.main_method;
  if (input.flavor !== undefined) meta[META.flavor] = input.flavor;
  if (input.autoscaling !== undefined) meta[META.autoscaling] = JSON.stringify(input.autoscaling);
  if (input.keys !== undefined) meta[META.keys] = JSON.stringify(input.keys);
  return meta;
}

function functionInput(input: GcoreFunctionInput, current: FunctionRow | null): FunctionInput {
  const out: FunctionInput = { metadata: metadataOf(input, current?.metadata ?? null) };
  if (input.description !== undefined) out.description = input.description || null;
  if (input.envs !== undefined) out.envVars = input.envs && Object.keys(input.envs).length ? input.envs : null;
  // Gcore's timeout is in seconds; 0 means the platform's default.
  if (input.timeout !== undefined) out.timeoutMs = input.timeout > 0 ? input.timeout * 1000 : null;
  // enable_api_key false (or null): anyone may call the endpoint; true: an invoker key of the workspace is needed.
  if (input.enable_api_key !== undefined) out.public = input.enable_api_key !== true;
  return out;
}

async function uploadCode(ctx: ServiceContext, fn: FunctionRow, code: string, mainMethod: string, deps: string) {
  const files: Record<string, string> = {
    [USER_FILE]: userModule(code),
    [ENTRY_FILE]: entryModule(mainMethod, isCommonJs(code)),
  };
  if (deps) files[DEPENDENCIES_FILE] = deps;
  return createVersion(ctx, fn.id, { files, entrypoint: ENTRY_FILE });
}

/** The function's newest version (whatever its build status), or null. */
async function latestVersion(ctx: ServiceContext, functionId: string): Promise<VersionRow | null> {
  const row = await ctx.db
    .select()
    .from(versions)
    .where(eq(versions.functionId, functionId))
    .orderBy(desc(versions.number))
    .limit(1)
    .get();
  return row ?? null;
}

/** The code as the user sent it (the CommonJS wrapper taken off) and the dependencies, from a version's sources. */
async function sourcesOf(ctx: ServiceContext, version: VersionRow | null) {
  if (!version) return { code: "", deps: "" };
  const object = await ctx.env.CODE.get(version.sourceKey);
  if (!object) return { code: "", deps: "" };
  const bundle = await object.json<SourceBundle>();
  let code = bundle.files[USER_FILE] ?? "";
  const prefix = "const module = { exports: {} };\nconst exports = module.exports;\n";
  const suffix = "\n;export default module.exports;\n";
  if (code.startsWith(prefix) && code.endsWith(suffix)) code = code.slice(prefix.length, -suffix.length);
  return { code, deps: bundle.files[DEPENDENCIES_FILE] ?? "" };
}

export async function createGcoreFunction(
  ctx: ServiceContext,
  ws: WorkspaceRow,
  input: GcoreFunctionInput & { name: string; code_text: string; main_method: string; runtime: string },
): Promise<FunctionRow> {
  const fn = await createFunction(ctx, {
    workspaceId: ws.id,
    name: input.name,
    ...functionInput({ enable_api_key: false, ...input }, null),
  });
  await uploadCode(ctx, fn, input.code_text, input.main_method, input.dependencies ?? "");
  return fn;
}

export async function updateGcoreFunction(
  ctx: ServiceContext,
  ws: WorkspaceRow,
  name: string,
  input: GcoreFunctionInput,
): Promise<FunctionRow> {
  const current = await findFunction(ctx, ws, name);
  if (input.name !== undefined && input.name !== current.name) {
    throw badRequest("name: a function cannot be renamed; create a new one");
  }
  const updated = await updateFunction(ctx, current.id, functionInput(input, current));
  if (input.code_text !== undefined || input.main_method !== undefined || input.dependencies !== undefined) {
    const old = await sourcesOf(ctx, await latestVersion(ctx, current.id));
    const mainMethod = input.main_method ?? current.metadata?.[META.mainMethod] ?? "main";
    await uploadCode(ctx, updated, input.code_text ?? old.code, mainMethod, input.dependencies ?? old.deps);
  }
  return updated;
}

/** Gcore deletes for good: the function is soft-deleted, then purged. */
export async function deleteGcoreFunction(ctx: ServiceContext, ws: WorkspaceRow, name: string): Promise<void> {
  const fn = await findFunction(ctx, ws, name);
  await deleteFunction(ctx, fn.id);
  await purgeFunction(ctx, fn.id);
}

export async function listGcoreFunctions(ctx: ServiceContext, ws: WorkspaceRow) {
  const rows = await ctx.db
    .select({ id: functions.id })
    .from(functions)
    .where(and(eq(functions.workspaceId, ws.id), isNull(functions.deletedAt)))
    .orderBy(functions.createdAt)
    .limit(1000);
  const visible: FunctionRow[] = [];
  for (const { id } of rows) {
    try {
      visible.push(await getFunction(ctx, id));
    } catch {
      // outside the key's function scope: not listed
    }
  }
  return visible;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function parsed<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Build status of a version in Gcore's words. */
function buildOf(version: VersionRow | null): { build_status: string; build_message: string } {
  switch (version?.status) {
    case undefined:
      return { build_status: "Pending", build_message: "No code uploaded" };
    case "queued":
      return { build_status: "Building", build_message: "Queued" };
    case "building":
      return { build_status: "Building", build_message: "Building" };
    case "ready":
      return { build_status: "Success", build_message: "Build succeeded" };
    case "canceled":
      return { build_status: "Error", build_message: "Build canceled" };
    default:
      return { build_status: "Error", build_message: version?.error?.message ?? "Build failed" };
  }
}

/** The function in Gcore's shape. `origin` is this host's, for the endpoint. */
export async function functionView(ctx: ServiceContext, ws: WorkspaceRow, fn: FunctionRow, origin: string) {
  const version = await latestVersion(ctx, fn.id);
  const { code, deps } = await sourcesOf(ctx, version);
  const build = buildOf(version);
  const meta = fn.metadata ?? {};
  const deployed = fn.defaultVersionId !== null;
  const status = deployed ? "Running" : build.build_status === "Error" ? "Error" : "Deploying";
  return {
    id: fn.id,
    name: fn.name,
    description: fn.description ?? "",
    status,
    build_status: build.build_status,
    build_message: build.build_message,
    deploy_status: { deployed: deployed ? 1 : 0, total: 1 },
    code_text: code,
    main_method: meta[META.mainMethod] ?? "",
    runtime: meta[META.runtime] ?? "",
    dependencies: deps,
    envs: fn.envVars ?? {},
    timeout: fn.timeoutMs === null ? 0 : Math.round(fn.timeoutMs / 1000),
    flavor: meta[META.flavor] ?? "",
    autoscaling: parsed(meta[META.autoscaling], { min_instances: 1, max_instances: 1 }),
    enable_api_key: !fn.public,
    keys: parsed<string[]>(meta[META.keys], []),
    disabled: false,
    endpoint: `${origin}/run/${encodeURIComponent(ws.name)}/${encodeURIComponent(fn.name)}`,
    created_at: iso(fn.createdAt),
  };
}
