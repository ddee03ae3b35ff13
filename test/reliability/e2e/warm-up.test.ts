/**
 * The warm-up after a start, against the real local server: every isolate goes with the old process, so after
 * each start (npm start again, or the watchdog's restart) the supervisor asks the platform to make the isolates of
 * the functions called most recently, JavaScript and Python alike, before their next calls need them. Functions
 * never called, and deleted ones, are left alone; only the supervisor may ask.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../../scripts/lib/platform.mjs";
import { api, deployFunction, ok, until } from "./client";

type Supervised = LocalPlatform & { stall(): number[] };
interface WarmUp {
  startedAt: number;
  done: boolean;
  ok: boolean;
  warmed: number;
  skipped?: boolean;
}

let p: Supervised;
let workspaceId: string;
const ids: Record<"called" | "idle" | "gone" | "python", string> = { called: "", idle: "", gone: "", python: "" };

const status = async (): Promise<{ warmUps: WarmUp[]; restarts: number }> => {
  const res = await fetch(`${p.vars.EDGEFN_SUPERVISOR_URL}/status`, {
    headers: { "x-edgefn-supervisor": p.vars.EDGEFN_SUPERVISOR_TOKEN! },
  });
  expect(res.status).toBe(200);
  return res.json();
};
const warmUps = async (n: number) =>
  (await until(status, (s) => s.warmUps.length >= n && s.warmUps.every((w) => w.done), 60_000)).warmUps;
const invoke = (id: string, args: unknown) => ok(api(p, "POST", `/api/functions/${id}/invoke`, { args }));

beforeAll(async () => {
  p = (await startPlatform()) as Supervised;
  workspaceId = (await ok(api(p, "POST", "/api/workspaces", { name: "warm-up" }), 201)).id;
  for (const name of ["called", "idle", "gone"] as const) {
    ids[name] = (
      await deployFunction(p, workspaceId, name, `export const handle = (data) => ({ name: "${name}", data });`)
    ).fn.id;
  }
  const py = await ok(api(p, "POST", "/api/functions", { workspaceId, name: "python" }), 201);
  const queued = await ok(
    api(p, "POST", `/api/functions/${py.id}/versions`, {
      files: { "handler.py": "def handle(data):\n    return {'python': data}\n" },
    }),
    201,
  );
  await until(
    () => ok(api(p, "GET", `/api/functions/${py.id}/versions/${queued.id}`)),
    (v) => v.status === "ready",
    120_000,
  );
  ids.python = py.id;
});

afterAll(async () => {
  await p?.stop();
});

describe("the warm-up after a start", () => {
  it("finds nothing to warm on a platform whose functions were never called", async () => {
    const [first] = await warmUps(1);
    expect(first).toMatchObject({ done: true, warmed: 0 });
    expect(p.output()).not.toContain("recently called function");
  });

  it("only answers the supervisor", async () => {
    const tries: Record<string, string>[] = [
      {},
      { "x-edgefn-supervisor": "x".repeat(43) },
      { authorization: `Bearer ${p.adminKey}` },
    ];
    for (const headers of tries) {
      const res = await fetch(`${p.url}/__edgefn/warm`, { method: "POST", headers });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("makes the isolates of the functions called recently after a restart, not of idle or deleted ones", async () => {
    expect(await invoke(ids.called, 1)).toMatchObject({ ok: true, result: { name: "called", data: 1 } });
    expect(await invoke(ids.gone, 2)).toMatchObject({ ok: true });
    expect(await invoke(ids.python, 3)).toMatchObject({ ok: true, result: { python: 3 } });
    await ok(api(p, "DELETE", `/api/functions/${ids.gone}`), 200);
    // Their calls recorded (lastCalledAt is written with the record) before the platform goes.
    for (const id of [ids.called, ids.python]) {
      await until(
        () => ok(api(p, "GET", `/api/functions/${id}`)),
        (f) => f.lastCalledAt !== null,
      );
    }

    await p.stop({ keep: true });
    p = (await p.restart()) as Supervised;
    const [after] = await warmUps(1);
    expect(after).toMatchObject({ done: true, warmed: 2 });
    expect(p.output()).toMatch(/made the isolates of 2 recently called function\(s\) in \d+ ms/);

    // The supervisor's own request answers what it did.
    const res = await fetch(`${p.url}/__edgefn/warm`, {
      method: "POST",
      headers: { "x-edgefn-supervisor": p.vars.EDGEFN_SUPERVISOR_TOKEN! },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ functions: 2, warmed: 2 });

    expect(await invoke(ids.called, 4)).toMatchObject({ ok: true, result: { name: "called", data: 4 } });
    expect(await invoke(ids.python, 5)).toMatchObject({ ok: true, result: { python: 5 } });
    expect(await invoke(ids.idle, 6)).toMatchObject({ ok: true, result: { name: "idle", data: 6 } });
    await until(
      () => ok(api(p, "GET", `/api/functions/${ids.idle}`)),
      (f) => f.lastCalledAt !== null,
    );
  });

  it("warms again after the watchdog restarted a frozen runtime", async () => {
    const before = (await status()).warmUps.length;
    expect(p.stall().length).toBeGreaterThan(0);
    const after = await until(
      status,
      (s) => s.restarts === 1 && s.warmUps.length === before + 1 && s.warmUps.at(-1)!.done,
      60_000,
    );
    // The three called since the start: the idle one is called now too.
    expect(after.warmUps.at(-1)!.warmed).toBe(3);
    expect(await invoke(ids.called, 7)).toMatchObject({ ok: true, result: { data: 7 } });
  });

  it("does not warm again after a restart that came while the warm-up was making isolates", async () => {
    await p.stop({ keep: true });
    p = (await p.restart()) as Supervised;
    // Frozen while the warm-up boots the Python function (about half a second): as a boot that froze would.
    expect(p.stall().length).toBeGreaterThan(0);
    const after = await until(
      status,
      (s) => s.restarts === 1 && s.warmUps.length === 2 && s.warmUps.every((w) => w.done),
      60_000,
    );
    expect(after.warmUps[0]).toMatchObject({ ok: false, warmed: 0 });
    expect(after.warmUps[1]).toMatchObject({ skipped: true, warmed: 0 });
    expect(p.output()).toContain("the warm-up after the last start did not finish");
    // The functions answer all the same, their isolates made by these calls.
    expect(await invoke(ids.python, 8)).toMatchObject({ ok: true, result: { python: 8 } });
    expect(await invoke(ids.called, 9)).toMatchObject({ ok: true, result: { data: 9 } });
  });
});
