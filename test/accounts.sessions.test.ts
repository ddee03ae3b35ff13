/**
 * A user's sessions: listed (this one marked), ended one by one or everywhere; a password change ends the others;
 * an admin's password reset and the removal of the user end them all, and the keys the user made go with them.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { asSession, member, newUser, PASSWORD, send, sessionOf, signIn, signInRaw } from "./support/accounts";
import { ADMIN_KEY, api, expectError, expectStatus, newWorkspace } from "./support/api";

const alive = (s: Parameters<typeof asSession>[0]) => asSession(s, "GET", "/api/me").then((r) => r.status);

describe("a user's sessions", () => {
  it("are listed newest first, this one marked, with the browser that signed in", async () => {
    const user = await newUser();
    const first = await signIn(user.email);
    const second = sessionOf(
      await send("POST", "/api/session", {
        body: { email: user.email, password: PASSWORD },
        headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0" },
      }),
    );
    const page = expectStatus(await asSession(second, "GET", "/api/me/sessions"), 200);
    expect(page.data).toHaveLength(2);
    expect(page.data.map((s: any) => s.current)).toEqual([true, false]);
    expect(page.data[0]).toMatchObject({
      id: expect.stringMatching(/^ses_/),
      expiresAt: expect.any(String),
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0",
    });
    expect(JSON.stringify(page)).not.toContain(second.csrf);
    // Paged as every list is.
    const one = expectStatus(await asSession(first, "GET", "/api/me/sessions?limit=1"), 200);
    expect(one.pageInfo).toMatchObject({ total: 2, hasNextPage: true });
  });

  it("end one at a time, or everywhere", async () => {
    const user = await newUser();
    const [a, b, c] = [await signIn(user.email), await signIn(user.email), await signIn(user.email)];
    const ids = expectStatus(await asSession(a, "GET", "/api/me/sessions"), 200).data.map((s: any) => s.id);
    // Another user's session cannot be ended, nor seen.
    const stranger = await signIn((await newUser()).email);
    expectError(await asSession(stranger, "DELETE", `/api/me/sessions/${ids[0]}`), 404, "not_found");
    expect(await alive(c)).toBe(200);

    expectStatus(await asSession(a, "DELETE", `/api/me/sessions/${ids[0]}`), 200);
    expect(await alive(c)).toBe(401);
    expect(await alive(a)).toBe(200);

    const out = expectStatus(await asSession(a, "DELETE", "/api/me/sessions"), 200);
    expect(out.endedSessions).toBe(2);
    expect(await alive(a)).toBe(401);
    expect(await alive(b)).toBe(401);
    expect(await alive(stranger)).toBe(200);
  });

  it("end, but for this one, when the password changes; the old password stops working", async () => {
    const user = await newUser();
    const [here, there] = [await signIn(user.email), await signIn(user.email)];
    const wrong = expectError(
      await asSession(here, "PATCH", "/api/me/password", {
        body: { currentPassword: "not it", newPassword: "a brand new password" },
      }),
      403,
      "forbidden",
    );
    expect(wrong.message).toMatch(/current password/);
    expect(
      expectError(
        await asSession(here, "PATCH", "/api/me/password", {
          body: { currentPassword: PASSWORD, newPassword: "short" },
        }),
        400,
        "bad_request",
      ).message,
    ).toMatch(/at least 8 characters/);
    expect(await alive(there)).toBe(200);

    const changed = expectStatus(
      await asSession(here, "PATCH", "/api/me/password", {
        body: { currentPassword: PASSWORD, newPassword: "a brand new password" },
      }),
      200,
    );
    expect(changed).toEqual({ endedSessions: 1 });
    expect(await alive(here)).toBe(200);
    expect(await alive(there)).toBe(401);
    expectError(await signInRaw(user.email, PASSWORD), 401, "unauthorized");
    await signIn(user.email, "a brand new password");
  });

  it("all end when an admin sets a new password, or removes the user; the user's keys go with them", async () => {
    const ws = await newWorkspace();
    const { user, session } = await member({ [ws.id]: "developer" });
    const other = await signIn(user.email);
    expectStatus(await api("PATCH", `/api/users/${user.id}`, { body: { password: "reset by the admin" } }), 200);
    expect(await alive(session)).toBe(401);
    expect(await alive(other)).toBe(401);

    const s = await signIn(user.email, "reset by the admin");
    const key = expectStatus(
      await asSession(s, "POST", "/api/keys", { body: { name: "ci", role: "developer", workspaceId: ws.id } }),
      201,
    );
    expectStatus(await api("GET", "/api/workspaces", { key: key.key }), 200);
    expectStatus(await api("DELETE", `/api/users/${user.id}`), 200);
    expect(await alive(s)).toBe(401);
    expectError(await api("GET", "/api/workspaces", { key: key.key }), 401, "unauthorized");
    expectError(await signInRaw(user.email, "reset by the admin"), 401, "unauthorized");
    for (const table of ["sessions", "memberships"]) {
      expect(
        await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?`).bind(user.id).first("n"),
      ).toBe(0);
    }
    expectError(await api("DELETE", `/api/users/${user.id}`), 404, "not_found");
  });

  it("are a user's: a request made with an API key has none", async () => {
    const me = expectStatus(await api("GET", "/api/me"), 200);
    expect(me).toMatchObject({ kind: "key", id: "key_admin", user: null, sessionId: null, allWorkspaces: true });
    for (const [method, path] of [
      ["GET", "/api/me/sessions"],
      ["DELETE", "/api/me/sessions"],
      ["PATCH", "/api/me/password"],
    ] as const) {
      const body = method === "PATCH" ? { currentPassword: "x", newPassword: "long enough" } : undefined;
      const err = expectError(await api(method, path, { key: ADMIN_KEY, body }), 403, "forbidden");
      expect(err.message).toMatch(/API key/);
    }
  });
});
