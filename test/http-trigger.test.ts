/**
 * Functions as web endpoints: ANY /run/{workspace}/{function}/* forwards the request to the function's fetch
 * handler and streams its answer back; every request is a call with trigger http.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, api, expectError, expectStatus, newFunction, tenant, unique } from "./support/api";
import { deploy } from "./support/deploy";

type Tenant = Awaited<ReturnType<typeof tenant>>;

const ECHO = {
  "index.js": `
    export default {
      async fetch(request, env) {
        const url = new URL(request.url);
        if (url.pathname === "/throw") throw new RangeError("no such page");
        if (url.pathname === "/slow") await new Promise((r) => setTimeout(r, 5000));
        console.log("serving", request.method, url.pathname);
        const body = request.method === "GET" ? null : await request.text();
        return new Response(JSON.stringify({
          method: request.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          hello: request.headers.get("x-hello"),
          authorization: request.headers.get("authorization"),
          versionHeader: request.headers.get("edgefn-version"),
          body,
          v: env.V ?? null,
        }), { status: url.pathname === "/created" ? 201 : 200, headers: { "content-type": "application/json", "x-served-by": "echo" } });
      },
    };`,
};

/** A raw request to the platform, as an HTTP client would send it. */
async function run(path: string, init: RequestInit & { key?: string | null } = {}) {
  const headers = new Headers(init.headers);
  const key = init.key === undefined ? ADMIN_KEY : init.key;
  if (key) headers.set("authorization", `Bearer ${key}`);
  return exports.default.fetch(`http://edgefn.test${path}`, { ...init, headers });
}

async function waitForHttpCall(functionId: string, n = 1) {
  for (let i = 0; i < 200; i++) {
    const page = expectStatus(await api("GET", `/api/functions/${functionId}/calls?trigger=http`), 200);
    if (page.data.length >= n && page.data.every((c: { status: string }) => c.status !== "running")) return page.data;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("no http call recorded");
}

let t: Tenant;
let fn: { id: string; name: string };
beforeAll(async () => {
  t = await tenant();
  fn = await newFunction(t.ws.id, { name: unique("echo"), envVars: { V: "one" } });
  await deploy(fn.id, ECHO);
});

describe("/run: forwarding", () => {
  it("passes method, path, query, headers and body, and answers with the function's status, headers and body", async () => {
    const res = await run(`/run/${t.ws.name}/${fn.name}/created?x=1&y=two`, {
      method: "POST",
      headers: { "x-hello": "world", "content-type": "text/plain" },
      body: "a body",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-served-by")).toBe("echo");
    expect(await res.json()).toEqual({
      method: "POST",
      path: "/created",
      query: { x: "1", y: "two" },
      hello: "world",
      authorization: null,
      versionHeader: null,
      body: "a body",
      v: "one",
    });
  });

  it("finds the function by ids as well as names, and serves its root", async () => {
    for (const path of [`/run/${t.ws.id}/${fn.id}`, `/run/${t.ws.id}/${fn.name}/`]) {
      const res = await run(path);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { path: string }).path).toBe("/");
    }
  });

  it("runs a pinned version, by ?version= or the edgefn-version header, without passing either on", async () => {
    const f = await newFunction(t.ws.id, { name: unique("pinned") });
    const v1 = await deploy(f.id, ECHO);
    await deploy(f.id, { "index.js": "export default { fetch() { return new Response('v2'); } };" });
    expect(await (await run(`/run/${t.ws.name}/${f.name}/x`)).text()).toBe("v2");
    const byQuery = await (await run(`/run/${t.ws.name}/${f.name}/x?version=${v1.id}&keep=1`)).json();
    expect(byQuery).toMatchObject({ path: "/x", query: { keep: "1" } });
    const byHeader = await (
      await run(`/run/${t.ws.name}/${f.name}/x`, { headers: { "edgefn-version": v1.id } })
    ).json();
    expect(byHeader).toMatchObject({ path: "/x", versionHeader: null });
    const other = await newFunction(t.ws.id);
    const foreign = await deploy(other.id, ECHO);
    expectError(await api("GET", `/run/${t.ws.name}/${f.name}/x?version=${foreign.id}`), 404, "not_found");
  });

  it("records each request as a call with trigger http, its method, path, status, duration and logs", async () => {
    const f = await newFunction(t.ws.id, { name: unique("logged") });
    await deploy(f.id, ECHO);
    expect((await run(`/run/${t.ws.name}/${f.name}/created?q=1`, { method: "PUT", body: "x" })).status).toBe(201);
    const [call] = await waitForHttpCall(f.id);
    expect(call).toMatchObject({
      trigger: "http",
      status: "completed",
      http: { method: "PUT", path: "/created", status: 201 },
    });
    expect(call.durationMs).toBeGreaterThanOrEqual(0);
    const logs = expectStatus(await api("GET", `/api/calls/${call.id}/logs`), 200);
    expect(logs.items.map((l: { message: string }) => l.message)).toEqual(["serving PUT /created"]);
    expect(expectStatus(await api("GET", `/api/functions/${f.id}`), 200).lastCalledAt).not.toBeNull();
  });

  it("streams an answer the function is still writing, with the logs it wrote while it streamed", async () => {
    const f = await newFunction(t.ws.id, { name: unique("streams") });
    await deploy(f.id, {
      "index.js": `
        export default {
          fetch() {
            let n = 0;
            const body = new ReadableStream({
              async pull(controller) {
                await new Promise((r) => setTimeout(r, 30));
                console.log("chunk", n);
                controller.enqueue(new TextEncoder().encode("data: " + n + "\\n\\n"));
                if (++n === 4) controller.close();
              },
            });
            return new Response(body, { headers: { "content-type": "text/event-stream" } });
          },
        };`,
    });
    const res = await run(`/run/${t.ws.name}/${f.name}/events`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    // The first event arrives before the function wrote the last one.
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^data: 0/);
    let text = first;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n");
    const [call] = await waitForHttpCall(f.id);
    const logs = expectStatus(await api("GET", `/api/calls/${call.id}/logs`), 200);
    expect(logs.items.map((l: { message: string }) => l.message)).toEqual(["chunk 0", "chunk 1", "chunk 2", "chunk 3"]);
  });

  it("answers a large binary body byte for byte, with the function's headers and status", async () => {
    const f = await newFunction(t.ws.id, { name: unique("large") });
    await deploy(f.id, {
      "index.js": `
        export default {
          fetch(request) {
            const size = Number(new URL(request.url).searchParams.get("size"));
            // The pattern repeats every 256 bytes: written once, then doubled (a loop per byte would meet the loop guard).
            const bytes = new Uint8Array(size);
            for (let i = 0; i < Math.min(size, 256); i++) bytes[i] = (i * 7) & 255;
            for (let n = 256; n < size; n *= 2) bytes.copyWithin(n, 0, Math.min(n, size - n));
            console.log("size", size);
            return new Response(bytes, { status: 203, headers: { "content-type": "application/octet-stream", "x-size": String(size) } });
          },
        };`,
    });
    for (const size of [0, 1, 64 * 1024, 3 * 1024 * 1024 + 5]) {
      const res = await run(`/run/${t.ws.name}/${f.name}/?size=${size}`);
      expect(res.status, `size ${size}`).toBe(203);
      expect(res.headers.get("x-size"), `size ${size}`).toBe(String(size));
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(bytes.length, `size ${size}`).toBe(size);
      let first = -1;
      for (let i = 0; i < size && first < 0; i++) if (bytes[i] !== ((i * 7) & 255)) first = i;
      expect(first, `size ${size}: first byte that differs`).toBe(-1);
    }
    const calls = await waitForHttpCall(f.id, 4);
    for (const call of calls) {
      const logs = expectStatus(await api("GET", `/api/calls/${call.id}/logs`), 200);
      expect(
        logs.items.map((l: { message: string }) => l.message),
        JSON.stringify(call),
      ).toEqual([expect.stringMatching(/^size \d+$/)]);
    }
  });

  it("passes the query as sent, less a ?version= the platform reads", async () => {
    const f = await newFunction(t.ws.id, { name: unique("query") });
    const version = await deploy(f.id, {
      "index.js": "export default { fetch: (request) => new Response(new URL(request.url).search) };",
    });
    const raw = "?q=a%20b&sep=%2F&plus=a+b&flag&x=1;y=2";
    expect(await (await run(`/run/${t.ws.name}/${f.name}/${raw}`)).text()).toBe(raw);
    const pinned = await run(`/run/${t.ws.name}/${f.name}/?q=1&version=${version.id}`);
    expect(await pinned.text()).toBe("?q=1");
  });

  it("passes request bodies byte for byte: small ones whole, larger or undeclared ones streamed", async () => {
    const f = await newFunction(t.ws.id, { name: unique("digest") });
    await deploy(f.id, {
      "index.js": `
        export default {
          async fetch(request) {
            const bytes = new Uint8Array(await request.arrayBuffer());
            const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
            return Response.json({
              size: bytes.length,
              sha: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
              method: request.method,
              type: request.headers.get("content-type"),
              redirect: request.redirect,
            });
          },
        };`,
    });
    const hex = async (bytes: Uint8Array) =>
      Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) =>
        b.toString(16).padStart(2, "0"),
      ).join("");
    for (const size of [0, 1, 64 * 1024, 64 * 1024 + 1, 1024 * 1024]) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 255;
      const res = await run(`/run/${t.ws.name}/${f.name}/`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: bytes,
      });
      expect(await res.json(), `size ${size}`).toEqual({
        size,
        sha: await hex(bytes),
        method: "PUT",
        type: "application/octet-stream",
        redirect: "manual",
      });
    }
    // A body of no declared length (chunked) streams through as well.
    const parts = [new TextEncoder().encode("first "), new TextEncoder().encode("second")];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    });
    const res = await run(`/run/${t.ws.name}/${f.name}/`, { method: "POST", body: stream });
    const out = await res.json<{ size: number; sha: string }>();
    expect(out.size).toBe(12);
    expect(out.sha).toBe(await hex(new TextEncoder().encode("first second")));
  });

  it("answers with the function's real Response, whatever its code makes Response.prototype report", async () => {
    const f = await newFunction(t.ws.id, { name: unique("forged") });
    await deploy(f.id, {
      "index.js": `
        export default {
          fetch() {
            Object.defineProperty(Response.prototype, "status", { get() { return 1000; }, configurable: true });
            return new Response("forged");
          },
        };`,
    });
    // The answer crosses to the platform as the runtime made it: a getter the function redefines reports nothing.
    const res = await run(`/run/${t.ws.name}/${f.name}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("forged");
    const [call] = await waitForHttpCall(f.id);
    expect(call).toMatchObject({ status: "completed", http: { status: 200 } });
  });

  it("answers 502 in the error shape when the handler throws, 504 past the timeout, and records both", async () => {
    const f = await newFunction(t.ws.id, { name: unique("broken"), timeoutMs: 300 });
    await deploy(f.id, ECHO);
    const thrown = expectError(await api("GET", `/run/${t.ws.name}/${f.name}/throw`), 502, "function_failed");
    expect(thrown.message).toMatch(/RangeError: no such page/);
    const slow = expectError(await api("GET", `/run/${t.ws.name}/${f.name}/slow`), 502, "function_failed");
    expect(slow.message).toMatch(/did not answer within 300 ms/);
    const calls = await waitForHttpCall(f.id, 2);
    expect(calls.map((c: { status: string; http: unknown }) => [c.status, c.http])).toEqual(
      expect.arrayContaining([
        ["failed", { method: "GET", path: "/throw", status: 502 }],
        ["timeout", { method: "GET", path: "/slow", status: 504 }],
      ]),
    );
  });

  it("answers 404 for an unknown or deleted function and 409 before a version is ready", async () => {
    expectError(await api("GET", `/run/${t.ws.name}/no-such-function/`), 404, "not_found");
    const empty = await newFunction(t.ws.id, { name: unique("empty") });
    expectError(await api("GET", `/run/${t.ws.name}/${empty.name}/`), 409, "conflict");
    expectStatus(await api("DELETE", `/api/functions/${empty.id}`), 200);
    expectError(await api("GET", `/run/${t.ws.name}/${empty.name}/`), 404, "not_found");
  });
});

describe("/run: who may call", () => {
  it("needs an invoker key of the workspace, unless the function is public", async () => {
    const other = await tenant();
    const path = `/run/${t.ws.name}/${fn.name}/`;
    expectError(await api("GET", path, { key: null }), 401, "unauthorized");
    expectError(await api("GET", path, { key: "efn_nope" }), 401, "unauthorized");
    expectError(await api("GET", path, { key: t.keys.viewer }), 403, "forbidden");
    expectError(await api("GET", path, { key: other.keys.admin }), 404, "not_found");
    expect((await run(path, { key: t.keys.invoker })).status).toBe(200);

    const open = await newFunction(t.ws.id, { name: unique("open"), public: true });
    expect(open.public).toBe(true);
    await deploy(open.id, ECHO);
    const anonymous = await run(`/run/${t.ws.name}/${open.name}/hi`, {
      key: null,
      headers: { authorization: "Bearer the-caller-s-own-token" },
    });
    expect(anonymous.status).toBe(200);
    // A public function's own Authorization scheme reaches it untouched.
    expect(((await anonymous.json()) as { authorization: string }).authorization).toBe("Bearer the-caller-s-own-token");
    expectStatus(await api("PATCH", `/api/functions/${open.id}`, { body: { public: false } }), 200);
    await new Promise((r) => setTimeout(r, 2_100)); // the invoke metadata cache
    expectError(await api("GET", `/run/${t.ws.name}/${open.name}/hi`, { key: null }), 401, "unauthorized");
  });
});

describe("/run: rate limits and CORS", () => {
  it("answers 429 with Retry-After past the function's requests per minute", async () => {
    const f = await newFunction(t.ws.id, { name: unique("limited"), rateLimitPerMinute: 3 });
    expect(f.rateLimitPerMinute).toBe(3);
    await deploy(f.id, ECHO);
    // Stay inside one clock minute: the limit counts per minute.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    for (let i = 0; i < 3; i++) expect((await run(`/run/${t.ws.name}/${f.name}/`)).status).toBe(200);
    const limited = await run(`/run/${t.ws.name}/${f.name}/`);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await limited.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "rate_limited", message: expect.stringMatching(/More than 3 requests/) });
    // Other functions are not limited by it.
    expect((await run(`/run/${t.ws.name}/${fn.name}/`)).status).toBe(200);
    expectError(await api("PATCH", `/api/functions/${f.id}`, { body: { rateLimitPerMinute: 0 } }), 400, "bad_request");
  });

  it("answers preflights and tags answers for the function's CORS origins only", async () => {
    const f = await newFunction(t.ws.id, {
      name: unique("cors"),
      public: true,
      corsOrigins: ["https://app.example.com"],
    });
    await deploy(f.id, ECHO);
    const path = `/run/${t.ws.name}/${f.name}/data`;
    const preflight = (origin: string) =>
      run(path, {
        method: "OPTIONS",
        key: null,
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
    const ok = await preflight("https://app.example.com");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(ok.headers.get("access-control-allow-methods")).toBe("POST");
    expect(ok.headers.get("access-control-allow-headers")).toBe("content-type");
    const denied = await preflight("https://evil.example.net");
    expect(denied.status).toBe(204);
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();

    const tagged = await run(path, { key: null, headers: { origin: "https://app.example.com" } });
    expect(tagged.status).toBe(200);
    expect(tagged.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const untagged = await run(path, { key: null, headers: { origin: "https://evil.example.net" } });
    expect(untagged.headers.get("access-control-allow-origin")).toBeNull();
    expectError(
      await api("PATCH", `/api/functions/${f.id}`, { body: { corsOrigins: ["javascript:alert(1)"] } }),
      400,
      "bad_request",
    );
  });
});

describe("/run: what a request cannot do", () => {
  it("keeps encoded traversal inside the function: the path reaches the handler as sent", async () => {
    const res = await run(`/run/${t.ws.name}/${fn.name}/..%2F..%2Fapi%2Fkeys`, { key: t.keys.invoker });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { path: string };
    expect(body.path).toBe("/..%2F..%2Fapi%2Fkeys");
  });

  it("does not let a function of one workspace be reached through another workspace's path", async () => {
    const other = await tenant();
    // The other workspace's name with this function's id, and the other way round: neither resolves.
    expectError(await api("GET", `/run/${other.ws.name}/${fn.id}/`, { key: other.keys.admin }), 404, "not_found");
    expectError(await api("GET", `/run/${other.ws.id}/${fn.name}/`, { key: other.keys.admin }), 404, "not_found");
  });

  it("never shows the caller's key or the function's secrets in an error", async () => {
    const f = await newFunction(t.ws.id, { name: unique("secretive"), secrets: { token: "s3cr3t-value" } });
    await deploy(f.id, {
      "index.js": "export default { fetch(request, env) { throw new Error('failed while holding a secret'); } };",
    });
    const res = await run(`/run/${t.ws.name}/${f.name}/`, { key: t.keys.invoker });
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).not.toContain("s3cr3t-value");
    expect(text).not.toContain(t.keys.invoker);
  });
});

describe("/run: header injection and key comparison", () => {
  it("cannot smuggle a header into the answer through a header value", async () => {
    const f = await newFunction(t.ws.id, { name: unique("smuggle"), public: true });
    await deploy(f.id, {
      "index.js": `export default {
        fetch(request) {
          const v = new URL(request.url).searchParams.get("v");
          return new Response("ok", { headers: { "x-echo": v } });
        },
      };`,
    });
    const res = await run(`/run/${t.ws.name}/${f.name}/?v=${encodeURIComponent("a\r\nset-cookie: session=evil")}`, {
      key: null,
    });
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.status).toBe(502);
  });

  it("compares key digests in constant time, whole and only when their lengths match", async () => {
    const { digestsEqual } = await import("../src/lib/crypto");
    expect(digestsEqual("ab12", "ab12")).toBe(true);
    expect(digestsEqual("ab12", "ab13")).toBe(false);
    expect(digestsEqual("ab12", "bb12")).toBe(false);
    expect(digestsEqual("ab12", "ab12ff")).toBe(false);
  });
});
