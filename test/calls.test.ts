/**
 * Call records as a user reads them after a call: the record's fields, where the result is kept, the logs
 * (levels, order, what came before a throw or a timeout, the per-call cap, concurrent calls kept apart), the
 * list with its filters and pages, metrics, deleting, the lost-call and retention sweeps, and who may see what.
 * Async calls, retries and idempotency are in calls.async.test.ts.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { sweepLostCalls, sweepOldCalls } from "../src/domain/calls/sweep";
import { getDb } from "../src/storage/db";
import {
  ADMIN_KEY,
  api,
  expectError,
  expectStatus,
  newFunction,
  newKey,
  newWorkspace,
  tenant,
  type Workspace,
} from "./support/api";
import { logsOf, waitForCall } from "./support/calls";
import { deploy, invoke } from "./support/deploy";

const DAY = 86_400_000;
/** A sync invoke that answers 200, plus its record once written. */
async function call(fnId: string, args?: unknown, extra: Record<string, unknown> = {}) {
  const res = expectStatus(await invoke(fnId, args, extra), 200);
  return { res, record: await waitForCall(res.callId) };
}

const bytes = (s: string) => new TextEncoder().encode(s).byteLength;

/** One module for most tests: logs what it is told, waits, throws or returns what it is told. */
const KITCHEN_SINK = {
  "index.js": `
    export async function handle(d, ctx) {
      d = d ?? {};
      for (const [level, message] of d.logs ?? []) {
        if (level === "ctx") ctx.log(message);
        else console[level](message);
      }
      if (d.ms) await new Promise((r) => setTimeout(r, d.ms));
      if (d.after) console.log(d.after);
      if (d.throw) throw new TypeError(d.throw);
      if (d.big !== undefined) return "x".repeat(d.big);
      return d.echo === undefined ? { done: true } : d.echo;
    }`,
};

let ws: Workspace;
beforeAll(async () => {
  ws = await newWorkspace();
});

async function fnWith(files: Record<string, string> = KITCHEN_SINK, extra: Record<string, unknown> = {}) {
  const fn = await newFunction(ws.id, extra);
  const version = await deploy(fn.id, files);
  return { id: fn.id as string, versionId: version.id as string };
}

/** Writes a call row directly, for states a test cannot reach by calling (a call the runtime lost). */
async function insertCall(fn: { id: string }, workspaceId: string, fields: Record<string, unknown>) {
  const id = `call_${crypto.randomUUID().replaceAll("-", "")}`;
  const row: Record<string, unknown> = {
    id,
    function_id: fn.id,
    workspace_id: workspaceId,
    status: "completed",
    trigger: "api",
    created_at: Date.now(),
    ...fields,
  };
  const cols = Object.keys(row);
  await env.DB.prepare(`INSERT INTO calls (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`)
    .bind(...cols.map((c) => row[c]))
    .run();
  return id;
}

describe("calls: the record", () => {
  it("records a completed call with its function, version, trigger, times, attempt and sizes", async () => {
    const fn = await fnWith();
    const before = Date.now();
    const { res, record } = await call(fn.id, { echo: { hello: "world" } });
    expect(res.callId).toMatch(/^call_/);
    expect(record).toEqual({
      id: res.callId,
      functionId: fn.id,
      workspaceId: ws.id,
      versionId: fn.versionId,
      status: "completed",
      trigger: "api",
      attempt: 1,
      maxRetries: 0,
      createdAt: expect.any(String),
      scheduledAt: null,
      startTime: expect.any(String),
      endTime: expect.any(String),
      durationMs: res.durationMs,
      scheduleId: null,
      scheduledTime: null,
      error: null,
      argsSize: bytes(JSON.stringify({ echo: { hello: "world" } })),
      resultSize: bytes(JSON.stringify({ hello: "world" })),
      createdBy: expect.stringMatching(/^key_/),
      http: null,
    });
    const start = Date.parse(record.startTime);
    const end = Date.parse(record.endTime);
    expect(start).toBeGreaterThanOrEqual(before);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(end - start).toBe(record.durationMs);
    expect(Date.parse(record.createdAt)).toBe(start);

    expect(expectStatus(await api("GET", `/api/calls/${res.callId}/response`), 200)).toEqual({
      functionId: fn.id,
      callId: res.callId,
      response: { hello: "world" },
    });
    // No args at all count as JSON null.
    const { record: bare } = await call(fn.id);
    expect(bare.argsSize).toBe(4);
  });

  it("gives the function a lastCalledAt: null until called, then the start of its latest call, to the second", async () => {
    const fn = await fnWith();
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}`), 200).lastCalledAt).toBeNull();
    const first = await call(fn.id);
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}`), 200).lastCalledAt).toBe(first.record.startTime);
    // A call within the same second need not rewrite it; one more than a second later does.
    await call(fn.id);
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}`), 200).lastCalledAt).toBe(first.record.startTime);
    await new Promise((r) => setTimeout(r, 1_100));
    const later = await call(fn.id);
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}`), 200).lastCalledAt).toBe(later.record.startTime);
  });

  it("records a thrown error with name, message and the user's stack, and a null response", async () => {
    const fn = await fnWith();
    const { res, record } = await call(fn.id, { throw: "bad input" });
    expect(res).toMatchObject({ ok: false, status: "failed" });
    expect(record).toMatchObject({ status: "failed", resultSize: null });
    expect(record.error).toEqual({ name: "TypeError", message: "bad input", stack: expect.any(String) });
    expect(record.error.stack.split("\n")[0]).toBe("TypeError: bad input");
    expect(record.error.stack).toMatch(/handle \(index\.js:\d+:\d+\)/);
    expect(record.error.stack).not.toContain("__edgefn");
    expect(expectStatus(await api("GET", `/api/calls/${res.callId}/response`), 200)).toEqual({
      functionId: fn.id,
      callId: res.callId,
      response: null,
    });
  });

  it("records a timeout as status timeout with a TimeoutError", async () => {
    const fn = await fnWith(KITCHEN_SINK, { timeoutMs: 300 });
    const { res, record } = await call(fn.id, { ms: 5000 });
    expect(res).toMatchObject({ ok: false, status: "timeout" });
    expect(record).toMatchObject({
      status: "timeout",
      error: { name: "TimeoutError", message: "The call did not finish within 300 ms" },
      resultSize: null,
    });
    expect(record.durationMs).toBeGreaterThanOrEqual(300);
    expect(record.durationMs).toBeLessThan(5000);
  });

  it("keeps a result up to 64 KiB in the record and a larger one in R2, answering both alike", async () => {
    const fn = await fnWith();
    // A string of n characters is n + 2 bytes of JSON.
    const inline = await call(fn.id, { big: 64 * 1024 - 2 });
    const large = await call(fn.id, { big: 64 * 1024 - 1 });
    expect(inline.record.resultSize).toBe(64 * 1024);
    expect(large.record.resultSize).toBe(64 * 1024 + 1);
    expect(await env.CODE.head(`results/${inline.res.callId}`)).toBeNull();
    const stored = await env.CODE.get(`results/${large.res.callId}`);
    expect(await stored?.text()).toBe(JSON.stringify("x".repeat(64 * 1024 - 1)));
    for (const [c, n] of [
      [inline, 64 * 1024 - 2],
      [large, 64 * 1024 - 1],
    ] as const) {
      const body = expectStatus(await api("GET", `/api/calls/${c.res.callId}/response`), 200);
      expect(body.response).toBe("x".repeat(n));
    }
  });

  it("answers 404 for a call that does not exist, and 409 for the response of a call still queued", async () => {
    expectError(await api("GET", "/api/calls/call_doesnotexist"), 404, "not_found");
    expectError(await api("GET", "/api/calls/call_doesnotexist/logs"), 404, "not_found");
    expectError(await api("GET", "/api/calls/call_doesnotexist/response"), 404, "not_found");
    const fn = await fnWith();
    const queued = expectStatus(
      await invoke(fn.id, undefined, { scheduledAt: new Date(Date.now() + DAY).toISOString() }),
      202,
    );
    const err = expectError(await api("GET", `/api/calls/${queued.callId}/response`), 409, "conflict");
    expect(err.message).toContain("queued");
    expectStatus(await api("POST", `/api/calls/${queued.callId}/cancel`), 200);
  });
});

describe("calls: logs", () => {
  it("captures console.* and ctx.log in order, with levels and timestamps", async () => {
    const fn = await fnWith();
    const { res, record } = await call(fn.id, {
      logs: [
        ["log", "plain log"],
        ["info", "some info"],
        ["warn", "a warning"],
        ["error", "an error"],
        ["debug", "debugging"],
        ["ctx", "through ctx.log"],
      ],
    });
    const logs = await logsOf(res.callId);
    expect(logs.truncated).toBe(false);
    expect(logs.items.map((l: any) => [l.level, l.message])).toEqual([
      ["info", "plain log"],
      ["info", "some info"],
      ["warn", "a warning"],
      ["error", "an error"],
      ["debug", "debugging"],
      ["info", "through ctx.log"],
    ]);
    const times = logs.items.map((l: any) => Date.parse(l.timestamp));
    for (const [i, l] of logs.items.entries()) expect(l.timestamp, l.message).toBe(new Date(times[i]).toISOString());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times[0]).toBeGreaterThanOrEqual(Date.parse(record.createdAt) - 1000);
    expect(times[times.length - 1]).toBeLessThanOrEqual(Date.parse(record.endTime) + 1000);
  });

  it("formats what is logged: objects as JSON, several arguments joined by spaces, errors with their stack", async () => {
    const fn = await fnWith({
      "index.js": `
        export async function handle() {
          console.log("count", 3, { a: [1, 2] }, null, true);
          console.error(new RangeError("out of range"));
          return 1;
        }`,
    });
    const { res } = await call(fn.id);
    const { items } = await logsOf(res.callId);
    expect(items[0]).toMatchObject({ level: "info", message: 'count 3 {"a":[1,2]} null true' });
    expect(items[1].level).toBe("error");
    expect(items[1].message.split("\n")[0]).toBe("RangeError: out of range");
  });

  it("keeps what was logged before an uncaught throw", async () => {
    const fn = await fnWith();
    const { res } = await call(fn.id, {
      logs: [
        ["log", "step 1"],
        ["warn", "step 2"],
      ],
      throw: "boom",
    });
    expect(res.status).toBe("failed");
    expect((await logsOf(res.callId)).items.map((l: any) => l.message)).toEqual(["step 1", "step 2"]);
  });

  it("keeps what was logged before a timeout, and nothing the call logs after it was given up on", async () => {
    const fn = await fnWith(KITCHEN_SINK, { timeoutMs: 300 });
    const { res } = await call(fn.id, { logs: [["log", "before the wait"]], ms: 1000, after: "after the wait" });
    expect(res.status).toBe("timeout");
    // Let the abandoned run finish in its isolate: its late line must not reach the record.
    await new Promise((r) => setTimeout(r, 1000));
    const logs = await logsOf(res.callId);
    expect(logs).toEqual({
      items: [{ timestamp: expect.any(String), level: "info", message: "before the wait" }],
      truncated: false,
    });
  });

  it("never mixes the logs of concurrent calls in one isolate", async () => {
    const fn = await fnWith({
      "index.js": `
        export async function handle(d, ctx) {
          for (let i = 0; i < 5; i++) {
            console.log(d.tag + " line " + i);
            await new Promise((r) => setTimeout(r, 1 + ((i * 7 + d.n) % 5)));
            if (i === 2) ctx.log(d.tag + " via ctx");
          }
          return d.tag;
        }`,
    });
    const tags = Array.from({ length: 10 }, (_, n) => ({ n, tag: `call-${n}` }));
    const answers = await Promise.all(tags.map((t) => invoke(fn.id, t)));
    for (const [i, a] of answers.entries()) {
      const res = expectStatus(a, 200);
      expect(res.result).toBe(`call-${i}`);
      await waitForCall(res.callId);
      const { items } = await logsOf(res.callId);
      expect(items.map((l: any) => l.message)).toEqual([
        `call-${i} line 0`,
        `call-${i} line 1`,
        `call-${i} line 2`,
        `call-${i} via ctx`,
        `call-${i} line 3`,
        `call-${i} line 4`,
      ]);
    }
  });

  it("caps a call's logs at 256 KiB with a visible truncation marker, and the call still completes", async () => {
    const fn = await fnWith({
      "index.js": `
        export async function handle() {
          const line = "x".repeat(1024);
          for (let i = 0; i < 300; i++) console.log(line);
          console.log("the very last line");
          return "done";
        }`,
    });
    const { res, record } = await call(fn.id);
    expect(res).toMatchObject({ ok: true, result: "done" });
    expect(record.status).toBe("completed");
    const logs = await logsOf(res.callId);
    expect(logs.truncated).toBe(true);
    // Each line costs its text plus 32 bytes: 248 lines of 1 KiB fit in 256 KiB; the marker follows them.
    const fit = Math.floor(262144 / (1024 + 32));
    expect(logs.items).toHaveLength(fit + 1);
    expect(logs.items.slice(0, fit).every((l: any) => l.message.length === 1024)).toBe(true);
    expect(logs.items[fit]).toMatchObject({
      level: "warn",
      message: "[edgefn] log output truncated at 2000 lines or 262144 bytes",
    });
    expect(logs.items.some((l: any) => l.message === "the very last line")).toBe(false);
  });

  it("answers an empty list for a call that logged nothing", async () => {
    const fn = await fnWith();
    const { res } = await call(fn.id);
    expect(await logsOf(res.callId)).toEqual({ items: [], truncated: false });
  });
});

describe("calls: list", () => {
  let fn: { id: string; versionId: string };
  let v2: string;
  /** Oldest first: [ok, fail, ok on v2, fail on v2, timeout]. */
  const made: any[] = [];

  beforeAll(async () => {
    fn = await fnWith(KITCHEN_SINK, { timeoutMs: 300 });
    v2 = (await deploy(fn.id, { "index.js": `${KITCHEN_SINK["index.js"]}\n// v2` }, { activate: false })).id;
    const plan: [unknown, Record<string, unknown>][] = [
      [{ ms: 5 }, {}],
      [{ throw: "no" }, {}],
      [{ ms: 30 }, { versionId: v2 }],
      [{ throw: "no" }, { versionId: v2 }],
      [{ ms: 5000 }, {}],
    ];
    for (const [args, extra] of plan) {
      made.push((await call(fn.id, args, extra)).record);
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  const list = async (query: Record<string, string> = {}, key = ADMIN_KEY) =>
    expectStatus(await api("GET", `/api/functions/${fn.id}/calls?${new URLSearchParams(query)}`, { key }), 200);
  const ids = (page: any) => page.data.map((c: any) => c.id);

  it("lists a function's calls newest first with the record's fields and a total", async () => {
    const page = await list();
    expect(ids(page)).toEqual(made.map((c) => c.id).reverse());
    expect(page.data[0]).toEqual(made[4]);
    expect(page.pageInfo).toMatchObject({ total: 5, hasNextPage: false, hasPreviousPage: false });
  });

  it("filters by status, trigger, versionId and scheduleId", async () => {
    expect(ids(await list({ status: "failed" }))).toEqual([made[3].id, made[1].id]);
    expect(ids(await list({ status: "timeout" }))).toEqual([made[4].id]);
    expect(ids(await list({ status: "queued" }))).toEqual([]);
    expect((await list({ trigger: "api" })).pageInfo.total).toBe(5);
    expect(ids(await list({ trigger: "schedule" }))).toEqual([]);
    expect(ids(await list({ versionId: v2 }))).toEqual([made[3].id, made[2].id]);
    expect(ids(await list({ versionId: fn.versionId, status: "completed" }))).toEqual([made[0].id]);
    expect(ids(await list({ scheduleId: "sch_none" }))).toEqual([]);
    const bad = expectError(await api("GET", `/api/functions/${fn.id}/calls?status=done`), 400, "bad_request");
    expect(bad.message).toBe("status must be one of queued, running, completed, failed, timeout, canceled");
    expectError(await api("GET", `/api/functions/${fn.id}/calls?trigger=cron`), 400, "bad_request");
  });

  it("filters by startTime and endTime ranges, both ends inclusive", async () => {
    const start = (i: number) => made[i].startTime;
    expect(ids(await list({ startTime: JSON.stringify({ min: start(2) }) }))).toEqual(
      [made[2], made[3], made[4]].map((c) => c.id).reverse(),
    );
    expect(ids(await list({ startTime: JSON.stringify({ min: start(1), max: start(3) }) }))).toEqual(
      [made[1], made[2], made[3]].map((c) => c.id).reverse(),
    );
    // Epoch milliseconds work as well as ISO times.
    expect(ids(await list({ endTime: JSON.stringify({ max: Date.parse(made[0].endTime) }) }))).toEqual([made[0].id]);
    expect(ids(await list({ startTime: JSON.stringify({ min: Date.now() + DAY }) }))).toEqual([]);
    for (const startTime of ["not json", "[1]", '{"from":1}', '{"min":"yesterday"}']) {
      expectError(
        await api("GET", `/api/functions/${fn.id}/calls?startTime=${encodeURIComponent(startTime)}`),
        400,
        "bad_request",
      );
    }
  });

  it("pages by keyset, forwards and back, without gaps or repeats", async () => {
    const seen: string[] = [];
    let page = await list({ limit: "2" });
    seen.push(...ids(page));
    expect(page.pageInfo).toMatchObject({ total: 5, hasNextPage: true, hasPreviousPage: false });
    for (let i = 0; page.pageInfo.hasNextPage && i < 5; i++) {
      page = await list({ limit: "2", after: page.pageInfo.endCursor });
      seen.push(...ids(page));
    }
    expect(seen).toEqual(made.map((c) => c.id).reverse());
    expect(ids(page)).toEqual([made[0].id]);
    const back = await list({ limit: "2", before: page.pageInfo.startCursor });
    expect(ids(back)).toEqual([made[2].id, made[1].id]);
    expect(back.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it("orders by orderBy, and pages through that order too", async () => {
    const byDuration = await list({ orderBy: JSON.stringify([{ durationMs: "desc" }]) });
    const durations = byDuration.data.map((c: any) => c.durationMs);
    expect(durations).toEqual([...durations].sort((a, b) => b - a));
    expect(byDuration.data[0].id).toBe(made[4].id);

    for (const field of ["startTime", "endTime", "createdAt", "durationMs"]) {
      const seen: string[] = [];
      let page = await list({ limit: "2", orderBy: JSON.stringify([{ [field]: "asc" }]) });
      seen.push(...ids(page));
      for (let i = 0; page.pageInfo.hasNextPage && i < 5; i++) {
        page = await list({
          limit: "2",
          orderBy: JSON.stringify([{ [field]: "asc" }]),
          after: page.pageInfo.endCursor,
        });
        seen.push(...ids(page));
      }
      const all = ids(await list({ orderBy: JSON.stringify([{ [field]: "asc" }]) }));
      expect(seen, field).toEqual(all);
      expect(new Set(seen).size, field).toBe(5);
    }
    expectError(
      await api("GET", `/api/functions/${fn.id}/calls?orderBy=${encodeURIComponent('[{"args":"asc"}]')}`),
      400,
      "bad_request",
    );
  });

  it("answers 404 for the calls of a function that does not exist", async () => {
    expectError(await api("GET", "/api/functions/fun_nothere/calls"), 404, "not_found");
  });
});

describe("calls: metrics", () => {
  it("counts calls by status, with the error rate, duration percentiles and buckets", async () => {
    const fn = await fnWith(KITCHEN_SINK, { timeoutMs: 500 });
    const plan = [...Array(6).fill({}), { ms: 300 }, { throw: "x" }, { throw: "y" }, { ms: 5000 }];
    await Promise.all(plan.map((args) => call(fn.id, args)));
    expectStatus(await invoke(fn.id, undefined, { scheduledAt: new Date(Date.now() + DAY).toISOString() }), 202);

    const m = expectStatus(await api("GET", `/api/functions/${fn.id}/metrics?window=1h`), 200);
    expect(m).toMatchObject({
      functionId: fn.id,
      window: "1h",
      total: 11,
      counts: { queued: 1, running: 0, completed: 7, failed: 2, timeout: 1, canceled: 0 },
      errorRate: 0.3,
      bucketSeconds: 60,
    });
    expect(Date.parse(m.to) - Date.parse(m.from)).toBe(3_600_000);
    // Percentiles by rank among the 10 finished calls' durations.
    const records = expectStatus(await api("GET", `/api/functions/${fn.id}/calls`), 200).data;
    const sorted = records
      .filter((c: any) => c.status !== "queued")
      .map((c: any) => c.durationMs)
      .sort((a: number, b: number) => a - b);
    expect(sorted).toHaveLength(10);
    expect(m.durationMs).toEqual({ p50: sorted[4], p95: sorted[9], p99: sorted[9] });
    expect(m.durationMs.p95).toBeGreaterThanOrEqual(500);
    expect(m.durationMs.p50).toBeLessThan(300);

    expect(m.buckets).toHaveLength(60);
    const sum = (k: string) => m.buckets.reduce((n: number, b: any) => n + b[k], 0);
    expect([sum("total"), sum("completed"), sum("failed"), sum("timeout")]).toEqual([11, 7, 2, 1]);
    expect(Date.parse(m.buckets[0].start)).toBe(Date.parse(m.from));
    expect(Date.parse(m.buckets[1].start) - Date.parse(m.buckets[0].start)).toBe(60_000);

    const day = expectStatus(await api("GET", `/api/functions/${fn.id}/metrics?window=24h`), 200);
    expect(day).toMatchObject({ total: 11, bucketSeconds: 900 });
    expect(day.buckets).toHaveLength(96);
    const week = expectStatus(await api("GET", `/api/functions/${fn.id}/metrics?window=7d`), 200);
    expect(week).toMatchObject({ total: 11, bucketSeconds: 3600 });
    expect(week.buckets).toHaveLength(168);
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}/metrics`), 200).window).toBe("24h");
    expectError(await api("GET", `/api/functions/${fn.id}/metrics?window=2h`), 400, "bad_request");
  });

  it("answers zeros and null percentiles for a function never called", async () => {
    const fn = await fnWith();
    const m = expectStatus(await api("GET", `/api/functions/${fn.id}/metrics?window=1h`), 200);
    expect(m).toMatchObject({
      total: 0,
      counts: { queued: 0, running: 0, completed: 0, failed: 0, timeout: 0, canceled: 0 },
      errorRate: 0,
      durationMs: { p50: null, p95: null, p99: null },
    });
    expect(m.buckets.every((b: any) => b.total === 0)).toBe(true);
  });
});

describe("calls: delete", () => {
  it("deletes a call with its logs and its R2 result", async () => {
    const fn = await fnWith();
    const { res } = await call(fn.id, { logs: [["log", "kept until deleted"]], big: 70_000 });
    expect(await env.CODE.head(`results/${res.callId}`)).not.toBeNull();
    expect(expectStatus(await api("DELETE", `/api/calls/${res.callId}`), 200)).toEqual({ success: true });
    expectError(await api("GET", `/api/calls/${res.callId}`), 404, "not_found");
    expectError(await api("GET", `/api/calls/${res.callId}/logs`), 404, "not_found");
    expect(await env.CODE.head(`results/${res.callId}`)).toBeNull();
    const logRows = await env.DB.prepare("SELECT COUNT(*) AS n FROM call_logs WHERE call_id = ?")
      .bind(res.callId)
      .first<{ n: number }>();
    expect(logRows?.n).toBe(0);
    expectError(await api("DELETE", `/api/calls/${res.callId}`), 404, "not_found");
  });

  it("deletes a function's calls when the function is purged", async () => {
    const fn = await fnWith();
    const a = await call(fn.id, { logs: [["log", "a"]] });
    const b = await call(fn.id, { big: 70_000 });
    expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
    // Soft-deleted: its calls are still there.
    expectStatus(await api("GET", `/api/calls/${a.res.callId}`), 200);
    expectStatus(await api("DELETE", `/api/functions/${fn.id}/purge`), 200);
    for (const id of [a.res.callId, b.res.callId]) expectError(await api("GET", `/api/calls/${id}`), 404, "not_found");
    expect(await env.CODE.head(`results/${b.res.callId}`)).toBeNull();
    const left = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM calls WHERE function_id = ?1) + (SELECT COUNT(*) FROM call_logs WHERE call_id IN (?2, ?3)) AS n",
    )
      .bind(fn.id, a.res.callId, b.res.callId)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("calls: the lost-call sweep", () => {
  it("fails a call still running past its deadline as lost, and leaves one within its deadline running", async () => {
    const fn = await fnWith();
    const now = Date.now();
    const lost = await insertCall(fn, ws.id, { status: "running", started_at: now - 200_000, deadline_at: now - 1 });
    const alive = await insertCall(fn, ws.id, { status: "running", started_at: now, deadline_at: now + 60_000 });

    // A running call can be neither deleted nor canceled.
    expectError(await api("DELETE", `/api/calls/${lost}`), 409, "conflict");
    expectError(await api("POST", `/api/calls/${lost}/cancel`), 409, "conflict");
    expectError(await api("GET", `/api/calls/${lost}/response`), 409, "conflict");

    expect(await sweepLostCalls(getDb(env.DB), Date.now())).toBeGreaterThanOrEqual(1);
    const swept = expectStatus(await api("GET", `/api/calls/${lost}`), 200);
    expect(swept).toMatchObject({
      status: "failed",
      error: {
        name: "LostError",
        message: "The call was lost: it was still running long after its timeout (the runtime restarted or stopped)",
      },
    });
    expect(Date.parse(swept.endTime)).toBeGreaterThanOrEqual(now);
    expect(expectStatus(await api("GET", `/api/calls/${alive}`), 200).status).toBe("running");
    expect(expectStatus(await api("GET", `/api/calls/${lost}/response`), 200).response).toBeNull();
    // Sweeping again changes nothing.
    await sweepLostCalls(getDb(env.DB), Date.now());
    expect(expectStatus(await api("GET", `/api/calls/${lost}`), 200).endTime).toBe(swept.endTime);
  });

  it("keeps a lost call lost when the run the sweeper gave up on ends after all", async () => {
    const fn = await fnWith();
    const queued = expectStatus(await invoke(fn.id, { ms: 1_500, echo: "late" }, { async: true }), 202);
    for (let i = 0; i < 200; i++) {
      if (expectStatus(await api("GET", `/api/calls/${queued.callId}`), 200).status === "running") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await env.DB.prepare("UPDATE calls SET deadline_at = ? WHERE id = ?")
      .bind(Date.now() - 1, queued.callId)
      .run();
    expect(await sweepLostCalls(getDb(env.DB), Date.now())).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(expectStatus(await api("GET", `/api/calls/${queued.callId}`), 200)).toMatchObject({
      status: "failed",
      error: { name: "LostError" },
    });
  });

  it("is run by the worker's cron trigger", async () => {
    const fn = await fnWith();
    const now = Date.now();
    const lost = await insertCall(fn, ws.id, { status: "running", started_at: now - 200_000, deadline_at: now - 1 });
    await runCron(now);
    expect(expectStatus(await api("GET", `/api/calls/${lost}`), 200)).toMatchObject({
      status: "failed",
      error: { name: "LostError" },
    });
  });

  it("leaves a lost call's missing duration out of the percentiles", async () => {
    const fn = await fnWith();
    const { record } = await call(fn.id);
    const now = Date.now();
    await insertCall(fn, ws.id, { status: "running", started_at: now - 200_000, deadline_at: now - 1 });
    await sweepLostCalls(getDb(env.DB), Date.now());
    const m = expectStatus(await api("GET", `/api/functions/${fn.id}/metrics?window=1h`), 200);
    expect(m).toMatchObject({ total: 2, counts: { completed: 1, failed: 1 }, errorRate: 0.5 });
    expect(m.durationMs).toEqual({ p50: record.durationMs, p95: record.durationMs, p99: record.durationMs });
  });
});

async function runCron(scheduledTime: number) {
  const { default: worker } = await import("../src/index");
  const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import("cloudflare:test");
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("calls: retention", () => {
  const age = (callId: string, days: number) =>
    env.DB.prepare("UPDATE calls SET created_at = ? WHERE id = ?")
      .bind(Date.now() - days * DAY, callId)
      .run();

  it("deletes calls, logs and R2 results older than the workspace's callRetentionDays (default 14)", async () => {
    const mine = await newWorkspace();
    expect(mine).toMatchObject({ callRetentionDays: 14 });
    const fn = await newFunction(mine.id);
    await deploy(fn.id, KITCHEN_SINK);
    const old = await call(fn.id, { logs: [["log", "old"]], big: 70_000 });
    const recent = await call(fn.id, { logs: [["log", "recent"]] });
    const queued = expectStatus(
      await invoke(fn.id, undefined, { scheduledAt: new Date(Date.now() + DAY).toISOString() }),
      202,
    ).callId;
    await age(old.res.callId, 15);
    await age(recent.res.callId, 13);
    // A call not over yet is kept whatever its age.
    await age(queued, 30);

    await runCron(Date.now());
    expectError(await api("GET", `/api/calls/${old.res.callId}`), 404, "not_found");
    expectError(await api("GET", `/api/calls/${old.res.callId}/logs`), 404, "not_found");
    expect(await env.CODE.head(`results/${old.res.callId}`)).toBeNull();
    const logRow = await env.DB.prepare("SELECT COUNT(*) AS n FROM call_logs WHERE call_id = ?")
      .bind(old.res.callId)
      .first<{ n: number }>();
    expect(logRow?.n).toBe(0);
    expectStatus(await api("GET", `/api/calls/${recent.res.callId}`), 200);
    expect((await logsOf(recent.res.callId)).items.map((l: any) => l.message)).toEqual(["recent"]);
    expect(expectStatus(await api("GET", `/api/calls/${queued}`), 200).status).toBe("queued");
    expectStatus(await api("POST", `/api/calls/${queued}/cancel`), 200);
  });

  it("follows a retention changed with PATCH /api/workspaces/{id}", async () => {
    const short = await newWorkspace();
    const long = await newWorkspace();
    expect(
      expectStatus(await api("PATCH", `/api/workspaces/${short.id}`, { body: { callRetentionDays: 1 } }), 200),
    ).toMatchObject({ callRetentionDays: 1 });
    expect(expectStatus(await api("GET", `/api/workspaces/${short.id}`), 200).callRetentionDays).toBe(1);
    for (const bad of [0, 366, 1.5]) {
      expectError(
        await api("PATCH", `/api/workspaces/${short.id}`, { body: { callRetentionDays: bad } }),
        400,
        "bad_request",
      );
    }
    const made: Record<string, string> = {};
    for (const [name, w] of [
      ["short", short],
      ["long", long],
    ] as const) {
      const fn = await newFunction(w.id);
      await deploy(fn.id, KITCHEN_SINK);
      made[name] = (await call(fn.id)).res.callId;
      await age(made[name]!, 2);
    }
    await sweepOldCalls(getDb(env.DB), env, Date.now());
    expectError(await api("GET", `/api/calls/${made.short}`), 404, "not_found");
    expectStatus(await api("GET", `/api/calls/${made.long}`), 200);
  });

  it("deletes in bounded batches: a sweep removes at most 10,000 calls, the next one goes on", async () => {
    const w = await newWorkspace();
    const fn = await newFunction(w.id);
    const old = Date.now() - 20 * DAY;
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10500)
       INSERT INTO calls (id, function_id, workspace_id, status, trigger, created_at)
       SELECT printf('call_bulk%s_%05d', ?1, i), ?2, ?3, 'completed', 'api', ?4 FROM n`,
    )
      .bind(crypto.randomUUID().slice(0, 8), fn.id, w.id, old)
      .run();
    const left = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM calls WHERE workspace_id = ?").bind(w.id).first<{ n: number }>())
        ?.n;
    expect(await left()).toBe(10500);
    expect(await sweepOldCalls(getDb(env.DB), env, Date.now())).toBe(10_000);
    expect(await left()).toBe(500);
    expect(await sweepOldCalls(getDb(env.DB), env, Date.now())).toBe(500);
    expect(await left()).toBe(0);
  });
});

describe("calls: workspace walls and roles", () => {
  it("answers 404 on every call route to another workspace's key, as if the call did not exist", async () => {
    const a = await tenant();
    const b = await tenant();
    const fn = await newFunction(a.ws.id);
    await deploy(fn.id, KITCHEN_SINK);
    const done = (await call(fn.id, { logs: [["log", "secret of a"]] })).res.callId;
    const queued = expectStatus(
      await invoke(fn.id, undefined, { scheduledAt: new Date(Date.now() + DAY).toISOString() }),
      202,
    ).callId;
    const reads = [
      ["GET", `/api/calls/${done}`],
      ["GET", `/api/calls/${done}/response`],
      ["GET", `/api/calls/${done}/logs`],
      ["GET", `/api/functions/${fn.id}/calls`],
      ["GET", `/api/functions/${fn.id}/metrics`],
    ] as const;
    const writes = [
      ["DELETE", `/api/calls/${done}`],
      ["POST", `/api/calls/${queued}/cancel`],
    ] as const;
    // A key with the role a route needs, of another workspace: 404, as for a call that does not exist.
    for (const [key, routes] of [
      [b.keys.admin, [...reads, ...writes]],
      [b.keys.developer, [...reads, ...writes]],
      [b.keys.viewer, reads],
    ] as const) {
      for (const [method, path] of routes) {
        const err = expectError(await api(method, path, { key }), 404, "not_found");
        expect(err.message, `${method} ${path}`).not.toContain("secret");
      }
    }
    // Nothing changed.
    expect(expectStatus(await api("GET", `/api/calls/${done}`), 200).status).toBe("completed");
    expect(expectStatus(await api("GET", `/api/calls/${queued}`), 200).status).toBe("queued");
    expectStatus(await api("POST", `/api/calls/${queued}/cancel`), 200);
  });

  it("lets a viewer read calls but not delete or cancel them, an invoker cancel, and a developer delete", async () => {
    const { ws: own, keys } = await tenant();
    const fn = await newFunction(own.id);
    await deploy(fn.id, KITCHEN_SINK);
    const done = (await call(fn.id, { logs: [["log", "hi"]] })).res.callId;
    const queued = expectStatus(
      await invoke(fn.id, undefined, { scheduledAt: new Date(Date.now() + DAY).toISOString() }),
      202,
    ).callId;

    expect(expectStatus(await api("GET", `/api/calls/${done}`, { key: keys.viewer }), 200).id).toBe(done);
    expect(expectStatus(await api("GET", `/api/calls/${done}/response`, { key: keys.viewer }), 200).callId).toBe(done);
    expect((await logsOf(done, keys.viewer)).items).toHaveLength(1);
    expect(
      expectStatus(await api("GET", `/api/functions/${fn.id}/calls`, { key: keys.viewer }), 200).pageInfo.total,
    ).toBe(2);
    expectStatus(await api("GET", `/api/functions/${fn.id}/metrics`, { key: keys.viewer }), 200);

    expectError(await api("DELETE", `/api/calls/${done}`, { key: keys.viewer }), 403, "forbidden");
    expectError(await api("POST", `/api/calls/${queued}/cancel`, { key: keys.viewer }), 403, "forbidden");
    expectError(await api("DELETE", `/api/calls/${done}`, { key: keys.invoker }), 403, "forbidden");

    const canceled = expectStatus(await api("POST", `/api/calls/${queued}/cancel`, { key: keys.invoker }), 200);
    expect(canceled).toMatchObject({ id: queued, status: "canceled" });
    expect(expectStatus(await api("DELETE", `/api/calls/${done}`, { key: keys.developer }), 200)).toEqual({
      success: true,
    });
    expectError(await api("GET", `/api/calls/${done}`, { key: keys.viewer }), 404, "not_found");
    // A viewer key of every workspace reads them too.
    const globalViewer = await newKey("viewer", null);
    expect(expectStatus(await api("GET", `/api/calls/${queued}`, { key: globalViewer.key }), 200).status).toBe(
      "canceled",
    );
  });
});
