/**
 * Signing in on the Appwrite surface with edgefn's accounts, as Appwrite's CLI and SDKs do: POST
 * /v1/account/sessions/email sets `a_session_<project>` (HttpOnly, SameSite=Strict); the cookie with
 * X-Appwrite-Project acts as the member in the console and in admin mode (their role, their workspaces only), and as
 * a user decided by the functions' `execute` roles otherwise; wrong credentials and too many attempts answer as
 * Appwrite does; signing out ends the session.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { join, newUser, PASSWORD } from "../support/accounts";
import { newKey, newWorkspace, unique } from "../support/api";
import { type Aw, appwriteClient, appwriteFunction } from "../support/appwrite";

const HELLO = `export default async ({ req, res }) => res.json({ user: req.headers["x-appwrite-user-id"] ?? null });`;

let ws: { id: string; name: string };
let other: { id: string; name: string };
let aw: Aw;

/** A request to /v1 as a browser or the CLI sends it, from a client address of its own. */
async function v1(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
  const headers = new Headers(init.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", `203.0.113.${Math.floor(Math.random() * 250)}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const res = await exports.default.fetch(`http://edgefn.test/v1${path}`, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** `appwrite login`: a console session; the Set-Cookie as the CLI keeps it (it sends it back whole). */
async function login(email: string, password = PASSWORD, project = "console") {
  const r = await v1("POST", "/account/sessions/email", {
    body: { email, password },
    headers: { "x-appwrite-project": project },
  });
  return { ...r, cookie: r.headers.get("set-cookie") ?? "" };
}

/** As the CLI sends a request for a project: the cookie, the project, admin mode. */
const asAdmin = (cookie: string, project: string) => ({
  cookie,
  "x-appwrite-project": project,
  "x-appwrite-mode": "admin",
});

beforeAll(async () => {
  ws = await newWorkspace();
  other = await newWorkspace();
  aw = appwriteClient({ project: ws.id, key: (await newKey("developer", ws.id)).key });
});

describe("appwrite login with an edgefn account", () => {
  it("opens a session: Appwrite's Session model, an HttpOnly SameSite=Strict a_session_console cookie", async () => {
    const user = await newUser();
    const r = await login(user.email);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ userId: user.id, provider: "email", providerUid: user.email, current: true });
    expect(r.body.$id).toMatch(/^ses_/);
    expect(Date.parse(r.body.expire)).toBeGreaterThan(Date.now());
    // Secure as well: this host is not the local machine.
    expect(r.cookie).toMatch(/^a_session_console=[^;]{20,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    // The token is in the cookie only.
    const token = /^a_session_console=([^;]+)/.exec(r.cookie)?.[1] as string;
    expect(JSON.stringify(r.body)).not.toContain(token);
    expect(JSON.stringify(r.body)).not.toContain(PASSWORD);

    const me = await v1("GET", "/account", { headers: { cookie: r.cookie, "x-appwrite-project": "console" } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ $id: user.id, email: user.email, status: true, mfa: false, prefs: {} });
    // A browser SDK's fallback header works as the cookie does.
    const fallback = await v1("GET", "/account", {
      headers: { "x-fallback-cookies": JSON.stringify({ a_session_console: token }), "x-appwrite-project": "console" },
    });
    expect(fallback.body.$id).toBe(user.id);
  });

  it("refuses a wrong password and an unknown email alike (user_invalid_credentials), and opens nothing", async () => {
    const user = await newUser();
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(user.id).first();
    for (const email of [user.email, `${unique("nobody")}@example.com`]) {
      const r = await login(email, "not the password");
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 401, type: "user_invalid_credentials" });
      expect(r.cookie).toBe("");
    }
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(user.id).first()).toEqual(
      before,
    );
    // Older CLIs sign in at /v1/account/sessions: the same answers.
    const older = await v1("POST", "/account/sessions", {
      body: { email: user.email, password: PASSWORD },
      headers: { "x-appwrite-project": "console" },
    });
    expect(older.status).toBe(201);
    // A body that is not one, or no project: 400s.
    const bad = await v1("POST", "/account/sessions/email", {
      body: { email: user.email },
      headers: { "x-appwrite-project": "console" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe("general_argument_invalid");
    const noProject = await v1("POST", "/account/sessions/email", { body: { email: user.email, password: PASSWORD } });
    expect(noProject.status).toBe(400);
  });

  it("limits attempts per email: Appwrite's 429 general_rate_limit_exceeded with Retry-After", async () => {
    const user = await newUser();
    let last = await login(user.email, "wrong");
    for (let i = 0; i < 12 && last.status !== 429; i++) last = await login(user.email, "wrong");
    expect(last.status).toBe(429);
    expect(last.body).toMatchObject({ code: 429, type: "general_rate_limit_exceeded" });
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
    // Even the right password waits.
    expect((await login(user.email)).status).toBe(429);
  });

  it("acts as the member in their workspace with their role, and sees no other workspace", async () => {
    const user = await newUser();
    await join(user, ws.id, "developer");
    const { cookie } = await login(user.email);

    const created = await v1("POST", "/functions", {
      body: { functionId: unique("f"), name: "by-session", runtime: "node-22" },
      headers: asAdmin(cookie, ws.id),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const listed = await v1("GET", "/functions", { headers: asAdmin(cookie, ws.name) });
    expect(listed.body.functions.map((f: any) => f.$id)).toContain(created.body.$id);
    // The console's own calls (X-Appwrite-Project: console): the projects the member belongs to.
    const project = await v1("GET", `/projects/${ws.id}`, { headers: { cookie, "x-appwrite-project": "console" } });
    expect(project.status).toBe(200);
    expect(project.body.$id).toBe(ws.id);

    // Not a member: the workspace is not found, and nothing is made in it.
    for (const path of ["/functions", `/projects/${other.id}`]) {
      const r = await v1("GET", path, { headers: asAdmin(cookie, other.id) });
      expect(r.status).toBe(404);
      expect(r.body.type).toBe("project_not_found");
    }
    const made = await v1("POST", "/functions", {
      body: { functionId: unique("f"), name: "nope", runtime: "node-22" },
      headers: asAdmin(cookie, other.id),
    });
    expect(made.status).toBe(404);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM functions WHERE workspace_id = ?")
      .bind(other.id)
      .first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("a viewer member may read but not change; a user with no membership sees nothing", async () => {
    const viewer = await newUser();
    await join(viewer, ws.id, "viewer");
    const { cookie } = await login(viewer.email);
    expect((await v1("GET", "/functions", { headers: asAdmin(cookie, ws.id) })).status).toBe(200);
    const denied = await v1("POST", "/functions", {
      body: { functionId: unique("f"), name: "nope", runtime: "node-22" },
      headers: asAdmin(cookie, ws.id),
    });
    expect(denied.status).toBe(403);

    const stranger = await newUser();
    const s = await login(stranger.email);
    expect((await v1("GET", "/functions", { headers: asAdmin(s.cookie, ws.id) })).status).toBe(404);
  });

  it("the cookie alone, without X-Appwrite-Project, is no credential (a cross-site form cannot send one)", async () => {
    const user = await newUser();
    await join(user, ws.id, "admin");
    const { cookie } = await login(user.email);
    const r = await v1("POST", "/functions", {
      body: { functionId: unique("f"), name: "forged", runtime: "node-22" },
      headers: { cookie, "x-appwrite-mode": "admin" },
    });
    expect(r.status).toBe(401);
    expect((await v1("GET", "/account", { headers: { cookie } })).status).toBe(401);
  });

  it("in a project without admin mode, a user executes by the function's roles only", async () => {
    const user = await newUser();
    const { cookie } = await login(user.email, PASSWORD, ws.id);
    expect(cookie).toMatch(new RegExp(`^a_session_${ws.id}=`));
    const forUsers = await appwriteFunction(aw, { "index.js": HELLO }, { execute: ["users"] });
    const forNobody = await appwriteFunction(aw, { "index.js": HELLO }, { execute: [] });
    const headers = { cookie, "x-appwrite-project": ws.id };

    const ran = await v1("POST", `/functions/${forUsers.$id}/executions`, { body: {}, headers });
    expect(ran.status, JSON.stringify(ran.body)).toBe(201);
    expect(JSON.parse(ran.body.responseBody)).toEqual({ user: user.id });
    const refused = await v1("POST", `/functions/${forNobody.$id}/executions`, { body: {}, headers });
    expect(refused.status).toBe(401);
    expect(refused.body.type).toBe("user_unauthorized");
    // No management scope for a project's user.
    const list = await v1("GET", "/functions", { headers });
    expect(list.status).toBe(401);
    expect(list.body.type).toBe("general_unauthorized_scope");
  });

  it("signs out: DELETE /v1/account/sessions/current ends the session everywhere", async () => {
    const user = await newUser();
    await join(user, ws.id, "developer");
    const { cookie, body } = await login(user.email);
    const headers = { cookie, "x-appwrite-project": "console" };
    // Another user's session id is not this one's to end.
    expect((await v1("DELETE", "/account/sessions/ses_someone_else", { headers })).status).toBe(404);

    const out = await v1("DELETE", "/account/sessions/current", { headers });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^a_session_console=; .*Max-Age=0/);
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE id = ?").bind(body.$id).first();
    expect(row).toEqual({ n: 0 });

    const me = await v1("GET", "/account", { headers });
    expect(me.status).toBe(401);
    expect(me.body.type).toBe("general_unauthorized_scope");
    expect((await v1("GET", "/functions", { headers: asAdmin(cookie, ws.id) })).status).toBe(401);
    expect((await v1("DELETE", "/account/sessions/current", { headers })).status).toBe(401);
  });
});
