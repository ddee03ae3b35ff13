/**
 * The shared auth and tenancy cases, run on every route: no key and bad keys are 401, a role below the
 * route's need is 403, and a key of another workspace gets 404 for this workspace's objects, exactly as
 * if they did not exist. Members signed in with a session get what keys of their role get. A last test checks
 * that every route of the OpenAPI document is in the table.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { asSession, member, type Session } from "./support/accounts";
import { api, expectError, expectStatus, newFunction, newKey, tenant, unique } from "./support/api";
import { deploy } from "./support/deploy";

type Role = "viewer" | "invoker" | "developer" | "admin";
type Fixture = Awaited<ReturnType<typeof setup>>;

interface RouteCase {
  method: string;
  path: string;
  url: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  /** The lowest role that may call it. */
  role: Role;
  /** Needs a key for every workspace (a scoped admin gets 403). */
  global?: boolean;
  /** Names an object of workspace A, so a key of workspace B must get 404. */
  object?: boolean;
  /** A user's own (their sessions, their password): every API key gets 403, whatever its role. */
  userOnly?: boolean;
  /**
   * The lowest role a member needs, when it differs from a key's: a user may make keys up to their role and manage
   * the keys they made (test/accounts.members.test.ts), where a key needs the admin role.
   */
  memberRole?: Role;
}

const ROUTES: RouteCase[] = [
  {
    method: "POST",
    path: "/api/admin/secrets/reencrypt",
    url: () => "/api/admin/secrets/reencrypt",
    role: "admin",
    global: true,
  },
  { method: "GET", path: "/api/keys", url: () => "/api/keys", role: "admin", memberRole: "viewer" },
  {
    method: "POST",
    path: "/api/keys",
    url: () => "/api/keys",
    body: (f) => ({ name: "k", role: "viewer", workspaceId: f.a.ws.id }),
    role: "admin",
    object: true,
    memberRole: "viewer",
  },
  {
    method: "DELETE",
    path: "/api/keys/{id}",
    url: (f) => `/api/keys/${f.keyInA}`,
    role: "admin",
    object: true,
    memberRole: "viewer",
  },
  { method: "GET", path: "/api/workspaces", url: () => "/api/workspaces", role: "viewer" },
  {
    method: "POST",
    path: "/api/workspaces",
    url: () => "/api/workspaces",
    body: () => ({ name: unique("ws") }),
    role: "admin",
    global: true,
  },
  {
    method: "GET",
    path: "/api/workspaces/{id}",
    url: (f) => `/api/workspaces/${f.a.ws.id}`,
    role: "viewer",
    object: true,
  },
  {
    method: "PATCH",
    path: "/api/workspaces/{id}",
    url: (f) => `/api/workspaces/${f.a.ws.id}`,
    body: () => ({ description: "changed" }),
    role: "admin",
    object: true,
  },
  {
    method: "DELETE",
    path: "/api/workspaces/{id}",
    url: (f) => `/api/workspaces/${f.a.ws.id}`,
    role: "admin",
    global: true,
    object: true,
  },
  {
    method: "GET",
    path: "/api/functions",
    url: (f) => `/api/functions?workspace_id=${f.a.ws.id}`,
    role: "viewer",
    object: true,
  },
  {
    method: "POST",
    path: "/api/functions",
    url: () => "/api/functions",
    body: (f) => ({ workspaceId: f.a.ws.id, name: unique("fn") }),
    role: "developer",
    object: true,
  },
  { method: "GET", path: "/api/functions/{id}", url: (f) => `/api/functions/${f.live}`, role: "viewer", object: true },
  {
    method: "PATCH",
    path: "/api/functions/{id}",
    url: (f) => `/api/functions/${f.live}`,
    body: () => ({ description: "changed" }),
    role: "developer",
    object: true,
  },
  {
    method: "DELETE",
    path: "/api/functions/{id}",
    url: (f) => `/api/functions/${f.live}`,
    role: "developer",
    object: true,
  },
  {
    method: "POST",
    path: "/api/functions/{id}/restore",
    url: (f) => `/api/functions/${f.deleted}/restore`,
    role: "developer",
    object: true,
  },
  {
    method: "DELETE",
    path: "/api/functions/{id}/purge",
    url: (f) => `/api/functions/${f.deleted}/purge`,
    role: "developer",
    object: true,
  },
  {
    method: "GET",
    path: "/api/functions/{id}/versions",
    url: (f) => `/api/functions/${f.live}/versions`,
    role: "viewer",
    object: true,
  },
  {
    method: "POST",
    path: "/api/functions/{id}/versions",
    url: (f) => `/api/functions/${f.live}/versions`,
    body: () => ({ code: "export function handle() { return 1; }" }),
    role: "developer",
    object: true,
  },
  {
    method: "GET",
    path: "/api/functions/{id}/versions/{vid}",
    url: (f) => `/api/functions/${f.live}/versions/${f.version}`,
    role: "viewer",
    object: true,
  },
  {
    method: "GET",
    path: "/api/functions/{id}/versions/{vid}/source",
    url: (f) => `/api/functions/${f.live}/versions/${f.version}/source`,
    role: "viewer",
    object: true,
  },
  {
    method: "POST",
    path: "/api/functions/{id}/versions/{vid}/activate",
    url: (f) => `/api/functions/${f.live}/versions/${f.version}/activate`,
    role: "developer",
    object: true,
  },
  {
    method: "POST",
    path: "/api/functions/{id}/versions/{vid}/cancel",
    url: (f) => `/api/functions/${f.live}/versions/${f.version}/cancel`,
    role: "developer",
    object: true,
  },
  {
    method: "POST",
    path: "/api/functions/{id}/invoke",
    url: (f) => `/api/functions/${f.live}/invoke`,
    body: () => ({ args: {} }),
    role: "invoker",
    object: true,
  },
  {
    method: "GET",
    path: "/api/functions/{id}/calls",
    url: (f) => `/api/functions/${f.live}/calls`,
    role: "viewer",
    object: true,
  },
  {
    method: "GET",
    path: "/api/functions/{id}/metrics",
    url: (f) => `/api/functions/${f.live}/metrics`,
    role: "viewer",
    object: true,
  },
  { method: "GET", path: "/api/calls/{id}", url: (f) => `/api/calls/${f.call}`, role: "viewer", object: true },
  {
    method: "GET",
    path: "/api/calls/{id}/response",
    url: (f) => `/api/calls/${f.call}/response`,
    role: "viewer",
    object: true,
  },
  {
    method: "GET",
    path: "/api/calls/{id}/logs",
    url: (f) => `/api/calls/${f.call}/logs`,
    role: "viewer",
    object: true,
  },
  {
    method: "POST",
    path: "/api/calls/{id}/cancel",
    url: (f) => `/api/calls/${f.queuedCall}/cancel`,
    role: "invoker",
    object: true,
  },
  { method: "DELETE", path: "/api/calls/{id}", url: (f) => `/api/calls/${f.call}`, role: "developer", object: true },
  {
    method: "GET",
    path: "/api/schemas",
    url: () => "/api/schemas",
    role: "viewer",
  },
  {
    method: "POST",
    path: "/api/schemas",
    url: () => "/api/schemas",
    body: (f) => ({ workspaceId: f.a.ws.id, name: "s", schema: { type: "object" } }),
    role: "developer",
    object: true,
  },
  { method: "GET", path: "/api/schemas/{id}", url: (f) => `/api/schemas/${f.schema}`, role: "viewer", object: true },
  {
    method: "DELETE",
    path: "/api/schemas/{id}",
    url: (f) => `/api/schemas/${f.schema}`,
    role: "developer",
    object: true,
  },
  { method: "GET", path: "/api/schedules", url: () => "/api/schedules", role: "viewer" },
  {
    method: "POST",
    path: "/api/schedules",
    url: () => "/api/schedules",
    body: (f) => ({ functionId: f.live, name: "s", cron: "@daily" }),
    role: "developer",
    object: true,
  },
  {
    method: "GET",
    path: "/api/schedules/{id}",
    url: (f) => `/api/schedules/${f.schedule}`,
    role: "viewer",
    object: true,
  },
  {
    method: "PATCH",
    path: "/api/schedules/{id}",
    url: (f) => `/api/schedules/${f.schedule}`,
    body: () => ({ description: "changed" }),
    role: "developer",
    object: true,
  },
  {
    method: "DELETE",
    path: "/api/schedules/{id}",
    url: (f) => `/api/schedules/${f.schedule}`,
    role: "developer",
    object: true,
  },
  {
    method: "GET",
    path: "/api/schedules/{id}/input-data",
    url: (f) => `/api/schedules/${f.schedule}/input-data`,
    role: "viewer",
    object: true,
  },
  { method: "GET", path: "/api/limits", url: () => "/api/limits", role: "viewer" },
  ...["GET", "POST", "PUT", "PATCH", "DELETE"].map(
    (method): RouteCase => ({
      method,
      path: "/run/{workspace}/{function}/{path}",
      url: (f) => `/run/${f.a.ws.id}/${f.live}/x`,
      role: "invoker",
      object: true,
    }),
  ),
  { method: "GET", path: "/api/runtimes", url: () => "/api/runtimes", role: "viewer" },
  { method: "GET", path: "/api/me", url: () => "/api/me", role: "viewer" },
  ...(["GET /api/me/sessions", "DELETE /api/me/sessions", "PATCH /api/me/password"] as const).map(
    (route): RouteCase => {
      const [method, path] = route.split(" ") as [string, string];
      return {
        method,
        path,
        url: () => path,
        body: method === "PATCH" ? () => ({ currentPassword: "x", newPassword: "long enough" }) : undefined,
        role: "viewer",
        userOnly: true,
      };
    },
  ),
  {
    method: "DELETE",
    path: "/api/me/sessions/{id}",
    url: (f) => `/api/me/sessions/${f.userSession}`,
    role: "viewer",
    userOnly: true,
  },
  { method: "GET", path: "/api/users", url: () => "/api/users", role: "admin", global: true },
  {
    method: "POST",
    path: "/api/users",
    url: () => "/api/users",
    body: () => ({ email: `${unique("u")}@example.com`, password: "long enough" }),
    role: "admin",
    global: true,
  },
  {
    method: "PATCH",
    path: "/api/users/{id}",
    url: (f) => `/api/users/${f.memberOfA}`,
    body: () => ({ name: "changed" }),
    role: "admin",
    global: true,
  },
  { method: "DELETE", path: "/api/users/{id}", url: (f) => `/api/users/${f.memberOfA}`, role: "admin", global: true },
  {
    method: "GET",
    path: "/api/workspaces/{id}/members",
    url: (f) => `/api/workspaces/${f.a.ws.id}/members`,
    role: "admin",
    object: true,
  },
  {
    method: "PATCH",
    path: "/api/workspaces/{id}/members/{userId}",
    url: (f) => `/api/workspaces/${f.a.ws.id}/members/${f.memberOfA}`,
    body: () => ({ role: "admin" }),
    role: "admin",
    object: true,
  },
  {
    method: "DELETE",
    path: "/api/workspaces/{id}/members/{userId}",
    url: (f) => `/api/workspaces/${f.a.ws.id}/members/${f.memberOfA}`,
    role: "admin",
    object: true,
  },
  {
    method: "GET",
    path: "/api/workspaces/{id}/invites",
    url: (f) => `/api/workspaces/${f.a.ws.id}/invites`,
    role: "admin",
    object: true,
  },
  {
    method: "POST",
    path: "/api/workspaces/{id}/invites",
    url: (f) => `/api/workspaces/${f.a.ws.id}/invites`,
    body: () => ({ email: `${unique("i")}@example.com`, role: "viewer" }),
    role: "admin",
    object: true,
  },
  {
    method: "DELETE",
    path: "/api/workspaces/{id}/invites/{inviteId}",
    url: (f) => `/api/workspaces/${f.a.ws.id}/invites/${f.inviteInA}`,
    role: "admin",
    object: true,
  },
];

/**
 * Routes that take no API key: health, the console's session (signed in with a key or a password in the body),
 * and accepting an invite (its token is the credential).
 */
const PUBLIC = [
  "GET /healthz",
  "POST /api/session",
  "GET /api/session",
  "DELETE /api/session",
  "POST /api/invites/{token}/accept",
];
const ROLES: Role[] = ["viewer", "invoker", "developer", "admin"];

async function setup() {
  const a = await tenant();
  const b = await tenant();
  const live = (await newFunction(a.ws.id)).id as string;
  const deleted = (await newFunction(a.ws.id)).id as string;
  expectStatus(await api("DELETE", `/api/functions/${deleted}`), 200);
  const keyInA = (await newKey("viewer", a.ws.id)).id;
  const version = (await deploy(live, { "index.js": "export function handle() { return 1; }" })).id as string;
  const schema = expectStatus(
    await api("POST", "/api/schemas", { body: { workspaceId: a.ws.id, name: "in", schema: { type: "object" } } }),
    201,
  ).id as string;

  const call = expectStatus(await api("POST", `/api/functions/${live}/invoke`, { body: { args: 1 } }), 200)
    .callId as string;
  // Due in a day: it stays queued.
  const queuedCall = expectStatus(
    await api("POST", `/api/functions/${live}/invoke`, {
      body: { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() },
    }),
    202,
  ).callId as string;
  const schedule = expectStatus(
    await api("POST", "/api/schedules", { body: { functionId: live, name: "daily", cron: "@daily" } }),
    201,
  ).id as string;
  // The call record is written after the answer.
  for (let i = 0; i < 100 && (await api("GET", `/api/calls/${call}`)).status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }

  // A key of workspace A scoped to another function of A: A's function objects do not exist for it.
  const elsewhere = (await newFunction(a.ws.id)).id as string;
  const scopedKey = expectStatus(
    await api("POST", "/api/keys", {
      body: { name: "scoped", role: "invoker", workspaceId: a.ws.id, functionIds: [elsewhere] },
    }),
    201,
  ).key as string;

  // An expired key can only be made by aging one: the API refuses an expiry in the past.
  const expired = await newKey("admin", null, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
  await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
    .bind(Date.now() - 1000, expired.id)
    .run();
  // People: a member of A to change and remove, an invite of A, and a signed-in member of each role in A and in B
  // (the same checks must hold for them as for keys of those roles).
  const people = await member({ [a.ws.id]: "viewer" });
  const inviteInA = expectStatus(
    await api("POST", `/api/workspaces/${a.ws.id}/invites`, {
      body: { email: `${unique("invited")}@example.com`, role: "viewer" },
    }),
    201,
  ).id as string;
  const members = { a: {} as Record<Role, Session>, b: {} as Record<Role, Session> };
  for (const role of ROLES) {
    members.a[role] = (await member({ [a.ws.id]: role })).session;
    members.b[role] = (await member({ [b.ws.id]: role })).session;
  }
  return {
    a,
    b,
    live,
    deleted,
    keyInA,
    version,
    schema,
    call,
    queuedCall,
    schedule,
    scopedKey,
    expiredKey: expired.key,
    memberOfA: people.user.id,
    userSession: (await asSession(people.session, "GET", "/api/me")).body.sessionId as string,
    inviteInA,
    members,
  };
}

/** What the objects of workspace A look like, to prove a rejected request changed nothing. */
async function stateOfA(f: Fixture) {
  const rows = await env.DB.prepare(
    "SELECT id, name, description, deleted_at, default_version_id FROM functions WHERE workspace_id = ? ORDER BY id",
  )
    .bind(f.a.ws.id)
    .all();
  const ws = await env.DB.prepare("SELECT name, description FROM workspaces WHERE id = ?").bind(f.a.ws.id).first();
  const keys = await env.DB.prepare("SELECT id FROM api_keys WHERE workspace_id = ? ORDER BY id").bind(f.a.ws.id).all();
  const versions = await env.DB.prepare(
    "SELECT v.id, v.status FROM versions v JOIN functions f ON f.id = v.function_id WHERE f.workspace_id = ? ORDER BY v.id",
  )
    .bind(f.a.ws.id)
    .all();
  const schemas = await env.DB.prepare("SELECT id FROM schemas WHERE workspace_id = ? ORDER BY id")
    .bind(f.a.ws.id)
    .all();
  const schedules = await env.DB.prepare(
    "SELECT id, name, description, cron, enabled, next_run_at FROM schedules WHERE workspace_id = ? ORDER BY id",
  )
    .bind(f.a.ws.id)
    .all();
  const calls = await env.DB.prepare("SELECT id, status FROM calls WHERE workspace_id = ? ORDER BY id")
    .bind(f.a.ws.id)
    .all();
  const members = await env.DB.prepare("SELECT user_id, role FROM memberships WHERE workspace_id = ? ORDER BY user_id")
    .bind(f.a.ws.id)
    .all();
  const invites = await env.DB.prepare("SELECT id, accepted_at FROM invites WHERE workspace_id = ? ORDER BY id")
    .bind(f.a.ws.id)
    .all();
  const users = await env.DB.prepare(
    "SELECT id, email, name, platform_admin, password_hash FROM users ORDER BY id",
  ).all();
  return {
    functions: rows.results,
    ws,
    keys: keys.results,
    versions: versions.results,
    schemas: schemas.results,
    calls: calls.results,
    schedules: schedules.results,
    members: members.results,
    invites: invites.results,
    users: users.results,
  };
}

describe("every route: authentication, roles and workspace walls", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setup();
  });

  for (const route of ROUTES) {
    const name = `${route.method} ${route.path}`;
    const call = (key: string | null, headers?: Record<string, string>) =>
      api(route.method, route.url(f), { key, body: route.body?.(f), headers });

    it(`${name}: 401 without a key, with a malformed header, an unknown key and an expired key`, async () => {
      const before = await stateOfA(f);
      expectError(await call(null), 401, "unauthorized");
      expectError(await call(null, { authorization: "Basic Zm9vOmJhcg==" }), 401, "unauthorized");
      expectError(await call("efn_not-a-real-key"), 401, "unauthorized");
      const expired = expectError(await call(f.expiredKey), 401, "unauthorized");
      expect(expired.message).toMatch(/expired/i);
      expect(await stateOfA(f)).toEqual(before);
    });

    if (route.userOnly) {
      it(`${name}: 403 for every API key, whatever its role`, async () => {
        const before = await stateOfA(f);
        for (const role of ROLES) {
          const err = expectError(await call(f.a.keys[role]), 403, "forbidden");
          expect(err.message).toMatch(/API key/);
        }
        expect(await stateOfA(f)).toEqual(before);
      });
    }

    const below = ROLES.slice(0, ROLES.indexOf(route.role));
    if (below.length > 0) {
      it(`${name}: 403 for ${below.join(", ")} keys of the workspace`, async () => {
        const before = await stateOfA(f);
        for (const role of below) {
          const err = expectError(await call(f.a.keys[role]), 403, "forbidden");
          expect(err.message).toContain(role);
        }
        expect(await stateOfA(f)).toEqual(before);
      });
    }

    if (route.global) {
      it(`${name}: 403 for an admin key scoped to one workspace`, async () => {
        const before = await stateOfA(f);
        expectError(await call(f.a.keys.admin), 403, "forbidden");
        expect(await stateOfA(f)).toEqual(before);
      });
    }

    if (route.object) {
      it(`${name}: 404 for every key of another workspace, admin included`, async () => {
        const before = await stateOfA(f);
        for (const role of ROLES) {
          const res = await call(f.b.keys[role]);
          // A key that lacks the role for a collection route may hear 403 first; it still learns nothing of A.
          if (res.status === 403) {
            expect(ROLES.indexOf(role)).toBeLessThan(ROLES.indexOf(route.role));
            continue;
          }
          const err = expectError(res, 404, "not_found");
          expect(err.message).not.toContain(f.a.ws.name);
        }
        expect(await stateOfA(f)).toEqual(before);
      });
    }
  }

  // Members signed in with a session go through the same checks as keys of their role: /run takes API keys only,
  // and a user's own routes are theirs whatever their role.
  for (const route of ROUTES.filter((r) => !r.path.startsWith("/run/") && !r.userOnly)) {
    const name = `${route.method} ${route.path}`;
    const asMember = (session: Session) => asSession(session, route.method, route.url(f), { body: route.body?.(f) });
    const below = ROLES.slice(0, ROLES.indexOf(route.memberRole ?? route.role));
    if (below.length > 0 || route.global) {
      it(`${name}: 403 for members of the workspace below ${route.global ? "a platform admin" : route.role}`, async () => {
        const before = await stateOfA(f);
        for (const role of route.global ? ROLES : below) {
          const err = expectError(await asMember(f.members.a[role]), 403, "forbidden");
          expect(err.message).toMatch(route.global ? /platform admin/ : new RegExp(role));
        }
        expect(await stateOfA(f)).toEqual(before);
      });
    }
    if (route.object) {
      it(`${name}: 404 for every member of another workspace, admin included`, async () => {
        const before = await stateOfA(f);
        for (const role of ROLES) {
          const res = await asMember(f.members.b[role]);
          if (res.status === 403) {
            expect(ROLES.indexOf(role)).toBeLessThan(ROLES.indexOf(route.role));
            continue;
          }
          const err = expectError(res, 404, "not_found");
          expect(err.message).not.toContain(f.a.ws.name);
        }
        expect(await stateOfA(f)).toEqual(before);
      });
    }
  }

  const FUNCTION_OBJECTS = /^\/(api\/(functions\/\{id\}|calls\/|schedules\/\{id\})|run\/)/;
  for (const route of ROUTES.filter((r) => FUNCTION_OBJECTS.test(r.path))) {
    it(`${route.method} ${route.path}: 403 or 404 for a key scoped to another function`, async () => {
      const before = await stateOfA(f);
      const res = await api(route.method, route.url(f), { key: f.scopedKey, body: route.body?.(f) });
      if (res.status === 403) expect(ROLES.indexOf("invoker")).toBeLessThan(ROLES.indexOf(route.role));
      else expectError(res, 404, "not_found");
      expect(await stateOfA(f)).toEqual(before);
    });
  }

  it("covers every route of the OpenAPI document", async () => {
    const doc = expectStatus(await api("GET", "/api/openapi.json", { key: null }), 200) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const covered = [...ROUTES.map((r) => `${r.method} ${r.path}`), ...PUBLIC];
    expect(documented.sort()).toEqual(covered.sort());
  });
});
