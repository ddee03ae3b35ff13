/**
 * Console sessions: an API key is exchanged for an HttpOnly cookie and a CSRF token; the cookie alone authorizes
 * nothing, a revoked key or an ended session ends it, and the key never comes back.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_KEY, api, expectError, expectStatus, newKey, newWorkspace } from "./support/api";

const SELF_FETCH = (path: string, init?: RequestInit) => exports.default.fetch(`http://edgefn.test${path}`, init);

async function signIn(key: string, remember?: boolean) {
  const res = await SELF_FETCH("/api/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key, ...(remember === undefined ? {} : { remember }) }),
  });
  return {
    res,
    body: (await res.json()) as any,
    cookie: (res.headers.get("set-cookie") ?? "").split(";")[0] as string,
  };
}

const withSession = (path: string, cookie: string, csrf?: string, init: RequestInit = {}) =>
  SELF_FETCH(path, { ...init, headers: { cookie, ...(csrf ? { "x-edgefn-csrf": csrf } : {}), ...init.headers } });

describe("console sessions", () => {
  it("gives an HttpOnly SameSite=Strict cookie and a CSRF token for a key, never the key", async () => {
    const { res, body, cookie } = await signIn(ADMIN_KEY);
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie") as string;
    // Not this machine's own name: Secure and __Host- (the flags per host are test/accounts.sign-in.test.ts's).
    expect(setCookie).toMatch(/^__Host-edgefn_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
    expect(setCookie).not.toContain(ADMIN_KEY);
    expect(JSON.stringify(body)).not.toContain(ADMIN_KEY);
    expect(body).toMatchObject({ role: "admin", workspaceId: null, keyId: "key_admin" });

    // The cookie alone authorizes nothing; with its CSRF token it acts as the key.
    expectError(await withSession("/api/workspaces", cookie).then(toApi), 401, "unauthorized");
    expectError(await withSession("/api/workspaces", cookie, "wrong").then(toApi), 401, "unauthorized");
    expect((await withSession("/api/workspaces", cookie, body.csrfToken)).status).toBe(200);
    // The console gets its CSRF token back from the cookie alone (same origin only: CORS keeps others out).
    const again = (await (await withSession("/api/session", cookie)).json()) as any;
    expect(again.csrfToken).toBe(body.csrfToken);

    // Signing out ends the session.
    expect((await withSession("/api/session", cookie, undefined, { method: "DELETE" })).status).toBe(200);
    expect((await withSession("/api/workspaces", cookie, body.csrfToken)).status).toBe(401);
    expect((await withSession("/api/session", cookie)).status).toBe(401);
  });

  it("remembers for 30 days only when asked", async () => {
    const remembered = await signIn(ADMIN_KEY, true);
    expect(remembered.res.headers.get("set-cookie")).toMatch(/Max-Age=259\d{4}/);
    expect(Date.parse(remembered.body.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
  });

  it("refuses a wrong key, and ends with its key: a revoked key or an ended session signs out", async () => {
    const wrong = await signIn("efn_not-a-real-key-at-all-0000000000");
    expectError({ status: wrong.res.status, body: wrong.body, headers: wrong.res.headers }, 401, "unauthorized");
    expect(wrong.res.headers.get("set-cookie")).toBeNull();
    const ws = await newWorkspace();
    const key = await newKey("viewer", ws.id);
    const { body, cookie } = await signIn(key.key);
    expect(body).toMatchObject({ role: "viewer", workspaceId: ws.id, keyId: key.id });
    expect((await withSession(`/api/workspaces/${ws.id}`, cookie, body.csrfToken)).status).toBe(200);
    // A viewer session is a viewer: it cannot create keys.
    const create = await withSession("/api/keys", cookie, body.csrfToken, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x", role: "admin" }),
    });
    expect(create.status).toBe(403);
    expectStatus(await api("DELETE", `/api/keys/${key.id}`), 200);
    expect((await withSession(`/api/workspaces/${ws.id}`, cookie, body.csrfToken)).status).toBe(401);

    const other = await signIn(ADMIN_KEY);
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE csrf = ?")
      .bind(Date.now() - 1, other.body.csrfToken)
      .run();
    expect((await withSession("/api/workspaces", other.cookie, other.body.csrfToken)).status).toBe(401);
  });

  it("stores only a hash of the cookie's token", async () => {
    const { cookie } = await signIn(ADMIN_KEY);
    const token = cookie.split("=")[1] as string;
    const rows = await env.DB.prepare("SELECT * FROM sessions").all();
    expect(JSON.stringify(rows.results)).not.toContain(token);
    expect(JSON.stringify(rows.results)).not.toContain(ADMIN_KEY);
  });
});

async function toApi(res: Response) {
  return { status: res.status, body: await res.json(), headers: res.headers } as any;
}
