import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, expectError, expectStatus, newFunction, newKey, newWorkspace, tenant, unique } from "./support/api";
import { deploy, invoke } from "./support/deploy";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("functions: create and get", () => {
  it("creates a function with every field of seed 004 and Cognite's extras", async () => {
    const { ws, keys } = await tenant();
    const developer = await api("GET", "/api/keys", {}).then((r) =>
      r.body.data.find((k: any) => k.workspaceId === ws.id && k.role === "developer"),
    );
    const fn = expectStatus(
      await api("POST", "/api/functions", {
        key: keys.developer,
        body: {
          workspaceId: ws.id,
          name: "resize-images",
          description: "Resizes images",
          externalId: "img.resize",
          metadata: { team: "media" },
          runtimeUserId: "user-1",
          retentionTier: "extended",
        },
      }),
      201,
    );
    expect(fn).toEqual({
      id: expect.stringMatching(/^fun_[0-9a-z]{26}$/),
      workspaceId: ws.id,
      name: "resize-images",
      description: "Resizes images",
      externalId: "img.resize",
      metadata: { team: "media" },
      defaultVersionId: null,
      source: "custom",
      system: false,
      createdBy: developer.id,
      runtimeUserId: "user-1",
      inputSchemaId: null,
      outputSchemaId: null,
      deletedAt: null,
      retentionTier: "extended",
      envVars: null,
      secrets: null,
      timeoutMs: null,
      cpuMs: null,
      allowedHosts: null,
      configRevision: 1,
      maxRetries: null,
      lastCalledAt: null,
      public: false,
      rateLimitPerMinute: null,
      corsOrigins: null,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}`, { key: keys.viewer }), 200)).toEqual(fn);
  });

  it("keeps names unique among the live functions of a workspace, not across workspaces", async () => {
    const a = await newWorkspace();
    const b = await newWorkspace();
    await newFunction(a.id, { name: "same" });
    const err = expectError(
      await api("POST", "/api/functions", { body: { workspaceId: a.id, name: "same" } }),
      409,
      "conflict",
    );
    expect(err.message).toContain("same");
    await newFunction(b.id, { name: "same" });
  });

  it("keeps externalId unique per workspace", async () => {
    const ws = await newWorkspace();
    await newFunction(ws.id, { externalId: "ext-1" });
    expectError(
      await api("POST", "/api/functions", { body: { workspaceId: ws.id, name: unique("f"), externalId: "ext-1" } }),
      409,
      "conflict",
    );
  });

  it("rejects bad input with a 400 that names the field, and creates nothing", async () => {
    const ws = await newWorkspace();
    const cases: [unknown, RegExp][] = [
      [{ workspaceId: ws.id }, /name/],
      [{ workspaceId: ws.id, name: "" }, /name/],
      [{ workspaceId: ws.id, name: "x".repeat(141) }, /name/],
      [{ workspaceId: ws.id, name: "   " }, /name/],
      [{ workspaceId: ws.id, name: "a\u0000b" }, /name/],
      [{ workspaceId: ws.id, name: "ok", description: "d".repeat(501) }, /description/],
      [
        {
          workspaceId: ws.id,
          name: "ok",
          metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])),
        },
        /16/,
      ],
      [{ workspaceId: ws.id, name: "ok", metadata: { ["k".repeat(33)]: "v" } }, /32 bytes/],
      [{ workspaceId: ws.id, name: "ok", metadata: { k: "v".repeat(513) } }, /512 bytes/],
      [
        {
          workspaceId: ws.id,
          name: "ok",
          metadata: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, "v".repeat(500)])),
        },
        /4096/,
      ],
      [{ workspaceId: ws.id, name: "ok", metadata: { k: 1 } }, /metadata/],
      [{ workspaceId: ws.id, name: "ok", retentionTier: "forever" }, /retentionTier/],
      [{ workspaceId: ws.id, name: "ok", source: "magic" }, /source/],
      [{ workspaceId: ws.id, name: "ok", surprise: true }, /surprise|unrecognized/i],
      [{ name: "ok" }, /workspaceId/],
      [[1, 2], /body/],
    ];
    for (const [body, message] of cases) {
      const err = expectError(await api("POST", "/api/functions", { body }), 400, "bad_request");
      expect(err.message, JSON.stringify(body).slice(0, 80)).toMatch(message);
    }
    expectError(await api("POST", "/api/functions", { raw: "{not json" }), 400, "bad_request");
    expectError(await api("POST", "/api/functions", { raw: "" }), 400, "bad_request");
    const list = expectStatus(await api("GET", `/api/functions?workspace_id=${ws.id}&include_deleted=true`), 200);
    expect(list.data).toEqual([]);
  });

  it("answers 404 for an unknown function or workspace", async () => {
    expectError(await api("GET", "/api/functions/fun_00000000000000000000000000"), 404, "not_found");
    expectError(await api("GET", "/api/functions/nonsense"), 404, "not_found");
    expectError(
      await api("POST", "/api/functions", { body: { workspaceId: "ws_missing", name: "x" } }),
      404,
      "not_found",
    );
  });
});

describe("functions: patch", () => {
  it("changes what was sent and leaves the rest", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id, { description: "old", metadata: { a: "1" } });
    const patched = expectStatus(
      await api("PATCH", `/api/functions/${fn.id}`, { body: { name: "renamed", runtimeUserId: "svc" } }),
      200,
    );
    expect(patched).toMatchObject({ name: "renamed", description: "old", metadata: { a: "1" }, runtimeUserId: "svc" });
    expect(Date.parse(patched.updatedAt)).toBeGreaterThanOrEqual(Date.parse(fn.updatedAt));
    expect(
      expectStatus(await api("PATCH", `/api/functions/${fn.id}`, { body: { description: null } }), 200).description,
    ).toBeNull();
  });

  it("refuses a taken name, an empty patch and unknown fields, changing nothing", async () => {
    const ws = await newWorkspace();
    const a = await newFunction(ws.id, { name: "alpha" });
    const b = await newFunction(ws.id, { name: "beta" });
    expectError(await api("PATCH", `/api/functions/${b.id}`, { body: { name: "alpha" } }), 409, "conflict");
    expectError(await api("PATCH", `/api/functions/${b.id}`, { body: {} }), 400, "bad_request");
    expectError(
      await api("PATCH", `/api/functions/${b.id}`, { body: { workspaceId: "ws_other" } }),
      400,
      "bad_request",
    );
    expectError(await api("PATCH", `/api/functions/${b.id}`, { body: { system: true } }), 400, "bad_request");
    expect(expectStatus(await api("GET", `/api/functions/${b.id}`), 200)).toEqual(b);
    expect(expectStatus(await api("GET", `/api/functions/${a.id}`), 200)).toEqual(a);
  });
});

describe("functions: soft delete, restore and purge", () => {
  it("walks the whole lifecycle", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id, { name: "life" });
    expect(expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200)).toEqual({ success: true });

    const deleted = expectStatus(await api("GET", `/api/functions/${fn.id}`), 200);
    expect(deleted.deletedAt).toMatch(ISO);
    const live = expectStatus(await api("GET", `/api/functions?workspace_id=${ws.id}`), 200);
    expect(live.data.map((f: any) => f.id)).not.toContain(fn.id);

    expectError(await api("DELETE", `/api/functions/${fn.id}`), 409, "conflict");
    expectError(await api("PATCH", `/api/functions/${fn.id}`, { body: { description: "x" } }), 409, "conflict");

    const restored = expectStatus(await api("POST", `/api/functions/${fn.id}/restore`), 200);
    expect(restored).toMatchObject({ id: fn.id, name: "life", deletedAt: null });
    expectError(await api("POST", `/api/functions/${fn.id}/restore`), 409, "conflict");

    const purgeLive = expectError(await api("DELETE", `/api/functions/${fn.id}/purge`), 409, "conflict");
    expect(purgeLive.message).toMatch(/not deleted/);
    expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
    expect(expectStatus(await api("DELETE", `/api/functions/${fn.id}/purge`), 200)).toEqual({ success: true });
    expectError(await api("GET", `/api/functions/${fn.id}`), 404, "not_found");
    expectError(await api("DELETE", `/api/functions/${fn.id}/purge`), 404, "not_found");
    expectError(await api("POST", `/api/functions/${fn.id}/restore`), 404, "not_found");
  });

  it("frees a deleted function's name, and refuses to restore it while the name is taken", async () => {
    const ws = await newWorkspace();
    const old = await newFunction(ws.id, { name: "reports" });
    expectStatus(await api("DELETE", `/api/functions/${old.id}`), 200);
    const replacement = await newFunction(ws.id, { name: "reports" });

    const err = expectError(await api("POST", `/api/functions/${old.id}/restore`), 409, "conflict");
    expect(err.message).toContain("reports");
    expect(err.message).toMatch(/taken/);
    expect(expectStatus(await api("GET", `/api/functions/${old.id}`), 200).deletedAt).not.toBeNull();

    expectStatus(await api("PATCH", `/api/functions/${replacement.id}`, { body: { name: "reports-v2" } }), 200);
    expect(expectStatus(await api("POST", `/api/functions/${old.id}/restore`), 200).name).toBe("reports");
  });

  it("keeps the FunctionObject and D1 in agreement under 50 concurrent mixed operations", async () => {
    const ws = await newWorkspace();
    const fn = await newFunction(ws.id, { name: "contended" });
    const ops = Array.from({ length: 50 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return api("DELETE", `/api/functions/${fn.id}`);
        case 1:
          return api("POST", `/api/functions/${fn.id}/restore`);
        case 2:
          return api("PATCH", `/api/functions/${fn.id}`, { body: { description: `d${i}`, name: `contended-${i}` } });
        default:
          return api("DELETE", `/api/functions/${fn.id}/purge`);
      }
    });
    const results = await Promise.all(ops);
    for (const r of results) expect([200, 404, 409]).toContain(r.status);
    expect(results.some((r) => r.status === 200)).toBe(true);
    // Each operation saw the state the previous one left: deletes and restores alternate, one purge at most.
    const succeeded = (kind: number) => results.filter((r, i) => i % 4 === kind && r.status === 200).length;
    const net = succeeded(0) - succeeded(1);
    expect(net === 0 || net === 1, `deletes ${succeeded(0)}, restores ${succeeded(1)}`).toBe(true);
    expect(succeeded(3)).toBeLessThanOrEqual(1);

    const row = await env.DB.prepare("SELECT name, deleted_at FROM functions WHERE id = ?")
      .bind(fn.id)
      .first<{ name: string; deleted_at: number | null }>();
    const stub = env.FUNCTIONS.get(env.FUNCTIONS.idFromName(fn.id));
    const state = await stub.snapshot(fn.id);
    if (row === null) {
      expect(state).toBeNull();
      expect(succeeded(3)).toBe(1);
      expect(net).toBe(1);
    } else {
      expect(state).toMatchObject({ name: row.name, deletedAt: row.deleted_at, workspaceId: ws.id });
      expect(row.deleted_at !== null).toBe(net === 1);
    }
  });
});

describe("functions: system functions", () => {
  let a: Awaited<ReturnType<typeof tenant>>;
  let b: Awaited<ReturnType<typeof tenant>>;
  let system: any;
  beforeAll(async () => {
    a = await tenant();
    b = await tenant();
    system = expectStatus(
      await api("POST", "/api/functions", { body: { workspaceId: a.ws.id, name: unique("sys"), system: true } }),
      201,
    );
  });

  it("are visible from every workspace", async () => {
    expect(system).toMatchObject({ system: true, source: "system" });
    expect(expectStatus(await api("GET", `/api/functions/${system.id}`, { key: b.keys.viewer }), 200).id).toBe(
      system.id,
    );
    const listed = expectStatus(
      await api("GET", `/api/functions?workspace_id=${b.ws.id}`, { key: b.keys.viewer }),
      200,
    );
    expect(listed.data.map((f: any) => f.id)).toContain(system.id);
  });

  it("are created and changed only by an admin key without a workspace", async () => {
    expectError(
      await api("PATCH", `/api/functions/${system.id}`, { key: a.keys.developer, body: { description: "x" } }),
      403,
      "forbidden",
    );
    expectError(
      await api("PATCH", `/api/functions/${system.id}`, { key: b.keys.developer, body: { description: "x" } }),
      403,
      "forbidden",
    );
    expectError(
      await api("PATCH", `/api/functions/${system.id}`, { key: b.keys.admin, body: { description: "x" } }),
      403,
      "forbidden",
    );
    expectError(await api("DELETE", `/api/functions/${system.id}`, { key: b.keys.admin }), 403, "forbidden");
    expectError(
      await api("POST", "/api/functions", {
        key: a.keys.developer,
        body: { workspaceId: a.ws.id, name: unique("s"), system: true },
      }),
      403,
      "forbidden",
    );
    // Not even an admin of the workspace the function lives in: every workspace runs a system function.
    expectError(
      await api("PATCH", `/api/functions/${system.id}`, { key: a.keys.admin, body: { description: "by admin" } }),
      403,
      "forbidden",
    );
    expectError(
      await api("POST", "/api/functions", {
        key: a.keys.admin,
        body: { workspaceId: a.ws.id, name: unique("s"), system: true },
      }),
      403,
      "forbidden",
    );
    expectError(
      await api("POST", `/api/functions/${system.id}/versions`, {
        key: a.keys.admin,
        body: { files: { "index.js": "export function handle() { return 'mine now'; }" } },
      }),
      403,
      "forbidden",
    );
    expectError(await api("DELETE", `/api/functions/${system.id}`, { key: a.keys.admin }), 403, "forbidden");
    expect(
      expectStatus(await api("PATCH", `/api/functions/${system.id}`, { body: { description: "global admin" } }), 200)
        .description,
    ).toBe("global admin");
  });

  it("are called by every workspace, and each call belongs to the workspace that made it", async () => {
    await deploy(system.id, {
      "index.js": "export function handle(d, ctx) { console.log('secret of ' + d.who); return { who: d.who }; }",
    });
    const fromB = expectStatus(await invoke(system.id, { who: "b" }, {}, b.keys.invoker), 200);
    expect(fromB).toMatchObject({ ok: true, result: { who: "b" } });
    const fromA = expectStatus(await invoke(system.id, { who: "a" }, {}, a.keys.invoker), 200);
    await new Promise((r) => setTimeout(r, 300));

    // B sees its call, its result and logs; A (the function's own workspace) does not see B's, and vice versa.
    expectStatus(await api("GET", `/api/calls/${fromB.callId}`, { key: b.keys.viewer }), 200);
    expect(
      expectStatus(await api("GET", `/api/calls/${fromB.callId}/logs`, { key: b.keys.viewer }), 200).items,
    ).toMatchObject([{ message: "secret of b" }]);
    for (const path of ["", "/logs", "/response"]) {
      expectError(await api("GET", `/api/calls/${fromB.callId}${path}`, { key: a.keys.admin }), 404, "not_found");
      expectError(await api("GET", `/api/calls/${fromA.callId}${path}`, { key: b.keys.admin }), 404, "not_found");
    }
    const listedByA = expectStatus(await api("GET", `/api/functions/${system.id}/calls`, { key: a.keys.viewer }), 200);
    expect(listedByA.data.map((c: any) => c.id)).toEqual([fromA.callId]);
    const listedByB = expectStatus(await api("GET", `/api/functions/${system.id}/calls`, { key: b.keys.viewer }), 200);
    expect(listedByB.data.map((c: any) => c.id)).toEqual([fromB.callId]);
    const metricsOfA = expectStatus(
      await api("GET", `/api/functions/${system.id}/metrics?window=1h`, { key: a.keys.viewer }),
      200,
    );
    expect(metricsOfA.total).toBe(1);
  });
});

describe("functions: retention sweep", () => {
  it("purges soft-deleted functions when their tier's period has passed, and never a permanent one", async () => {
    const ws = await newWorkspace();
    const make = async (tier: string, daysAgo: number) => {
      const fn = await newFunction(ws.id, { retentionTier: tier });
      expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
      await env.DB.prepare("UPDATE functions SET deleted_at = ? WHERE id = ?")
        .bind(Date.now() - daysAgo * 86_400_000, fn.id)
        .run();
      return fn.id as string;
    };
    const standardOld = await make("standard", 31);
    const standardNew = await make("standard", 29);
    const extendedMid = await make("extended", 31);
    const extendedOld = await make("extended", 91);
    const permanent = await make("permanent", 3650);
    const live = await newFunction(ws.id);

    const { default: worker } = await import("../src/index");
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import(
      "cloudflare:test"
    );
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    for (const id of [standardOld, extendedOld])
      expectError(await api("GET", `/api/functions/${id}`), 404, "not_found");
    for (const id of [standardNew, extendedMid, permanent]) {
      expect(expectStatus(await api("GET", `/api/functions/${id}`), 200).deletedAt).not.toBeNull();
    }
    expect(expectStatus(await api("GET", `/api/functions/${live.id}`), 200).deletedAt).toBeNull();
  });
});

describe("functions: roles", () => {
  it("lets a developer manage functions of its workspace and a viewer only read them", async () => {
    const { ws, keys } = await tenant();
    const fn = await newFunction(ws.id, {}, keys.developer);
    expectStatus(await api("GET", `/api/functions/${fn.id}`, { key: keys.viewer }), 200);
    expectError(
      await api("PATCH", `/api/functions/${fn.id}`, { key: keys.viewer, body: { description: "x" } }),
      403,
      "forbidden",
    );
    expectStatus(
      await api("PATCH", `/api/functions/${fn.id}`, { key: keys.developer, body: { description: "x" } }),
      200,
    );
    const other = await newKey("developer", (await newWorkspace()).id);
    expectError(
      await api("PATCH", `/api/functions/${fn.id}`, { key: other.key, body: { description: "y" } }),
      404,
      "not_found",
    );
  });
});
