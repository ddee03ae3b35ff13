/**
 * Crashes against the real local server. The runtime is killed (SIGKILL, as a power cut would) in the middle
 * of synchronous and async calls and a build; after a restart on the same storage nothing that finished is
 * lost, and once the cron has run nothing is left running, queued or building. Then a memory bomb that yields
 * between allocations (which locally outgrows the whole runtime's heap) crashes it from the inside: the
 * runtime restarts itself and the bomb's call ends failed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../../scripts/lib/platform.mjs";
import { api, deployFunction, ok, sleep, until } from "./client";

/** A running call is declared lost this long after its timeout (LOST_GRACE_MS in the invoke service). */
const LOST_GRACE_MS = 60_000;
const SLOW_TIMEOUT_MS = 10_000;

let p: LocalPlatform;
let workspaceId: string;
let quick: { id: string; versions: string[] };
let slowId: string;

beforeAll(async () => {
  p = await startPlatform();
  workspaceId = (await ok(api(p, "POST", "/api/workspaces", { name: "crash" }), 201)).id;
  const q = await deployFunction(p, workspaceId, "quick", "export const handle = (data) => ({ v: 1, data });");
  const second = await ok(
    api(p, "POST", `/api/functions/${q.fn.id}/versions`, {
      files: { "index.js": "export const handle = (data) => ({ v: 2, data });" },
    }),
    201,
  );
  await until(
    () => ok(api(p, "GET", `/api/functions/${q.fn.id}/versions/${second.id}`)),
    (v) => v.status === "ready",
  );
  quick = { id: q.fn.id, versions: [q.version.id, second.id] };
  slowId = (
    await deployFunction(
      p,
      workspaceId,
      "slow",
      "export async function handle(data) { await new Promise((r) => setTimeout(r, data.ms)); return 'slept'; }",
      { timeoutMs: SLOW_TIMEOUT_MS, maxRetries: 0 },
    )
  ).fn.id;
});

afterAll(async () => {
  await p?.stop();
});

const callsOf = async (functionId: string) =>
  (await ok(api(p, "GET", `/api/functions/${functionId}/calls?limit=100`))).data as { id: string; status: string }[];

describe("a killed runtime", () => {
  it("keeps what finished, and leaves nothing running, queued or building once the cron has run", async () => {
    // Finished before the crash: ten calls, recorded.
    for (let n = 0; n < 10; n++) {
      expect(await ok(api(p, "POST", `/api/functions/${quick.id}/invoke`, { args: { n } }))).toMatchObject({
        ok: true,
      });
    }
    await until(
      () => callsOf(quick.id),
      (calls) => calls.length === 10 && calls.every((c) => c.status === "completed"),
    );

    // In flight at the crash: async calls running, synchronous calls waiting for their answer, a build.
    const asyncCalls = await Promise.all(
      Array.from({ length: 4 }, () =>
        ok(api(p, "POST", `/api/functions/${slowId}/invoke`, { args: { ms: 8_000 }, async: true }), 202),
      ),
    );
    // Locally the queue hands the consumer one batch at a time, so some may still wait their turn.
    const atCrash = await until(
      () => Promise.all(asyncCalls.map((c) => ok(api(p, "GET", `/api/calls/${c.callId}`)))),
      (rows) => rows.some((r) => r.status === "running") && rows.every((r) => ["running", "queued"].includes(r.status)),
    );
    const syncCalls = Array.from({ length: 4 }, () =>
      api(p, "POST", `/api/functions/${slowId}/invoke`, { args: { ms: 8_000 } }).catch((err: Error) => err),
    );
    const build = await ok(
      api(p, "POST", `/api/functions/${quick.id}/versions`, {
        files: { "index.js": "export const handle = (data) => ({ v: 3, data });" },
        activate: false,
      }),
      201,
    );
    await sleep(300);

    await p.kill();
    const interrupted = await Promise.all(syncCalls);
    for (const answer of interrupted) expect(answer instanceof Error || answer.status >= 500).toBe(true);

    p = await p.restart();

    // Nothing that finished is lost: the calls, both ready versions, the default version.
    const before = await callsOf(quick.id);
    expect(before.filter((c) => c.status === "completed")).toHaveLength(10);
    for (const id of quick.versions) {
      expect(await ok(api(p, "GET", `/api/functions/${quick.id}/versions/${id}`))).toMatchObject({ status: "ready" });
    }
    const fn = await ok(api(p, "GET", `/api/functions/${quick.id}`));
    expect(fn.defaultVersionId ?? fn.defaultVersion?.id).toBe(quick.versions[1]);
    expect(await ok(api(p, "POST", `/api/functions/${quick.id}/invoke`, { args: 1 }))).toMatchObject({
      ok: true,
      result: { v: 2 },
    });

    // The cron, as it runs once the calls' deadlines and the build's grace period have passed.
    expect(await p.cron(Date.now() + SLOW_TIMEOUT_MS + LOST_GRACE_MS + 6 * 60_000)).toBeLessThan(300);
    const slow = await until(
      () => callsOf(slowId),
      (calls) => calls.every((c) => c.status !== "running" && c.status !== "queued"),
      60_000,
    ).catch((err) => {
      console.error(p.output().slice(-6000));
      throw err;
    });
    expect(slow.map((c) => c.id).sort()).toEqual(asyncCalls.map((c) => c.callId).sort());
    // A call that was running when the runtime died is lost (failed, saying so); one still queued runs.
    for (const [i, c] of asyncCalls.entries()) {
      const row = await ok(api(p, "GET", `/api/calls/${c.callId}`));
      if (atCrash[i].status === "running")
        expect(row).toMatchObject({ status: "failed", error: { name: "LostError" } });
      else expect(row.status).toBe("completed");
    }
    // The build that was under way is built again or failed, never left queued or building.
    const v3 = await until(
      () => ok(api(p, "GET", `/api/functions/${quick.id}/versions/${build.id}`)),
      (v) => v.status === "ready" || v.status === "failed",
    );
    expect(["ready", "failed"]).toContain(v3.status);
    expect((await callsOf(quick.id)).filter((c) => c.status === "completed").length).toBeGreaterThanOrEqual(10);
  });

  it("survives a memory bomb that outgrows the runtime: the runtime restarts and the call ends failed", async () => {
    const bomb = await deployFunction(
      p,
      workspaceId,
      "yielding-bomb",
      `export async function handle() {
  const hoard = [];
  for (;;) {
    hoard.push(new Array(1e6).fill(7));
    await new Promise((r) => setTimeout(r, 0));
  }
}`,
      { timeoutMs: SLOW_TIMEOUT_MS, maxRetries: 0 },
    );
    const queued = await ok(api(p, "POST", `/api/functions/${bomb.fn.id}/invoke`, { async: true }), 202);

    // The platform answers again once the runtime has restarted (or if it never went down).
    const started = Date.now();
    await sleep(2_000);
    await until(
      () =>
        fetch(`${p.url}/healthz`).then(
          (r) => r.status,
          () => 0,
        ),
      (status) => status === 200,
      120_000,
    );
    const restartedAfterMs = Date.now() - started;
    await until(
      async () => {
        await p.cron(Date.now() + SLOW_TIMEOUT_MS + LOST_GRACE_MS + 60_000);
        return ok(api(p, "GET", `/api/calls/${queued.callId}`));
      },
      (row) => row.status !== "running" && row.status !== "queued",
      120_000,
    );
    const row = await ok(api(p, "GET", `/api/calls/${queued.callId}`));
    expect(["failed", "timeout"]).toContain(row.status);
    console.log(`crash: ${JSON.stringify({ memoryBomb: row.status, error: row.error?.name, restartedAfterMs })}`);
    expect(await ok(api(p, "POST", `/api/functions/${quick.id}/invoke`, { args: 2 }))).toMatchObject({ ok: true });
  });
});
