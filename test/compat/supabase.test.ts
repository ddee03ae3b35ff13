/**
 * The Supabase Edge Functions surface: ANY /functions/v1/{name}[/...] invokes the function named {name} in the key's
 * workspace, as @supabase/functions-js calls it: fetch handlers get the request as /run forwards it, handle(data)
 * functions get the body as args and answer their result as JSON.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, api, expectError, expectStatus, newFunction, newKey, tenant } from "../support/api";
import { deploy } from "../support/deploy";

type Tenant = Awaited<ReturnType<typeof tenant>>;

const HANDLE = {
  "index.js": `export async function handle(data) {
    if (data && data.fail) throw new TypeError("asked to fail");
    return { got: data };
  }`,
};
const FETCH = {
  "index.js": `export default {
    async fetch(request) {
      const url = new URL(request.url);
      return Response.json({
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        type: request.headers.get("content-type"),
        authorization: request.headers.get("authorization"),
        workspace: request.headers.get("x-edgefn-workspace"),
        body: request.method === "GET" ? null : await request.text(),
      });
    },
  };`,
};

async function sb(
  method: string,
  path: string,
  options: { key?: string | null; body?: string; headers?: Record<string, string> } = {},
) {
  const headers = new Headers(options.headers);
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  const res = await exports.default.fetch(`http://edgefn.test/functions/v1${path}`, {
    method,
    headers,
    body: options.body,
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // text
  }
  return { status: res.status, body, headers: res.headers };
}

let t: Tenant;
let handleFn: { id: string; name: string };
let fetchFn: { id: string; name: string };
beforeAll(async () => {
  t = await tenant();
  handleFn = await newFunction(t.ws.id, { name: "greet" });
  fetchFn = await newFunction(t.ws.id, { name: "echo" });
  await Promise.all([deploy(handleFn.id, HANDLE), deploy(fetchFn.id, FETCH)]);
});

describe("supabase: handle(data) functions", () => {
  it("invokes with a JSON body as args and answers the result as JSON", async () => {
    const res = await sb("POST", "/greet", {
      key: t.keys.invoker,
      body: JSON.stringify({ name: "sb" }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual({ got: { name: "sb" } });
    expect(res.headers.get("edgefn-call-id")).toMatch(/^call_/);
  });

  it("passes a text body as a string and no body as null", async () => {
    const text = await sb("POST", "/greet", {
      key: t.keys.invoker,
      body: "plain words",
      headers: { "content-type": "text/plain" },
    });
    expect(text.body).toEqual({ got: "plain words" });
    const none = await sb("GET", "/greet", { key: t.keys.invoker });
    expect(none.body).toEqual({ got: null });
  });

  it("answers a throw with 500 and the error in the one error shape", async () => {
    const res = await sb("POST", "/greet", {
      key: t.keys.invoker,
      body: JSON.stringify({ fail: true }),
      headers: { "content-type": "application/json" },
    });
    const error = expectError(res, 500, "function_failed");
    expect(error.message).toMatch(/TypeError: asked to fail/);
  });

  it("answers 400 to a JSON body that does not parse", async () => {
    expectError(
      await sb("POST", "/greet", { key: t.keys.invoker, body: "{", headers: { "content-type": "application/json" } }),
      400,
      "bad_request",
    );
  });
});

describe("supabase: fetch functions", () => {
  it("forwards method, sub-path, query, headers and body, without the platform's key", async () => {
    const res = await sb("PUT", "/echo/a/b?x=1&forceFunctionRegion=us-east-1", {
      key: t.keys.invoker,
      body: "hello",
      headers: { "content-type": "text/plain" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      method: "PUT",
      path: "/a/b",
      query: { x: "1" },
      type: "text/plain",
      authorization: null,
      workspace: null,
      body: "hello",
    });
  });

  it("records the call with trigger http", async () => {
    await sb("POST", "/echo", { key: t.keys.invoker, body: "{}" });
    for (let i = 0; i < 200; i++) {
      const page = expectStatus(await api("GET", `/api/functions/${fetchFn.id}/calls?trigger=http`), 200);
      if (page.data.length > 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("no http call recorded");
  });
});

describe("supabase: keys and workspaces", () => {
  it("401 without a key or with a bad one", async () => {
    expectError(await sb("POST", "/greet", { key: null }), 401, "unauthorized");
    expectError(await sb("POST", "/greet", { key: "efn_bad" }), 401, "unauthorized");
  });

  it("404 for an unknown function, and for another workspace's function", async () => {
    expectError(await sb("POST", "/nope", { key: t.keys.invoker }), 404, "not_found");
    const other = await tenant();
    expectError(await sb("POST", "/greet", { key: other.keys.invoker }), 404, "not_found");
  });

  it("403 for a viewer key", async () => {
    expectError(await sb("POST", "/greet", { key: t.keys.viewer, body: "x" }), 403, "forbidden");
  });

  it("a key of every workspace names the workspace with x-edgefn-workspace, else 400", async () => {
    expectError(await sb("POST", "/greet"), 400, "bad_request");
    const res = await sb("POST", "/greet", {
      body: JSON.stringify(1),
      headers: { "content-type": "application/json", "x-edgefn-workspace": t.ws.name },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ got: 1 });
    const byId = await sb("GET", "/greet", { headers: { "x-edgefn-workspace": t.ws.id } });
    expect(byId.body).toEqual({ got: null });
    expectError(await sb("GET", "/greet", { headers: { "x-edgefn-workspace": "no-such-ws" } }), 404, "not_found");
    const global = await newKey("invoker", null);
    expect((await sb("GET", "/greet", { key: global.key, headers: { "x-edgefn-workspace": t.ws.name } })).status).toBe(
      200,
    );
  });
});
