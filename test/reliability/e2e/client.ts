/** A small HTTP client for the black-box reliability tests: the API as a user's script would drive it. */
import type { LocalPlatform } from "../../../scripts/lib/platform.mjs";

export interface Answer<T = any> {
  status: number;
  body: T;
}

export async function api<T = any>(
  p: LocalPlatform,
  method: string,
  path: string,
  body?: unknown,
  key = p.adminKey,
): Promise<Answer<T>> {
  const res = await fetch(`${p.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: json as T };
}

/** The answer's body, after checking its status. */
export async function ok<T = any>(answer: Promise<Answer<T>>, status = 200): Promise<T> {
  const a = await answer;
  if (a.status !== status) throw new Error(`expected ${status}, got ${a.status}: ${JSON.stringify(a.body)}`);
  return a.body;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done` holds for its value; throws after `timeoutMs`. */
export async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

/** Creates a function with one ready version of `code` (index.js); returns the function and version. */
export async function deployFunction(
  p: LocalPlatform,
  workspaceId: string,
  name: string,
  code: string,
  config: Record<string, unknown> = {},
) {
  const fn = await ok(api(p, "POST", "/api/functions", { workspaceId, name, ...config }), 201);
  const queued = await ok(api(p, "POST", `/api/functions/${fn.id}/versions`, { files: { "index.js": code } }), 201);
  const version = await until(
    () => ok(api(p, "GET", `/api/functions/${fn.id}/versions/${queued.id}`)),
    (v) => v.status !== "queued" && v.status !== "building",
  );
  if (version.status !== "ready") throw new Error(`${name}: build ${version.status}: ${JSON.stringify(version.error)}`);
  return { fn, version };
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}
