/**
 * A hostile function against the sandbox: it tries to get around the loop guard, to reach the platform's own
 * modules, to change what the wrapper reports by replacing globals, to forge its depth or escape the call-tree
 * and concurrency budgets, to make its call vanish from the records, and to flood or forge logs. Each class has
 * several variants; every one must fail for the function and leave a trace in the records.
 *
 * Runaway code runs here only behind the loop guard. A loop that would get around it is written as a long but
 * finite loop (about a second of work without the guard), so a bypass fails the test instead of freezing it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admit, BudgetExceeded } from "../../src/domain/calls/budget";
import { invokeFunction } from "../../src/domain/calls/invoke";
import { LIMITS } from "../../src/lib/limits";
import { checkLogs, checkOutcome, jsonDepth } from "../../src/runtime/outcome";
import { getDb } from "../../src/storage/db";
import { ADMIN_KEY, api, expectError, expectStatus, newFunction, newWorkspace, unique } from "../support/api";
import { deploy, invoke, upload } from "../support/deploy";

/** About a second of synchronous work without the guard; with it, StretchLimitError after 200 ms. */
const LONG = "for (let i = 0; i < 4e8; i++) {}";

async function fnWith(files: Record<string, string> | string, extra: Record<string, unknown> = {}) {
  const ws = await newWorkspace();
  const fn = await newFunction(ws.id, extra);
  const version = await upload(fn.id, typeof files === "string" ? { "index.js": files } : files);
  return { ws, fn, version };
}

async function calls(functionId: string) {
  return expectStatus(await api("GET", `/api/functions/${functionId}/calls?limit=100`), 200).data as any[];
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A call's logs, once its record is written (records of synchronous calls are written after the answer). */
async function logsOf(callId: string) {
  return expectStatus(
    await until(
      () => api("GET", `/api/calls/${callId}/logs`),
      (r) => r.status === 200,
    ),
    200,
  );
}

describe("the loop guard cannot be shadowed", () => {
  const shadows: [string, string][] = [
    ["a parameter", `function spin(__edgefn_guard) { ${LONG} } export function handle() { spin(() => {}); }`],
    ["a local", `export function handle() { const __edgefn_guard = () => {}; ${LONG} }`],
    ["a var in a block", `export function handle() { { var __edgefn_guard = 1; } ${LONG} }`],
    ["a catch binding", `export function handle() { try { throw 1 } catch (__edgefn_guard) { ${LONG} } }`],
    ["destructuring", `export function handle() { const { a: __edgefn_guard } = { a() {} }; ${LONG} }`],
    ["an array pattern", `export function handle() { const [__edgefn_guard] = [() => {}]; ${LONG} }`],
    ["a unicode escape", `export function handle() { const \\u005f_edgefn_guard = () => {}; ${LONG} }`],
    ["a class name", `class __edgefn_guard {} export function handle() { ${LONG} }`],
    ["a function name", `function __edgefn_guard() {} export function handle() { ${LONG} }`],
    ["an import alias", `import { x as __edgefn_guard } from "./x.js"; export function handle() { ${LONG} }`],
    ["the import check", `const __edgefn_import = (s) => s; export async function handle() { return 1; }`],
    ["a label", `export function handle() { __edgefn_guard: for (let i = 0; i < 1; i++) {} }`],
    ["another reserved name", `export function handle() { let __edgefnX = 1; return __edgefnX; }`],
  ];
  for (const [how, code] of shadows) {
    it(`refuses ${how} named like the guard, at build`, async () => {
      const { version } = await fnWith({ "index.js": code, "x.js": "export const x = 1;" });
      expect(version.status).toBe("failed");
      expect(version.error.message).toMatch(/reserved by the platform/);
      expect(version.error.message).toMatch(/index\.js:\d+:\d+/);
    });
  }

  it("refuses TypeScript that names the guard, whatever the types say", async () => {
    const { version } = await fnWith({
      "index.ts": `type G = () => void;\nexport function handle(): void { const __edgefn_guard: G = () => {}; ${LONG} }`,
    });
    expect(version.status).toBe("failed");
    expect(version.error.message).toMatch(/reserved by the platform/);
  });
});

describe("no upload and no import reaches a platform module", () => {
  const fake = "export function guard() {} export function takeControls() { return {}; }";
  for (const path of [
    "__edgefn/guard.js",
    "__EDGEFN/guard.js",
    "./__edgefn/guard.js",
    "a/../__edgefn/guard.js",
    "__edgefn/x/y.ts",
  ]) {
    it(`refuses an upload of ${path}`, async () => {
      const ws = await newWorkspace();
      const fn = await newFunction(ws.id);
      const err = expectError(
        await api("POST", `/api/functions/${fn.id}/versions`, {
          body: { files: { "index.js": "export function handle() {}", [path]: fake } },
        }),
        400,
        "bad_request",
      );
      expect(err.message).toMatch(/reserved for the platform/);
      expect(expectStatus(await api("GET", `/api/functions/${fn.id}/versions`), 200).data).toEqual([]);
    });
  }

  it("refuses a static import of a platform module at build", async () => {
    for (const spec of ["./__edgefn/guard.js", "/__edgefn/entry.js", "./a/../__edgefn/guard.js"]) {
      const { version } = await fnWith(
        `import * as g from ${JSON.stringify(spec)}; export function handle() { return Object.keys(g); }`,
      );
      expect(version.status, spec).toBe("failed");
      expect(version.error.message).toMatch(/not among the uploaded files|reserved for the platform/);
    }
  });

  it("refuses every run-time way to load a platform module: import(), require, getBuiltinModule", async () => {
    const { fn } = await fnWith({
      "index.js": `
        import { createRequire } from "node:module";
        import "./lib/util.js";
        import "./lib/x.js";
        const tries = {
          computed: () => import("./__edgefn/" + "guard.js"),
          template: () => import(\`./__edgefn/guard.js\`),
          absolute: () => import(["", "__edgefn", "entry.js"].join("/")),
          traversal: () => import(String("./lib/../__edgefn/guard.js")),
          encoded: () => import(String("./%5F_edgefn/guard.js")),
          upperCase: () => import(String("./__EDGEFN/guard.js")),
          moduleShim: async () => (await import("node:" + "module")).createRequire("/index.js")("./__edgefn/guard.js"),
          require: async () => createRequire("/index.js")("./__edgefn/guard.js"),
          requireUp: async () => createRequire("/lib/x.js")("../__edgefn/entry.js"),
          requireAbsolute: async () => createRequire("/index.js")("/__edgefn/guard.js"),
          requireUrl: async () => createRequire("file:///index.js")("./__edgefn/guard.js"),
          builtin: async () => process.getBuiltinModule("module").createRequire("/index.js")("./__edgefn/guard.js"),
          builtinNode: async () => process.getBuiltinModule("node:module").createRequire("/")("__edgefn/guard.js"),
          builtinProto: async () =>
            Object.getPrototypeOf(process).getBuiltinModule.call(process, "module").createRequire("/index.js")("./__edgefn/guard.js"),
          builtinDeleted: async () => {
            const ours = process.getBuiltinModule;
            delete process.getBuiltinModule;
            try {
              return process.getBuiltinModule("module").createRequire("/index.js")("./__edgefn/guard.js");
            } finally {
              process.getBuiltinModule = ours;
            }
          },
          moduleLoad: async () => (await import("node:module")).default.Module._load("./__edgefn/guard.js"),
          requireModule: async () => createRequire("/index.js")("module").createRequire("/index.js")("./__edgefn/guard.js"),
          requireModuleLoad: async () => createRequire("/index.js")("module").Module._load("./__edgefn/guard.js"),
          requireNodeModule: async () =>
            createRequire("/index.js")("node:module").createRequire("/")("__edgefn/guard.js"),
          requireProcess: async () =>
            createRequire("/index.js")("process").getBuiltinModule("module").createRequire("/")("__edgefn/guard.js"),
          requireNodeProcess: async () =>
            createRequire("/index.js")("node:process").getBuiltinModule("node:module").createRequire("/")("./__edgefn/guard.js"),
          importProcess: async () =>
            (await import("node:" + "process")).default.getBuiltinModule("module").createRequire("/")("./__edgefn/guard.js"),
        };
        export async function handle() {
          const out = {};
          for (const [name, attempt] of Object.entries(tries)) {
            try { const m = await attempt(); out[name] = "REACHED " + Object.keys(m ?? {}).join(","); }
            catch (e) { out[name] = "refused: " + e.message; }
          }
          // Its own modules stay reachable by a computed specifier.
          out.own = (await import("./lib/" + "util.js")).value;
          out.ownRequire = createRequire("/index.js")("./lib/util.js").value;
          const builtinRequire = process.getBuiltinModule("node:module").createRequire("/index.js");
          out.ownBuiltin = builtinRequire("./lib/util.js").value;
          out.builtinPath = typeof builtinRequire("node:path").join;
          out.sameShim = process.getBuiltinModule("module") === process.getBuiltinModule("node:module");
          return out;
        }`,
      "lib/util.js": "export const value = 'mine';",
      "lib/x.js": "export {};",
    });
    const res = expectStatus(await invoke(fn.id), 200);
    expect(res.ok, JSON.stringify(res)).toBe(true);
    const { own, ownRequire, ownBuiltin, builtinPath, sameShim, ...attempts } = res.result;
    expect(own).toBe("mine");
    expect(ownRequire).toBe("mine");
    // process.getBuiltinModule("module") gives the same guarded require, made once.
    expect(ownBuiltin).toBe("mine");
    expect(builtinPath).toBe("function");
    expect(sameShim).toBe(true);
    for (const [name, outcome] of Object.entries(attempts)) expect(outcome, name).toMatch(/^refused: /);
  });

  it("gives user code nothing of the platform through cloudflare:workers", async () => {
    const { fn } = await fnWith(
      `import { env, exports } from "cloudflare:workers";
       export function handle(d, ctx) {
         return { env: Object.keys(env).sort(), ctxEnv: Object.keys(ctx.env).sort(), exports: Object.keys(exports ?? {}) };
       }`,
      { envVars: { PLAIN: "1" }, secrets: { token: "s3cret" } },
    );
    const res = expectStatus(await invoke(fn.id), 200);
    expect(res.result.env).toEqual(["PLAIN", "token"]);
    expect(res.result.ctxEnv).toEqual(["PLAIN", "token"]);
    expect(res.result.exports).toEqual(["default"]);
  });
});

describe("replacing globals changes nothing the wrapper reports", () => {
  const cases: [string, string, (res: any) => void][] = [
    [
      "JSON.stringify",
      `JSON.stringify = () => '{"forged":true}';`,
      (res) => expect(res).toMatchObject({ ok: true, result: { real: 1 } }),
    ],
    [
      "JSON.stringify returning a non-string",
      "JSON.stringify = () => ({ length: 0 });",
      (res) => expect(res).toMatchObject({ ok: true, result: { real: 1 } }),
    ],
    [
      "Array.prototype.push and index setters",
      `Array.prototype.push = () => { throw new Error("no"); };
       Object.defineProperty(Array.prototype, "0", { set() { throw new Error("no index"); }, configurable: true });
       console.log("still logged");`,
      (res) => expect(res).toMatchObject({ ok: true, result: { real: 1 } }),
    ],
    [
      "Date.now, then a runaway loop",
      `Date.now = () => 0; ${LONG}`,
      (res) => expect(res.error).toMatch(/^StretchLimitError/),
    ],
    [
      "setTimeout, then a runaway loop",
      `globalThis.setTimeout = () => 0; ${LONG}`,
      (res) => expect(res.error).toMatch(/^StretchLimitError/),
    ],
    [
      "TextEncoder, then a result over the limit",
      `TextEncoder.prototype.encode = () => new Uint8Array(0); return "é".repeat(600 * 1024);`,
      (res) => expect(res).toMatchObject({ ok: false, errorDetail: { code: "result_too_large" } }),
    ],
    [
      "Error.prototype and instanceof",
      `Object.defineProperty(Error, Symbol.hasInstance, { value: () => false });
       Error.prototype.name = "Forged"; throw new TypeError("real");`,
      (res) => expect(res).toMatchObject({ ok: false, error: "TypeError: real" }),
    ],
    [
      "Map and AsyncLocalStorage",
      `Map.prototype.get = () => undefined; Map.prototype.set = () => {};
       const als = await import("node:async_hooks");
       als.AsyncLocalStorage.prototype.getStore = () => undefined;
       console.log("still logged");`,
      (res) => expect(res).toMatchObject({ ok: true, result: { real: 1 } }),
    ],
  ];
  for (const [what, patch, check] of cases) {
    it(`with ${what} replaced`, async () => {
      const { fn } = await fnWith(`export async function handle() { ${patch}\n return { real: 1 }; }`);
      const res = expectStatus(await invoke(fn.id), 200);
      check(res);
      // The call is recorded as it really went.
      const [record] = await until(
        () => calls(fn.id),
        (c) => c.length > 0,
      );
      expect(record.status).toBe(res.ok ? "completed" : "failed");
      if (/logged/.test(patch)) {
        expect((await logsOf(res.callId)).items.map((l: any) => l.message)).toContain("still logged");
      }
    });
  }
});

describe("the host decides: budgets and what an isolate returns", () => {
  it("refuses calls nested deeper than 5, records the refused call, and the depth cannot be forged", async () => {
    const ws = await newWorkspace();
    const name = unique("deep");
    const fn = await newFunction(ws.id, { name });
    await deploy(fn.id, {
      "index.js": `export async function handle(d, ctx) {
        // A forged depth in the args or in ctx.call is nobody's business but the function's.
        ctx.call.depth = -100;
        const next = await ctx.client.invoke(${JSON.stringify(name)}, { n: d.n + 1, depth: 0 });
        return next.ok ? next.result : { stoppedAt: d.n, answer: next };
      }`,
    });
    const res = expectStatus(await invoke(fn.id, { n: 0 }), 200);
    expect(res.ok).toBe(true);
    expect(res.result.stoppedAt).toBe(LIMITS.callDepth);
    expect(res.result.answer).toMatchObject({ ok: false, errorDetail: { code: "rate_limited" } });
    const refusedId = res.result.answer.callId as string;
    const refused = expectStatus(
      await until(
        () => api("GET", `/api/calls/${refusedId}`),
        (r) => r.status === 200,
      ),
      200,
    );
    expect(refused).toMatchObject({ status: "failed", error: { name: "LimitError", code: "call_depth" } });
  });

  it("refuses calls past the call tree's budget of 100, recording each refusal", async () => {
    const ws = await newWorkspace();
    const leaf = await newFunction(ws.id, { name: unique("leaf") });
    await deploy(leaf.id, { "index.js": "export function handle(d) { return d; }" });
    const root = await newFunction(ws.id, { timeoutMs: 120_000 });
    await deploy(root.id, {
      "index.js": `export async function handle(d, ctx) {
        let ok = 0, refused = 0;
        for (let i = 0; i < 120; i++) {
          const r = await ctx.client.invoke(${JSON.stringify(leaf.name)}, i);
          if (r.ok) ok++; else if (r.errorDetail.code === "rate_limited") refused++;
        }
        return { ok, refused };
      }`,
    });
    const res = expectStatus(await invoke(root.id), 200);
    expect(res.result, JSON.stringify(res.errorDetail)).toEqual({
      ok: LIMITS.callTreeCalls - 1,
      refused: 120 - (LIMITS.callTreeCalls - 1),
    });
    const records = await until(
      () => calls(leaf.id),
      (c) => c.length >= 100,
    );
    expect(records.length).toBe(100);
    expect(
      records.filter((c: any) => c.status === "failed" && c.error?.code === "call_tree").length,
    ).toBeGreaterThanOrEqual(1);
  });

  it("caps a workspace's concurrent calls: past the cap a call is refused with 429, and recorded", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    await deploy(fn.id, {
      "index.js": "export async function handle() { await new Promise((r) => setTimeout(r, 300)); return 1; }",
    });
    const ctx = {
      db: getDb(env.DB),
      env: { ...env, EDGEFN_WORKSPACE_CONCURRENCY: "3" },
      principal: { keyId: "key_admin", role: "admin" as const, workspaceId: null },
      now: Date.now(),
      defer: (promise: Promise<unknown>) => void promise,
    };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () => invokeFunction(ctx, fn.id, { args: null, recorded: true })),
    );
    const refused = outcomes.filter((o) => o.status === "rejected");
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      const err = (r as PromiseRejectedResult).reason;
      expect(err).toMatchObject({ code: "rate_limited", details: { reason: "concurrency" } });
      const record = expectStatus(await api("GET", `/api/calls/${err.details.callId}`), 200);
      expect(record).toMatchObject({ status: "failed", error: { code: "concurrency" } });
    }
    // The places are given back: the next calls run.
    const later = await invokeFunction(ctx, fn.id, { args: null, recorded: true });
    expect(later).toMatchObject({ ok: true });
  });

  it("gives each workspace its own places", () => {
    const e = { EDGEFN_WORKSPACE_CONCURRENCY: "1" };
    const release = admit(e, "ws_a");
    expect(() => admit(e, "ws_a")).toThrow(BudgetExceeded);
    const other = admit(e, "ws_b");
    release();
    release(); // twice: no harm
    admit(e, "ws_a")();
    other();
  });

  it("reads whatever an isolate returns as a well-formed outcome", () => {
    const w = { from: 1_000, to: 2_000 };
    expect(checkOutcome(null, w)).toMatchObject({ ok: false, error: { code: "malformed_outcome" } });
    expect(checkOutcome("ok", w)).toMatchObject({ ok: false });
    expect(checkOutcome({ ok: true, result: 42 }, w)).toMatchObject({
      ok: false,
      error: { code: "malformed_outcome" },
    });
    expect(checkOutcome({ ok: true, result: "{not json" }, w)).toMatchObject({ ok: false });
    expect(checkOutcome({ ok: true, result: "x".repeat(LIMITS.resultBytes + 1) }, w)).toMatchObject({
      ok: false,
      error: { code: "result_too_large" },
    });
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect(jsonDepth(deep)).toBeGreaterThan(512);
    expect(checkOutcome({ ok: true, result: deep }, w)).toMatchObject({ ok: false, error: { code: "invalid_result" } });
    expect(checkOutcome({ ok: true, result: '{"a":"[[[["}' }, w)).toMatchObject({ ok: true, value: { a: "[[[[" } });
    const weird = checkOutcome(
      { ok: false, error: { name: { toString: 1 }, message: 7, stack: 9, code: {} }, logs: "nope", logsTruncated: 1 },
      w,
    );
    expect(weird).toMatchObject({ ok: false, error: { name: expect.any(String), message: "7" }, logs: [] });
    expect(weird.error?.stack).toBeUndefined();
    const flood = checkLogs(
      Array.from({ length: 100_000 }, (_, i) => ({ timestamp: i, level: "evil", message: { obj: i } })),
      false,
      w,
    );
    expect(flood.logs).toHaveLength(LIMITS.logLines);
    expect(flood.logsTruncated).toBe(true);
    expect(flood.logs.every((l) => l.timestamp >= 1_000 && l.timestamp <= 2_000 && l.level !== "evil")).toBe(true);
  });

  const vanishing: [string, string, RegExp][] = [
    ["returns a BigInt", "return 10n;", /TypeError|ResultError/],
    ["returns an object whose toJSON throws", "return { toJSON() { throw new Error('gotcha'); } };", /gotcha/],
    [
      "returns a result nested 600 deep",
      "let o = 1; for (let i = 0; i < 600; i++) o = [o]; return o;",
      /nested deeper/,
    ],
    [
      "returns a result nested 100,000 deep",
      "let o = 1; for (let i = 0; i < 100000; i++) o = [o]; return o;",
      /RangeError|nested/,
    ],
    ["throws an error whose getters throw", "throw { get name() { throw 1; }, get message() { throw 2; } };", /./],
    ["throws a revoked proxy", "const p = Proxy.revocable({}, {}); p.revoke(); throw p.proxy;", /./],
    ["returns a function", "return () => 1;", /./],
  ];
  for (const [what, body, error] of vanishing) {
    it(`records a call that ${what}: failed, never missing`, async () => {
      const { fn } = await fnWith(`export function handle() { ${body} }`);
      const res = await invoke(fn.id);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.ok).toBe(false);
      expect(res.body.error).toMatch(error);
      const [record] = await until(
        () => calls(fn.id),
        (c) => c.length > 0,
      );
      expect(record).toMatchObject({ id: res.body.callId, status: "failed" });
    });
  }
});

describe("a runaway call is its own failure", () => {
  it("does not fail the other calls of its isolate, waiting meanwhile or coming next", async () => {
    const { fn } = await fnWith(`export async function handle(d) {
      if (d.spin) { for (;;) { try { for (;;) {} } catch { /* swallowed */ } } }
      await new Promise((r) => setTimeout(r, d.wait));
      return "fine";
    }`);
    const [waiting, spinning] = await Promise.all([invoke(fn.id, { wait: 50 }), invoke(fn.id, { spin: true })]);
    expect(spinning.body.error).toMatch(/^StretchLimitError/);
    expect(waiting.body).toMatchObject({ ok: true, result: "fine" });
    const next = await invoke(fn.id, { wait: 0 });
    expect(next.body).toMatchObject({ ok: true, result: "fine" });
  });
});

describe("native work the guard cannot see", () => {
  it("ends a catastrophic regular expression in linear time (V8's fallback engine, as npm start sets it up)", async () => {
    // Without the fallback this backtracks 2^30 times: the runtime would freeze for minutes.
    const { fn } = await fnWith(
      "export function handle(d) { return [/(a+)+$/.test('a'.repeat(d.n) + '!'), /^(\\w+\\s?)*$/.test('x'.repeat(d.n) + '!')]; }",
    );
    const started = Date.now();
    const res = expectStatus(await invoke(fn.id, { n: 30 }), 200);
    expect(res).toMatchObject({ ok: true, result: [false, false] });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("logs are bounded and never forge the platform's", () => {
  it("caps empty lines: console.log() 100,000 times keeps 2,000 lines", async () => {
    const { fn } = await fnWith(
      "export function handle() { for (let i = 0; i < 100000; i++) console.log(); return 'done'; }",
    );
    const res = expectStatus(await invoke(fn.id), 200);
    expect(res).toMatchObject({ ok: true, result: "done" });
    const logs = await logsOf(res.callId);
    expect(logs.truncated).toBe(true);
    expect(logs.items.length).toBeLessThanOrEqual(LIMITS.logLines);
    expect(logs.items.at(-1).message).toMatch(/log output truncated/);
  });

  it("caps every console method, and one huge line", async () => {
    const { fn } = await fnWith(`export function handle() {
      for (let i = 0; i < 3000; i++) { console.table([i]); console.dir({ i }); console.trace(i); }
      console.error("x".repeat(5 * 1024 * 1024));
      return 'done';
    }`);
    const res = expectStatus(await invoke(fn.id), 200);
    const logs = await logsOf(res.callId);
    expect(logs.truncated).toBe(true);
    const bytes = logs.items.reduce((n: number, l: any) => n + new TextEncoder().encode(l.message).byteLength, 0);
    expect(bytes).toBeLessThanOrEqual(LIMITS.logBytes);
  });

  it("gives top-level output to the first call, and drops output after a call ended", async () => {
    const { fn } = await fnWith(`console.log("loaded at top level");
      let n = 0;
      export async function handle() {
        n++;
        if (n === 1) setTimeout(() => console.log("after the first call ended"), 50);
        return n;
      }`);
    const first = expectStatus(await invoke(fn.id), 200);
    await new Promise((r) => setTimeout(r, 200));
    const second = expectStatus(await invoke(fn.id), 200);
    expect((await logsOf(first.callId)).items.map((l: any) => l.message)).toEqual(["loaded at top level"]);
    const later = await api("GET", `/api/calls/${second.callId}/logs`);
    expect(JSON.stringify(later.body)).not.toContain("after the first call ended");
  });

  it("records lines with NUL characters and lone surrogates, and the other calls' records with them", async () => {
    const { fn } = await fnWith(
      'export function handle(d) { console.log("nul\\u0000byte", "lone\\ud800", d); return "\\u0000\\udfff"; }',
    );
    const healthy = await fnWith("export function handle(d) { console.log('fine', d); return d; }");
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => invoke(fn.id, i)),
      ...Array.from({ length: 5 }, (_, i) => invoke(healthy.fn.id, i)),
    ]);
    for (const a of answers) expect(a.status).toBe(200);
    const odd = await until(
      () => calls(fn.id),
      (c) => c.length >= 5,
    );
    const fine = await until(
      () => calls(healthy.fn.id),
      (c) => c.length >= 5,
    );
    expect(odd).toHaveLength(5);
    expect(fine).toHaveLength(5);
    expect(fine.every((c: any) => c.status === "completed")).toBe(true);
    const logs = await logsOf(answers[0]?.body.callId);
    expect(logs.items[0].message).toContain("nul");
  });
});

describe("system functions are a global admin's", () => {
  it("refuses every change by a workspace's admin, and its schedules", async () => {
    const ws = await newWorkspace();
    const adminOfWs = expectStatus(
      await api("POST", "/api/keys", { body: { name: unique("a"), role: "admin", workspaceId: ws.id } }),
      201,
    ).key as string;
    const system = expectStatus(
      await api("POST", "/api/functions", { body: { workspaceId: ws.id, name: unique("sys"), system: true } }),
      201,
    );
    await deploy(system.id, { "index.js": "export function handle() { return 'system'; }" });
    const as = { key: adminOfWs };
    const attempts = [
      await api("PATCH", `/api/functions/${system.id}`, { ...as, body: { envVars: { X: "1" } } }),
      await api("PATCH", `/api/functions/${system.id}`, { ...as, body: { secrets: { s: "1" } } }),
      await api("POST", `/api/functions/${system.id}/versions`, {
        ...as,
        body: { code: "export const handle = () => 1" },
      }),
      await api("DELETE", `/api/functions/${system.id}`, as),
      await api("DELETE", `/api/functions/${system.id}/purge`, as),
      await api("POST", `/api/functions/${system.id}/restore`, as),
      await api("POST", "/api/schedules", {
        ...as,
        body: { functionId: system.id, name: "s", cronExpression: "* * * * *" },
      }),
    ];
    for (const a of attempts) expect([400, 403]).toContain(a.status);
    expect(expectStatus(await invoke(system.id, null, {}, adminOfWs), 200).result).toBe("system");
    expect(expectStatus(await api("GET", `/api/functions/${system.id}`, { key: ADMIN_KEY }), 200).envVars).toBeNull();
  });
});
