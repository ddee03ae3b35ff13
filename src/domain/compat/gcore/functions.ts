/**
 * Gcore functions: edgefn functions found by name within a namespace; their code is uploaded as the files of
 * ./wrapper, and Gcore's settings without an edgefn column live in the function's metadata.
 */
import { and, desc, eq, isNull } from "drizzle-orm";
import { badRequest, notFound } from "../../../lib/errors";
import type { SourceBundle } from "../../../runtime/bundle";
import { type FunctionRow, functions, type VersionRow, versions, type WorkspaceRow } from "../../../storage/schema";
import type { ServiceContext } from "../../context";
import {
  createFunction,
  deleteFunction,
  type FunctionInput,
  getFunction,
  purgeFunction,
  updateFunction,
} from "../../functions";
import { createVersion } from "../../versions";
import { codeOf, DEPENDENCIES_FILE, ENTRY_FILE, gcoreFiles, USER_FILE } from "./wrapper";

/** Gcore's settings edgefn has no column for, kept in the function's metadata under these keys. */
export const META = {
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

/** A function with what its Gcore shape needs: its newest version, and the code and dependencies it was made of. */
export interface GcoreFunctionView {
  fn: FunctionRow;
  version: VersionRow | null;
  code: string;
  deps: string;
}

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

const uploadCode = (ctx: ServiceContext, fn: FunctionRow, code: string, mainMethod: string, deps: string) =>
  createVersion(ctx, fn.id, { files: gcoreFiles(code, mainMethod, deps), entrypoint: ENTRY_FILE });

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

/** The code as the user sent it and the dependencies, from a version's sources. */
async function sourcesOf(ctx: ServiceContext, version: VersionRow | null) {
  if (!version) return { code: "", deps: "" };
  const object = await ctx.env.CODE.get(version.sourceKey);
  if (!object) return { code: "", deps: "" };
  const bundle = await object.json<SourceBundle>();
  const text = (name: string) => {
    const file = bundle.files[name];
    return typeof file === "string" ? file : "";
  };
  return { code: codeOf(text(USER_FILE)), deps: text(DEPENDENCIES_FILE) };
}

export async function gcoreFunctionView(ctx: ServiceContext, fn: FunctionRow): Promise<GcoreFunctionView> {
  const version = await latestVersion(ctx, fn.id);
  return { fn, version, ...(await sourcesOf(ctx, version)) };
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

/** The namespace's live functions this key sees (at most 1000), oldest first. */
export async function listGcoreFunctions(ctx: ServiceContext, ws: WorkspaceRow): Promise<FunctionRow[]> {
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
