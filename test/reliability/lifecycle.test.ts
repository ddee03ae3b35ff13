/**
 * Concurrency: 100 concurrent mixed lifecycle operations on one function (uploads of identical, new and broken
 * code, activations, config patches, soft delete, restore, invokes, build cancels, reads), while a second function
 * that shares code with it is purged under operations of its own. Afterwards the FunctionObject and D1 agree, every
 * version's code is in R2, the purged function left nothing behind, and a scan of the whole R2 bucket finds no
 * object that no D1 row refers to (and no row referring to a missing object).
 *
 * The operations come from a seeded generator: a failure names its seed and operation, and replays.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runBuild } from "../../src/domain/versions/build";
import { releaseCode } from "../../src/domain/versions/code";
import { createVersion } from "../../src/domain/versions/index";
import { getDb } from "../../src/storage/db";
import { type ApiResponse, api, expectError, newFunction, newWorkspace } from "../support/api";
import { deploy, upload, waitForBuild } from "../support/deploy";

const SEEDS = [20261201, 7, 4242, 99, 31337, 2026];
const OPS = 100;
const BIG = 70_000; // over the 64 KiB a call row holds inline: results and args go to R2

/** mulberry32: a small seeded PRNG, so a failing burst replays exactly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A handler answering with its tag; `sleep` makes it slow, `big` makes a result over the inline limit. */
const good = (tag: string) => ({
  "index.js":
    "export async function handle(data) {\n" +
    "  if (data && data.sleep) await new Promise((r) => setTimeout(r, data.sleep));\n" +
    `  if (data && data.big) return "r".repeat(${BIG});\n` +
    `  return ${JSON.stringify(tag)};\n` +
    "}\n",
});

/** Uploads that must fail to build, each at a different stage. */
const BROKEN = {
  bareImport: { "index.js": 'import pad from "left-pad";\nexport function handle() { return pad("x", 3); }' },
  throwsAtImport: { "index.js": 'throw new Error("boom at import");\nexport function handle() { return 1; }' },
  noHandler: { "index.js": "export const answer = 42;" },
};
type Broken = keyof typeof BROKEN;

const ERROR_CODES: Record<number, string> = {
  400: "bad_request",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
};

/** Every answer is below 500, one of the statuses the operation may give, and an error is in the one shape. */
function expectSane(res: ApiResponse, allowed: number[], label: string) {
  const what = `${label}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(allowed, what).toContain(res.status);
  if (res.status >= 400) expectError(res, res.status, ERROR_CODES[res.status] ?? "?");
}

async function rows<T = Record<string, unknown>>(query: string, ...binds: unknown[]): Promise<T[]> {
  return (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;
}

const stub = (functionId: string) => env.FUNCTIONS.get(env.FUNCTIONS.idFromName(functionId));

/** Every object key in the bucket, page by page. */
async function allObjects(): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.CODE.list({ cursor, limit: 1000 });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/** The R2 key kinds the platform writes (every `CODE.put` in src), and the D1 column that refers to each. */
const KINDS: Record<string, string> = {
  "sources/": "SELECT source_key AS k FROM versions",
  "bundles/": "SELECT bundle_key AS k FROM versions WHERE bundle_key IS NOT NULL",
  "results/": "SELECT result_key AS k FROM calls WHERE result_key IS NOT NULL",
  "args/": "SELECT args_key AS k FROM calls WHERE args_key IS NOT NULL",
  "schedule-data/": "SELECT data_key AS k FROM schedules WHERE data_key IS NOT NULL",
};

/** Objects no D1 row refers to, and rows referring to objects that are not there. */
async function scanBucket() {
  const objects = await allObjects();
  const referenced = new Set<string>();
  for (const query of Object.values(KINDS)) {
    for (const r of await rows<{ k: string }>(query)) referenced.add(r.k);
  }
  const present = new Set(objects);
  return {
    unknownKinds: objects.filter((k) => !Object.keys(KINDS).some((p) => k.startsWith(p))),
    orphans: objects.filter((k) => !referenced.has(k)),
    dangling: [...referenced].filter((k) => !present.has(k)),
    count: objects.length,
  };
}

/** Waits until no build is queued or building and every call listed has ended. */
async function settle(callIds: Set<string>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [{ n: builds } = { n: 0 }] = await rows<{ n: number }>(
      "SELECT count(*) AS n FROM versions WHERE status IN ('queued', 'building')",
    );
    const ids = JSON.stringify([...callIds]);
    const [{ n: done } = { n: 0 }] = await rows<{ n: number }>(
      "SELECT count(*) AS n FROM calls WHERE id IN (SELECT value FROM json_each(?)) AND status NOT IN ('queued', 'running')",
      ids,
    );
    if (builds === 0 && done === callIds.size) return;
    if (Date.now() > deadline) {
      throw new Error(`not settled after ${timeoutMs} ms: ${builds} builds pending, ${done}/${callIds.size} calls`);
    }
    await sleep(100);
  }
}

interface Expect {
  tag: string | null;
  broken: Broken | null;
}

async function burst(seed: number) {
  const ws = await newWorkspace();
  const f = await newFunction(ws.id, { name: `f-${seed}` });
  const g = await newFunction(ws.id, { name: `g-${seed}` });
  const sameTag = `same-${seed}`;
  // G holds the code F is about to upload for the first time: purging G while F uploads it must not lose it.
  await deploy(g.id, good(sameTag));
  await deploy(g.id, good(`g-only-${seed}`));
  const gFailed = await upload(g.id, BROKEN.throwsAtImport);
  expect(gFailed.status).toBe("failed");
  const v1 = await deploy(f.id, good(`f-first-${seed}`));

  // G's calls and schedules with objects in R2: a large result, large args of a call due tomorrow, large data.
  const gBig = await api("POST", `/api/functions/${g.id}/invoke`, { body: { args: { big: true } } });
  expect(gBig.status).toBe(200);
  const gQueued = await api("POST", `/api/functions/${g.id}/invoke`, {
    body: { args: { pad: "a".repeat(BIG) }, scheduledAt: new Date(Date.now() + 86_400_000).toISOString() },
  });
  expect(gQueued.status).toBe(202);
  const gSchedule = await api("POST", "/api/schedules", {
    body: { functionId: g.id, name: "nightly", cron: "@daily", data: { pad: "d".repeat(BIG) } },
  });
  expect(gSchedule.status).toBe(201);
  // A call of G still running, and a build of G still going, when G is deleted and purged.
  const gSlow = await api("POST", `/api/functions/${g.id}/invoke`, {
    body: { args: { sleep: 400, big: true } },
    headers: { prefer: "respond-async" },
  });
  expect(gSlow.status).toBe(202);
  for (let i = 0; i < 100; i++) {
    const [row] = await rows<{ status: string }>("SELECT status FROM calls WHERE id = ?", gSlow.body.callId);
    if (row?.status === "running") break;
    await sleep(20);
  }
  const gBuilding = await api("POST", `/api/functions/${g.id}/versions`, { body: { files: good(`g-late-${seed}`) } });
  expect(gBuilding.status).toBe(201);
  expect((await api("DELETE", `/api/functions/${g.id}`)).status).toBe(200);
  const gCallIds = new Set(
    (await rows<{ id: string }>("SELECT id FROM calls WHERE function_id = ?", g.id)).map((r) => r.id),
  );
  gCallIds.add(gSlow.body.callId);
  const gKeys = new Set(
    (
      await rows<{ k: string | null }>(
        "SELECT source_key AS k FROM versions WHERE function_id = ?1 UNION SELECT bundle_key FROM versions WHERE function_id = ?1 UNION SELECT result_key FROM calls WHERE function_id = ?1 UNION SELECT args_key FROM calls WHERE function_id = ?1 UNION SELECT data_key FROM schedules WHERE function_id = ?1",
        g.id,
      )
    )
      .map((r) => r.k)
      .filter((k): k is string => k !== null),
  );
  gKeys.add(`results/${gSlow.body.callId}`);

  // What F's uploads contained, by version id, to check each build ended as it should.
  const expected = new Map<string, Expect>([[v1.id, { tag: `f-first-${seed}`, broken: null }]]);
  const pool: string[] = [v1.id];
  const tags = new Set([`f-first-${seed}`, sameTag]);
  const callIds = new Set<string>();
  const ok = { patchRuntime: 0, patchOther: 0, delete: 0, restore: 0, activate: 0, purge: 0 };
  const purgeAt = 10 + prng(seed).int(60);

  const ops = Array.from({ length: OPS }, (_, i) => async () => {
    // Each operation draws from its own generator: what it does replays exactly, whatever order answers come in
    // (only the versions it picks from the pool depend on which uploads answered first).
    const rnd = prng((seed ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0);
    // The purge goes first (the other operations on G overlap it), before F holds G's code itself.
    await sleep(i === purgeAt ? 0 : 2 + rnd.int(40));
    const roll = rnd.next();
    const label = `seed ${seed} op ${i}`;
    const fPath = `/api/functions/${f.id}`;
    if (i === purgeAt) {
      // The purge of G, and at the same instant uploads to F of the code only G holds so far.
      const [res, ...uploads] = await Promise.all([
        // An upload takes longer than a purge to reach R2: the purge starts a little later.
        sleep(20).then(() => api("DELETE", `/api/functions/${g.id}/purge`)),
        // Staggered a millisecond apart, so some land inside the purge's read-then-delete of G's code.
        ...Array.from({ length: 12 }, (_, k) =>
          sleep(3 * k).then(() => api("POST", `${fPath}/versions`, { body: { files: good(sameTag) } })),
        ),
      ]);
      expectSane(res as ApiResponse, [200], `${label} purge G`);
      ok.purge++;
      for (const up of uploads) {
        expectSane(up, [201, 409], `${label} upload racing the purge`);
        if (up.status === 201) {
          expected.set(up.body.id, { tag: sameTag, broken: null });
          pool.push(up.body.id);
        }
      }
      return;
    }
    if (roll < 0.3) {
      // An upload: identical code (G's), new code, broken code, or not to be activated.
      const kind = rnd.pick(["same", "same", "new", "new", "new", "broken", "inactive"] as const);
      const broken = kind === "broken" ? rnd.pick(Object.keys(BROKEN) as Broken[]) : null;
      const tag = kind === "same" ? sameTag : `f-${seed}-${i}`;
      const files = broken ? BROKEN[broken] : good(tag);
      const res = await api("POST", `${fPath}/versions`, {
        body: { files, ...(kind === "inactive" ? { activate: false } : {}) },
      });
      expectSane(res, [201, 409], `${label} upload ${kind}`);
      if (res.status === 201) {
        expected.set(res.body.id, { tag: broken ? null : tag, broken });
        pool.push(res.body.id);
        if (!broken) tags.add(tag);
      }
    } else if (roll < 0.4) {
      const res = await api("POST", `${fPath}/versions/${rnd.pick(pool)}/activate`);
      expectSane(res, [200, 409], `${label} activate`);
      if (res.status === 200) ok.activate++;
    } else if (roll < 0.5) {
      const body = rnd.pick([
        { envVars: { MODE: `m${i}` } },
        { secrets: { token: `t${i}` } },
        { timeoutMs: 5_000 + i },
        { envVars: { MODE: `m${i}` }, secrets: { token: `t${i}` }, timeoutMs: 6_000 + i },
        { description: `d${i}` },
      ]);
      const res = await api("PATCH", fPath, { body });
      expectSane(res, [200, 409], `${label} patch`);
      if (res.status === 200) {
        if ("description" in body) ok.patchOther++;
        else ok.patchRuntime++;
      }
    } else if (roll < 0.56) {
      const res = await api("DELETE", fPath);
      expectSane(res, [200, 409], `${label} delete`);
      if (res.status === 200) ok.delete++;
    } else if (roll < 0.62) {
      const res = await api("POST", `${fPath}/restore`);
      expectSane(res, [200, 409], `${label} restore`);
      if (res.status === 200) ok.restore++;
    } else if (roll < 0.75) {
      const shape = rnd.pick(["sync", "sync", "big", "async", "idempotent"] as const);
      const res = await api("POST", `${fPath}/invoke`, {
        body:
          shape === "big"
            ? { args: { big: true } }
            : shape === "async" || shape === "idempotent"
              ? { args: { pad: "p".repeat(BIG) }, async: true }
              : { args: { n: i } },
        headers: shape === "idempotent" ? { "idempotency-key": `k-${seed}-${rnd.int(3)}` } : {},
      });
      // 404: F is deleted; 409: the default version is gone (never: one is always ready).
      expectSane(res, shape === "sync" || shape === "big" ? [200, 404] : [202, 404], `${label} invoke ${shape}`);
      if (res.status === 200) {
        expect(res.body.ok, `${label}: ${JSON.stringify(res.body.errorDetail)}`).toBe(true);
        if (shape === "big") expect(res.body.result).toHaveLength(BIG);
        else expect([...tags], `${label}: answered ${res.body.result}`).toContain(res.body.result);
      }
      if (res.status === 200 || res.status === 202) callIds.add(res.body.callId);
    } else if (roll < 0.82) {
      const res = await api("POST", `${fPath}/versions/${rnd.pick(pool)}/cancel`);
      expectSane(res, [200, 409], `${label} cancel`);
      if (res.status === 200) expect(res.body.status).toBe("canceled");
    } else if (roll < 0.9) {
      const res = rnd.int(2)
        ? await api("GET", `${fPath}/versions?limit=100`)
        : await api("GET", `${fPath}/versions/${rnd.pick(pool)}`);
      expectSane(res, [200], `${label} read versions`);
    } else {
      // Operations on G while it is being purged: 404 once it is gone, 409 while it is deleted.
      const which = rnd.pick(["upload", "invoke", "get", "versions", "patch", "delete", "schedule"] as const);
      const gPath = `/api/functions/${g.id}`;
      const res =
        which === "upload"
          ? await api("POST", `${gPath}/versions`, { body: { files: good(rnd.int(2) ? sameTag : `g-${i}`) } })
          : which === "invoke"
            ? await api("POST", `${gPath}/invoke`, { body: {} })
            : which === "get"
              ? await api("GET", gPath)
              : which === "versions"
                ? await api("GET", `${gPath}/versions`)
                : which === "patch"
                  ? await api("PATCH", gPath, { body: { description: "x" } })
                  : which === "delete"
                    ? await api("DELETE", gPath)
                    : await api("POST", "/api/schedules", {
                        body: { functionId: g.id, name: "late", cron: "@hourly", data: { pad: "s".repeat(BIG) } },
                      });
      const allowed = {
        upload: [404, 409],
        invoke: [404],
        get: [200, 404],
        versions: [200, 404],
        patch: [404, 409],
        delete: [404, 409],
        schedule: [404, 409],
      }[which];
      expectSane(res, allowed, `${label} G ${which}`);
    }
  });
  await Promise.all(ops.map((op) => op()));
  expect(ok.purge).toBe(1);
  await settle(callIds);
  return { f, g, ws, v1, expected, tags, ok, gCallIds, gKeys, sameTag };
}

/**
 * The platform's env with R2 wrapped: `hook` runs once, right before (or, with `after`, right after) the first
 * matching call of `method` reaches the bucket: the moment no request can be timed to hit.
 */
function interceptOnce(
  method: "put" | "delete",
  hook: (key: string) => Promise<unknown>,
  { matches = (_key: string): boolean => true, after = false } = {},
) {
  let fired = false;
  const around = async <T>(key: string, call: () => Promise<T>): Promise<T> => {
    const due = !fired && matches(key);
    if (due) fired = true;
    if (due && !after) await hook(key);
    const result = await call();
    if (due && after) await hook(key);
    return result;
  };
  const code = {
    get: (key: string) => env.CODE.get(key),
    head: (key: string) => env.CODE.head(key),
    put: (key: string, value: ArrayBuffer | string, options?: R2PutOptions) =>
      method === "put" ? around(key, () => env.CODE.put(key, value, options)) : env.CODE.put(key, value, options),
    delete: (keys: string | string[]) =>
      method === "delete"
        ? around(Array.isArray(keys) ? (keys[0] ?? "") : keys, () => env.CODE.delete(keys))
        : env.CODE.delete(keys),
  };
  return { env: { ...env, CODE: code } as unknown as typeof env, fired: () => fired };
}

/** A service context of the admin key, over `platformEnv`. */
const adminContext = (platformEnv: typeof env) => ({
  db: getDb(env.DB),
  env: platformEnv,
  principal: { keyId: "key_admin", role: "admin" as const, workspaceId: null },
  now: Date.now(),
  defer: (promise: Promise<unknown>) => void promise,
});

describe("concurrency: 100 concurrent mixed lifecycle operations on one function", () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: the Durable Object and D1 agree, code is where it should be, and R2 has no orphan`, async () => {
      const { f, g, expected, tags, ok, gCallIds, gKeys } = await burst(seed);

      // F in D1, through the API, and in its FunctionObject.
      const [row] = await rows<{
        name: string;
        workspace_id: string;
        deleted_at: number | null;
        default_version_id: string | null;
        config_revision: number;
      }>("SELECT * FROM functions WHERE id = ?", f.id);
      expect(row).toBeDefined();
      const state = await stub(f.id).snapshot(f.id);
      expect(state).toMatchObject({ functionId: f.id, name: row?.name, workspaceId: row?.workspace_id });
      expect(state?.deletedAt).toBe(row?.deleted_at);
      // Deletes and restores alternate: the end state is deleted exactly when one more delete than restore won.
      expect(ok.delete - ok.restore, JSON.stringify(ok)).toBeGreaterThanOrEqual(0);
      expect(ok.delete - ok.restore).toBeLessThanOrEqual(1);
      expect(row?.deleted_at !== null).toBe(ok.delete - ok.restore === 1);
      // Every PATCH of env vars, secrets or timeout bumped configRevision by one, a description-only one did not.
      expect(row?.config_revision, JSON.stringify(ok)).toBe(1 + ok.patchRuntime);
      // The object's revision counts every change it made: create, patches, deletes, restores, activations, and the
      // builds that moved the default (at most one per ready version that asked to be activated).
      const changes = 1 + ok.patchRuntime + ok.patchOther + ok.delete + ok.restore + ok.activate;
      expect(state?.revision).toBeGreaterThanOrEqual(changes);
      const readyActivating = await rows(
        "SELECT id FROM versions WHERE function_id = ? AND status = 'ready' AND activate = 1",
        f.id,
      );
      expect(state?.revision).toBeLessThanOrEqual(changes + readyActivating.length);
      const viaApi = (await api("GET", `/api/functions/${f.id}`)).body;
      expect(viaApi).toMatchObject({
        name: row?.name,
        defaultVersionId: row?.default_version_id,
        configRevision: row?.config_revision,
      });
      expect(viaApi.deletedAt !== null).toBe(state?.deletedAt !== null);

      // Version numbers: 1..lastVersion, each once, as the object handed them out.
      const versions = await rows<{
        id: string;
        number: number;
        status: string;
        source_key: string;
        bundle_key: string | null;
        error: string | null;
      }>(
        "SELECT id, number, status, source_key, bundle_key, error FROM versions WHERE function_id = ? ORDER BY number",
        f.id,
      );
      expect(versions.map((v) => v.number)).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      expect(state?.lastVersion).toBe(versions.length);
      expect(new Set(versions.map((v) => v.id))).toEqual(new Set(expected.keys()));

      // Each build ended as its code says: good code ready (or canceled), broken code failed (or canceled).
      const present = new Set(await allObjects());
      for (const v of versions) {
        const what = expected.get(v.id);
        const label = `version ${v.number} (${v.id}, ${what?.broken ?? what?.tag}): ${v.status} ${v.error ?? ""}`;
        expect(what?.broken ? ["failed", "canceled"] : ["ready", "canceled"], label).toContain(v.status);
        expect(present.has(v.source_key), `${label}: source ${v.source_key}`).toBe(true);
        if (v.status === "ready") {
          expect(v.bundle_key, label).not.toBeNull();
          expect(present.has(v.bundle_key as string), `${label}: bundle ${v.bundle_key}`).toBe(true);
        }
      }
      // The default names a ready version of F, and F serves it.
      const def = versions.find((v) => v.id === row?.default_version_id);
      expect(def?.status, `default ${row?.default_version_id}`).toBe("ready");
      if (row?.deleted_at !== null) expect((await api("POST", `/api/functions/${f.id}/restore`)).status).toBe(200);
      const served = await api("POST", `/api/functions/${f.id}/invoke`, { body: {} });
      expect(served.status, JSON.stringify(served.body)).toBe(200);
      expect(served.body).toMatchObject({ ok: true, versionId: def?.id, result: expected.get(def?.id as string)?.tag });
      expect(tags.has(served.body.result)).toBe(true);
      // Every ready version still runs (its bundle loads), the ones that share G's code included.
      for (const v of versions.filter((x) => x.status === "ready")) {
        const res = await api("POST", `/api/functions/${f.id}/invoke`, { body: { versionId: v.id } });
        expect(res.body, `version ${v.number}`).toMatchObject({ ok: true, result: expected.get(v.id)?.tag });
      }

      // G was purged: no row anywhere, no object only it used, and its object forgot it.
      const idsOfG = JSON.stringify([...gCallIds]);
      const leftovers = await rows(
        `SELECT 'functions' AS t, id FROM functions WHERE id = ?1
         UNION ALL SELECT 'versions', id FROM versions WHERE function_id = ?1
         UNION ALL SELECT 'calls', id FROM calls WHERE function_id = ?1 OR id IN (SELECT value FROM json_each(?2))
         UNION ALL SELECT 'call_logs', call_id FROM call_logs WHERE call_id IN (SELECT value FROM json_each(?2))
         UNION ALL SELECT 'schedules', id FROM schedules WHERE function_id = ?1`,
        g.id,
        idsOfG,
      );
      expect.soft(leftovers, `rows of purged ${g.id}`).toEqual([]);
      expect(await stub(g.id).snapshot(g.id)).toBeNull();
      expectError(await api("GET", `/api/functions/${g.id}`), 404, "not_found");
      const stillUsed = new Set(
        (
          await rows<{ k: string | null }>("SELECT source_key AS k FROM versions UNION SELECT bundle_key FROM versions")
        ).map((r) => r.k),
      );
      const after = new Set(await allObjects());
      for (const key of gKeys) {
        if (!stillUsed.has(key)) expect.soft(after.has(key), `${key} of purged ${g.id}`).toBe(false);
      }

      // The whole bucket: every object is one the platform writes, and each is referred to by a row.
      const scan = await scanBucket();
      expect.soft(scan.unknownKinds, "objects of a kind the scan does not know").toEqual([]);
      expect.soft(scan.orphans, `orphans among ${scan.count} objects`).toEqual([]);
      expect.soft(scan.dangling, "rows whose object is missing").toEqual([]);
    });
  }
});

describe("shared code: releasing it while an upload of the same content starts using it", () => {
  it("puts the objects back when a version starts using them between the release's check and its delete", async () => {
    const ws = await newWorkspace();
    const g = await newFunction(ws.id);
    const f = await newFunction(ws.id);
    const tag = `raced-${crypto.randomUUID()}`;
    await deploy(g.id, good(tag));
    const [held] = await rows<{ source_key: string; bundle_key: string }>(
      "SELECT source_key, bundle_key FROM versions WHERE function_id = ?",
      g.id,
    );
    const keys = [held?.source_key as string, held?.bundle_key as string];
    const bodies = await Promise.all(keys.map(async (k) => (await env.CODE.get(k))?.text()));
    expect((await api("DELETE", `/api/functions/${g.id}`)).status).toBe(200);
    expect((await api("DELETE", `/api/functions/${g.id}/purge`)).status).toBe(200);
    for (const k of keys) expect(await env.CODE.head(k), `${k} went with the purge`).toBeNull();
    // What a purge sees once its rows are gone: the objects, and no version using them.
    await Promise.all(keys.map((k, i) => env.CODE.put(k, bodies[i] as string)));

    // The release checks (nothing uses them), then, before it deletes, F uploads the same code and it builds.
    const wrapped = interceptOnce("delete", () => deploy(f.id, good(tag)));
    await releaseCode(getDb(env.DB), wrapped.env, keys);
    expect(wrapped.fired()).toBe(true);

    for (const k of keys) expect(await env.CODE.head(k), `${k} is used by ${f.id}`).not.toBeNull();
    const res = await api("POST", `/api/functions/${f.id}/invoke`, { body: {} });
    expect(res.body).toMatchObject({ ok: true, result: tag });
    const scan = await scanBucket();
    expect(scan.orphans).toEqual([]);
    expect(scan.dangling).toEqual([]);
  });
});

describe("shared code: an upload whose object a release deletes before the version is recorded", () => {
  it("stores it again once the version is recorded, so the version builds and runs", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    const tag = `confirmed-${crypto.randomUUID()}`;
    // A purge elsewhere releases the same content right after it is stored: no version uses it yet, so it goes.
    const wrapped = interceptOnce(
      "put",
      async (key) => {
        await releaseCode(getDb(env.DB), env, [key]);
        expect(await env.CODE.head(key)).toBeNull();
      },
      { after: true },
    );
    const ctx = adminContext(wrapped.env);
    const version = await createVersion(ctx, fn.id, { files: good(tag) });
    expect(wrapped.fired()).toBe(true);
    expect(await env.CODE.head(version.sourceKey)).not.toBeNull();
    const built = await waitForBuild(fn.id, version.id);
    expect(built.status, JSON.stringify(built.error)).toBe("ready");
    expect((await api("POST", `/api/functions/${fn.id}/invoke`, { body: {} })).body).toMatchObject({ result: tag });
  });
});

describe("code stored for a version that is refused, canceled or purged meanwhile", () => {
  /**
   * The build runs here (not from the queue) with R2 wrapped: the version is canceled, or its function purged,
   * right before the build stores its bundle, the moment no request can be timed to hit.
   */
  async function buildInterrupted(interrupt: (fnId: string, versionId: string) => Promise<void>) {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    const tag = `late-${crypto.randomUUID()}`;
    const files = good(tag);
    const source = JSON.stringify({ files, entrypoint: "index.js" });
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(source));
    const sourceKey = `sources/${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    await env.CODE.put(sourceKey, source);
    const now = Date.now();
    // A queued version as an upload records it, without the build job (this test runs the build itself).
    const created = await stub(fn.id).createVersion({
      id: `ver_${crypto.randomUUID().replaceAll("-", "").slice(0, 26)}`,
      functionId: fn.id,
      workspaceId: ws.id,
      status: "queued",
      entrypoint: "index.js",
      sourceKey,
      sourceSize: source.length,
      bundleKey: null,
      bundleSize: null,
      handlers: null,
      activate: true,
      error: null,
      buildLogs: [],
      createdBy: null,
      createdAt: now,
      updatedAt: now,
      buildStartedAt: null,
      buildFinishedAt: null,
    });
    expect(created.ok).toBe(true);
    const versionId = created.ok ? created.value.id : "";
    const wrapped = interceptOnce("put", () => interrupt(fn.id, versionId), {
      matches: (key) => key.startsWith("bundles/"),
    });
    await runBuild(getDb(env.DB), wrapped.env, versionId);
    expect(wrapped.fired()).toBe(true);
    return { fn, versionId };
  }

  it("a build canceled while it runs leaves no bundle behind", async () => {
    const { versionId } = await buildInterrupted(async (fnId, vid) => {
      const res = await api("POST", `/api/functions/${fnId}/versions/${vid}/cancel`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
    const [v] = await rows("SELECT status, bundle_key FROM versions WHERE id = ?", versionId);
    expect(v).toMatchObject({ status: "canceled", bundle_key: null });
    const scan = await scanBucket();
    expect(scan.orphans, "objects no row refers to").toEqual([]);
    expect(scan.dangling).toEqual([]);
  });

  it("an upload refused because its function was deleted meanwhile leaves no source behind", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id);
    // Right before the upload stores its sources, so its version is refused once they are stored.
    const wrapped = interceptOnce("put", async () => {
      expect((await api("DELETE", `/api/functions/${fn.id}`)).status).toBe(200);
    });
    const ctx = adminContext(wrapped.env);
    const refused = await createVersion(ctx, fn.id, { files: good(`refused-${crypto.randomUUID()}`) }).then(
      () => null,
      (err: Error & { code?: string }) => err,
    );
    expect(wrapped.fired()).toBe(true);
    expect(refused?.code, String(refused)).toBe("conflict");
    expect(await rows("SELECT id FROM versions WHERE function_id = ?", fn.id)).toEqual([]);
    const scan = await scanBucket();
    expect(scan.orphans, "objects no row refers to").toEqual([]);
  });

  it("a build whose function is purged while it runs leaves nothing behind", async () => {
    const { fn } = await buildInterrupted(async (fnId) => {
      expect((await api("DELETE", `/api/functions/${fnId}`)).status).toBe(200);
      expect((await api("DELETE", `/api/functions/${fnId}/purge`)).status).toBe(200);
    });
    expect(await rows("SELECT id FROM versions WHERE function_id = ?", fn.id)).toEqual([]);
    const scan = await scanBucket();
    expect(scan.orphans, "objects no row refers to").toEqual([]);
    expect(scan.dangling).toEqual([]);
  });
});
