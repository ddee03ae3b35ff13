/**
 * Invoke as a user sees it: what a call answers for results, throws and fetch handlers, what `handle` is given,
 * which version runs, and who may call. The runtime's defences against hostile code are in runtime.isolation.test.ts.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  expectError,
  expectStatus,
  newFunction,
  newKey,
  newWorkspace,
  tenant,
  type Workspace,
} from "./support/api";
import { deploy, invoke, upload } from "./support/deploy";

let ws: Workspace;
beforeAll(async () => {
  ws = await newWorkspace();
});

/** A new function of the shared workspace with one ready version of `files`. */
async function fnWith(files: Record<string, string>, extra: Record<string, unknown> = {}) {
  const fn = await newFunction(ws.id, extra);
  const version = await deploy(fn.id, files);
  return { id: fn.id as string, version };
}

const invokePath = (fnId: string) => `/api/functions/${fnId}/invoke`;

describe("invoke", () => {
  it("builds a TypeScript function and runs it in an isolate", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    const version = await deploy(fn.id, {
      "index.ts": `
        import { greet } from "./lib/greet";
        interface Input { name: string }
        export async function handle(data: Input, ctx: any): Promise<{ message: string; callId: string }> {
          console.log("hello from", data.name);
          return { message: greet(data.name), callId: ctx.call.callId };
        }`,
      "lib/greet.ts": `export const greet = (name: string): string => \`Hello, \${name}!\`;`,
    });
    expect(version).toMatchObject({ number: 1, status: "ready", isDefault: true, handlers: ["handle"] });
    const res = expectStatus(await invoke(fn.id, { name: "Ada" }), 200);
    expect(res).toMatchObject({ ok: true, result: { message: "Hello, Ada!" }, error: null, status: "completed" });
    expect(res.result.callId).toBe(res.callId);
    expect(res.callId).toMatch(/^call_/);
  });
});

describe("invoke: what a call answers", () => {
  const throwing = {
    "index.ts": `
      class QuotaError extends Error {
        code = "quota_exceeded";
        constructor(message: string) { super(message); this.name = "QuotaError"; }
      }
      function checkQuota(kind: string): void {
        if (kind === "type") throw new TypeError("expected a number");
        if (kind === "custom") throw new QuotaError("42 calls left of 0");
        if (kind === "string") throw "a plain string";
        if (kind === "object") throw { reason: "not an Error" };
        if (kind === "reject") return Promise.reject(new RangeError("rejected later")) as never;
      }
      export async function handle(data: { kind: string }) {
        await checkQuota(data.kind);
        return { fine: true };
      }`,
  };

  it("answers 200 with ok:false and the error's name and message when the function throws", async () => {
    const fn = await fnWith(throwing);
    const cases: [string, string, string][] = [
      ["type", "TypeError: expected a number", "TypeError"],
      ["custom", "QuotaError: 42 calls left of 0", "QuotaError"],
      ["reject", "RangeError: rejected later", "RangeError"],
      ["string", "Error: a plain string", "Error"],
      ["object", 'Error: {"reason":"not an Error"}', "Error"],
    ];
    for (const [kind, error, name] of cases) {
      const res = expectStatus(await invoke(fn.id, { kind }), 200);
      expect(res, kind).toMatchObject({ ok: false, status: "failed", error, errorDetail: { name } });
      expect(res, kind).not.toHaveProperty("result");
    }
    const ok = expectStatus(await invoke(fn.id, { kind: "none" }), 200);
    expect(ok).toMatchObject({ ok: true, result: { fine: true }, error: null, errorDetail: null });
  });

  it("gives the thrown error's detail: its stack names the user's module and functions, its code is kept", async () => {
    const fn = await fnWith(throwing);
    const custom = expectStatus(await invoke(fn.id, { kind: "custom" }), 200);
    expect(custom.errorDetail).toMatchObject({
      name: "QuotaError",
      message: "42 calls left of 0",
      code: "quota_exceeded",
    });
    const stack: string = custom.errorDetail.stack;
    expect(stack.split("\n")[0]).toBe("QuotaError: 42 calls left of 0");
    expect(stack).toMatch(/at checkQuota \(index\.js:\d+:\d+\)/);
    expect(stack).toMatch(/handle \(index\.js:\d+:\d+\)/);
    // The platform's wrapper modules are not the user's business.
    expect(stack).not.toContain("__edgefn");

    // A thrown non-Error has no stack to show.
    const plain = expectStatus(await invoke(fn.id, { kind: "string" }), 200);
    expect(plain.errorDetail).toEqual({ name: "Error", message: "a plain string" });
  });

  it("fails a result that is not JSON with errorDetail.code invalid_result, and returns JSON values as they are", async () => {
    const fn = await fnWith({
      "index.js": `
        export async function handle(d) {
          if (d === "fn") return () => 1;
          if (d === "big") return 10n;
          if (d === "undefined") return undefined;
          return d;
        }`,
    });
    const res = expectStatus(await invoke(fn.id, "fn"), 200);
    expect(res).toMatchObject({
      ok: false,
      status: "failed",
      errorDetail: { name: "ResultError", code: "invalid_result" },
    });
    expect(res.error).toMatch(/^ResultError: The result is not JSON-serializable/);
    // Raised by the platform, not by a line of the user's: no stack.
    expect(res.errorDetail).not.toHaveProperty("stack");
    const bigint = expectStatus(await invoke(fn.id, "big"), 200);
    expect(bigint).toMatchObject({ ok: false, errorDetail: { name: "TypeError" } });
    expect(bigint.error).toMatch(/BigInt/);

    expect(expectStatus(await invoke(fn.id, "undefined"), 200)).toMatchObject({ ok: true, result: null });
    for (const value of [0, false, "", [1, "two", null], { nested: { deep: [true] } }, "ünïcødé ✓"]) {
      expect(expectStatus(await invoke(fn.id, value), 200), JSON.stringify(value)).toMatchObject({
        ok: true,
        result: value,
      });
    }
  });

  it("passes null as data when args are omitted or null", async () => {
    const fn = await fnWith({
      "index.js": "export async function handle(data) { return { data, type: typeof data }; }",
    });
    const omitted = expectStatus(await invoke(fn.id), 200);
    expect(omitted.result).toEqual({ data: null, type: "object" });
    expect(expectStatus(await invoke(fn.id, null), 200).result).toEqual({ data: null, type: "object" });
    // No body at all is a call without args.
    const bare = expectStatus(await api("POST", invokePath(fn.id)), 200);
    expect(bare.result).toEqual({ data: null, type: "object" });
  });

  it("answers with a fresh callId and the call's durationMs", async () => {
    const fn = await fnWith({
      "index.js": "export async function handle(d) { await new Promise((r) => setTimeout(r, d.ms)); return d.ms; }",
    });
    const quick = expectStatus(await invoke(fn.id, { ms: 0 }), 200);
    const slow = expectStatus(await invoke(fn.id, { ms: 120 }), 200);
    for (const res of [quick, slow]) {
      expect(res.callId).toMatch(/^call_[0-9a-z]{26}$/);
      expect(Number.isInteger(res.durationMs)).toBe(true);
      expect(res.durationMs).toBeGreaterThanOrEqual(0);
      expect(res.versionId).toBe(fn.version.id);
    }
    expect(slow.callId).not.toBe(quick.callId);
    expect(slow.durationMs).toBeGreaterThanOrEqual(120);
    expect(Object.keys(slow).sort()).toEqual(
      ["callId", "durationMs", "error", "errorDetail", "ok", "result", "status", "versionId"].sort(),
    );
  });

  it("keeps the result whatever the function logs", async () => {
    const fn = await fnWith({
      "index.js": `
        export async function handle(data, ctx) {
          const circular = { name: "loop" };
          circular.self = circular;
          console.log("text", 1, null, undefined, { a: [1, 2] });
          console.info(circular);
          console.warn(new Error("only a log"));
          console.error(10n, Symbol("s"), () => 1);
          console.debug("debug");
          ctx.log("through ctx.log", { n: 1 });
          for (let i = 0; i < 40; i++) console.log("x".repeat(10_000)); // beyond the per-call log limit
          return { done: data.n + 1 };
        }`,
    });
    const res = expectStatus(await invoke(fn.id, { n: 41 }), 200);
    expect(res).toMatchObject({ ok: true, result: { done: 42 }, error: null, status: "completed" });
    expect(JSON.stringify(res)).not.toContain("xxxxxxxxxx");
  });
});

describe("invoke: the code contract", () => {
  it("gives handle(data, ctx) the args, env, secrets, call and log", async () => {
    const fn = await fnWith(
      {
        "index.js": `
          export async function handle(data, ctx) {
            return {
              data,
              ctxKeys: Object.keys(ctx).sort(),
              env: ctx.env.REGION,
              secret: ctx.secrets["db-password"],
              secretNames: Object.keys(ctx.secrets),
              call: ctx.call,
              log: typeof ctx.log,
            };
          }`,
      },
      { envVars: { REGION: "eu-west" }, secrets: { "db-password": "hunter2" } },
    );
    const res = expectStatus(await invoke(fn.id, { order: [1, 2, 3] }), 200);
    expect(res.result).toEqual({
      data: { order: [1, 2, 3] },
      ctxKeys: ["asset", "call", "client", "env", "log", "secrets"],
      env: "eu-west",
      secret: "hunter2",
      secretNames: ["db-password"],
      call: { functionId: fn.id, callId: res.callId },
      log: "function",
    });
  });

  it("runs `export default { fetch }`: the args arrive as a JSON POST, the JSON response is the result", async () => {
    const fn = await fnWith({
      "index.js": `
        export default {
          async fetch(request, env) {
            const body = await request.json();
            if (body && body.status) return new Response(JSON.stringify({ why: "refused" }), { status: body.status });
            if (body === "text") return new Response("plain text");
            if (body === "empty") return new Response(null, { status: 204 });
            return Response.json({
              method: request.method,
              contentType: request.headers.get("content-type"),
              body,
              mode: env.MODE,
            });
          },
        };`,
    });
    expect(fn.version.handlers).toEqual(["fetch"]);
    const res = expectStatus(await invoke(fn.id, { items: ["a", "b"] }), 200);
    expect(res).toMatchObject({
      ok: true,
      status: "completed",
      result: { method: "POST", contentType: "application/json", body: { items: ["a", "b"] } },
    });
    expect(expectStatus(await invoke(fn.id), 200).result.body).toBeNull();
    // A body that is not JSON is the result as text; an empty one is null.
    expect(expectStatus(await invoke(fn.id, "text"), 200)).toMatchObject({ ok: true, result: "plain text" });
    expect(expectStatus(await invoke(fn.id, "empty"), 200)).toMatchObject({ ok: true, result: null });
    // An error status fails the call and says which.
    const refused = expectStatus(await invoke(fn.id, { status: 422 }), 200);
    expect(refused).toMatchObject({
      ok: false,
      status: "failed",
      errorDetail: { name: "ResultError", code: "http_422" },
    });
    expect(refused.error).toMatch(/^ResultError: The fetch handler answered 422: .*refused/);
  });

  it("prefers handle() when a module exports both handle and fetch", async () => {
    const fn = await fnWith({
      "index.js": `
        export async function handle() { return "handle"; }
        export default { async fetch() { return Response.json("fetch"); } };`,
    });
    expect(fn.version.handlers).toEqual(["handle", "fetch"]);
    expect(expectStatus(await invoke(fn.id), 200).result).toBe("handle");
  });
});

describe("invoke: which version runs", () => {
  it("runs the version named by versionId, and the default without one", async () => {
    const fn = await newFunction(ws.id);
    const v1 = await deploy(fn.id, { "index.js": "export async function handle() { return 'one'; }" });
    const v2 = await deploy(fn.id, { "index.js": "export async function handle() { return 'two'; }" });
    expect(expectStatus(await invoke(fn.id), 200)).toMatchObject({ result: "two", versionId: v2.id });
    expect(expectStatus(await invoke(fn.id, undefined, { versionId: v1.id }), 200)).toMatchObject({
      ok: true,
      result: "one",
      versionId: v1.id,
    });
    expect(expectStatus(await invoke(fn.id, undefined, { versionId: v2.id }), 200)).toMatchObject({
      result: "two",
      versionId: v2.id,
    });
    // Pinning a call changes nothing about the default.
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}`), 200).defaultVersionId).toBe(v2.id);
    expect(expectStatus(await invoke(fn.id), 200).result).toBe("two");
  });

  it("answers 404 for an unknown version or another function's, and 409 for one that is not ready", async () => {
    const fn = await newFunction(ws.id);
    await deploy(fn.id, { "index.js": "export async function handle() { return 'good'; }" });
    const failed = await upload(fn.id, { "index.js": "export const notAHandler = 1;" });
    expect(failed.status).toBe("failed");
    const other = await fnWith({ "index.js": "export async function handle() { return 'other'; }" });

    expect(
      expectError(await invoke(fn.id, undefined, { versionId: "ver_doesnotexist" }), 404, "not_found").message,
    ).toMatch(/ver_doesnotexist/);
    expectError(await invoke(fn.id, undefined, { versionId: other.version.id }), 404, "not_found");
    expect(expectError(await invoke(fn.id, undefined, { versionId: failed.id }), 409, "conflict").message).toMatch(
      /failed/,
    );
    expect(expectStatus(await invoke(fn.id), 200).result).toBe("good");
  });

  it("answers 409 for a function with no version yet", async () => {
    const fn = await newFunction(ws.id);
    expect(expectError(await invoke(fn.id), 409, "conflict").message).toMatch(/no ready version/);
  });

  it("answers 404 for a soft-deleted function, and runs it again once restored", async () => {
    const fn = await fnWith({ "index.js": "export async function handle() { return 'alive'; }" });
    expect(expectStatus(await invoke(fn.id), 200).result).toBe("alive");
    expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
    expectError(await invoke(fn.id), 404, "not_found");
    expectError(await invoke(fn.id, undefined, { versionId: fn.version.id }), 404, "not_found");
    expectStatus(await api("POST", `/api/functions/${fn.id}/restore`), 200);
    expect(expectStatus(await invoke(fn.id), 200).result).toBe("alive");
    expectError(await invoke("fun_00000000000000000000000000"), 404, "not_found");
  });
});

describe("invoke: who may call", () => {
  it("lets invoker, developer and admin keys of the workspace call; viewers get 403, other workspaces 404", async () => {
    const t = await tenant();
    const fn = await newFunction(t.ws.id);
    await deploy(fn.id, { "index.js": "export async function handle(d) { return d; }" });
    for (const role of ["invoker", "developer", "admin"] as const) {
      expect(expectStatus(await invoke(fn.id, role, {}, t.keys[role]), 200), role).toMatchObject({
        ok: true,
        result: role,
      });
    }
    expect(expectError(await invoke(fn.id, 1, {}, t.keys.viewer), 403, "forbidden").message).toMatch(/viewer/);
    const outsider = await newKey("admin", ws.id);
    const hidden = expectError(await invoke(fn.id, 1, {}, outsider.key), 404, "not_found");
    expect(hidden.message).not.toContain(t.ws.name);
  });
});

describe("invoke: bad requests", () => {
  it("answers 400 for an unknown field, a body that is not an object or not JSON, and a bad versionId", async () => {
    const fn = await fnWith({ "index.js": "export async function handle(d) { return d; }" });
    const bodies: unknown[] = [
      { args: 1, extra: true },
      { data: 1 },
      [1, 2],
      "args",
      42,
      null,
      { versionId: 7 },
      { versionId: "v".repeat(65) },
    ];
    for (const body of bodies) {
      expectError(await api("POST", invokePath(fn.id), { body }), 400, "bad_request");
    }
    const unknown = expectError(
      await api("POST", invokePath(fn.id), { body: { args: 1, extra: true } }),
      400,
      "bad_request",
    );
    expect(unknown.message).toMatch(/extra|unrecognized/i);
    expectError(await api("POST", invokePath(fn.id), { raw: "{not json" }), 400, "bad_request");
  });
});

describe("invoke: platform failures", () => {
  it("tells the caller nothing of the host when the platform cannot run a call", async () => {
    // A secret sealed for another function does not decrypt: the isolate can never be set up.
    const donor = await newFunction(ws.id, { secrets: { token: "donor-value" } });
    const fn = await fnWith(
      { "index.js": "export async function handle(d, ctx) { return ctx.secrets.token; }" },
      { secrets: { token: "own-value" } },
    );
    const sealed = await env.DB.prepare("SELECT secrets FROM functions WHERE id = ?")
      .bind(donor.id)
      .first<string>("secrets");
    // A new config revision: the isolate the deploy made (with the function's own secret) is not the one asked for.
    await env.DB.prepare("UPDATE functions SET secrets = ?, config_revision = config_revision + 1 WHERE id = ?")
      .bind(sealed, fn.id)
      .run();

    const res = expectStatus(await invoke(fn.id), 200);
    expect(res).toMatchObject({ ok: false, status: "failed", errorDetail: { name: "PlatformError" } });
    expect(Object.keys(res.errorDetail).sort()).toEqual(["message", "name"]);
    expect(res.errorDetail.message).toContain(res.callId);
    const text = JSON.stringify(res);
    for (const leak of ["src/", "loader", "secrets.ts", "Decryption", "AES", "donor-value", "own-value", ".ts:"]) {
      expect(text).not.toContain(leak);
    }
  });
});
