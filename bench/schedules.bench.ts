/**
 * The dispatcher under load: 10,000 schedules due in the same minute, fired by one tick. What it reports is the
 * time from the tick to the last call being written and queued, against the minute a tick has, and a second
 * delivery of the same tick (which must fire nothing).
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { dispatchSchedules } from "../src/domain/schedules/dispatch";
import { newId } from "../src/lib/ids";
import { getDb } from "../src/storage/db";
import { api, expectStatus, newWorkspace } from "../test/support/api";
import { report } from "./support";

const SCHEDULES = 10_000;
const FUNCTIONS = 100;
const MINUTE = 60_000;

it("enqueues 10,000 schedules due in the same minute within that minute", async () => {
  const ws = await newWorkspace();
  // Functions without a ready version: their calls end at once in the queue, so the bench measures dispatching.
  const now = Date.now();
  await env.DB.batch(
    Array.from({ length: FUNCTIONS }, (_, i) =>
      env.DB.prepare(
        "INSERT INTO functions (id, workspace_id, name, source, system, retention_tier, created_at, updated_at) VALUES (?, ?, ?, 'custom', 0, 'standard', ?, ?)",
      ).bind(newId("fun", now + i), ws.id, `cron-${i}`, now, now),
    ),
  );
  const fns = (
    await env.DB.prepare("SELECT id FROM functions WHERE workspace_id = ?").bind(ws.id).all<{ id: string }>()
  ).results.map((r) => r.id);
  const due = Math.ceil(now / MINUTE) * MINUTE + MINUTE;
  const zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"];

  const insertStarted = performance.now();
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
     INSERT INTO schedules (id, function_id, workspace_id, name, cron, timezone, data, data_size, enabled, catch_up,
       next_run_at, created_at, updated_at)
     SELECT printf('sch_bench%017d', i), json_extract(?2, '$[' || (i % CAST(?3 AS INTEGER)) || ']'), ?4, 'every-minute-' || i,
       '* * * * *', json_extract(?5, '$[' || (i % 4) || ']'), '{"n":' || i || '}', 8, 1, 'last', ?6, ?7, ?7
     FROM n`,
  )
    .bind(SCHEDULES, JSON.stringify(fns), FUNCTIONS, ws.id, JSON.stringify(zones), due, now)
    .run();
  const insertMs = performance.now() - insertStarted;

  const db = getDb(env.DB);
  const healthStarted = performance.now();
  for (let i = 0; i < 20; i++) expectStatus(await api("GET", "/healthz", { key: null }), 200);
  const healthz = (performance.now() - healthStarted) / 20;

  const started = performance.now();
  const first = await dispatchSchedules(db, env, due);
  const tickMs = performance.now() - started;
  expect(first).toMatchObject({ due: SCHEDULES, fired: SCHEDULES });

  const againStarted = performance.now();
  const again = await dispatchSchedules(db, env, due);
  const againMs = performance.now() - againStarted;
  expect(again.fired).toBe(0);

  const calls = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM calls WHERE scheduled_time = ? AND schedule_id LIKE 'sch_bench%'",
  )
    .bind(due)
    .first<{ n: number }>();
  expect(calls?.n).toBe(SCHEDULES);

  report(
    `Cron dispatch: ${SCHEDULES} schedules due in one minute (${FUNCTIONS} functions, 4 time zones)`,
    [
      { name: "GET /healthz (baseline)", ms: healthz },
      { name: "one tick: claim, write and queue 10,000 calls", ms: tickMs, vs: "GET /healthz (baseline)" },
      { name: "the tick delivered again (fires nothing)", ms: againMs, vs: "GET /healthz (baseline)" },
      { name: "the minute a tick has", ms: MINUTE, vs: "one tick: claim, write and queue 10,000 calls" },
    ],
    { schedules: SCHEDULES, insertMs: Math.round(insertMs), pages: first.pages },
  );
});
