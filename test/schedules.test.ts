/**
 * Schedules: the API, and the dispatcher driven through the Worker's scheduled() with injected tick times
 * (overlapping ticks, a tick delivered twice, daylight-saving days, downtime, deleted and paused functions).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, expectError, expectStatus, newFunction, newWorkspace, tenant, unique } from "./support/api";
import { deploy } from "./support/deploy";

const MINUTE = 60_000;
const ECHO = {
  "index.js": "export function handle(data, ctx) { return { data, call: ctx.call }; }",
};

async function tick(scheduledTime: number) {
  const { default: worker } = await import("../src/index");
  const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import("cloudflare:test");
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function scheduledFunction() {
  const ws = await newWorkspace();
  const fn = await newFunction(ws.id);
  await deploy(fn.id, ECHO);
  return { ws, fn };
}

async function newSchedule(functionId: string, extra: Record<string, unknown> = {}) {
  return expectStatus(
    await api("POST", "/api/schedules", { body: { functionId, name: unique("every"), cron: "* * * * *", ...extra } }),
    201,
  );
}

/** Moves a schedule's next due time (as if it had been waiting since then). */
async function dueAt(scheduleId: string, at: number) {
  await env.DB.prepare("UPDATE schedules SET next_run_at = ? WHERE id = ?").bind(at, scheduleId).run();
}

async function nextRunAt(scheduleId: string) {
  return (await env.DB.prepare("SELECT next_run_at AS n FROM schedules WHERE id = ?").bind(scheduleId).first<{
    n: number;
  }>())!.n;
}

/** The times the schedule's calls were made for, in order. */
async function firedTimes(scheduleId: string): Promise<number[]> {
  const { results } = await env.DB.prepare(
    "SELECT scheduled_time AS t FROM calls WHERE schedule_id = ? ORDER BY scheduled_time",
  )
    .bind(scheduleId)
    .all<{ t: number }>();
  return results.map((r) => r.t);
}

const iso = (t: number) => new Date(t).toISOString();

async function waitForCall(callId: string) {
  for (let i = 0; i < 400; i++) {
    const res = await api("GET", `/api/calls/${callId}`);
    if (res.status === 200 && !["queued", "running"].includes(res.body.status)) return res.body;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`call ${callId} did not end`);
}

describe("schedules: the API", () => {
  it("creates a schedule with its description, next runs and no last run", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id, {
      name: "weekday-report",
      cron: "30 2 * * 1-5",
      timezone: "Europe/Oslo",
      data: { report: "daily" },
      description: "the morning report",
    });
    expect(s).toMatchObject({
      id: expect.stringMatching(/^sch_/),
      functionId: fn.id,
      name: "weekday-report",
      cron: "30 2 * * 1-5",
      timezone: "Europe/Oslo",
      when: "At 02:30, Monday through Friday",
      enabled: true,
      catchUp: "last",
      lastRun: null,
      description: "the morning report",
    });
    expect(s.nextRuns).toHaveLength(5);
    for (const t of s.nextRuns) {
      const local = new Intl.DateTimeFormat("en-GB", {
        timeZone: "Europe/Oslo",
        weekday: "short",
        hour: "2-digit",
        minute: "2-digit",
      }).format(new Date(t));
      expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 02:30$/);
      expect(Date.parse(t)).toBeGreaterThan(Date.now());
    }
    expect([...s.nextRuns].sort()).toEqual(s.nextRuns);
    expect(expectStatus(await api("GET", `/api/schedules/${s.id}`), 200)).toEqual(s);
    expect(expectStatus(await api("GET", `/api/schedules/${s.id}/input-data`), 200)).toEqual({
      id: s.id,
      data: { report: "daily" },
    });
    expect((await newSchedule(fn.id, { cron: "@hourly" })).when).toBe("Every hour");
    expect((await newSchedule(fn.id, { cron: "@daily" })).timezone).toBe("UTC");
  });

  it("keeps data over 64 KiB (in R2) and gives it back whole", async () => {
    const { fn } = await scheduledFunction();
    const big = { blob: "x".repeat(200_000) };
    const s = await newSchedule(fn.id, { data: big });
    expect(s.dataSize).toBeGreaterThan(200_000);
    expect(expectStatus(await api("GET", `/api/schedules/${s.id}/input-data`), 200).data).toEqual(big);
    // Every call of the schedule gets it, the data staying with the schedule after each call ends.
    for (const t of s.nextRuns.slice(0, 2)) await tick(Date.parse(t));
    const fired = expectStatus(await api("GET", `/api/functions/${fn.id}/calls?scheduleId=${s.id}`), 200).data;
    expect(fired).toHaveLength(2);
    for (const c of fired) {
      expect(await waitForCall(c.id)).toMatchObject({ status: "completed" });
      expect(expectStatus(await api("GET", `/api/calls/${c.id}/response`), 200).response.data).toEqual(big);
    }
    expect(expectStatus(await api("GET", `/api/schedules/${s.id}/input-data`), 200).data).toEqual(big);
  });

  it("changes, pauses and deletes a schedule", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id);
    const hourly = expectStatus(
      await api("PATCH", `/api/schedules/${s.id}`, { body: { cron: "0 * * * *", name: "hourly" } }),
      200,
    );
    expect(hourly).toMatchObject({ name: "hourly", cron: "0 * * * *", when: "Every hour" });
    for (const t of hourly.nextRuns) expect(new Date(t).getUTCMinutes()).toBe(0);
    const paused = expectStatus(await api("PATCH", `/api/schedules/${s.id}`, { body: { enabled: false } }), 200);
    expect(paused).toMatchObject({ enabled: false, nextRuns: [] });
    expectStatus(await api("DELETE", `/api/schedules/${s.id}`), 200);
    expectError(await api("GET", `/api/schedules/${s.id}`), 404, "not_found");
  });

  it("lists with filters and keyset pages", async () => {
    const { fn } = await scheduledFunction();
    const other = await scheduledFunction();
    const a = await newSchedule(fn.id, { name: "alpha-job", cron: "0 * * * *" });
    const b = await newSchedule(fn.id, { name: "beta-job", enabled: false });
    const c = await newSchedule(other.fn.id, { name: "alpha-other" });
    const list = async (q: Record<string, string>) =>
      expectStatus(await api("GET", `/api/schedules?${new URLSearchParams(q)}`), 200);
    const ids = (page: { data: { id: string }[] }) => page.data.map((s) => s.id);

    expect(ids(await list({ functionId: fn.id }))).toEqual([b.id, a.id]);
    expect(ids(await list({ functionId: fn.id, enabled: "false" }))).toEqual([b.id]);
    expect(ids(await list({ functionId: fn.id, cron: "0 * * * *" }))).toEqual([a.id]);
    expect(ids(await list({ name: "ALPHA" })).filter((id) => [a.id, b.id, c.id].includes(id))).toEqual([c.id, a.id]);
    expect(ids(await list({ functionId: fn.id, createdTime: JSON.stringify({ min: b.createdAt }) }))).toEqual([b.id]);
    const first = await list({ functionId: fn.id, limit: "1" });
    expect(ids(first)).toEqual([b.id]);
    expect(first.pageInfo).toMatchObject({ total: 2, hasNextPage: true });
    const second = await list({ functionId: fn.id, limit: "1", after: first.pageInfo.endCursor });
    expect(ids(second)).toEqual([a.id]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expectError(await api("GET", "/api/schedules?enabled=yes"), 400, "bad_request");
    expectError(await api("GET", `/api/schedules?createdTime=${encodeURIComponent('{"from":1}')}`), 400, "bad_request");
  });

  it("refuses a bad cron, an unknown time zone, too much data and a 101st schedule, saying which", async () => {
    const { fn } = await scheduledFunction();
    const bad = async (body: Record<string, unknown>, pattern: RegExp) => {
      const err = expectError(
        await api("POST", "/api/schedules", { body: { functionId: fn.id, name: "x", cron: "* * * * *", ...body } }),
        400,
        "bad_request",
      );
      expect(err.message).toMatch(pattern);
    };
    await bad({ cron: "61 * * * *" }, /cron: .*minute/i);
    await bad({ cron: "* * * * * *" }, /cron: expected 5 fields/);
    await bad({ cron: "@fortnightly" }, /cron: unknown macro/);
    await bad({ cron: "0 0 30 2 *" }, /cron: .*never fires/);
    await bad({ timezone: "Mars/Olympus" }, /timezone: 'Mars\/Olympus' is not an IANA time zone/);
    await bad({ data: "x".repeat(1024 * 1024) }, /data is larger than 1048576 bytes/);
    await bad({ enabled: "yes" }, /enabled/);
    expect(expectStatus(await api("GET", `/api/schedules?functionId=${fn.id}`), 200).pageInfo.total).toBe(0);

    await env.DB.batch(
      Array.from({ length: 100 }, (_, i) =>
        env.DB.prepare(
          "INSERT INTO schedules (id, function_id, workspace_id, name, cron, next_run_at, created_at, updated_at) VALUES (?, ?, ?, ?, '0 0 * * *', ?, ?, ?)",
        ).bind(
          `sch_bulk${String(i).padStart(22, "0")}`.slice(0, 30) + fn.id.slice(-6),
          fn.id,
          fn.workspaceId,
          `s${i}`,
          Date.now() + 86_400_000,
          Date.now(),
          Date.now(),
        ),
      ),
    );
    await bad({}, /already has 100 schedules/);
  });

  it("is seen by the function's workspace only; viewers read, developers write", async () => {
    const a = await tenant();
    const b = await tenant();
    const fn = await newFunction(a.ws.id);
    const s = await newSchedule(fn.id);
    expectError(await api("GET", `/api/schedules/${s.id}`, { key: b.keys.admin }), 404, "not_found");
    expectError(
      await api("POST", "/api/schedules", {
        key: b.keys.developer,
        body: { functionId: fn.id, name: "x", cron: "@daily" },
      }),
      404,
      "not_found",
    );
    expect(ids(expectStatus(await api("GET", "/api/schedules", { key: b.keys.viewer }), 200))).not.toContain(s.id);
    expectStatus(await api("GET", `/api/schedules/${s.id}`, { key: a.keys.viewer }), 200);
    expectError(
      await api("PATCH", `/api/schedules/${s.id}`, { key: a.keys.invoker, body: { enabled: false } }),
      403,
      "forbidden",
    );
    expectStatus(
      await api("PATCH", `/api/schedules/${s.id}`, { key: a.keys.developer, body: { enabled: false } }),
      200,
    );
  });
});

const ids = (page: { data: { id: string }[] }) => page.data.map((s) => s.id);

describe("schedules: the dispatcher", () => {
  it("fires a due schedule once, as a call with trigger schedule that knows its schedule and time", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id, { data: { hello: "cron" } });
    const due = Date.parse(s.nextRuns[0]);
    await tick(due - MINUTE);
    expect(await firedTimes(s.id)).toEqual([]);
    await tick(due);
    expect(await firedTimes(s.id)).toEqual([due]);
    expect(await nextRunAt(s.id)).toBe(due + MINUTE);

    const listed = expectStatus(await api("GET", `/api/functions/${fn.id}/calls?scheduleId=${s.id}`), 200).data;
    expect(listed).toHaveLength(1);
    const call = await waitForCall(listed[0].id);
    expect(call).toMatchObject({ status: "completed", trigger: "schedule", scheduleId: s.id, scheduledTime: iso(due) });
    const response = expectStatus(await api("GET", `/api/calls/${call.id}/response`), 200).response;
    expect(response).toEqual({
      data: { hello: "cron" },
      call: { functionId: fn.id, callId: call.id, scheduleId: s.id, scheduledTime: iso(due) },
    });
    const after = expectStatus(await api("GET", `/api/schedules/${s.id}`), 200);
    expect(after.lastRun).toEqual({ callId: call.id, status: "completed", at: iso(due) });
  });

  it("fires a due time once when ticks overlap or a tick is delivered twice", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id);
    const due = Date.parse(s.nextRuns[0]);
    await Promise.all([tick(due), tick(due), tick(due + 5_000)]);
    await tick(due);
    expect(await firedTimes(s.id)).toEqual([due]);
    await Promise.all([tick(due + MINUTE), tick(due + MINUTE)]);
    expect(await firedTimes(s.id)).toEqual([due, due + MINUTE]);
  });

  it("after 10 minutes of downtime, catchUp last fires once for the missed window, none not at all", async () => {
    const { fn } = await scheduledFunction();
    const last = await newSchedule(fn.id, { catchUp: "last" });
    const none = await newSchedule(fn.id, { catchUp: "none" });
    const t0 = Date.parse(last.nextRuns[0]);
    await dueAt(none.id, t0);
    await tick(t0);
    // Down for ten minutes; the next tick comes at t0 + 11 min.
    const back = t0 + 11 * MINUTE;
    await tick(back);
    expect(await firedTimes(last.id)).toEqual([t0, back - MINUTE, back]);
    expect(await firedTimes(none.id)).toEqual([t0, back]);
    await tick(back + MINUTE);
    expect(await firedTimes(last.id)).toEqual([t0, back - MINUTE, back, back + MINUTE]);
    expect(await firedTimes(none.id)).toEqual([t0, back, back + MINUTE]);
  });

  /**
   * Ticks every minute from `from` to `to`, as the Cron Trigger does, each tick delivered twice. Only `scheduleId`
   * stays enabled, so the other tests' every-minute schedules do not fire a call per simulated minute.
   */
  async function everyMinute(scheduleId: string, from: number, to: number) {
    await env.DB.prepare("UPDATE schedules SET enabled = 0 WHERE id <> ?").bind(scheduleId).run();
    for (let t = from; t <= to; t += MINUTE) {
      await Promise.all([tick(t), tick(t)]);
    }
  }

  it("fires a daily 02:30 once on the day clocks spring forward past it (Europe/Berlin)", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id, { cron: "30 2 * * *", timezone: "Europe/Berlin" });
    // 2027-03-28: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
    await dueAt(s.id, Date.parse("2027-03-28T01:00:00Z"));
    await everyMinute(s.id, Date.parse("2027-03-28T00:00:00Z"), Date.parse("2027-03-28T02:00:00Z"));
    expect((await firedTimes(s.id)).map(iso)).toEqual(["2027-03-28T01:00:00.000Z"]);
    expect(iso(await nextRunAt(s.id))).toBe("2027-03-29T00:30:00.000Z");
  });

  it("fires a daily 02:30 once on the day clocks fall back through it twice (Europe/Berlin)", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id, { cron: "30 2 * * *", timezone: "Europe/Berlin" });
    // 2027-10-31: 03:00 CEST becomes 02:00 CET; 02:30 comes at 00:30Z and again at 01:30Z.
    await dueAt(s.id, Date.parse("2027-10-31T00:30:00Z"));
    await everyMinute(s.id, Date.parse("2027-10-31T00:00:00Z"), Date.parse("2027-10-31T02:30:00Z"));
    expect((await firedTimes(s.id)).map(iso)).toEqual(["2027-10-31T00:30:00.000Z"]);
    expect(iso(await nextRunAt(s.id))).toBe("2027-11-01T01:30:00.000Z");
  });

  it("does not fire for a soft-deleted function, and resumes at the next future time after restore", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id);
    const due = Date.parse(s.nextRuns[0]);
    expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
    await tick(due);
    await tick(due + MINUTE);
    expect(await firedTimes(s.id)).toEqual([]);
    expectStatus(await api("POST", `/api/functions/${fn.id}/restore`), 200);
    await tick(due + 2 * MINUTE);
    expect(await firedTimes(s.id)).toEqual([due + 2 * MINUTE]);
  });

  it("does not fire while paused, and resumes from the next future time", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id);
    const due = Date.parse(s.nextRuns[0]);
    expectStatus(await api("PATCH", `/api/schedules/${s.id}`, { body: { enabled: false } }), 200);
    await tick(due);
    await tick(due + MINUTE);
    expect(await firedTimes(s.id)).toEqual([]);
    const resumed = expectStatus(await api("PATCH", `/api/schedules/${s.id}`, { body: { enabled: true } }), 200);
    expect(Date.parse(resumed.nextRuns[0])).toBeGreaterThan(Date.now());
    await tick(Date.parse(resumed.nextRuns[0]));
    expect(await firedTimes(s.id)).toEqual([Date.parse(resumed.nextRuns[0])]);
  });

  it("deletes a purged function's schedules", async () => {
    const { fn } = await scheduledFunction();
    const s = await newSchedule(fn.id);
    expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
    expectStatus(await api("DELETE", `/api/functions/${fn.id}/purge`), 200);
    expectError(await api("GET", `/api/schedules/${s.id}`), 404, "not_found");
  });
});
