/**
 * The invoke hot path: once a function's isolate is warm, a call reads nothing from R2; the function's
 * metadata is cached, so only a cache miss reads D1; the call's record is written after the answer.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, expectStatus, newFunction, newWorkspace } from "./support/api";
import { deploy, invoke } from "./support/deploy";

/** The function's rows and the row count of every platform table. */
async function snapshot(functionId: string) {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
  ).all<{ name: string }>();
  const counts: Record<string, unknown> = {};
  for (const { name } of tables) {
    counts[name] = (await env.DB.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).first<{ n: number }>())?.n;
  }
  const fn = await env.DB.prepare("SELECT * FROM functions WHERE id = ?").bind(functionId).first();
  const versions = await env.DB.prepare("SELECT * FROM versions WHERE function_id = ?").bind(functionId).all();
  return { counts, fn, versions: versions.results };
}

describe("invoke hot path", () => {
  it("keeps answering from the warm isolate after the bundle is gone from R2", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    const version = await deploy(fn.id, { "index.ts": "export function handle(d: { n: number }) { return d.n * 2; }" });
    expect(expectStatus(await invoke(fn.id, { n: 1 }), 200)).toMatchObject({ ok: true, result: 2 });

    const row = await env.DB.prepare("SELECT bundle_key FROM versions WHERE id = ?").bind(version.id).first<{
      bundle_key: string;
    }>();
    expect(await env.CODE.head(row!.bundle_key)).not.toBeNull();
    await env.CODE.delete(row!.bundle_key);

    for (let n = 2; n < 12; n++) {
      expect(expectStatus(await invoke(fn.id, { n }), 200)).toMatchObject({ ok: true, result: n * 2 });
    }
  });

  it("writes only the call's record, its logs and lastCalledAt, and after the answer", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    await deploy(fn.id, { "index.js": "export function handle() { console.log('hi'); return 'ok'; }" });
    await invoke(fn.id);
    await waitForRecord((await invoke(fn.id)).body.callId);
    const before = await snapshot(fn.id);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = expectStatus(await invoke(fn.id), 200);
      expect(res.ok).toBe(true);
      ids.push(res.callId);
    }
    for (const id of ids) await waitForRecord(id);
    const after = await snapshot(fn.id);
    const { counts: countsAfter, fn: fnAfter, ...restAfter } = after;
    const { counts: countsBefore, fn: fnBefore, ...restBefore } = before;
    expect(restAfter).toEqual(restBefore);
    expect(countsAfter).toEqual({
      ...countsBefore,
      calls: (countsBefore.calls as number) + 5,
      call_logs: (countsBefore.call_logs as number) + 5,
    });
    expect({ ...fnAfter, last_called_at: null }).toEqual({ ...fnBefore, last_called_at: null });
    // lastCalledAt is kept to the second, so it need not move for calls in the same second.
    expect(fnAfter?.last_called_at as number).toBeGreaterThanOrEqual(fnBefore?.last_called_at as number);
    expect(fnAfter?.last_called_at as number).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("records written together", () => {
  it("reads calls back right after their answers, though their records are written a moment later, together", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    await deploy(fn.id, { "index.js": "export function handle(d) { console.log('n', d.n); return d.n; }" });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, n) => invoke(fn.id, { n }).then((r) => expectStatus(r, 200))),
    );
    const ids = answers.map((a) => a.callId as string);
    // At once, as a client would: each call, its logs, the list and the metrics see every one of them.
    for (const [n, id] of ids.entries()) {
      expect(expectStatus(await api("GET", `/api/calls/${id}`), 200)).toMatchObject({ status: "completed" });
      const logs = expectStatus(await api("GET", `/api/calls/${id}/logs`), 200);
      expect(logs.items.map((l: { message: string }) => l.message)).toEqual([`n ${n}`]);
    }
    const listed = expectStatus(await api("GET", `/api/functions/${fn.id}/calls?limit=100`), 200);
    expect(listed.data.map((c: { id: string }) => c.id).sort()).toEqual([...ids].sort());
  });
});

async function waitForRecord(callId: string) {
  for (let i = 0; i < 200; i++) {
    const row = await env.DB.prepare("SELECT status FROM calls WHERE id = ?").bind(callId).first();
    if (row) return row;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no record of ${callId}`);
}
