/**
 * Invites: a workspace admin names an email and a role and gets a single-use token that expires in 7 days. Accepting
 * it makes a new account with the chosen password, or needs the existing account's own password; either way the
 * person joins with the invite's role and is signed in.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { asSession, invite, member, newUser, PASSWORD, send, sessionOf, signIn, signInRaw } from "./support/accounts";
import { api, expectError, expectStatus, newWorkspace, unique } from "./support/api";

const accept = (token: string, body: Record<string, unknown>) => send("POST", `/api/invites/${token}/accept`, { body });
const users = () => env.DB.prepare("SELECT COUNT(*) AS n FROM users").first("n");

describe("invites", () => {
  it("make a new account with the chosen password, join it to the workspace and sign it in", async () => {
    const ws = await newWorkspace();
    const email = `${unique("new")}@Example.com`;
    const created = expectStatus(
      await api("POST", `/api/workspaces/${ws.id}/invites`, { body: { email, role: "developer" } }),
      201,
    );
    expect(created).toMatchObject({
      workspaceId: ws.id,
      email: email.toLowerCase(),
      role: "developer",
      status: "pending",
      createdBy: "key_admin",
    });
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.link).toBe(`http://edgefn.test/#/invite/${created.token}`);
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(7 * 86_400_000);
    const stored = await env.DB.prepare("SELECT * FROM invites WHERE id = ?").bind(created.id).first();
    expect(JSON.stringify(stored)).not.toContain(created.token);

    const s = sessionOf(await accept(created.token, { password: PASSWORD, name: "Ada" }));
    expect(s.body).toMatchObject({
      kind: "user",
      role: "developer",
      user: { email: email.toLowerCase(), name: "Ada" },
    });
    const me = expectStatus(await asSession(s, "GET", "/api/me"), 200);
    expect(me.memberships).toEqual([{ workspaceId: ws.id, workspaceName: ws.name, role: "developer" }]);
    await signIn(email, PASSWORD);

    const listed = expectStatus(await api("GET", `/api/workspaces/${ws.id}/invites`), 200);
    expect(listed.data).toEqual([
      expect.objectContaining({
        id: created.id,
        status: "accepted",
        acceptedBy: me.id,
        acceptedAt: expect.any(String),
      }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.token);
  });

  it("work once: a second acceptance is refused and makes nothing", async () => {
    const ws = await newWorkspace();
    const token = await invite(ws.id, `${unique("once")}@example.com`, "viewer");
    sessionOf(await accept(token, { password: PASSWORD }));
    const count = await users();
    const again = await accept(token, { password: "another password" });
    expect(expectError(again, 409, "conflict").message).toMatch(/used/);
    expect(again.headers.get("set-cookie")).toBeNull();
    expect(await users()).toBe(count);
  });

  it("expire after 7 days", async () => {
    const ws = await newWorkspace();
    const email = `${unique("late")}@example.com`;
    const token = await invite(ws.id, email, "viewer");
    await env.DB.prepare("UPDATE invites SET expires_at = ? WHERE email = ?")
      .bind(Date.now() - 1, email)
      .run();
    expect(expectError(await accept(token, { password: PASSWORD }), 409, "conflict").message).toMatch(/expired/);
    expectError(await signInRaw(email, PASSWORD), 401, "unauthorized");
    const listed = expectStatus(await api("GET", `/api/workspaces/${ws.id}/invites`), 200);
    expect(listed.data[0].status).toBe("expired");
  });

  it("need an existing account's own password, and never change it", async () => {
    const ws = await newWorkspace();
    const user = await newUser();
    const token = await invite(ws.id, user.email, "invoker");
    const wrong = await accept(token, { password: "somebody else's choice" });
    expect(expectError(wrong, 401, "unauthorized").message).toContain("has an account");
    // Still unused: the right password joins.
    const s = sessionOf(await accept(token, { password: PASSWORD }));
    expect(s.body).toMatchObject({ kind: "user", role: "invoker", user: { id: user.id } });
    expectError(await signInRaw(user.email, "somebody else's choice"), 401, "unauthorized");
    await signIn(user.email, PASSWORD);
  });

  it("refuse a short password for a new account, saying the rule, and stay unused", async () => {
    const ws = await newWorkspace();
    const token = await invite(ws.id, `${unique("short")}@example.com`, "viewer");
    const count = await users();
    expect(expectError(await accept(token, { password: "1234567" }), 400, "bad_request").message).toMatch(
      /at least 8 characters/,
    );
    expect(await users()).toBe(count);
    sessionOf(await accept(token, { password: "12345678" }));
  });

  it("are made by the workspace's admins only, for people who are not members yet", async () => {
    const ws = await newWorkspace();
    const dev = await member({ [ws.id]: "developer" });
    expectError(
      await asSession(dev.session, "POST", `/api/workspaces/${ws.id}/invites`, {
        body: { email: "x@example.com", role: "viewer" },
      }),
      403,
      "forbidden",
    );
    const admin = await member({ [ws.id]: "admin" });
    expectStatus(
      await asSession(admin.session, "POST", `/api/workspaces/${ws.id}/invites`, {
        body: { email: `${unique("x")}@example.com`, role: "admin" },
      }),
      201,
    );
    expectError(
      await asSession(admin.session, "POST", `/api/workspaces/${ws.id}/invites`, {
        body: { email: dev.user.email.toUpperCase(), role: "admin" },
      }),
      409,
      "conflict",
    );
    for (const body of [
      { email: "not an email", role: "viewer" },
      { email: "x@example.com", role: "owner" },
      { email: "x@example.com" },
      { email: "x@example.com", role: "viewer", extra: 1 },
    ]) {
      expectError(
        await asSession(admin.session, "POST", `/api/workspaces/${ws.id}/invites`, { body }),
        400,
        "bad_request",
      );
    }
  });

  it("can be revoked before they are accepted; an unknown token is a 404", async () => {
    const ws = await newWorkspace();
    const created = expectStatus(
      await api("POST", `/api/workspaces/${ws.id}/invites`, {
        body: { email: `${unique("gone")}@example.com`, role: "viewer" },
      }),
      201,
    );
    expectStatus(await api("DELETE", `/api/workspaces/${ws.id}/invites/${created.id}`), 200);
    expectError(await accept(created.token, { password: PASSWORD }), 404, "not_found");
    expectError(await api("DELETE", `/api/workspaces/${ws.id}/invites/${created.id}`), 404, "not_found");
    expectError(await accept("not-a-token", { password: PASSWORD }), 404, "not_found");
    // An invite of one workspace cannot be revoked through another.
    const other = await newWorkspace();
    const theirs = expectStatus(
      await api("POST", `/api/workspaces/${other.id}/invites`, {
        body: { email: `${unique("x")}@example.com`, role: "viewer" },
      }),
      201,
    );
    expectError(await api("DELETE", `/api/workspaces/${ws.id}/invites/${theirs.id}`), 404, "not_found");
  });
});
