import type { Client } from "openapi-fetch";
import type { components, paths } from "./openapi.js";

export type { components, paths } from "./openapi.js";
export type Schemas = components["schemas"];
export type EdgefnClient = Client<paths> & { url: string };

/** An error answer of the API ({"error": {"code", "message", "requestId"}}), or a transport failure. */
export declare class ApiError extends Error {
  constructor(message: string, info?: { status?: number; code?: string; requestId?: string | null });
  /** The HTTP status; 0 when the API could not be reached. */
  status: number;
  /** The API's error code (`not_found`, `bad_request`, ...), or `network_error`, `ambiguous`, `timeout`. */
  code: string;
  requestId: string | null;
}

/** A client for the API at `url`, authenticated with `key`. */
export declare function createClient(options: {
  url: string;
  key?: string;
  fetch?: typeof globalThis.fetch;
  headers?: Record<string, string>;
}): EdgefnClient;

/** The data of an openapi-fetch answer, or throws an ApiError with the API's code, message and request id. */
export declare function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(
  request: Promise<R>,
): Promise<Exclude<R["data"], undefined>>;

/** A workspace by id or name. */
export declare function resolveWorkspace(client: EdgefnClient, nameOrId: string): Promise<Schemas["Workspace"]>;

/** A function by id or name; `deleted: "only"` finds soft-deleted ones (for restore and purge). */
export declare function resolveFunction(
  client: EdgefnClient,
  nameOrId: string,
  options?: { workspaceId?: string; deleted?: "exclude" | "include" | "only" },
): Promise<Schemas["Function"]>;

/** Polls a version until its build is over (ready, failed or canceled). */
export declare function waitForBuild(
  client: EdgefnClient,
  functionId: string,
  versionId: string,
  options?: { onStatus?: (status: string) => void; intervalMs?: number; timeoutMs?: number },
): Promise<Schemas["Version"]>;
