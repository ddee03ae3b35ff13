/** Gcore's shapes of edgefn's workspaces (namespaces) and functions: pure functions of the Gcore verbs' views. */
import { type GcoreFunctionView, META } from "../../../domain/compat/gcore/functions";
import type { NamespaceView } from "../../../domain/compat/gcore/namespaces";
import type { VersionRow, WorkspaceRow } from "../../../storage/schema";

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function parsed<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function namespaceModel(view: NamespaceView) {
  return {
    name: view.ws.name,
    description: view.ws.description ?? "",
    envs: {},
    status: "active",
    created_at: iso(view.ws.createdAt),
    functions_count: view.functionsCount,
  };
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
export function functionModel(ws: WorkspaceRow, view: GcoreFunctionView, origin: string) {
  const { fn, version, code, deps } = view;
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
