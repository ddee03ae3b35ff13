import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, expectError, expectStatus, newFunction, newKey, newWorkspace, tenant } from "./support/api";
import { deploy, invoke } from "./support/deploy";

async function sha256(value: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("API keys", () => {
  it("shows the secret once, stores only its hash, and the secret works", async () => {
    const ws = await newWorkspace();
    const created = expectStatus(
      await api("POST", "/api/keys", { body: { name: "ci", role: "developer", workspaceId: ws.id } }),
      201,
    );
    expect(created).toMatchObject({
      name: "ci",
      role: "developer",
      workspaceId: ws.id,
      expiresAt: null,
      createdBy: "key_admin",
    });
    expect(created.key).toMatch(/^efn_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 10));

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(created.id)
      .first<Record<string, unknown>>();
    expect(row?.hash).toBe(await sha256(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const listed = expectStatus(await api("GET", "/api/keys"), 200);
    const mine = listed.data.find((k: any) => k.id === created.id);
    expect(mine).toEqual({ ...created, key: undefined });
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(JSON.stringify(listed)).not.toContain(row?.hash as string);

    expectStatus(await api("GET", `/api/workspaces/${ws.id}`, { key: created.key }), 200);
  });

  it("stops working the moment it is revoked", async () => {
    const ws = await newWorkspace();
    const k = await newKey("viewer", ws.id);
    expectStatus(await api("GET", "/api/workspaces", { key: k.key }), 200);
    expect(expectStatus(await api("DELETE", `/api/keys/${k.id}`), 200)).toEqual({ success: true });
    expectError(await api("GET", "/api/workspaces", { key: k.key }), 401, "unauthorized");
    expectError(await api("DELETE", `/api/keys/${k.id}`), 404, "not_found");
  });

  it("stops working once it expires", async () => {
    const k = await newKey("viewer", null, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expectStatus(await api("GET", "/api/workspaces", { key: k.key }), 200);
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, k.id)
      .run();
    // A key the isolate has cached still honours its expiry without a D1 read: it is checked per request.
    const cachedExpiry = await newKey("viewer", null, { expiresAt: new Date(Date.now() + 1500).toISOString() });
    expectStatus(await api("GET", "/api/workspaces", { key: cachedExpiry.key }), 200);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await api("GET", "/api/workspaces", { key: cachedExpiry.key })).status).toBe(401);
  });

  it("rejects bad input with a 400", async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: "x", role: "superuser" }, /role/],
      [{ role: "viewer" }, /name/],
      [{ name: "", role: "viewer" }, /name/],
      [{ name: "x", role: "viewer", expiresAt: "tomorrow" }, /expiresAt/],
      [{ name: "x", role: "viewer", expiresAt: "2001-01-01T00:00:00Z" }, /future/],
    ];
    for (const [body, message] of cases) {
      expect(expectError(await api("POST", "/api/keys", { body }), 400, "bad_request").message).toMatch(message);
    }
    expectError(
      await api("POST", "/api/keys", { body: { name: "x", role: "viewer", workspaceId: "ws_nope" } }),
      404,
      "not_found",
    );
  });

  it("lets a workspace admin manage its own workspace's keys only, never granting more than it has", async () => {
    const a = await tenant();
    const b = await tenant();
    const made = expectStatus(
      await api("POST", "/api/keys", { key: a.keys.admin, body: { name: "dev", role: "developer" } }),
      201,
    );
    expect(made.workspaceId).toBe(a.ws.id);
    expectError(
      await api("POST", "/api/keys", { key: a.keys.admin, body: { name: "x", role: "viewer", workspaceId: b.ws.id } }),
      404,
      "not_found",
    );
    const listed = expectStatus(await api("GET", "/api/keys", { key: a.keys.admin }), 200);
    expect(listed.data.length).toBeGreaterThan(0);
    expect(listed.data.every((k: any) => k.workspaceId === a.ws.id)).toBe(true);
    const bViewer = (await api("GET", "/api/keys", { key: b.keys.admin })).body.data.find(
      (k: any) => k.role === "viewer",
    );
    expectError(await api("DELETE", `/api/keys/${bViewer.id}`, { key: a.keys.admin }), 404, "not_found");
    expectError(
      await api("POST", "/api/keys", { key: a.keys.developer, body: { name: "x", role: "viewer" } }),
      403,
      "forbidden",
    );
  });
});

describe("API keys scoped to functions", () => {
  it("read and invoke only their functions; everything else does not exist for them", async () => {
    const { ws } = await tenant();
    const mine = await newFunction(ws.id);
    const other = await newFunction(ws.id);
    for (const f of [mine, other]) await deploy(f.id, { "index.js": "export function handle() { return 'hi'; }" });
    const scoped = expectStatus(
      await api("POST", "/api/keys", {
        body: { name: "one-function", role: "invoker", workspaceId: ws.id, functionIds: [mine.id] },
      }),
      201,
    );
    expect(scoped.functionIds).toEqual([mine.id]);
    const key = scoped.key as string;

    expect(expectStatus(await invoke(mine.id, null, {}, key), 200).ok).toBe(true);
    expectStatus(await api("GET", `/api/functions/${mine.id}`, { key }), 200);
    const listed = expectStatus(await api("GET", `/api/functions?workspace_id=${ws.id}`, { key }), 200);
    expect(listed.data.map((f: { id: string }) => f.id)).toEqual([mine.id]);

    expectError(await invoke(other.id, null, {}, key), 404, "not_found");
    expectError(await api("GET", `/api/functions/${other.id}`, { key }), 404, "not_found");
    expectError(await api("GET", `/api/functions/${other.id}/calls`, { key }), 404, "not_found");
    expectError(await api("GET", `/api/functions/${other.id}/versions`, { key }), 404, "not_found");
    const otherCall = expectStatus(await invoke(other.id), 200).callId;
    for (let i = 0; i < 100 && (await api("GET", `/api/calls/${otherCall}`)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expectError(await api("GET", `/api/calls/${otherCall}`, { key }), 404, "not_found");
    expectError(await api("GET", `/run/${ws.name}/${other.name}/`, { key }), 404, "not_found");
  });

  it("are viewer or invoker keys of one workspace, naming functions of it", async () => {
    const { ws } = await tenant();
    const fn = await newFunction(ws.id);
    const foreign = await newFunction((await newWorkspace()).id);
    const bad = async (body: Record<string, unknown>, pattern: RegExp) => {
      const err = expectError(
        await api("POST", "/api/keys", { body: { name: "k", role: "invoker", workspaceId: ws.id, ...body } }),
        400,
        "bad_request",
      );
      expect(err.message).toMatch(pattern);
    };
    await bad({ role: "developer", functionIds: [fn.id] }, /viewer or an invoker/);
    await bad({ workspaceId: null, functionIds: [fn.id] }, /needs a workspaceId/);
    await bad({ functionIds: [foreign.id] }, /no function/);
    await bad({ functionIds: [] }, /functionIds/);
  });
});
