/**
 * What a call costs: a warm POST /api/functions/{id}/invoke against a direct Worker Loader call of the same
 * bundle in the same process (the floor: one RPC into a warm isolate), the first call after a new version
 * becomes the default against a warm call, and the time from upload to a ready version.
 */
import { expect, it } from "vitest";
import { api, expectStatus, newFunction, newWorkspace } from "../test/support/api";
import { invoke, waitForBuild } from "../test/support/deploy";
import { directIsolate } from "./direct";
import { compare, median, report } from "./support";

const code = (n: number) => `// revision ${n}
export async function handle(data) {
  return { hello: data.name, n: ${n} };
}`;

async function uploadVersion(functionId: string, n: number) {
  const started = performance.now();
  const queued = expectStatus(
    await api("POST", `/api/functions/${functionId}/versions`, { body: { files: { "index.js": code(n) } } }),
    201,
  );
  const version = await waitForBuild(functionId, queued.id);
  expect(version.status).toBe("ready");
  return { version, ms: performance.now() - started };
}

it("invokes: warm call vs direct loader call, first call after activate, upload to ready", async () => {
  const ws = await newWorkspace();
  const fn = await newFunction(ws.id);
  const { version } = await uploadVersion(fn.id, 0);
  // The floor: the same bundle in a warm isolate, called directly through the loader.
  const direct = await directIsolate(version.id, "bench");
  const args = { name: "bench" };
  const m = await compare(
    {
      direct: async () => {
        const out = await direct.invoke(args, { call: { functionId: fn.id, callId: "bench" } });
        if (!out.ok) throw new Error("direct call failed");
      },
      api: async () => {
        const res = await invoke(fn.id, args);
        if (res.status !== 200 || !res.body.ok) throw new Error(`invoke failed: ${JSON.stringify(res.body)}`);
      },
    },
    { rounds: 15, perRound: 20 },
  );

  // First call after a new version becomes the default (a cold isolate), against a warm call, and upload-to-ready.
  const first: number[] = [];
  const warm: number[] = [];
  const ready: number[] = [];
  for (let n = 1; n <= 8; n++) {
    const uploaded = await uploadVersion(fn.id, n);
    ready.push(uploaded.ms);
    let t = performance.now();
    const res = expectStatus(await invoke(fn.id, args), 200);
    first.push(performance.now() - t);
    expect(res.result.n).toBe(n);
    t = performance.now();
    for (let i = 0; i < 10; i++) expectStatus(await invoke(fn.id, args), 200);
    warm.push((performance.now() - t) / 10);
  }

  report(
    "POST /api/functions/{id}/invoke",
    [
      { name: "direct Worker Loader call (baseline)", ms: m.direct as number },
      { name: "warm invoke through the API", ms: m.api as number, vs: "direct Worker Loader call (baseline)" },
      { name: "warm invoke after a new version", ms: median(warm) },
      { name: "first invoke after a new version", ms: median(first), vs: "warm invoke after a new version" },
      { name: "upload to ready (queue + build)", ms: median(ready), vs: "warm invoke after a new version" },
    ],
    { rounds: 8 },
  );
});
