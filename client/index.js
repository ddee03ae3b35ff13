/**
 * A small typed client for the edgefn API, on openapi-fetch with the types generated from /api/openapi.json
 * (client/openapi.d.ts). `import { createClient } from "edgefn/client"`.
 */
import createFetchClient from "openapi-fetch";

/** @typedef {import("openapi-fetch").Client<import("./openapi.js").paths> & { url: string }} EdgefnClient */

/** An error answer of the API ({"error": {"code", "message", "requestId"}}), or a transport failure. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {{ status?: number, code?: string, requestId?: string | null }} [info]
   */
  constructor(message, { status = 0, code = "network_error", requestId = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/**
 * The client: `client.GET("/api/functions/{id}", { params: { path: { id } } })` and so on, plus `client.url`.
 * @param {{ url: string, key?: string, fetch?: typeof globalThis.fetch, headers?: Record<string, string> }} options
 */
export function createClient({ url, key, fetch, headers }) {
  const baseUrl = url.replace(/\/+$/, "");
  /** @type {import("openapi-fetch").Client<import("./openapi.js").paths>} */
  const client = createFetchClient({
    baseUrl,
    fetch,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
  });
  /** @type {EdgefnClient} */
  const withUrl = Object.assign(client, { url: baseUrl });
  return withUrl;
}

/**
 * The data of an openapi-fetch answer, or an ApiError carrying the API's code, message and request id.
 * @template {{ data?: unknown, error?: unknown, response: Response }} R
 * @param {Promise<R>} request
 * @returns {Promise<Exclude<R["data"], undefined>>}
 */
export async function unwrap(request) {
  let answer;
  try {
    answer = await request;
  } catch (err) {
    const cause = /** @type {{ cause?: { code?: string, message?: string } }} */ (err)?.cause;
    const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
    throw new ApiError(`cannot reach the edgefn API (${why})`);
  }
  const { data, error, response } = answer;
  if (response.ok) return /** @type {Exclude<R["data"], undefined>} */ (data);
  const body = /** @type {{ error?: { code?: string, message?: string, requestId?: string } } | undefined} */ (
    error && typeof error === "object" ? error : undefined
  );
  const status = response.status;
  throw new ApiError(body?.error?.message ?? `${response.statusText || "error"} (HTTP ${status})`, {
    status,
    code: body?.error?.code ?? `http_${status}`,
    requestId: body?.error?.requestId ?? response.headers.get("x-request-id"),
  });
}

const isId = (/** @type {string} */ value, /** @type {string} */ prefix) =>
  value.startsWith(prefix) && /^[A-Za-z0-9_-]+$/.test(value);

/**
 * A workspace by id or name.
 * @param {EdgefnClient} client
 * @param {string} nameOrId
 */
export async function resolveWorkspace(client, nameOrId) {
  if (isId(nameOrId, "ws_")) {
    return unwrap(client.GET("/api/workspaces/{id}", { params: { path: { id: nameOrId } } }));
  }
  const page = await unwrap(
    client.GET("/api/workspaces", { params: { query: { filter: JSON.stringify({ name: { eq: nameOrId } }) } } }),
  );
  const found = page.data[0];
  if (!found) throw new ApiError(`workspace ${nameOrId} not found`, { status: 404, code: "not_found" });
  return found;
}

/**
 * A function by id or name (a name is looked up in `workspaceId` when given). `deleted`: "include" also finds
 * soft-deleted functions, "only" finds only them (for restore and purge).
 * @param {EdgefnClient} client
 * @param {string} nameOrId
 * @param {{ workspaceId?: string, deleted?: "exclude" | "include" | "only" }} [options]
 */
export async function resolveFunction(client, nameOrId, { workspaceId, deleted = "exclude" } = {}) {
  if (isId(nameOrId, "fun_")) {
    return unwrap(client.GET("/api/functions/{id}", { params: { path: { id: nameOrId } } }));
  }
  /** @type {Record<string, string>} */
  const include = { exclude: "false", include: "true", only: "only" };
  const page = await unwrap(
    client.GET("/api/functions", {
      params: {
        query: {
          filter: JSON.stringify({ name: { eq: nameOrId } }),
          orderBy: JSON.stringify([{ createdAt: "desc" }]),
          include_deleted: /** @type {"false" | "true" | "only"} */ (include[deleted]),
          ...(workspaceId ? { workspace_id: workspaceId } : {}),
        },
      },
    }),
  );
  const matches = page.data;
  if (matches.length === 0) {
    const where = workspaceId ? ` in workspace ${workspaceId}` : "";
    throw new ApiError(`function ${nameOrId} not found${where}`, { status: 404, code: "not_found" });
  }
  const live = matches.filter((f) => !f.deletedAt);
  const workspaces = new Set(matches.map((f) => f.workspaceId));
  if (workspaces.size > 1) {
    throw new ApiError(
      `${matches.length} functions are named ${nameOrId} (in ${[...workspaces].join(", ")}); name a workspace or use the function id`,
      { status: 409, code: "ambiguous" },
    );
  }
  return live[0] ?? matches[0];
}

/**
 * Polls a version until its build is over (ready, failed or canceled); `onStatus` sees every status change.
 * @param {EdgefnClient} client
 * @param {string} functionId
 * @param {string} versionId
 * @param {{ onStatus?: (status: string) => void, intervalMs?: number, timeoutMs?: number }} [options]
 */
export async function waitForBuild(
  client,
  functionId,
  versionId,
  { onStatus, intervalMs = 250, timeoutMs = 120_000 } = {},
) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const version = await unwrap(
      client.GET("/api/functions/{id}/versions/{vid}", { params: { path: { id: functionId, vid: versionId } } }),
    );
    if (version.status !== last) {
      last = version.status;
      onStatus?.(last);
    }
    if (!["queued", "building"].includes(version.status)) return version;
    if (Date.now() > deadline) {
      throw new ApiError(`version ${versionId} is still ${version.status} after ${timeoutMs / 1000} s`, {
        code: "timeout",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
