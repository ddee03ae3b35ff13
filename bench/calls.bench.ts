/**
 * What calls cost at scale, against baselines measured in the same process:
 * 1. Listing a function's calls with 1,000,000 call rows (900,000 of them on the listed function): page 1
 *    against page 2 and a page 1,000 deep (`after` cursors), and page 1 with a status filter, against GET /healthz;
 *    then each of the three queries a page sends to D1 (rows, total, has-previous probe), timed alone with its
 *    plan, against `SELECT 1`.
 * 2. What recording a call costs: a warm invoke through the API (its record written after the answer, by
 *    waitUntil) against a direct Worker Loader call of the same bundle, and in-process: execute() alone (no
 *    record) against invokeFunction() (record in the background, as the API does) and execute() followed by
 *    the awaited record write (the write's full cost).
 */
import { env } from "cloudflare:workers";
import { and, count, eq, type SQL, sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { functionForInvoke } from "../src/domain/calls/cache";
import { CALLS_COUNT_CAP, callEntity } from "../src/domain/calls/history";
import { invokeFunction, nestedInvoke } from "../src/domain/calls/invoke";
import { type CallRequest, executeCall } from "../src/domain/calls/pipeline";
import { byteLength, type NewCall, recordExecution } from "../src/domain/calls/record";
import type { ServiceContext } from "../src/domain/context";
import { newId } from "../src/lib/ids";
import { encodeCursor } from "../src/lib/list/cursor";
import { afterCondition, orderByClause, resolveSort, reverseSort, sortSignature } from "../src/lib/list/order";
import { getDb } from "../src/storage/db";
import { calls } from "../src/storage/schema";
import { api, expectStatus, newFunction, newWorkspace } from "../test/support/api";
import { deploy, invoke } from "../test/support/deploy";
import { directIsolate } from "./direct";
import { compare, report } from "./support";

const TOTAL_CALLS = 1_000_000;
const LISTED_CALLS = 900_000;
const OTHER_FUNCTIONS = 9;
const LIMIT = 100;
const DEEP_PAGE = 1_000;
/** Every 20th call failed, and 1 in 50 timed out: the status filter keeps 5% of the rows. */
const STATUS_SQL = "CASE WHEN n % 20 = 0 THEN 'failed' WHEN n % 50 = 1 THEN 'timeout' ELSE 'completed' END";

/**
 * `rows` calls of one function in one INSERT ... SELECT from a recursive CTE, created_at rising one step per
 * row from `start`; the id's digits follow created_at, so the id tie-breaker agrees with the time order.
 */
async function insertCalls(fn: { id: string; workspaceId: string }, tag: number, rows: number, start: number) {
  const step = Math.floor((LISTED_CALLS * 1000) / rows);
  await env.DB.prepare(
    `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1 - 1)
     INSERT INTO calls (id, function_id, workspace_id, status, trigger, attempt, max_retries, created_at,
                        started_at, ended_at, duration_ms, args_size, result_size)
     SELECT printf('call_%012d%02d%012d', ?2 + n * ?3, ?4, n), ?5, ?6, ${STATUS_SQL}, 'api', 1, 0, ?2 + n * ?3,
            ?2 + n * ?3, ?2 + n * ?3 + 5 + n % 40, 5 + n % 40, 16, 24
     FROM seq`,
  )
    .bind(rows, start, step, tag, fn.id, fn.workspaceId)
    .run();
}

/** The three statements paginate() sends for a page of this function's calls (see src/lib/list/page.ts). */
function pageQueries(functionId: string, boundary: (string | number)[] | undefined, status?: string) {
  const db = getDb(env.DB);
  const keys = resolveSort(callEntity, callEntity.defaultOrder);
  const where = and(eq(calls.functionId, functionId), status ? eq(calls.status, status as "failed") : undefined);
  const bound: SQL | undefined = boundary ? afterCondition(keys, boundary) : undefined;
  return {
    rows: db
      .select()
      .from(calls)
      .where(and(where, bound))
      .orderBy(...orderByClause(keys))
      .limit(LIMIT + 1),
    total: db.select({ n: count() }).from(
      db
        .select({ one: sql`1`.as("one") })
        .from(calls)
        .where(where)
        .limit(CALLS_COUNT_CAP)
        .as("capped"),
    ),
    probe: boundary
      ? db
          .select({ one: sql<number>`1` })
          .from(calls)
          .where(and(where, afterCondition(reverseSort(keys), boundary, true)))
          .orderBy(...orderByClause(reverseSort(keys)))
          .limit(1)
      : undefined,
  };
}

async function queryPlan(q: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql: text, params } = q.toSQL();
  const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${text}`)
    .bind(...params)
    .all<{ detail: string }>();
  return plan.results.map((r) => r.detail).join("; ");
}

it("lists calls with 1,000,000 call rows: page 1 vs page 1,000; the cost of recording a call", async () => {
  const ws = await newWorkspace();
  const listed = await newFunction(ws.id);
  const others = [];
  for (let i = 0; i < OTHER_FUNCTIONS; i++) others.push(await newFunction(ws.id));
  const invoked = others[0];

  // Setup: 1,000,000 rows, 900,000 on the listed function, the rest spread over nine others, over the last ~10 days.
  const start = Date.now() - LISTED_CALLS * 1000 - 60_000;
  const insertStarted = performance.now();
  await insertCalls(listed, 0, LISTED_CALLS, start);
  const rest = TOTAL_CALLS - LISTED_CALLS;
  for (let i = 0; i < OTHER_FUNCTIONS; i++) {
    const rows = Math.floor(rest / OTHER_FUNCTIONS) + (i < rest % OTHER_FUNCTIONS ? 1 : 0);
    await insertCalls(others[i], i + 1, rows, start + 500);
  }
  const insertMs = performance.now() - insertStarted;
  const counted = await env.DB.prepare("SELECT COUNT(*) AS n FROM calls").first<{ n: number }>();
  expect(counted?.n).toBeGreaterThanOrEqual(TOTAL_CALLS);
  console.log(`setup: inserted ${TOTAL_CALLS} call rows in ${(insertMs / 1000).toFixed(1)} s`);

  const base = `/api/functions/${listed.id}/calls?limit=${LIMIT}`;
  // The cursor paginate() makes as endCursor of page 999 (its last row, row 99,900), from that row's sort values.
  const signature = sortSignature(resolveSort(callEntity, callEntity.defaultOrder));
  const boundaryAt = async (offset: number) => {
    const row = await env.DB.prepare(
      "SELECT created_at, id FROM calls WHERE function_id = ? ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?",
    )
      .bind(listed.id, offset)
      .first<{ created_at: number; id: string }>();
    if (!row) throw new Error(`no call at offset ${offset}`);
    return [row.created_at, row.id];
  };
  const page1 = expectStatus(await api("GET", base), 200);
  // The calls list counts up to a cap: a page never counts 900,000 rows.
  expect(page1.pageInfo).toMatchObject({ total: CALLS_COUNT_CAP, totalCapped: true });
  expect(encodeCursor(signature, await boundaryAt(LIMIT - 1))).toBe(page1.pageInfo.endCursor);
  const boundary = await boundaryAt((DEEP_PAGE - 1) * LIMIT - 1);
  const deep = `${base}&after=${encodeURIComponent(encodeCursor(signature, boundary))}`;
  const deepPage = expectStatus(await api("GET", deep), 200);
  expect(deepPage.data).toHaveLength(LIMIT);
  expect(deepPage.pageInfo.hasPreviousPage).toBe(true);
  expect(deepPage.data[0].id).toBe((await boundaryAt((DEEP_PAGE - 1) * LIMIT))[1]);
  const failed = `${base}&status=failed`;
  expect(expectStatus(await api("GET", failed), 200).data).toHaveLength(LIMIT);

  const ok = (path: string) => async () => {
    const res = await api("GET", path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  };
  // Page 2 too: the has-previous probe is the page after it with the most rows on the other side of the cursor.
  const page2 = `${base}&after=${encodeURIComponent(page1.pageInfo.endCursor)}`;
  const m = await compare(
    { healthz: ok("/healthz"), page1: ok(base), page2: ok(page2), deep: ok(deep), failed: ok(failed) },
    { rounds: 7, perRound: 5, warmup: 2 },
  );

  // Where a page's time goes: each statement of paginate() alone, straight to D1, with its plan.
  const first = pageQueries(listed.id, undefined);
  const deepQ = pageQueries(listed.id, boundary);
  const failedQ = pageQueries(listed.id, undefined, "failed");
  const probe = deepQ.probe as NonNullable<typeof deepQ.probe>;
  const probe2 = pageQueries(listed.id, await boundaryAt(LIMIT - 1)).probe as NonNullable<typeof deepQ.probe>;
  const q = await compare(
    {
      ping: () => env.DB.prepare("SELECT 1").first(),
      rows1: () => first.rows.all(),
      rowsDeep: () => deepQ.rows.all(),
      total: () => first.total.all(),
      probe2: () => probe2.all(),
      probeDeep: () => probe.all(),
      rowsFailed: () => failedQ.rows.all(),
      totalFailed: () => failedQ.total.all(),
    },
    { rounds: 5, perRound: 3, warmup: 1 },
  );
  const plans = {
    rowsDeep: await queryPlan(deepQ.rows),
    total: await queryPlan(first.total),
    probeDeep: await queryPlan(probe),
    rowsFailed: await queryPlan(failedQ.rows),
    totalFailed: await queryPlan(failedQ.total),
  };

  report(
    `GET /api/functions/{id}/calls, ${TOTAL_CALLS} calls (${LISTED_CALLS} on the listed function), limit ${LIMIT}`,
    [
      { name: "GET /healthz (baseline)", ms: m.healthz as number },
      { name: "page 1", ms: m.page1 as number, vs: "GET /healthz (baseline)" },
      { name: "page 2 (after=cursor)", ms: m.page2 as number, vs: "page 1" },
      { name: `page ${DEEP_PAGE} (after=cursor)`, ms: m.deep as number, vs: "page 1" },
      { name: "page 1, status=failed", ms: m.failed as number, vs: "page 1" },
      { name: "D1: SELECT 1 (baseline)", ms: q.ping as number },
      { name: "D1: page 1 rows", ms: q.rows1 as number, vs: "D1: SELECT 1 (baseline)" },
      { name: `D1: page ${DEEP_PAGE} rows`, ms: q.rowsDeep as number, vs: "D1: page 1 rows" },
      { name: `D1: total (COUNT up to ${CALLS_COUNT_CAP})`, ms: q.total as number, vs: "D1: SELECT 1 (baseline)" },
      { name: "D1: page 2 has-previous probe", ms: q.probe2 as number, vs: "D1: SELECT 1 (baseline)" },
      { name: `D1: page ${DEEP_PAGE} has-previous probe`, ms: q.probeDeep as number, vs: "D1: SELECT 1 (baseline)" },
      { name: "D1: status=failed rows", ms: q.rowsFailed as number, vs: "D1: page 1 rows" },
      {
        name: "D1: status=failed total (COUNT)",
        ms: q.totalFailed as number,
        vs: `D1: total (COUNT up to ${CALLS_COUNT_CAP})`,
      },
    ],
    { calls: TOTAL_CALLS, listedCalls: LISTED_CALLS, limit: LIMIT, insertMs: Math.round(insertMs), plans },
  );
  for (const [name, plan] of Object.entries(plans)) console.log(`  plan ${name}: ${plan}`);

  // 2. The cost of recording a call, on a function of the same table.
  const version = await deploy(invoked.id, {
    "index.js": "export async function handle(data) {\n  return { hello: data.name };\n}",
  });
  const direct = await directIsolate(version.id, "bench");

  const args = { name: "bench" };
  const background: Promise<unknown>[] = [];
  const ctx: ServiceContext = {
    db: getDb(env.DB),
    env,
    principal: { keyId: "bench", role: "admin", workspaceId: null },
    now: Date.now(),
    defer: (promise) => {
      background.push(promise);
    },
  };
  const entry = await functionForInvoke(ctx.db, invoked.id, Date.now());
  if (!entry?.version) throw new Error("the invoked function has no version");
  const argsJson = JSON.stringify(args);
  const prepared: CallRequest = {
    fn: entry.fn,
    version: entry.version,
    args,
    argsJson,
    workspaceId: entry.fn.workspaceId,
    nested: nestedInvoke,
  };
  const record = (callId: string, startedAt: number): NewCall => ({
    id: callId,
    functionId: entry.fn.id,
    workspaceId: entry.fn.workspaceId,
    versionId: entry.version?.id,
    status: "completed",
    trigger: "api",
    createdAt: startedAt,
    argsSize: byteLength(argsJson),
    createdBy: "bench",
  });
  const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM calls WHERE function_id = ?")
    .bind(invoked.id)
    .first<{ n: number }>();

  const r = await compare(
    {
      direct: async () => {
        const out = await direct.invoke(args, { call: { functionId: invoked.id, callId: "bench" } });
        if (!out.ok) throw new Error("direct call failed");
      },
      api: async () => {
        const res = await invoke(invoked.id, args);
        if (res.status !== 200 || !res.body.ok) throw new Error(`invoke failed: ${JSON.stringify(res.body)}`);
      },
      execute: async () => {
        const run = await executeCall(ctx, prepared, newId("call"));
        if (!run.ok) throw new Error("execute failed");
      },
      invokeFunction: async () => {
        const out = await invokeFunction({ ...ctx, now: Date.now() }, invoked.id, { args });
        if (!("ok" in out) || !out.ok) throw new Error("invokeFunction failed");
      },
      executeRecordInBackground: async () => {
        const run = await executeCall(ctx, prepared, newId("call"));
        background.push(recordExecution(ctx.db, ctx.env, record(run.callId, run.startedAt), run));
      },
      executeAndRecord: async () => {
        const run = await executeCall(ctx, prepared, newId("call"));
        await recordExecution(ctx.db, ctx.env, record(run.callId, run.startedAt), run);
      },
    },
    { rounds: 15, perRound: 20 },
  );
  await Promise.all(background);
  const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM calls WHERE function_id = ?")
    .bind(invoked.id)
    .first<{ n: number }>();
  // Every case but direct and execute() wrote a row (warmup included): 4 × (5 + 15 × 20).
  const recorded = (after?.n ?? 0) - (before?.n ?? 0);

  report(
    "The cost of recording a call (warm synchronous invoke)",
    [
      { name: "direct Worker Loader call (baseline)", ms: r.direct as number },
      {
        name: "warm invoke through the API (records)",
        ms: r.api as number,
        vs: "direct Worker Loader call (baseline)",
      },
      { name: "execute() (no record)", ms: r.execute as number, vs: "direct Worker Loader call (baseline)" },
      { name: "invokeFunction() (record via waitUntil)", ms: r.invokeFunction as number, vs: "execute() (no record)" },
      {
        name: "execute() + record not awaited",
        ms: r.executeRecordInBackground as number,
        vs: "execute() (no record)",
      },
      { name: "execute() + awaited record write", ms: r.executeAndRecord as number, vs: "execute() (no record)" },
    ],
    { rounds: 15, perRound: 20, recorded, callsInTable: TOTAL_CALLS + recorded },
  );
});
