/**
 * The supervisor of the local runtime (scripts/lib/supervisor.mjs) against a real local platform. workerd is
 * frozen with SIGSTOP, which to the supervisor's probe looks exactly like a thread stuck in native code (a
 * regular expression backtracking with backreferences, a WebAssembly loop): the platform must answer again
 * within 10 s with its data, and the supervisor must hand the calls its journal had open to the platform
 * (POST /__edgefn/recover). workerd killed from outside (a crash) is noticed the same way. The journal is fed
 * by a fake client here, as the Worker feeds it: begins and ends posted with the token from the platform's vars.
 * Then the real thing: a function whose regular expression backtracks forever freezes the runtime, and its
 * call ends `timeout` once the runtime is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../../scripts/lib/platform.mjs";
import { api, deployFunction, ok, sleep, until } from "./client";

/** The platform's test-only hook: SIGSTOP of its workerd. */
type Supervised = LocalPlatform & { stall(): number[] };

interface Entry {
  id: string;
  kind: "call" | "http" | "build";
  functionId: string;
  workspaceId: string;
  versionId: string;
  trigger: string;
  async: boolean;
  startedAt: number;
  timeoutMs: number;
}

interface Recovery {
  reason: "stall" | "crash";
  stalled: Entry | null;
  interrupted: Entry[];
  stalledAt: number;
  restartedAt: number;
  attempts: number;
  status: number | null;
  done: boolean;
}

interface Status {
  journal: Entry[];
  restarts: number;
  recoveries: Recovery[];
  workerdPids: number[];
}

let p: Supervised;
let workspaceId: string;

beforeAll(async () => {
  p = (await startPlatform()) as Supervised;
  workspaceId = (await ok(api(p, "POST", "/api/workspaces", { name: "watchdog" }), 201)).id;
});

afterAll(async () => {
  await p?.stop();
});

const supervisor = () => p.vars.EDGEFN_SUPERVISOR_URL!;
const token = () => p.vars.EDGEFN_SUPERVISOR_TOKEN!;

function journal(body: { begin?: Entry; end?: string[] }, key = token()) {
  return fetch(`${supervisor()}/journal`, {
    method: "POST",
    headers: { "x-edgefn-supervisor": key, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function status(): Promise<Status> {
  const res = await fetch(`${supervisor()}/status`, { headers: { "x-edgefn-supervisor": token() } });
  expect(res.status).toBe(200);
  return (await res.json()) as Status;
}

function entry(id: string, over: Partial<Entry> = {}): Entry {
  return {
    id,
    kind: "call",
    functionId: "fun_watchdog",
    workspaceId,
    versionId: "ver_watchdog",
    trigger: "api",
    async: false,
    startedAt: Date.now(),
    timeoutMs: 30_000,
    ...over,
  };
}

const healthy = () =>
  fetch(`${p.url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.status,
    () => 0,
  );

describe("the supervisor", () => {
  it("keeps a journal of the calls running user code, for the Worker that holds its token only", async () => {
    expect(p.vars.EDGEFN_SUPERVISOR_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(p.vars.EDGEFN_SUPERVISOR_TOKEN!.length).toBeGreaterThanOrEqual(32);
    expect((await journal({ begin: entry("call_forged") }, "x".repeat(43))).status).toBe(403);
    expect((await fetch(`${supervisor()}/status`)).status).toBe(403);

    expect((await journal({ begin: entry("call_one") })).status).toBe(204);
    expect((await journal({ begin: entry("call_two") })).status).toBe(204);
    // Ends ride along the next message; an entry long past its timeout is dropped.
    expect((await journal({ begin: entry("http_three", { kind: "http" }), end: ["call_one"] })).status).toBe(204);
    expect(
      (await journal({ begin: entry("call_old", { startedAt: Date.now() - 120_000, timeoutMs: 1000 }) })).status,
    ).toBe(204);
    const open = await until(
      () => status(),
      (s) => !s.journal.some((e) => e.id === "call_old"),
      5000,
    );
    expect(open.journal.map((e) => e.id)).toEqual(["call_two", "http_three"]);
    expect((await journal({ end: ["call_two", "http_three"] })).status).toBe(204);
    expect((await status()).journal).toEqual([]);
  });

  it("restarts a frozen runtime within 10 s, keeps its data and hands the open calls to the platform", async () => {
    const interrupted = [entry("call_async", { async: true, trigger: "queue" }), entry("http_page", { kind: "http" })];
    const stalled = entry("call_frozen");
    for (const e of [...interrupted, stalled]) expect((await journal({ begin: e })).status).toBe(204);
    const before = await status();

    const frozenAt = Date.now();
    expect(p.stall().length).toBeGreaterThan(0);
    expect(await healthy()).toBe(0);
    await until(healthy, (s) => s === 200, 30_000);
    const answeredAfterMs = Date.now() - frozenAt;
    expect(answeredAfterMs).toBeLessThan(10_000);

    // The data survived; the runtime is a new workerd.
    const workspaces = await ok(api(p, "GET", "/api/workspaces"));
    expect(workspaces.data.map((w: { id: string }) => w.id)).toContain(workspaceId);
    const after = await until(
      () => status(),
      (s) => s.recoveries.length > 0 && s.recoveries[0]!.attempts > 0 && s.recoveries[0]!.status !== null,
      10_000,
    );
    expect(after.restarts).toBe(before.restarts + 1);
    expect(after.workerdPids).not.toEqual(before.workerdPids);

    // What the supervisor posted to /__edgefn/recover: the call that began last froze the process.
    const recovery = after.recoveries[0]!;
    expect(recovery).toMatchObject({ reason: "stall", stalled, interrupted });
    expect(recovery.stalledAt).toBeGreaterThanOrEqual(frozenAt - 1000);
    expect(recovery.restartedAt).toBeGreaterThan(recovery.stalledAt);
    expect(recovery.restartedAt - frozenAt).toBeLessThan(10_000);
    // Until the Worker answers it, the supervisor keeps trying (and then gives up): either way it tried.
    expect(typeof recovery.status).toBe("number");
    expect(after.journal).toEqual([]);
    expect(p.output()).toMatch(/the runtime did not answer for \d+\.\d s \(stall\); restarted it/);
    console.log(
      `watchdog: ${JSON.stringify({ answeredAfterMs, restartedAfterMs: recovery.restartedAt - recovery.stalledAt, recover: recovery.status })}`,
    );
  });

  it("notices workerd exiting by itself: every open call was interrupted", async () => {
    const open = [entry("call_crash_a"), entry("build_crash_b", { kind: "build", trigger: "build" })];
    for (const e of open) expect((await journal({ begin: e })).status).toBe(204);
    const before = await status();
    const killedAt = Date.now();
    for (const pid of before.workerdPids) process.kill(pid, "SIGKILL");
    const after = await until(
      () => status(),
      (s) => s.recoveries.length > before.recoveries.length,
      15_000,
    );
    const answeredAfterMs = Date.now() - killedAt;
    expect(await healthy()).toBe(200);
    expect(after.recoveries.at(-1)).toMatchObject({ reason: "crash", stalled: null, interrupted: open });
    expect(after.journal).toEqual([]);
    expect(p.output()).toMatch(/workerd exited \(crash\); Miniflare restarted it/);
    const workspaces = await ok(api(p, "GET", "/api/workspaces"));
    expect(workspaces.data.map((w: { id: string }) => w.id)).toContain(workspaceId);
    console.log(`watchdog: ${JSON.stringify({ crashAnsweredAfterMs: answeredAfterMs })}`);
  });

  it("ends a call whose regular expression froze the runtime as timeout, once the runtime is back", async () => {
    // Without backreferences V8 falls back to its linear engine (the runtime's V8 flags): over in milliseconds.
    const linear = await deployFunction(
      p,
      workspaceId,
      "linear",
      'export function handle() { return /^(a+)+$/.test("a".repeat(40) + "b"); }',
    );
    expect(await ok(api(p, "POST", `/api/functions/${linear.fn.id}/invoke`, {}))).toMatchObject({
      ok: true,
      result: false,
    });
    // With one, it backtracks in native code the loop guard never sees: the whole process freezes.
    const frozen = await deployFunction(
      p,
      workspaceId,
      "backtrack",
      'export function handle() { return /^(a+)+\\1b$/.test("a".repeat(40)); }',
      { timeoutMs: 5000, maxRetries: 0 },
    );
    const before = await status();
    const queued = await ok(api(p, "POST", `/api/functions/${frozen.fn.id}/invoke`, { async: true }), 202);
    const sentAt = Date.now();
    await until(healthy, (s) => s === 0, 10_000);
    await until(healthy, (s) => s === 200, 30_000);
    const answeredAfterMs = Date.now() - sentAt;
    expect(answeredAfterMs).toBeLessThan(10_000);
    const call = await until(
      () => ok(api(p, "GET", `/api/calls/${queued.callId}`)),
      (c) => c.status !== "queued" && c.status !== "running",
      30_000,
    );
    expect(call).toMatchObject({ status: "timeout", error: { name: "TimeoutError", code: "native_stall" } });
    const after = await status();
    expect(after.recoveries.at(-1)).toMatchObject({ reason: "stall", stalled: { id: queued.callId }, done: true });
    expect(after.restarts).toBe(before.restarts + 1);
    console.log(`watchdog: ${JSON.stringify({ regexAnsweredAfterMs: answeredAfterMs })}`);
  });

  it("a synchronous call that freezes it ends timeout with its record; calls of others in flight are cut short or run again", async () => {
    const frozen = await deployFunction(
      p,
      workspaceId,
      "backtrack-sync",
      'export async function handle() { await new Promise((r) => setTimeout(r, 300)); return /^(a+)+\\1b$/.test("a".repeat(40)); }',
      { timeoutMs: 10_000, maxRetries: 0 },
    );
    // Bystanders: a slow synchronous call and an async call, both waiting on a timer while the freeze comes.
    const slow = await deployFunction(
      p,
      workspaceId,
      "slow-bystander",
      "export async function handle(d) { await new Promise((r) => setTimeout(r, 1500)); return d; }",
      { timeoutMs: 10_000, maxRetries: 2 },
    );
    const before = await status();
    const bystanderAsync = await ok(
      api(p, "POST", `/api/functions/${slow.fn.id}/invoke`, { args: "async", async: true }),
      202,
    );
    await sleep(200);
    const bystanderSync = fetch(`${p.url}/api/functions/${slow.fn.id}/invoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${p.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ args: "sync" }),
    }).then(
      (r) => r.status,
      () => "connection lost",
    );
    const culprit = fetch(`${p.url}/api/functions/${frozen.fn.id}/invoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${p.adminKey}`, "content-type": "application/json" },
      body: "{}",
    }).then(
      (r) => r.status,
      () => "connection lost",
    );
    const sentAt = Date.now();
    await until(healthy, (s) => s === 0, 10_000);
    await until(healthy, (s) => s === 200, 30_000);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    // Both synchronous callers saw their connection drop (the runtime that held it is gone).
    expect(await culprit).toBe("connection lost");
    expect(await bystanderSync).toBe("connection lost");

    const recovery = await until(
      status,
      (s) => s.recoveries.length > before.recoveries.length && s.recoveries.at(-1)?.done === true,
      30_000,
    );
    expect(recovery.recoveries.at(-1)?.stalled?.functionId).toBe(frozen.fn.id);
    // The culprit's record: timeout, saying why.
    const culpritCalls = await until(
      () => ok(api(p, "GET", `/api/functions/${frozen.fn.id}/calls`)),
      (page) => page.data.length > 0,
      30_000,
    );
    expect(culpritCalls.data).toHaveLength(1);
    expect(culpritCalls.data[0]).toMatchObject({ status: "timeout", error: { code: "native_stall" } });
    // The synchronous bystander: recorded as cut short by the restart (a retryable platform error), not lost.
    const slowCalls = await until(
      () => ok(api(p, "GET", `/api/functions/${slow.fn.id}/calls`)),
      (page) => page.data.some((c: any) => c.id !== bystanderAsync.callId),
      30_000,
    );
    const sync = slowCalls.data.find((c: any) => c.id !== bystanderAsync.callId);
    expect(sync).toMatchObject({ status: "failed", error: { name: "PlatformError", code: "runtime_restarted" } });
    // The async bystander was queued again and completes.
    const again = await until(
      () => ok(api(p, "GET", `/api/calls/${bystanderAsync.callId}`)),
      (c) => c.status === "completed" || c.status === "failed",
      60_000,
    );
    expect(again.status).toBe("completed");
    expect(await ok(api(p, "GET", `/api/calls/${bystanderAsync.callId}/response`))).toMatchObject({
      response: "async",
    });
  });
});
