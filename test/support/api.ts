import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

/** The admin key the test runtime is configured with (vitest.config.ts). */
export const ADMIN_KEY = env.EDGEFN_ADMIN_KEY as string;

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  /** A raw body sent as is (for malformed-input tests). */
  raw?: string;
}

/** One request to the platform's fetch handler, as a client would send it. */
export async function api<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers = new Headers(options.headers);
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  let payload: string | undefined = options.raw;
  if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const res = await exports.default.fetch(`http://edgefn.test${path}`, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** Asserts the one error shape and returns the error. */
export function expectError(res: ApiResponse, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String), requestId: expect.any(String) } });
  expect(Object.keys(res.body)).toEqual(["error"]);
  return res.body.error as { code: string; message: string; requestId: string };
}

export function expectStatus<T>(res: ApiResponse<T>, status: number): T {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

export const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

export interface Workspace {
  id: string;
  name: string;
}

export async function newWorkspace(name = unique("ws")): Promise<Workspace> {
  return expectStatus(await api("POST", "/api/workspaces", { body: { name } }), 201);
}

export async function newKey(
  role: "viewer" | "invoker" | "developer" | "admin",
  workspaceId: string | null,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; key: string }> {
  return expectStatus(
    await api("POST", "/api/keys", { body: { name: unique(role), role, workspaceId, ...extra } }),
    201,
  );
}

export async function newFunction(workspaceId: string, extra: Record<string, unknown> = {}, key = ADMIN_KEY) {
  return expectStatus(
    await api("POST", "/api/functions", { key, body: { workspaceId, name: unique("fn"), ...extra } }),
    201,
  );
}

/** A workspace with a key of each role scoped to it. */
export async function tenant() {
  const ws = await newWorkspace();
  const [viewer, invoker, developer, admin] = await Promise.all(
    (["viewer", "invoker", "developer", "admin"] as const).map((r) => newKey(r, ws.id)),
  );
  return {
    ws,
    keys: { viewer: viewer!.key, invoker: invoker!.key, developer: developer!.key, admin: admin!.key },
  };
}
