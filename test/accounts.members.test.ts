/**
 * Roles per workspace membership: a user acts in each workspace with the role of their membership there, by the
 * same checks API keys go through; another workspace does not exist for them; a removed or demoted member loses
 * access at the next request, and the keys they made follow their role; a platform admin may do everything.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { asSession, member, newUser, type Session, signIn } from "./support/accounts";
import { api, expectError, expectStatus, newFunction, newWorkspace, unique, type Workspace } from "./support/api";
import { deploy, waitForBuild } from "./support/deploy";

const CODE = { "index.js": "export function handle(data) { return { echo: data }; }" };

describe("a member's role in their workspace", () => {
  let a: Workspace;
  let b: Workspace;
  let fnA: any;
  let fnB: any;
  beforeAll(async () => {
    [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    [fnA, fnB] = await Promise.all([newFunction(a.id), newFunction(b.id)]);
    await Promise.all([deploy(fnA.id, CODE), deploy(fnB.id, CODE)]);
  });

  it("a viewer reads but cannot write or invoke", async () => {
    const { session } = await member({ [a.id]: "viewer" });
    expect(expectStatus(await asSession(session, "GET", `/api/functions/${fnA.id}`), 200).id).toBe(fnA.id);
    const listed = expectStatus(await asSession(session, "GET", `/api/functions?workspace_id=${a.id}`), 200);
    expect(listed.data.map((f: any) => f.id)).toEqual([fnA.id]);
    const before = expectStatus(await api("GET", `/api/functions/${fnA.id}`), 200);
    for (const [method, path, body] of [
      ["PATCH", `/api/functions/${fnA.id}`, { description: "by a viewer" }],
      ["POST", `/api/functions/${fnA.id}/versions`, { files: CODE }],
      ["POST", `/api/functions/${fnA.id}/invoke`, { args: 1 }],
      ["DELETE", `/api/functions/${fnA.id}`, undefined],
      ["POST", "/api/functions", { workspaceId: a.id, name: unique("fn") }],
      ["PATCH", `/api/workspaces/${a.id}`, { description: "by a viewer" }],
    ] as const) {
      const err = expectError(await asSession(session, method, path, { body }), 403, "forbidden");
      expect(err.message).toContain("viewer");
    }
    expect(expectStatus(await api("GET", `/api/functions/${fnA.id}`), 200)).toEqual(before);
  });

  it("an invoker invokes; a developer deploys, changes and schedules", async () => {
    const invoker = await member({ [a.id]: "invoker" });
    const called = expectStatus(
      await asSession(invoker.session, "POST", `/api/functions/${fnA.id}/invoke`, { body: { args: "hi" } }),
      200,
    );
    expect(called).toMatchObject({ ok: true, result: { echo: "hi" } });
    expectError(
      await asSession(invoker.session, "PATCH", `/api/functions/${fnA.id}`, { body: { description: "x" } }),
      403,
      "forbidden",
    );

    const dev = await member({ [a.id]: "developer" });
    const fn = expectStatus(
      await asSession(dev.session, "POST", "/api/functions", { body: { workspaceId: a.id, name: unique("by-dev") } }),
      201,
    );
    expect(fn.createdBy).toBe(dev.user.id);
    const queued = expectStatus(
      await asSession(dev.session, "POST", `/api/functions/${fn.id}/versions`, { body: { files: CODE } }),
      201,
    );
    expect((await waitForBuild(fn.id, queued.id)).status).toBe("ready");
    expect(
      expectStatus(await asSession(dev.session, "POST", `/api/functions/${fn.id}/invoke`, { body: { args: 2 } }), 200),
    ).toMatchObject({ ok: true, result: { echo: 2 } });
    expectStatus(
      await asSession(dev.session, "POST", "/api/schedules", {
        body: { functionId: fn.id, name: "nightly", cron: "@daily" },
      }),
      201,
    );
    // Not an admin: keys of others, invites and members are not a developer's.
    expectError(
      await asSession(dev.session, "POST", `/api/workspaces/${a.id}/invites`, {
        body: { email: "x@example.com", role: "viewer" },
      }),
      403,
      "forbidden",
    );
    expectError(await asSession(dev.session, "GET", `/api/workspaces/${a.id}/members`), 403, "forbidden");
  });

  it("another workspace does not exist for a member: 404 as for a key of another workspace", async () => {
    const { session } = await member({ [a.id]: "admin" });
    const wsList = expectStatus(await asSession(session, "GET", "/api/workspaces"), 200);
    expect(wsList.data.map((w: any) => w.id)).toEqual([a.id]);
    const fnList = expectStatus(await asSession(session, "GET", "/api/functions"), 200);
    expect(fnList.data.every((f: any) => f.workspaceId === a.id)).toBe(true);
    for (const [method, path, body] of [
      ["GET", `/api/workspaces/${b.id}`, undefined],
      ["PATCH", `/api/workspaces/${b.id}`, { description: "x" }],
      ["GET", `/api/functions/${fnB.id}`, undefined],
      ["POST", `/api/functions/${fnB.id}/invoke`, { args: 1 }],
      ["GET", `/api/functions?workspace_id=${b.id}`, undefined],
      ["POST", "/api/functions", { workspaceId: b.id, name: unique("fn") }],
      ["POST", "/api/keys", { name: "k", role: "viewer", workspaceId: b.id }],
      ["GET", `/api/workspaces/${b.id}/members`, undefined],
      ["POST", `/api/workspaces/${b.id}/invites`, { email: "x@example.com", role: "viewer" }],
    ] as const) {
      const err = expectError(await asSession(session, method, path, { body }), 404, "not_found");
      expect(err.message).not.toContain(b.name);
    }
  });

  it("has a role in each workspace it is a member of", async () => {
    const { session } = await member({ [a.id]: "developer", [b.id]: "viewer" });
    expectStatus(
      await asSession(session, "PATCH", `/api/functions/${fnA.id}`, { body: { description: "dev in A" } }),
      200,
    );
    expectError(
      await asSession(session, "PATCH", `/api/functions/${fnB.id}`, { body: { description: "viewer in B" } }),
      403,
      "forbidden",
    );
    const me = expectStatus(await asSession(session, "GET", "/api/me"), 200);
    expect(me.memberships.map((m: any) => [m.workspaceId, m.role]).sort()).toEqual(
      [
        [a.id, "developer"],
        [b.id, "viewer"],
      ].sort(),
    );
    expect(me).toMatchObject({ kind: "user", role: "developer", allWorkspaces: false });
  });

  it("a user with no membership sees nothing, not even system functions", async () => {
    expectStatus(
      await api("POST", "/api/functions", { body: { workspaceId: a.id, name: unique("sys"), system: true } }),
      201,
    );
    const nobody = await newUser();
    const session = await signIn(nobody.email);
    expect(expectStatus(await asSession(session, "GET", "/api/workspaces"), 200).data).toEqual([]);
    expect(expectStatus(await asSession(session, "GET", "/api/functions"), 200).data).toEqual([]);
    expect(expectStatus(await asSession(session, "GET", "/api/schedules"), 200).data).toEqual([]);
    expect(expectStatus(await asSession(session, "GET", "/api/me"), 200).memberships).toEqual([]);
  });
});

describe("members: removed, demoted, and their keys", () => {
  let ws: Workspace;
  let fn: any;
  beforeAll(async () => {
    ws = await newWorkspace();
    fn = await newFunction(ws.id);
    await deploy(fn.id, CODE);
  });

  const key = (s: Session, role: string, workspaceId?: string | null) =>
    asSession(s, "POST", "/api/keys", { body: { name: unique("k"), role, workspaceId } });

  it("a user's keys are capped at their role, for their workspaces only", async () => {
    const other = await newWorkspace();
    const dev = await member({ [ws.id]: "developer" });
    for (const role of ["viewer", "invoker", "developer"]) {
      const made = expectStatus(await key(dev.session, role, ws.id), 201);
      expect(made).toMatchObject({ role, workspaceId: ws.id, createdBy: dev.user.id });
    }
    // No workspace named: the member's only one.
    expect(expectStatus(await key(dev.session, "viewer"), 201).workspaceId).toBe(ws.id);
    expectError(await key(dev.session, "admin", ws.id), 403, "forbidden");
    expectError(await key(dev.session, "viewer", other.id), 404, "not_found");

    const viewer = await member({ [ws.id]: "viewer" });
    expectStatus(await key(viewer.session, "viewer", ws.id), 201);
    expectError(await key(viewer.session, "invoker", ws.id), 403, "forbidden");

    // A member of two workspaces names the one the key is for.
    const both = await member({ [ws.id]: "developer", [other.id]: "developer" });
    expectError(await key(both.session, "viewer"), 400, "bad_request");

    // A member sees the keys they made; an admin of the workspace sees all of its keys.
    const mine = expectStatus(await asSession(dev.session, "GET", "/api/keys"), 200);
    expect(mine.data.length).toBe(4);
    expect(mine.data.every((k: any) => k.createdBy === dev.user.id)).toBe(true);
    const admin = await member({ [ws.id]: "admin" });
    const all = expectStatus(await asSession(admin.session, "GET", "/api/keys"), 200);
    expect(all.data.filter((k: any) => k.createdBy === dev.user.id).length).toBe(4);
    expect(all.data.every((k: any) => k.workspaceId === ws.id)).toBe(true);

    // A member revokes their own keys, not others': those do not exist for them.
    const adminsKey = expectStatus(await key(admin.session, "viewer", ws.id), 201);
    expectError(await asSession(dev.session, "DELETE", `/api/keys/${adminsKey.id}`), 404, "not_found");
    expectStatus(await api("GET", "/api/workspaces", { key: adminsKey.key }), 200);
    expectStatus(await asSession(dev.session, "DELETE", `/api/keys/${mine.data[0].id}`), 200);
    expectStatus(await asSession(admin.session, "DELETE", `/api/keys/${mine.data[1].id}`), 200);
  });

  it("a removed member loses access at once, and the keys they made for the workspace with it", async () => {
    const { user, session } = await member({ [ws.id]: "developer" });
    const made = expectStatus(await key(session, "developer", ws.id), 201);
    expectStatus(await api("GET", `/api/functions/${fn.id}`, { key: made.key }), 200);
    expectStatus(await asSession(session, "GET", `/api/functions/${fn.id}`), 200);

    expectStatus(await api("DELETE", `/api/workspaces/${ws.id}/members/${user.id}`), 200);
    expectError(await asSession(session, "GET", `/api/functions/${fn.id}`), 404, "not_found");
    expectError(await asSession(session, "GET", `/api/workspaces/${ws.id}`), 404, "not_found");
    expectError(await api("GET", `/api/functions/${fn.id}`, { key: made.key }), 401, "unauthorized");
    // Still signed in, as a member of nothing.
    expect(expectStatus(await asSession(session, "GET", "/api/me"), 200).memberships).toEqual([]);
    expectError(await api("DELETE", `/api/workspaces/${ws.id}/members/${user.id}`), 404, "not_found");
  });

  it("a demoted member acts with the new role at once; their keys above it are revoked", async () => {
    const { user, session } = await member({ [ws.id]: "developer" });
    const dev = expectStatus(await key(session, "developer", ws.id), 201);
    const view = expectStatus(await key(session, "viewer", ws.id), 201);
    const changed = expectStatus(
      await api("PATCH", `/api/workspaces/${ws.id}/members/${user.id}`, { body: { role: "viewer" } }),
      200,
    );
    expect(changed).toMatchObject({ userId: user.id, email: user.email, role: "viewer", workspaceId: ws.id });
    expectError(
      await asSession(session, "PATCH", `/api/functions/${fn.id}`, { body: { description: "x" } }),
      403,
      "forbidden",
    );
    expectError(await api("GET", "/api/workspaces", { key: dev.key }), 401, "unauthorized");
    expectStatus(await api("GET", "/api/workspaces", { key: view.key }), 200);
  });

  it("members are listed, changed and removed by the workspace's admins; a member may leave", async () => {
    const admin = await member({ [ws.id]: "admin" });
    const viewer = await member({ [ws.id]: "viewer" });
    const page = expectStatus(await asSession(admin.session, "GET", `/api/workspaces/${ws.id}/members`), 200);
    expect(page.data.find((m: any) => m.userId === viewer.user.id)).toMatchObject({
      email: viewer.user.email,
      role: "viewer",
    });
    const filter = encodeURIComponent(JSON.stringify({ user: { email: { eq: viewer.user.email } } }));
    const found = expectStatus(
      await asSession(admin.session, "GET", `/api/workspaces/${ws.id}/members?filter=${filter}`),
      200,
    );
    expect(found.data.map((m: any) => m.userId)).toEqual([viewer.user.id]);

    expectError(await asSession(viewer.session, "GET", `/api/workspaces/${ws.id}/members`), 403, "forbidden");
    expectError(
      await asSession(viewer.session, "PATCH", `/api/workspaces/${ws.id}/members/${viewer.user.id}`, {
        body: { role: "admin" },
      }),
      403,
      "forbidden",
    );
    expectError(
      await asSession(viewer.session, "DELETE", `/api/workspaces/${ws.id}/members/${admin.user.id}`),
      403,
      "forbidden",
    );
    expectStatus(
      await asSession(admin.session, "PATCH", `/api/workspaces/${ws.id}/members/${viewer.user.id}`, {
        body: { role: "invoker" },
      }),
      200,
    );
    expectError(
      await asSession(admin.session, "PATCH", `/api/workspaces/${ws.id}/members/${viewer.user.id}`, {
        body: { role: "owner" },
      }),
      400,
      "bad_request",
    );
    // Leaving.
    expectStatus(await asSession(viewer.session, "DELETE", `/api/workspaces/${ws.id}/members/${viewer.user.id}`), 200);
    expectError(await asSession(viewer.session, "GET", `/api/workspaces/${ws.id}`), 404, "not_found");
  });
});

describe("a platform admin", () => {
  it("may do everything an admin key for every workspace may", async () => {
    const admin = await newUser({ platformAdmin: true });
    const s = await signIn(admin.email);
    expect(s.body).toMatchObject({ role: "admin", user: { platformAdmin: true } });
    const ws = expectStatus(await asSession(s, "POST", "/api/workspaces", { body: { name: unique("ws") } }), 201);
    const listed = expectStatus(await asSession(s, "GET", "/api/workspaces?limit=100"), 200);
    expect(listed.data.length).toBeGreaterThan(1);
    const global = expectStatus(
      await asSession(s, "POST", "/api/keys", { body: { name: "ops", role: "admin", workspaceId: null } }),
      201,
    );
    expect(global.workspaceId).toBeNull();
    const other = await newUser();
    expectStatus(await asSession(s, "PATCH", `/api/users/${other.id}`, { body: { name: "Other" } }), 200);
    const token = expectStatus(
      await asSession(s, "POST", `/api/workspaces/${ws.id}/invites`, { body: { email: other.email, role: "admin" } }),
      201,
    ).token;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expectStatus(await asSession(s, "DELETE", `/api/workspaces/${ws.id}`), 200);

    // A workspace admin is not one.
    const theirs = await newWorkspace();
    const wsAdmin = await member({ [theirs.id]: "admin" });
    for (const [method, path, body] of [
      ["POST", "/api/workspaces", { name: unique("ws") }],
      ["DELETE", `/api/workspaces/${theirs.id}`, undefined],
      ["GET", "/api/users", undefined],
      ["POST", "/api/users", { email: `${unique("u")}@example.com`, password: "long enough" }],
    ] as const) {
      const err = expectError(await asSession(wsAdmin.session, method, path, { body }), 403, "forbidden");
      expect(err.message).toMatch(/platform admin/);
    }
    // A key without a workspace named is a key of the member's workspace, never of every one.
    const made = expectStatus(
      await asSession(wsAdmin.session, "POST", "/api/keys", { body: { name: "k", role: "admin", workspaceId: null } }),
      201,
    );
    expect(made.workspaceId).toBe(theirs.id);
  });
});

describe("system functions used by members", () => {
  it("are called from the member's workspace; a member of several uses a key of the workspace", async () => {
    const home = await newWorkspace();
    const sys = expectStatus(
      await api("POST", "/api/functions", { body: { workspaceId: home.id, name: unique("sys"), system: true } }),
      201,
    );
    await deploy(sys.id, CODE);
    const mine = await newWorkspace();
    const one = await member({ [mine.id]: "developer" });
    const call = expectStatus(
      await asSession(one.session, "POST", `/api/functions/${sys.id}/invoke`, { body: { args: 1 } }),
      200,
    );
    expect(call.ok).toBe(true);
    const recorded = await (async () => {
      for (let i = 0; i < 100; i++) {
        const res = await api("GET", `/api/calls/${call.callId}`);
        if (res.status === 200) return res.body;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    expect(recorded.workspaceId).toBe(mine.id);

    const two = await member({ [mine.id]: "invoker", [(await newWorkspace()).id]: "invoker" });
    expectError(
      await asSession(two.session, "POST", `/api/functions/${sys.id}/invoke`, { body: { args: 1 } }),
      400,
      "bad_request",
    );
    // Its schedules are an admin of every workspace's.
    const refused = expectError(
      await asSession(one.session, "POST", "/api/schedules", {
        body: { functionId: sys.id, name: "s", cron: "@daily" },
      }),
      400,
      "bad_request",
    );
    expect(refused.message).toMatch(/admin of every workspace/);
  });
});
