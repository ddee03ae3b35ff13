/**
 * ctx.client: a per-call object of the host handed to the isolate, acting as the function's runtime user or an
 * invoker of the call's workspace; the calls it makes are attributed to the calling call.
 */
import { describe, expect, it } from "vitest";
import { api, expectStatus, newFunction, newWorkspace, unique } from "./support/api";
import { deploy, invoke } from "./support/deploy";

async function waitForCalls(functionId: string, n: number) {
  for (let i = 0; i < 200; i++) {
    const page = expectStatus(await api("GET", `/api/functions/${functionId}/calls`), 200);
    if (page.data.length >= n) return page.data;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`fewer than ${n} calls of ${functionId}`);
}

describe("ctx.client", () => {
  it("invokes another function of the workspace, attributed to the calling call", async () => {
    const ws = await newWorkspace();
    const callee = await newFunction(ws.id, { name: unique("double") });
    await deploy(callee.id, { "index.js": "export function handle(d) { return d.n * 2; }" });
    const caller = await newFunction(ws.id);
    await deploy(caller.id, {
      "index.js": `export async function handle(d, ctx) {
        const byName = await ctx.client.invoke(${JSON.stringify(callee.name)}, { n: d.n });
        const byId = await ctx.client.invoke(${JSON.stringify(callee.id)}, { n: 1 });
        return { byName: byName.result, byIdOk: byId.ok, callee: byName.callId };
      }`,
    });
    const res = expectStatus(await invoke(caller.id, { n: 21 }), 200);
    expect(res).toMatchObject({ ok: true, result: { byName: 42, byIdOk: true } });
    const [first] = (await waitForCalls(callee.id, 2)).filter((c: { id: string }) => c.id === res.result.callee);
    expect(first).toMatchObject({ status: "completed", createdBy: `call:${res.callId}` });
  });

  it("cannot reach a function of another workspace, nor see the platform's binding in env", async () => {
    const ws = await newWorkspace();
    const elsewhere = await newFunction((await newWorkspace()).id, { name: unique("private") });
    await deploy(elsewhere.id, { "index.js": "export function handle() { return 'secret'; }" });
    const prober = await newFunction(ws.id, { envVars: { ONLY: "mine" } });
    await deploy(prober.id, {
      "index.js": `export async function handle(d, ctx) {
        const byId = await ctx.client.invoke(${JSON.stringify(elsewhere.id)}, null);
        const byName = await ctx.client.invoke(${JSON.stringify(elsewhere.name)}, null);
        return { envKeys: Object.keys(ctx.env), byId, byName };
      }`,
    });
    const res = expectStatus(await invoke(prober.id), 200);
    expect(res.result.envKeys).toEqual(["ONLY"]);
    for (const attempt of [res.result.byId, res.result.byName]) {
      expect(attempt).toMatchObject({ ok: false, errorDetail: { name: "ClientError" } });
      expect(attempt.error).toMatch(/No function .* in this workspace/);
      expect(JSON.stringify(attempt)).not.toContain("secret");
    }
  });

  it("refuses call chains deeper than 5", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id, { name: unique("recurse") });
    await deploy(fn.id, {
      "index.js": `export async function handle(d, ctx) {
        const inner = await ctx.client.invoke(${JSON.stringify(fn.name)}, { level: d.level + 1 });
        return { level: d.level, inner: inner.ok ? inner.result : inner.error };
      }`,
    });
    const res = expectStatus(await invoke(fn.id, { level: 0 }), 200);
    let node = res.result;
    let levels = 0;
    while (typeof node === "object" && node !== null) {
      levels++;
      node = node.inner;
    }
    expect(levels).toBe(6);
    expect(node).toMatch(/nest at most 5 deep/);
  });

  it("lists the function's own calls", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    await deploy(fn.id, { "index.js": "export async function handle(d, ctx) { return ctx.client.calls(5); }" });
    const first = expectStatus(await invoke(fn.id), 200);
    await waitForCalls(fn.id, 1);
    const second = expectStatus(await invoke(fn.id), 200);
    expect(second.result.map((c: { id: string }) => c.id)).toContain(first.callId);
    expect(second.result[0]).toMatchObject({ status: "completed", trigger: "api" });
  });
});

describe("ctx.client: identity", () => {
  it("acts with the rights of the function's runtime user, while that key lasts", async () => {
    const ws = await newWorkspace();
    const target = await newFunction(ws.id, { name: unique("target") });
    await deploy(target.id, { "index.js": "export function handle() { return 'reached'; }" });
    const viewer = expectStatus(
      await api("POST", "/api/keys", { body: { name: "ro", role: "viewer", workspaceId: ws.id } }),
      201,
    );
    const invoker = expectStatus(
      await api("POST", "/api/keys", { body: { name: "rw", role: "invoker", workspaceId: ws.id } }),
      201,
    );
    const code = `export async function handle(d, ctx) { return ctx.client.invoke(${JSON.stringify(target.name)}); }`;
    const asViewer = await newFunction(ws.id, { runtimeUserId: viewer.id });
    await deploy(asViewer.id, { "index.js": code });
    const refused = expectStatus(await invoke(asViewer.id), 200).result;
    expect(refused).toMatchObject({ ok: false, errorDetail: { name: "ClientError", code: "forbidden" } });

    const asInvoker = await newFunction(ws.id, { runtimeUserId: invoker.id });
    await deploy(asInvoker.id, { "index.js": code });
    expect(expectStatus(await invoke(asInvoker.id), 200).result).toMatchObject({ ok: true, result: "reached" });
    expectStatus(await api("DELETE", `/api/keys/${invoker.id}`), 200);
    const revoked = expectStatus(await invoke(asInvoker.id), 200).result;
    expect(revoked).toMatchObject({ ok: false, errorDetail: { code: "forbidden" } });
  });

  it("cannot act for a call that has ended: a client kept by the isolate stops working", async () => {
    const ws = await newWorkspace();
    const target = await newFunction(ws.id, { name: unique("target") });
    await deploy(target.id, { "index.js": "export function handle() { return 'reached'; }" });
    const keeper = await newFunction(ws.id, { timeoutMs: 100 });
    await deploy(keeper.id, {
      "index.js": `let kept;
        export async function handle(d, ctx) {
          if (!kept) { kept = ctx.client; return "kept"; }
          return kept.invoke(${JSON.stringify(target.name)});
        }`,
    });
    expect(expectStatus(await invoke(keeper.id), 200).result).toBe("kept");
    // The first call's token was good for its timeout plus a few seconds.
    await new Promise((r) => setTimeout(r, 5_500));
    const late = expectStatus(await invoke(keeper.id), 200).result;
    expect(late).toMatchObject({ ok: false, errorDetail: { name: "ClientError", code: "unauthorized" } });
    expect(late.error).toMatch(/only while the call that uses it runs/);
  });
});
