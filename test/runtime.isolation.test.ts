/**
 * What a function can and cannot do to the platform and to other functions. Runaway code runs here only
 * because every module is built with the loop guard: each synchronous stretch ends within EDGEFN_STRETCH_MS
 * (200 ms by default), which is what keeps this test runner alive.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { api, expectStatus, newFunction, newWorkspace, type Workspace } from "./support/api";
import { deploy, invoke, upload } from "./support/deploy";

let ws: Workspace;
beforeAll(async () => {
  ws = await newWorkspace();
});

async function fnWith(code: string, extra: Record<string, unknown> = {}) {
  const fn = await newFunction(ws.id, extra);
  await deploy(fn.id, { "index.js": code });
  return fn.id as string;
}

/** Starts a runaway call, then times a healthy call made while it runs. */
async function healthyDuring(runaway: () => Promise<unknown>) {
  const healthy = await fnWith("export async function handle(d) { return { pong: d.n }; }");
  await invoke(healthy, { n: 0 }); // warm
  const attack = runaway();
  await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  const res = expectStatus(await invoke(healthy, { n: 1 }), 200);
  const waited = Date.now() - started;
  return { res, waited, attack: await attack };
}

describe("runaway code", () => {
  it("ends an infinite loop, even one that swallows the guard's error, while other calls keep answering", async () => {
    const loop = await fnWith(
      "export async function handle() { for (;;) { try { while (true) {} } catch (e) { /* swallowed */ } } }",
      { timeoutMs: 60_000 },
    );
    const { res, waited, attack } = await healthyDuring(() => invoke(loop));
    expect(res).toMatchObject({ ok: true, result: { pong: 1 } });
    // The runaway call's timeout is 60 s; the platform answered within the guard's bound, not after it.
    expect(waited).toBeLessThan(5_000);
    const body = expectStatus(attack as Awaited<ReturnType<typeof invoke>>, 200);
    expect(body).toMatchObject({ ok: false, status: "failed" });
    expect(body.error).toMatch(/^StretchLimitError: .*200 ms/);
    expect(body.durationMs).toBeLessThan(5_000);
  });

  it("ends runaway recursion and deep recursion", async () => {
    const spin = await fnWith(
      "function f(n) { try { return f(n + 1) + f(n + 1); } catch { return f(0); } }\nexport async function handle() { return f(0); }",
    );
    const a = expectStatus(await invoke(spin), 200);
    expect(a.ok).toBe(false);
    expect(a.error).toMatch(/StretchLimitError|RangeError/);

    const deep = await fnWith(
      "function f(n) { return f(n + 1) + 1; }\nexport async function handle() { return f(0); }",
    );
    const b = expectStatus(await invoke(deep), 200);
    expect(b).toMatchObject({ ok: false, status: "failed" });
    expect(b.error).toMatch(/^RangeError: Maximum call stack/);
  });

  it("ends a microtask loop that never yields to the event loop", async () => {
    const fn = await fnWith("export async function handle() { while (true) { await null; } }", { timeoutMs: 60_000 });
    const { res, attack } = await healthyDuring(() => invoke(fn));
    expect(res.ok).toBe(true);
    expect((attack as any).body.error).toMatch(/^StretchLimitError/);
  });

  it("times out a call that waits longer than the function's timeoutMs", async () => {
    const fn = await fnWith("export async function handle() { await new Promise((r) => setTimeout(r, 5_000)); }", {
      timeoutMs: 300,
    });
    const res = expectStatus(await invoke(fn), 200);
    expect(res).toMatchObject({ ok: false, status: "timeout" });
    expect(res.error).toMatch(/^TimeoutError: .*300 ms/);
    expect(res.durationMs).toBeGreaterThanOrEqual(300);
    expect(res.durationMs).toBeLessThan(5_000);
  });

  it("ends at once a call that awaits a promise nothing can ever settle", async () => {
    const fn = await fnWith("export async function handle() { await new Promise(() => {}); }", { timeoutMs: 60_000 });
    const res = expectStatus(await invoke(fn), 200);
    expect(res).toMatchObject({ ok: false, status: "failed" });
    expect(res.error).toMatch(/^HangError: .*can never happen/);
    expect(res.durationMs).toBeLessThan(10_000);
  });

  it("fails the build, not later invokes, of code that throws or spins at import", async () => {
    const throws = await newFunction(ws.id);
    const v1 = await upload(throws.id, { "index.js": 'throw new Error("bad import");\nexport function handle() {}' });
    expect(v1.status).toBe("failed");
    expect(v1.error.message).toContain("bad import");
    expect(v1.buildLogs.at(-1)).toMatchObject({ level: "error" });

    const spins = await newFunction(ws.id);
    const v2 = await upload(spins.id, { "index.js": "while (true) {}\nexport function handle() {}" });
    expect(v2.status).toBe("failed");
    expect(v2.error.message).toMatch(/StretchLimitError/);

    const res = await invoke(throws.id);
    expect(res.status).toBe(409);
  });
});

describe("what an isolate can see", () => {
  it("sees only its own env vars and secrets: no host binding, no other function's secrets", async () => {
    const code =
      "export async function handle(d, ctx) { return { keys: Object.keys(ctx.env).sort(), secrets: ctx.secrets, env: ctx.env }; }";
    const a = await fnWith(code, { envVars: { REGION: "eu" }, secrets: { "api-key": "s3cr3t-a" } });
    const b = await fnWith(code, { secrets: { "api-key": "s3cr3t-b" } });
    const ra = expectStatus(await invoke(a), 200).result;
    expect(ra.keys).toEqual(["REGION", "api-key"]);
    expect(ra.secrets).toEqual({ "api-key": "s3cr3t-a" });
    const rb = expectStatus(await invoke(b), 200).result;
    expect(rb.keys).toEqual(["api-key"]);
    expect(rb.secrets).toEqual({ "api-key": "s3cr3t-b" });
    expect(JSON.stringify(rb)).not.toContain("s3cr3t-a");

    // The API never shows the values.
    const shown = expectStatus(await api("GET", `/api/functions/${a}`), 200);
    expect(shown.secrets).toEqual({ "api-key": "***" });
    expect(JSON.stringify(shown)).not.toContain("s3cr3t");
  });

  it("sees a changed env var or secret on the very next call, with no new version", async () => {
    const fn = await fnWith("export async function handle(d, ctx) { return [ctx.env.MODE, ctx.secrets.token]; }", {
      envVars: { MODE: "one" },
      secrets: { token: "t1" },
    });
    expect(expectStatus(await invoke(fn), 200).result).toEqual(["one", "t1"]);
    const patched = expectStatus(
      await api("PATCH", `/api/functions/${fn}`, { body: { envVars: { MODE: "two" } } }),
      200,
    );
    expect(patched.configRevision).toBe(2);
    expect(expectStatus(await invoke(fn), 200).result).toEqual(["two", "t1"]);
    expectStatus(await api("PATCH", `/api/functions/${fn}`, { body: { secrets: { token: "t2" } } }), 200);
    expect(expectStatus(await invoke(fn), 200).result).toEqual(["two", "t2"]);
    // "***" keeps the current value.
    expectStatus(await api("PATCH", `/api/functions/${fn}`, { body: { secrets: { token: "***" } } }), 200);
    expect(expectStatus(await invoke(fn), 200).result).toEqual(["two", "t2"]);
  });

  it("has no network unless its allowedHosts say so", async () => {
    const code =
      "export async function handle(d) { const r = await fetch(d.url); return { status: r.status, text: (await r.text()).slice(0, 200) }; }";
    const closed = await fnWith(code);
    const res = expectStatus(await invoke(closed, { url: "https://example.com/" }), 200);
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/not permitted to access the internet/);

    const allowlisted = await fnWith(code, { allowedHosts: ["api.example.com"] });
    const denied = expectStatus(await invoke(allowlisted, { url: "https://evil.example.net/steal" }), 200);
    expect(denied.ok).toBe(true);
    expect(denied.result.status).toBe(403);
    expect(denied.result.text).toContain("may not reach evil.example.net");
  });
});

describe("limits", () => {
  it("refuses args over 1 MiB and fails results over 1 MiB", async () => {
    const fn = await fnWith("export async function handle(d) { return d && d.big ? 'x'.repeat(1100000) : 'ok'; }");
    const tooBig = await invoke(fn, { pad: "x".repeat(1024 * 1024) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.message).toMatch(/args are larger than 1048576 bytes/);
    const res = expectStatus(await invoke(fn, { big: true }), 200);
    expect(res).toMatchObject({ ok: false, status: "failed" });
    expect(res.error).toMatch(/result is larger than 1048576 bytes/);
  });

  it("describes its limits and runtimes", async () => {
    const limits = expectStatus(await api("GET", "/api/limits"), 200);
    expect(limits).toMatchObject({
      timeoutMs: { default: 30_000, max: 900_000 },
      cpuMs: { default: 30_000 },
      stretchMs: 200,
      argsBytes: 1048576,
      resultBytes: 1048576,
      codeBytes: 10485760,
      secrets: { count: 30, key: "^[a-z0-9-]{1,15}$" },
    });
    const runtimes = expectStatus(await api("GET", "/api/runtimes"), 200);
    expect(runtimes.data[0]).toMatchObject({ id: "workers-js", languages: ["javascript", "typescript"] });
  });
});
