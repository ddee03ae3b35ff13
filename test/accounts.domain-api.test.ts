/**
 * The accounts' domain API that another surface (an SDK's email-and-password session with a cookie of its own)
 * signs people in with, called as such a surface would: verifyPassword, openUserSession, principalOfUserSession,
 * closeSession.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { closeSession, openUserSession, principalOfUserSession, verifyPassword } from "../src/domain/accounts/index";
import { openSession } from "../src/domain/sessions/index";
import { sha256Hex } from "../src/lib/crypto";
import { join, newUser, PASSWORD } from "./support/accounts";
import { ADMIN_KEY, api, expectStatus, unique } from "./support/api";

const address = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}`;

/** The ApiError a promise is rejected with. */
async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("the accounts' domain API for other surfaces", () => {
  it("verifies a password: the user for the right one, the same null for a wrong one and an unknown email", async () => {
    const user = await newUser();
    const found = await verifyPassword(env, ` ${user.email.toUpperCase()} `, PASSWORD, { clientAddress: address() });
    expect(found).toMatchObject({ id: user.id, email: user.email });
    expect(await verifyPassword(env, user.email, "not the password", { clientAddress: address() })).toBeNull();
    expect(
      await verifyPassword(env, `${unique("nobody")}@example.com`, PASSWORD, { clientAddress: address() }),
    ).toBeNull();
  });

  it("applies the attempt limit: past it, a 429 even for the right password", async () => {
    const user = await newUser();
    for (let i = 0; i < 10; i++) {
      expect(await verifyPassword(env, user.email, "wrong password", { clientAddress: address() })).toBeNull();
    }
    const err = await rejection(verifyPassword(env, user.email, PASSWORD, { clientAddress: address() }));
    expect(err).toMatchObject({ code: "rate_limited" });
  });

  it("opens a user's session whose token acts as the user with their memberships, until it is closed", async () => {
    const user = await newUser();
    const ws = expectStatus(await api("POST", "/api/workspaces", { body: { name: unique("ws") } }), 201);
    await join(user, ws.id, "developer");

    const opened = await openUserSession(env, user.id, { remember: true, userAgent: "an SDK" });
    expect(opened.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(opened.expiresAt).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);
    const principal = await principalOfUserSession(env, opened.token);
    expect(principal).toMatchObject({ userId: user.id, memberships: { [ws.id]: "developer" }, platformAdmin: false });
    expect(principal.sessionId).toBe(opened.id);
    // Only its hash is stored.
    const stored = await env.DB.prepare("SELECT hash, user_agent FROM sessions WHERE id = ?").bind(opened.id).first();
    expect(stored).toEqual({ hash: await sha256Hex(opened.token), user_agent: "an SDK" });

    await closeSession(env, opened.token);
    expect(await rejection(principalOfUserSession(env, opened.token))).toMatchObject({ code: "unauthorized" });
    expect(await rejection(principalOfUserSession(env, "no-such-token"))).toMatchObject({ code: "unauthorized" });
  });

  it("sees a membership removed, and the user deleted, at the next use of the token", async () => {
    const user = await newUser();
    const ws = expectStatus(await api("POST", "/api/workspaces", { body: { name: unique("ws") } }), 201);
    await join(user, ws.id, "viewer");
    const { token } = await openUserSession(env, user.id);
    expectStatus(await api("DELETE", `/api/workspaces/${ws.id}/members/${user.id}`), 200);
    expect((await principalOfUserSession(env, token)).memberships).toEqual({});
    expectStatus(await api("DELETE", `/api/users/${user.id}`), 200);
    expect(await rejection(principalOfUserSession(env, token))).toMatchObject({ code: "unauthorized" });
  });

  it("refuses a key's session as a user's", async () => {
    const { token } = await openSession(env, { keyHash: await sha256Hex(ADMIN_KEY) });
    expect(await rejection(principalOfUserSession(env, token))).toMatchObject({ code: "unauthorized" });
  });
});
