/**
 * Runaway code against the real local server: an infinite loop, deep recursion, a memory bomb, a promise that
 * never settles, a flood of logs and a huge result. Each call must end as failed or timeout with a record that
 * says why, and healthy calls made at the same time must keep succeeding; their p99 during the attack is
 * reported against the p99 of the same load without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../../scripts/lib/platform.mjs";
import { api, deployFunction, ok, percentile, until } from "./client";

const RUNAWAYS: Record<string, { code: string; status: string[]; error: RegExp }> = {
  "infinite loop": {
    code: "export async function handle() { while (true) {} }",
    status: ["failed"],
    error: /^StretchLimitError/,
  },
  "deep recursion": {
    code: "function down(n) { return down(n + 1) + 1; }\nexport async function handle() { return down(0); }",
    status: ["failed"],
    error: /^(RangeError|StretchLimitError)/,
  },
  "memory bomb": {
    code: "export async function handle() { const hoard = []; for (;;) hoard.push(new Array(1e6).fill(7)); }",
    status: ["failed"],
    error: /^(StretchLimitError|RangeError|LimitError)/,
  },
  "never-resolving promise": {
    code: "export async function handle() { await new Promise(() => {}); }",
    status: ["failed", "timeout"],
    error: /^(HangError|TimeoutError)/,
  },
  "log flood": {
    code: 'export async function handle() { for (let i = 0; ; i++) console.log("flood", i, "x".repeat(1000)); }',
    status: ["failed"],
    error: /^StretchLimitError/,
  },
  "huge result": {
    code: 'export async function handle() { return "x".repeat(16 * 1024 * 1024); }',
    status: ["failed"],
    error: /larger than/,
  },
};

let p: LocalPlatform;
let workspaceId: string;
let healthyId: string;
const runawayIds: Record<string, string> = {};

beforeAll(async () => {
  p = await startPlatform();
  workspaceId = (await ok(api(p, "POST", "/api/workspaces", { name: "runaway" }), 201)).id;
  healthyId = (
    await deployFunction(p, workspaceId, "healthy", "export async function handle(data) { return { echo: data }; }")
  ).fn.id;
  for (const [name, r] of Object.entries(RUNAWAYS)) {
    runawayIds[name] = (
      await deployFunction(p, workspaceId, name.replace(/\W+/g, "-"), r.code, { timeoutMs: 5000 })
    ).fn.id;
  }
});

afterAll(async () => {
  await p?.stop();
});

/** `total` healthy calls, `concurrency` at a time; returns their latencies (ms) and how many failed. */
async function healthyLoad(total: number, concurrency: number) {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const n = next++;
        const t = performance.now();
        const res = await api(p, "POST", `/api/functions/${healthyId}/invoke`, { args: { n } });
        latencies.push(performance.now() - t);
        if (res.status !== 200 || res.body.ok !== true || res.body.result?.echo?.n !== n) failures++;
      }
    }),
  );
  return { latencies, failures };
}

describe("runaway code", () => {
  it("ends every runaway call as failed or timeout, while healthy calls keep succeeding", async () => {
    const quiet = await healthyLoad(200, 4);
    expect(quiet.failures).toBe(0);

    // The attack: every runaway twice, all at once, while the same healthy load runs.
    const attackStarted = performance.now();
    const attack = Promise.all(
      Object.entries(runawayIds).flatMap(([name, id]) =>
        [0, 1].map(async () => ({ name, res: await api(p, "POST", `/api/functions/${id}/invoke`, {}) })),
      ),
    );
    const during = await healthyLoad(200, 4);
    const outcomes = await attack;
    const attackMs = performance.now() - attackStarted;

    expect(during.failures).toBe(0);
    for (const { name, res } of outcomes) {
      const spec = RUNAWAYS[name] as (typeof RUNAWAYS)[string];
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body.ok, name).toBe(false);
      expect(spec.status, `${name}: ${res.body.status}`).toContain(res.body.status);
      expect(res.body.error, name).toMatch(spec.error);
    }

    const figures = {
      healthyCalls: quiet.latencies.length,
      quietP50Ms: Math.round(percentile(quiet.latencies, 50) * 10) / 10,
      quietP99Ms: Math.round(percentile(quiet.latencies, 99) * 10) / 10,
      attackP50Ms: Math.round(percentile(during.latencies, 50) * 10) / 10,
      attackP99Ms: Math.round(percentile(during.latencies, 99) * 10) / 10,
      p99Ratio: Math.round((percentile(during.latencies, 99) / percentile(quiet.latencies, 99)) * 100) / 100,
      runawayCalls: outcomes.length,
      attackMs: Math.round(attackMs),
    };
    console.log(`runaway: ${JSON.stringify(figures)}`);
    console.log(
      `runaway durations: ${JSON.stringify(outcomes.map(({ name, res }) => [name, res.body.durationMs, res.body.status]))}`,
    );
  });

  it("records each runaway call with its ending, and caps a log flood", async () => {
    for (const [name, id] of Object.entries(runawayIds)) {
      const list = await until(
        () => ok(api(p, "GET", `/api/functions/${id}/calls`)),
        (l) => l.data.length >= 2,
      );
      for (const call of list.data) {
        expect(RUNAWAYS[name]?.status, `${name}: ${call.status}`).toContain(call.status);
        expect(call.error?.name, name).toBeTruthy();
      }
    }
    const flood = await ok(api(p, "GET", `/api/functions/${runawayIds["log flood"]}/calls`));
    const logs = await ok(api(p, "GET", `/api/calls/${flood.data[0].id}/logs`));
    expect(logs.truncated).toBe(true);
    expect(logs.items.length).toBeGreaterThan(10);
    const bytes = logs.items.reduce((n: number, l: { message: string }) => n + l.message.length, 0);
    expect(bytes).toBeLessThanOrEqual(300 * 1024);
  });

  it("keeps the platform answering afterwards: the runaway functions' isolates are usable for a fixed version", async () => {
    const id = runawayIds["infinite loop"] as string;
    const fixed = await ok(
      api(p, "POST", `/api/functions/${id}/versions`, {
        files: { "index.js": "export const handle = () => 'fixed';" },
      }),
      201,
    );
    await until(
      () => ok(api(p, "GET", `/api/functions/${id}/versions/${fixed.id}`)),
      (v) => v.status === "ready",
    );
    const res = await ok(api(p, "POST", `/api/functions/${id}/invoke`, {}));
    expect(res).toMatchObject({ ok: true, result: "fixed" });
  });
});
