/**
 * What listing functions costs with 10,000 functions in one workspace: page 1 against a page 50 deep
 * (keyset cursors keep a deep page as cheap as the first), a filtered and a sorted page, against GET /healthz
 * as the baseline of one request through the same app in the same process.
 */
import { env } from "cloudflare:workers";
import { it } from "vitest";
import { newId } from "../src/lib/ids";
import { api, expectStatus, newWorkspace } from "../test/support/api";
import { compare, report } from "./support";

const FUNCTIONS = 10_000;
const LIMIT = 100;

async function seed(workspaceId: string) {
  const start = Date.now() - FUNCTIONS * 1000;
  const insert = env.DB.prepare(
    "INSERT INTO functions (id, workspace_id, name, description, source, system, retention_tier, created_at, updated_at) VALUES (?, ?, ?, ?, 'custom', 0, 'standard', ?, ?)",
  );
  for (let i = 0; i < FUNCTIONS; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(i + 500, FUNCTIONS); j++) {
      const at = start + j * 1000;
      batch.push(
        insert.bind(
          newId("fun", at),
          workspaceId,
          `fn-${String(j).padStart(5, "0")}`,
          j % 3 ? `desc ${j}` : null,
          at,
          at,
        ),
      );
    }
    await env.DB.batch(batch);
  }
}

it("lists 10,000 functions: page 1 vs page 50", async () => {
  const ws = await newWorkspace();
  await seed(ws.id);
  const base = `/api/functions?workspace_id=${ws.id}&limit=${LIMIT}`;

  // Walk to page 50 with endCursor, as a client would.
  let cursor: string | null = null;
  for (let page = 1; page < 50; page++) {
    const res: { pageInfo: { endCursor: string } } = expectStatus(
      await api("GET", cursor ? `${base}&after=${encodeURIComponent(cursor)}` : base),
      200,
    );
    cursor = res.pageInfo.endCursor;
  }
  const page50 = `${base}&after=${encodeURIComponent(cursor as string)}`;
  const check = expectStatus(await api("GET", page50), 200);
  if (check.data.length !== LIMIT || check.pageInfo.total !== FUNCTIONS) throw new Error("page 50 is not a full page");

  const filtered = `${base}&filter=${encodeURIComponent(JSON.stringify({ description: { isNull: true } }))}`;
  const sorted = `${base}&orderBy=${encodeURIComponent(JSON.stringify([{ name: "desc" }]))}`;
  const ok = (path: string) => async () => {
    const res = await api("GET", path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  };
  const m = await compare(
    {
      healthz: ok("/healthz"),
      page1: ok(base),
      page50: ok(page50),
      filtered: ok(filtered),
      sorted: ok(sorted),
    },
    { rounds: 15, perRound: 10 },
  );
  report(
    `GET /api/functions, ${FUNCTIONS} functions in one workspace, limit ${LIMIT}`,
    [
      { name: "GET /healthz (baseline)", ms: m.healthz as number },
      { name: "page 1", ms: m.page1 as number, vs: "GET /healthz (baseline)" },
      { name: "page 50 (after=cursor)", ms: m.page50 as number, vs: "page 1" },
      { name: "page 1, filter description isNull", ms: m.filtered as number, vs: "page 1" },
      { name: "page 1, orderBy name desc", ms: m.sorted as number, vs: "page 1" },
    ],
    { functions: FUNCTIONS, limit: LIMIT },
  );
});
