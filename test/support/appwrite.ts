import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { deploymentForm, tgz } from "./http";

/** An answer of the Appwrite surface, its body parsed. */
export interface AwResponse {
  status: number;
  body: any;
  headers: Headers;
}

export interface AwOptions {
  /** X-Appwrite-Project; null: none. */
  project?: string | null;
  /** X-Appwrite-Key; null: none (an anonymous request). */
  key?: string | null;
  headers?: Record<string, string>;
}

/** An Appwrite client bound to a project and a key, as the SDKs send requests (`/v1` + path). */
export function appwriteClient(defaults: { project: string; key: string }) {
  return async function aw(method: string, path: string, body?: unknown, opts: AwOptions = {}): Promise<AwResponse> {
    const headers = new Headers(opts.headers);
    const project = opts.project === undefined ? defaults.project : opts.project;
    const key = opts.key === undefined ? defaults.key : opts.key;
    if (project !== null) headers.set("x-appwrite-project", project);
    if (key !== null) headers.set("x-appwrite-key", key);
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers.set("content-type", "application/json");
    }
    const res = await exports.default.fetch(`http://edgefn.test/v1${path}`, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export type Aw = ReturnType<typeof appwriteClient>;

/** `?queries[0]=...&queries[1]=...` of JSON queries. */
export const queries = (...qs: unknown[]) =>
  `?${qs.map((x, i) => `queries[${i}]=${encodeURIComponent(typeof x === "string" ? x : JSON.stringify(x))}`).join("&")}`;

/** Polls `read` until `done` holds (or fails after ~15 s). */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what = "condition"): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} never held`);
}

/** Creates an Appwrite function and deploys `files` to it (activated); returns the function's model once ready. */
export async function appwriteFunction(
  aw: Aw,
  files: Record<string, string>,
  settings: Record<string, unknown> = {},
  entrypoint = "index.js",
) {
  const functionId = `f${crypto.randomUUID().slice(0, 8)}`;
  const created = await aw("POST", "/functions", { functionId, name: functionId, runtime: "node-22", ...settings });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const dep = await aw(
    "POST",
    `/functions/${functionId}/deployments`,
    deploymentForm(tgz(files), { activate: "true", entrypoint }),
  );
  expect(dep.status, JSON.stringify(dep.body)).toBe(202);
  const built = await until(
    () => aw("GET", `/functions/${functionId}/deployments/${dep.body.$id}`),
    (d) => !["waiting", "processing", "building"].includes(d.body.status),
    "the build",
  );
  expect(built.body.status, built.body.buildLogs).toBe("ready");
  await until(
    () => aw("GET", `/functions/${functionId}`),
    (f) => f.body.deploymentId === dep.body.$id,
    "the activation",
  );
  return { ...created.body, deploymentId: dep.body.$id as string };
}
