/**
 * Tenancy: every route of the platform, enumerated from its OpenAPI document (plus /run), called with keys of
 * workspace A and workspace B's ids in every id position (path, body fields, query filters, cursors, ctx.client):
 * the answer is never a success and is exactly the answer for an id that does not exist, and B is unchanged.
 * Secrets: the platform never shows a secret's value (answers, errors, logs, build logs, D1 and R2 at rest); only
 * what the user's own code returns or logs carries it, and no other function or workspace can read it.
 *
 * test/security.routes.test.ts covers roles and 401s on every route with hand-written cases; this file derives its
 * cases from the document, so a new route or id parameter fails here until it is covered.
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN_KEY, type ApiResponse, api, type CallOptions, expectError, newKey, tenant } from "../support/api";
import { deploy } from "../support/deploy";

type Tenant = Awaited<ReturnType<typeof tenant>>;
type Kind = "workspace" | "function" | "version" | "call" | "schedule" | "schema" | "key";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Distinctive secret values: QUIET ones are never output by any code; LEAK ones are output on purpose by their
// function's own code (its results, logs and errors are the user's business, nothing else may carry them).
const nonce = crypto.randomUUID().slice(0, 8);
const QUIET_A = `s3cret-qa-${nonce}-Zq7v`;
const QUIET_B = `s3cret-qb-${nonce}-Xk3w`;
const LEAK_A = `s3cret-la-${nonce}-Pm9t`;
const LEAK_B = `s3cret-lb-${nonce}-Rd2s`;

/** Reads its secret and leaks it every way code can: result, console, thrown error and stack, fetch answer, env. */
const LEAKY = {
  "index.js": `
    export async function handle(data, ctx) {
      const value = ctx.secrets.token;
      console.log("token:", value, ctx.env.token);
      console.error(new Error("logged " + value));
      if (data && data.throw) throw new Error("thrown " + value);
      if (data && data.big) return { value, pad: "x".repeat(70000) };
      return { secrets: ctx.secrets, env: ctx.env, value };
    }
    export default {
      async fetch(request, env) {
        console.log("fetch token", env.token);
        if (new URL(request.url).pathname === "/throw") throw new Error("fetch threw " + env.token);
        return new Response("fetch:" + env.token);
      },
    };`,
};

/** Uses its secret without ever showing it. */
const QUIET = {
  "index.js": `
    export async function handle(data, ctx) {
      if (data && data.fail) throw new Error("quiet failure");
      return { length: ctx.secrets.token.length, inEnv: typeof ctx.env.token === "string" };
    }
    export default { async fetch() { return new Response("quiet"); } };`,
};

/** Tries to reach other functions through ctx.client, and shows what its own env and secrets hold. */
const PROBER = {
  "index.js": `
    export async function handle(data, ctx) {
      const results = {};
      for (const target of (data && data.targets) || []) {
        try { results[target] = await ctx.client.invoke(target, {}); }
        catch (err) { results[target] = { thrown: String(err && err.message) }; }
      }
      let calls;
      try { calls = await ctx.client.calls(100); } catch (err) { calls = { thrown: String(err && err.message) }; }
      return { env: ctx.env, secrets: ctx.secrets, results, calls };
    }`,
};

interface Side {
  t: Tenant;
  leaky: { id: string; name: string };
  quiet: { id: string; name: string };
  prober: { id: string; name: string };
  version: string;
  call: string;
  queuedCall: string;
  schedule: string;
  schema: string;
  key: string;
  developerKeyId: string;
  externalId: string;
  scopedKey: string;
  /** An admin key of the workspace, named as another function's runtime user in the ctx.client test. */
  adminKeyId: string;
}

/** Every answer the test got, to scan for secrets afterwards; `userOutput` marks answers that carry user output. */
const seen: { label: string; status: number; text: string; userOutput: boolean; keyOf: "A" | "B" | "admin" }[] = [];
let keyOwner = new Map<string, "A" | "B">();

async function call(method: string, path: string, options: CallOptions = {}, userOutput = false) {
  const res = await api(method, path, options);
  seen.push({
    label: `${method} ${path}`,
    status: res.status,
    text: typeof res.body === "string" ? res.body : JSON.stringify(res.body),
    userOutput,
    keyOf:
      options.key === undefined || options.key === ADMIN_KEY ? "admin" : (keyOwner.get(options.key ?? "") ?? "admin"),
  });
  return res;
}

function ok<T = any>(res: ApiResponse<T>, status = 200): T {
  expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(status);
  return res.body;
}

async function waitForCall(callId: string) {
  for (let i = 0; i < 400; i++) {
    const row = await env.DB.prepare("SELECT status FROM calls WHERE id = ?").bind(callId).first<{ status: string }>();
    if (row && row.status !== "queued" && row.status !== "running") return row.status;
    await sleep(25);
  }
  throw new Error(`call ${callId} did not end`);
}

async function side(name: "A" | "B"): Promise<Side> {
  const t = await tenant();
  for (const key of Object.values(t.keys)) keyOwner.set(key, name);
  const dev = t.keys.developer;
  const developerKeyId = (await env.DB.prepare("SELECT id FROM api_keys WHERE workspace_id = ? AND role = 'developer'")
    .bind(t.ws.id)
    .first<{ id: string }>())!.id;
  const create = async (fnName: string, extra: Record<string, unknown> = {}) =>
    ok(await call("POST", "/api/functions", { key: dev, body: { workspaceId: t.ws.id, name: fnName, ...extra } }), 201);
  const leaky = await create(`leaky-${name}-${nonce}`, {
    secrets: { token: name === "A" ? LEAK_A : LEAK_B },
    envVars: { MODE: "plain" },
    externalId: `ext-${name}-${nonce}`,
  });
  const quiet = await create(`quiet-${name}-${nonce}`, { secrets: { token: name === "A" ? QUIET_A : QUIET_B } });
  const prober = await create(`prober-${name}-${nonce}`);
  const version = (await deploy(leaky.id, LEAKY)).id as string;
  await deploy(quiet.id, QUIET);
  await deploy(prober.id, PROBER);
  const schema = ok(
    await call("POST", "/api/schemas", {
      key: dev,
      body: { workspaceId: t.ws.id, name: "in", schema: { type: "object" } },
    }),
    201,
  ).id as string;
  // A finished call whose result, logs and error carry the leaky secret, and one due tomorrow (stays queued).
  const callId = ok(
    await call(
      "POST",
      `/api/functions/${leaky.id}/invoke`,
      { key: dev, body: { args: { big: true }, async: true } },
      true,
    ),
    202,
  ).callId as string;
  const queuedCall = ok(
    await call("POST", `/api/functions/${leaky.id}/invoke`, {
      key: dev,
      body: { args: {}, scheduledAt: new Date(Date.now() + 86_400_000).toISOString() },
    }),
    202,
  ).callId as string;
  const schedule = ok(
    await call("POST", "/api/schedules", {
      key: dev,
      body: { functionId: leaky.id, name: "nightly", cron: "@daily", data: { pad: "d".repeat(70_000) } },
    }),
    201,
  ).id as string;
  const key = (await newKey("viewer", t.ws.id)).id;
  const scoped = await newKey("invoker", t.ws.id, { functionIds: [quiet.id] });
  const adminKeyId = (await newKey("admin", t.ws.id)).id;
  keyOwner.set(scoped.key, name);
  await waitForCall(callId);
  return {
    t,
    leaky,
    quiet,
    prober,
    version,
    call: callId,
    queuedCall,
    schedule,
    schema,
    key,
    developerKeyId,
    externalId: leaky.externalId,
    scopedKey: scoped.key,
    adminKeyId,
  };
}

/** An id of the same kind and shape that names nothing. */
const missing = (id: string) => `${id.slice(0, -12)}000000000000`;

let A: Side;
let B: Side;
/** Everything of B a key of A must never see. */
let bIds: string[];

/** B's rows in every table, its objects' state, and what is in R2 for it: must not change. */
async function stateOfB() {
  const ws = B.t.ws.id;
  const q = async (sql: string) => (await env.DB.prepare(sql).bind(ws).all()).results;
  const fnIds = [B.leaky.id, B.quiet.id, B.prober.id];
  return {
    workspaces: await q("SELECT * FROM workspaces WHERE id = ?"),
    keys: await q("SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY id"),
    functions: await q("SELECT * FROM functions WHERE workspace_id = ? ORDER BY id"),
    versions: await q("SELECT * FROM versions WHERE workspace_id = ? ORDER BY id"),
    schemas: await q("SELECT * FROM schemas WHERE workspace_id = ? ORDER BY id"),
    calls: await q("SELECT * FROM calls WHERE workspace_id = ? ORDER BY id"),
    logs: await q(
      "SELECT * FROM call_logs WHERE call_id IN (SELECT id FROM calls WHERE workspace_id = ?) ORDER BY call_id",
    ),
    schedules: await q("SELECT * FROM schedules WHERE workspace_id = ? ORDER BY id"),
    objects: await Promise.all(fnIds.map((id) => env.FUNCTIONS.get(env.FUNCTIONS.idFromName(id)).snapshot(id))),
  };
}

const consoleLines: string[] = [];
beforeAll(async () => {
  // The platform's own log lines (the host worker runs in this isolate): scanned for secrets at the end.
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[level].bind(console);
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      consoleLines.push(
        args.map((a) => (a instanceof Error ? `${a.stack}` : typeof a === "string" ? a : JSON.stringify(a))).join(" "),
      );
      original(...args);
    });
  }
  keyOwner = new Map();
  A = await side("A");
  B = await side("B");
  bIds = [
    B.t.ws.id,
    B.leaky.id,
    B.quiet.id,
    B.prober.id,
    B.version,
    B.call,
    B.queuedCall,
    B.schedule,
    B.schema,
    B.key,
    B.developerKeyId,
    B.adminKeyId,
  ];
});
afterAll(() => {
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------------------------
// Routes from the document

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string }[];
  bodyFields: string[];
  hasBody: boolean;
}

/**
 * People's accounts (users, one's own sessions and password, a workspace's members and invites) are walled by
 * membership rather than by the objects of a workspace this test walks; their walls are tested in
 * test/accounts.members.test.ts (another workspace is a 404 for a member, as for a key), accounts.invites.test.ts
 * and accounts.sessions.test.ts.
 */
const ACCOUNT_ROUTES = /^\/api\/(users|me|invites)(\/|$)|^\/api\/workspaces\/\{id\}\/(members|invites)(\/|$)/;

async function documentedOperations(): Promise<Operation[]> {
  const doc = ok(await call("GET", "/api/openapi.json", { key: null })) as {
    paths: Record<string, Record<string, any>>;
    components?: { schemas?: Record<string, any> };
  };
  const resolve = (schema: any): any =>
    schema?.$ref ? doc.components?.schemas?.[String(schema.$ref).split("/").pop() as string] : schema;
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (ACCOUNT_ROUTES.test(path)) continue;
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      const json = resolve(content["application/json"]?.schema);
      const props =
        json?.properties ?? json?.allOf?.flatMap((s: any) => Object.keys(resolve(s)?.properties ?? {})) ?? {};
      ops.push({
        method: method.toUpperCase(),
        path,
        params: (op.parameters ?? []).map((p: any) => resolve(p)),
        bodyFields: Array.isArray(props) ? props : Object.keys(props),
        hasBody: Object.keys(content).length > 0,
      });
    }
  }
  return ops;
}

/** Which object a path parameter names. */
function kindOf(path: string, param: string): Kind | "rest" | null {
  if (path.startsWith("/run/")) {
    return ({ workspace: "workspace", function: "function", path: "rest" } as const)[param as "path"] ?? null;
  }
  if (param === "vid") return "version";
  if (param !== "id") return null;
  const segment = path.split("/")[2] ?? "";
  const kinds: Record<string, Kind> = {
    workspaces: "workspace",
    functions: "function",
    calls: "call",
    schedules: "schedule",
    schemas: "schema",
    keys: "key",
  };
  return kinds[segment] ?? null;
}

const idOf = (s: Side, kind: Kind): string =>
  ({
    workspace: s.t.ws.id,
    function: s.leaky.id,
    version: s.version,
    call: s.call,
    schedule: s.schedule,
    schema: s.schema,
    key: s.key,
  })[kind];

/** A valid body for each documented route that takes one, so validation never hides the id check. */
const BODIES: Record<string, () => unknown> = {
  // Signing in names no object: a key of nobody's.
  "POST /api/session": () => ({ key: "efn_not-a-key-of-any-workspace-0000000000" }),
  "POST /api/keys": () => ({ name: "k", role: "viewer", workspaceId: A.t.ws.id }),
  "POST /api/workspaces": () => ({ name: `ws-${crypto.randomUUID().slice(0, 8)}` }),
  "PATCH /api/workspaces/{id}": () => ({ description: "changed" }),
  "POST /api/functions": () => ({ workspaceId: A.t.ws.id, name: `fn-${crypto.randomUUID().slice(0, 8)}` }),
  "PATCH /api/functions/{id}": () => ({ description: "changed" }),
  "POST /api/functions/{id}/versions": () => ({ code: "export function handle() { return 1; }" }),
  "POST /api/functions/{id}/invoke": () => ({ args: {} }),
  "POST /api/schemas": () => ({ workspaceId: A.t.ws.id, name: "s", schema: { type: "object" } }),
  "POST /api/schedules": () => ({ functionId: A.leaky.id, name: "s", cron: "@daily" }),
  "PATCH /api/schedules/{id}": () => ({ description: "changed" }),
};

/** Body fields holding ids: the route, a valid body with B's id (or a missing one) in the field. */
interface BodyIdCase {
  route: string;
  url: () => string;
  body: (id: string) => unknown;
  id: () => string;
  /** B's value is not B's to hold: a key of A may use it as a missing one can be (e.g. externalId, unique per workspace). */
  accepted?: boolean;
  /** The value standing for a missing one, when missing(id) would not do. */
  missingId?: () => string;
}
const BODY_IDS: Record<string, BodyIdCase[]> = {
  workspaceId: [
    {
      route: "POST /api/functions",
      url: () => "/api/functions",
      body: (id) => ({ workspaceId: id, name: "x" }),
      id: () => B.t.ws.id,
    },
    {
      route: "POST /api/keys",
      url: () => "/api/keys",
      body: (id) => ({ name: "k", role: "viewer", workspaceId: id }),
      id: () => B.t.ws.id,
    },
    {
      route: "POST /api/schemas",
      url: () => "/api/schemas",
      body: (id) => ({ workspaceId: id, name: "s", schema: {} }),
      id: () => B.t.ws.id,
    },
  ],
  functionIds: [
    {
      route: "POST /api/keys",
      url: () => "/api/keys",
      body: (id) => ({ name: "k", role: "viewer", workspaceId: A.t.ws.id, functionIds: [A.quiet.id, id] }),
      id: () => B.quiet.id,
    },
  ],
  functionId: [
    {
      route: "POST /api/schedules",
      url: () => "/api/schedules",
      body: (id) => ({ functionId: id, name: "s", cron: "@daily" }),
      id: () => B.leaky.id,
    },
  ],
  inputSchemaId: [
    {
      route: "PATCH /api/functions/{id}",
      url: () => `/api/functions/${A.quiet.id}`,
      body: (id) => ({ inputSchemaId: id }),
      id: () => B.schema,
    },
    {
      route: "POST /api/functions",
      url: () => "/api/functions",
      body: (id) => ({ workspaceId: A.t.ws.id, name: `fn-${nonce}-in`, inputSchemaId: id }),
      id: () => B.schema,
    },
  ],
  outputSchemaId: [
    {
      route: "POST /api/functions",
      url: () => "/api/functions",
      body: (id) => ({ workspaceId: A.t.ws.id, name: `fn-${nonce}-out`, outputSchemaId: id }),
      id: () => B.schema,
    },
    {
      route: "PATCH /api/functions/{id}",
      url: () => `/api/functions/${A.quiet.id}`,
      body: (id) => ({ outputSchemaId: id }),
      id: () => B.schema,
    },
  ],
  externalId: [
    {
      route: "PATCH /api/functions/{id}",
      url: () => `/api/functions/${A.prober.id}`,
      body: (id) => ({ externalId: id }),
      id: () => B.externalId,
      missingId: () => `ext-none-${nonce}`,
      accepted: true,
    },
    {
      route: "POST /api/functions",
      url: () => "/api/functions",
      body: (id) => ({ workspaceId: A.t.ws.id, name: `fn-${crypto.randomUUID().slice(0, 8)}`, externalId: id }),
      id: () => B.externalId,
      missingId: () => `ext-none-${crypto.randomUUID()}`,
      accepted: true,
    },
  ],
  versionId: [
    {
      route: "POST /api/functions/{id}/invoke",
      url: () => `/api/functions/${A.leaky.id}/invoke`,
      body: (id) => ({ args: {}, versionId: id }),
      id: () => B.version,
    },
  ],
};
/**
 * runtimeUserId is an opaque pointer, checked when the function acts (ctx.client); the ctx.client test below shows
 * that naming B's key there reaches nothing of B.
 */
const OPAQUE_BODY_IDS = new Set(["runtimeUserId"]);

/** Query parameters that hold ids (or cursors and filters, which can): B's value, and what A's key must get. */
const QUERY_IDS: Record<string, { url: () => string; param: string; value: () => string }[]> = {};
function queryCase(route: string, url: () => string, param: string, value: () => string) {
  const list = QUERY_IDS[route] ?? [];
  list.push({ url, param, value });
  QUERY_IDS[route] = list;
}
queryCase(
  "GET /api/functions",
  () => "/api/functions",
  "workspace_id",
  () => B.t.ws.id,
);
queryCase(
  "GET /api/functions",
  () => "/api/functions",
  "ids",
  () => `${A.leaky.id},${B.leaky.id},${B.quiet.id}`,
);
queryCase(
  "GET /api/functions",
  () => "/api/functions",
  "default_version_id",
  () => B.version,
);
queryCase(
  "GET /api/functions",
  () => "/api/functions",
  "created_by",
  () => B.developerKeyId,
);
queryCase(
  "GET /api/functions",
  () => "/api/functions",
  "runtime_user_id",
  () => B.key,
);
queryCase(
  "GET /api/schedules",
  () => "/api/schedules",
  "functionId",
  () => B.leaky.id,
);
queryCase(
  "GET /api/functions/{id}/calls",
  () => `/api/functions/${A.leaky.id}/calls`,
  "scheduleId",
  () => B.schedule,
);
queryCase(
  "GET /api/functions/{id}/calls",
  () => `/api/functions/${A.leaky.id}/calls`,
  "versionId",
  () => B.version,
);

/** Lists: a filter naming B's objects and B's own cursor, used by A's key. */
const LISTS: Record<string, { url: (s: Side) => string; filters: () => string[] }> = {
  "GET /api/keys": {
    url: () => "/api/keys",
    filters: () => [`{"id":{"eq":"${B.key}"}}`, `{"workspaceId":{"eq":"${B.t.ws.id}"}}`],
  },
  "GET /api/workspaces": {
    url: () => "/api/workspaces",
    filters: () => [`{"id":{"eq":"${B.t.ws.id}"}}`, `{"name":{"eq":"${B.t.ws.name}"}}`],
  },
  "GET /api/functions": {
    url: () => "/api/functions",
    filters: () => [
      `{"id":{"in":["${B.leaky.id}","${B.quiet.id}"]}}`,
      `{"workspaceId":{"eq":"${B.t.ws.id}"}}`,
      `{"workspace":{"name":{"eq":"${B.t.ws.name}"}}}`,
      `{"defaultVersionId":{"eq":"${B.version}"}}`,
    ],
  },
  "GET /api/functions/{id}/versions": {
    url: (s) => `/api/functions/${s.leaky.id}/versions`,
    filters: () => [`{"id":{"eq":"${B.version}"}}`],
  },
  "GET /api/functions/{id}/calls": {
    url: (s) => `/api/functions/${s.leaky.id}/calls`,
    filters: () => [`{"id":{"eq":"${B.call}"}}`, `{"versionId":{"eq":"${B.version}"}}`],
  },
  "GET /api/schemas": { url: () => "/api/schemas", filters: () => [`{"id":{"eq":"${B.schema}"}}`] },
  "GET /api/schedules": {
    url: () => "/api/schedules",
    filters: () => [`{"id":{"eq":"${B.schedule}"}}`, `{"functionId":{"eq":"${B.leaky.id}"}}`],
  },
};

const ID_LIKE = /(^ids?$|Ids?$|_id$|_by$|^after$|^before$|^filter$)/;

/** Keys of A, each role and one scoped to a function. */
const keysOfA = () => ({ ...A.t.keys, scoped: A.scopedKey });

/**
 * Calls the route with B's ids and with missing ids in the same positions, with every key of A: never a success,
 * and the very answer a missing id gets (status, code, and message up to the id).
 */
async function expectLikeMissing(
  label: string,
  method: string,
  foreign: { url: string; body?: () => unknown; headers?: Record<string, string> },
  control: { url: string; body?: () => unknown; headers?: Record<string, string> },
  swaps: [string, string][],
  options: { adminStatus?: number; allowSuccess?: boolean; roles?: string[] } = {},
) {
  for (const [role, key] of Object.entries(keysOfA())) {
    if (options.roles && !options.roles.includes(role)) continue;
    const res = await call(method, foreign.url, { key, body: foreign.body?.(), headers: foreign.headers });
    const ctl = await call(method, control.url, { key, body: control.body?.(), headers: control.headers });
    const what = `${label} as ${role}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
    if (!options.allowSuccess) {
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
      expectError(res, res.status, res.body?.error?.code ?? "?");
    }
    expect(res.status, `${what} / missing id: ${ctl.status} ${JSON.stringify(ctl.body)}`).toBe(ctl.status);
    if (res.status >= 400) {
      let message = res.body.error.message as string;
      for (const [from, to] of swaps) message = message.split(from).join(to);
      expect({ code: res.body.error.code, message }, what).toEqual({
        code: ctl.body.error.code,
        message: ctl.body.error.message,
      });
    } else {
      const text = JSON.stringify(res.body);
      for (const id of bIds) expect(text, `${what} shows ${id}`).not.toContain(id);
      if (Array.isArray(res.body?.data)) {
        const ids = (body: any) => body.data.map((r: { id: string }) => r.id);
        expect(ids(res.body), what).toEqual(ids(ctl.body));
      }
    }
    if (role === "admin" && options.adminStatus) expect(res.status, what).toBe(options.adminStatus);
  }
}

describe("tenancy: every route with a foreign workspace's ids answers as if they did not exist", () => {
  let ops: Operation[];
  let before: Awaited<ReturnType<typeof stateOfB>>;
  const covered = new Set<string>();
  beforeAll(async () => {
    ops = await documentedOperations();
    before = await stateOfB();
  });

  it("covers every documented id: path parameters, body fields and query parameters", () => {
    const problems: string[] = [];
    for (const op of ops) {
      const route = `${op.method} ${op.path}`;
      for (const p of op.params.filter((x) => x.in === "path")) {
        if (!kindOf(op.path, p.name)) problems.push(`${route}: path parameter ${p.name}`);
      }
      if (op.hasBody && !op.path.startsWith("/run/") && !BODIES[route]) problems.push(`${route}: no valid body`);
      for (const field of op.bodyFields.filter((f) => ID_LIKE.test(f))) {
        const cases = BODY_IDS[field]?.filter((c) => c.route === route) ?? [];
        if (cases.length === 0 && !OPAQUE_BODY_IDS.has(field)) problems.push(`${route}: body field ${field}`);
      }
      for (const p of op.params.filter((x) => x.in === "query" && ID_LIKE.test(x.name))) {
        const known =
          QUERY_IDS[route]?.some((c) => c.param === p.name) ||
          (["filter", "after", "before"].includes(p.name) && LISTS[route]);
        if (!known) problems.push(`${route}: query parameter ${p.name}`);
      }
    }
    expect(problems, "ids the test does not try").toEqual([]);
    // The document lists the routes the test walks; /run is in it too.
    expect(ops.some((o) => o.path.startsWith("/run/"))).toBe(true);
  });

  it("path ids: B's id in each position, alone and together with A's, is the 404 a missing id gets", async () => {
    for (const op of ops) {
      const route = `${op.method} ${op.path}`;
      const positions = op.params
        .filter((p) => p.in === "path")
        .map((p) => ({ name: p.name, kind: kindOf(op.path, p.name) }));
      const idPositions = positions.filter((p) => p.kind && p.kind !== "rest");
      if (idPositions.length === 0) continue;
      const body = BODIES[route];
      const build = (pick: (name: string, kind: Kind) => string) =>
        op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
          const kind = kindOf(op.path, name);
          return kind === "rest" || !kind ? "x" : encodeURIComponent(pick(name, kind));
        });
      const variants: string[][] = [...idPositions.map((p) => [p.name])];
      if (idPositions.length > 1) variants.push(idPositions.map((p) => p.name));
      for (const foreignAt of variants) {
        const swaps: [string, string][] = [];
        const foreignUrl = build((name, kind) => (foreignAt.includes(name) ? idOf(B, kind) : idOf(A, kind)));
        const controlUrl = build((name, kind) => {
          if (!foreignAt.includes(name)) return idOf(A, kind);
          swaps.push([idOf(B, kind), missing(idOf(B, kind))]);
          return missing(idOf(B, kind));
        });
        await expectLikeMissing(
          `${route} with B's ${foreignAt.join(" and ")}`,
          op.method,
          { url: foreignUrl, body },
          { url: controlUrl, body },
          swaps,
          { adminStatus: 404 },
        );
        covered.add(route);
      }
    }
  });

  it("/run by workspace and function names, B's version pinned, and a browser preflight", async () => {
    const nameCases: [string, string, string, string][] = [
      // [workspace, function, missing workspace, missing function]
      [A.t.ws.name, B.quiet.name, A.t.ws.name, `no-such-${nonce}`],
      [A.t.ws.id, B.quiet.name, A.t.ws.id, `no-such-${nonce}`],
      [B.t.ws.name, B.quiet.name, `no-such-ws-${nonce}`, B.quiet.name],
      [B.t.ws.name, B.quiet.id, `no-such-ws-${nonce}`, B.quiet.id],
      [B.t.ws.id, B.quiet.name, missing(B.t.ws.id), `no-such-${nonce}`],
    ];
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
      for (const [ws, fn, mws, mfn] of nameCases) {
        await expectLikeMissing(
          `${method} /run/${ws}/${fn}`,
          method,
          { url: `/run/${ws}/${fn}/x` },
          { url: `/run/${mws}/${mfn}/x` },
          [[`${ws}/${fn}`, `${mws}/${mfn}`]],
          { adminStatus: 404 },
        );
      }
      await expectLikeMissing(
        `${method} /run of A's function pinned to B's version`,
        method,
        { url: `/run/${A.t.ws.id}/${A.quiet.id}/x?version=${B.version}` },
        { url: `/run/${A.t.ws.id}/${A.quiet.id}/x?version=${missing(B.version)}` },
        [[B.version, missing(B.version)]],
        { adminStatus: 404 },
      );
    }
    // A preflight carries no key: for a function that is not public and allows no origin it reveals nothing either.
    const preflight = (ws: string, fn: string) =>
      call("OPTIONS", `/run/${ws}/${fn}/x`, {
        key: null,
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      });
    const foreign = await preflight(B.t.ws.name, B.quiet.name);
    const control = await preflight(B.t.ws.name, `no-such-${nonce}`);
    expect(foreign.status, JSON.stringify(foreign.body)).toBe(control.status);
    expect(foreign.status).toBe(404);
  });

  it("body fields naming B's objects answer as a missing id does", async () => {
    for (const [field, cases] of Object.entries(BODY_IDS)) {
      for (const c of cases) {
        const id = c.id();
        const absent = c.missingId?.() ?? missing(id);
        const [method] = c.route.split(" ");
        await expectLikeMissing(
          `${c.route} with B's ${field}`,
          method as string,
          { url: c.url(), body: () => c.body(id) },
          { url: c.url(), body: () => c.body(absent) },
          [[id, absent]],
          c.accepted ? { allowSuccess: true, roles: ["developer"] } : {},
        );
        if (c.accepted) {
          const mine = await call(
            "GET",
            `/api/functions?filter=${encodeURIComponent(`{"externalId":{"eq":"${id}"}}`)}`,
            {
              key: A.t.keys.viewer,
            },
          );
          expect(ok(mine).data.every((f: { workspaceId: string }) => f.workspaceId === A.t.ws.id)).toBe(true);
        }
        covered.add(c.route);
      }
    }
  });

  it("query ids, filters and B's cursors never bring B's objects into A's lists", async () => {
    for (const [route, cases] of Object.entries(QUERY_IDS)) {
      for (const c of cases) {
        const value = c.value();
        const url = `${c.url()}?${c.param}=${encodeURIComponent(value)}`;
        const controlValue = value
          .split(",")
          .map((v) => (v.startsWith(A.leaky.id) ? v : missing(v)))
          .join(",");
        const control = `${c.url()}?${c.param}=${encodeURIComponent(controlValue)}`;
        const swaps = value.split(",").map((v): [string, string] => [v, missing(v)]);
        await expectLikeMissing(`${route} ?${c.param}=B's`, "GET", { url }, { url: control }, swaps, {
          allowSuccess: true,
        });
        covered.add(route);
      }
    }
    for (const [route, list] of Object.entries(LISTS)) {
      for (const filter of list.filters()) {
        for (const [role, key] of Object.entries(keysOfA())) {
          const res = await call("GET", `${list.url(A)}?filter=${encodeURIComponent(filter)}`, { key });
          const what = `${route} filter ${filter} as ${role}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
          expect([200, 400, 403, 404], what).toContain(res.status);
          if (res.status === 200) expect(res.body.data, what).toEqual([]);
          else expectError(res, res.status, res.body.error.code);
        }
      }
      // B's own cursor (from a page of B's list), reused by A's keys on A's list.
      const bPage = ok(await call("GET", `${list.url(B)}?limit=1`, { key: B.t.keys.admin }));
      const cursor = bPage.pageInfo.endCursor as string | null;
      expect(cursor, `${route}: B's list has a page`).toBeTruthy();
      for (const [role, key] of Object.entries(keysOfA())) {
        for (const param of ["after", "before"]) {
          const res = await call("GET", `${list.url(A)}?${param}=${encodeURIComponent(cursor as string)}`, { key });
          const what = `${route} ?${param}=B's cursor as ${role}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
          expect([200, 400, 403, 404], what).toContain(res.status);
          if (res.status >= 400) expectError(res, res.status, res.body.error.code);
          const text = JSON.stringify(res.body);
          for (const id of bIds) expect(text, `${what} shows ${id}`).not.toContain(id);
        }
      }
      covered.add(route);
    }
  });

  it("ctx.client of A's functions reaches nothing of B, whoever the function acts as", async () => {
    const targets = [B.leaky.id, B.leaky.name, B.quiet.id, B.quiet.name, `${B.t.ws.name}/${B.quiet.name}`];
    const controls = [
      missing(B.leaky.id),
      `no-such-${nonce}-1`,
      missing(B.quiet.id),
      `no-such-${nonce}-2`,
      `no-such/${nonce}`,
    ];
    const globalAdmin = await newKey("admin", null);
    for (const runtimeUserId of [null, B.adminKeyId, globalAdmin.id]) {
      ok(await call("PATCH", `/api/functions/${A.prober.id}`, { key: A.t.keys.developer, body: { runtimeUserId } }));
      const res = ok(
        await call("POST", `/api/functions/${A.prober.id}/invoke`, {
          key: A.t.keys.invoker,
          body: { args: { targets: [...targets, ...controls] } },
        }),
      );
      const what = `runtime user ${runtimeUserId}: ${JSON.stringify(res).slice(0, 600)}`;
      expect(res.ok, what).toBe(true);
      const { results, calls } = res.result;
      targets.forEach((target, i) => {
        const got = results[target];
        const missingTarget = results[controls[i] as string];
        expect(got?.ok, `${what}: ${target}`).toBe(false);
        expect(JSON.stringify(got).split(target).join(controls[i]), `${what}: ${target}`).toBe(
          JSON.stringify(missingTarget),
        );
      });
      // Its own calls only.
      if (Array.isArray(calls)) {
        const own = await env.DB.prepare("SELECT id FROM calls WHERE function_id = ?")
          .bind(A.prober.id)
          .all<{ id: string }>();
        const ownIds = new Set(own.results.map((r) => r.id));
        for (const c of calls) expect(ownIds.has(c.id), `${what}: call ${c.id}`).toBe(true);
      }
      expect(res.result.secrets).toEqual({});
      expect(Object.keys(res.result.env)).toEqual([]);
      const text = JSON.stringify(res);
      for (const secret of [QUIET_A, QUIET_B, LEAK_B]) expect(text).not.toContain(secret);
    }
    ok(
      await call("PATCH", `/api/functions/${A.prober.id}`, { key: A.t.keys.developer, body: { runtimeUserId: null } }),
    );
  });

  it("left B exactly as it was, and walked every documented route that has an id", async () => {
    expect(await stateOfB()).toEqual(before);
    const withIds = ops.filter(
      (op) =>
        op.params.some((p) => p.in === "path" && kindOf(op.path, p.name) !== "rest") ||
        op.params.some((p) => p.in === "query" && ID_LIKE.test(p.name)) ||
        op.bodyFields.some((f) => ID_LIKE.test(f) && !OPAQUE_BODY_IDS.has(f)),
    );
    const missed = withIds.map((op) => `${op.method} ${op.path}`).filter((r) => !covered.has(r));
    expect(missed, "routes with ids that no case walked").toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Secrets

describe("secrets: the platform never shows one; only the user's own code can, and only its own", () => {
  it("a function reads its secrets in ctx.secrets and env; its siblings and the other workspace cannot", async () => {
    const own = ok(
      await call("POST", `/api/functions/${A.leaky.id}/invoke`, { key: A.t.keys.invoker, body: {} }, true),
    );
    expect(own.result).toEqual({
      secrets: { token: LEAK_A },
      env: { MODE: "plain", token: LEAK_A },
      value: LEAK_A,
    });
    const quiet = ok(await call("POST", `/api/functions/${A.quiet.id}/invoke`, { key: A.t.keys.invoker, body: {} }));
    expect(quiet.result).toEqual({ length: QUIET_A.length, inEnv: true });
    // The sibling sees no secret of its workspace in its env or ctx.secrets; through ctx.client it gets only what the
    // other function returns.
    const sibling = ok(
      await call("POST", `/api/functions/${A.prober.id}/invoke`, {
        key: A.t.keys.invoker,
        body: { args: { targets: [A.quiet.name] } },
      }),
    );
    expect(sibling.result.env).toEqual({});
    expect(sibling.result.secrets).toEqual({});
    expect(sibling.result.results[A.quiet.name]).toMatchObject({ ok: true, result: { length: QUIET_A.length } });
    expect(JSON.stringify(sibling)).not.toContain(QUIET_A);
    // The API's env vars never list a secret.
    const fn = ok(await call("GET", `/api/functions/${A.leaky.id}`, { key: A.t.keys.viewer }));
    expect(fn.envVars).toEqual({ MODE: "plain" });
    expect(fn.secrets).toEqual({ token: "***" });
  });

  it("the user's code leaks on purpose: result, logs, thrown errors and stacks, /run answers; only there", async () => {
    const key = A.t.keys.developer;
    const thrown = ok(
      await call("POST", `/api/functions/${A.leaky.id}/invoke`, { key, body: { args: { throw: true } } }, true),
    );
    expect(thrown.ok).toBe(false);
    expect(thrown.errorDetail.message).toBe(`thrown ${LEAK_A}`);
    const run = await call("GET", `/run/${A.t.ws.name}/${A.leaky.name}/hello`, { key }, true);
    expect(run.body).toBe(`fetch:${LEAK_A}`);
    const runThrow = await call("GET", `/run/${A.t.ws.name}/${A.leaky.name}/throw`, { key }, true);
    expect(runThrow.status).toBe(502);
    await waitForCall(thrown.callId);
    for (const path of [
      `/api/calls/${thrown.callId}`,
      `/api/calls/${thrown.callId}/logs`,
      `/api/calls/${A.call}/response`,
    ]) {
      const res = ok(await call("GET", path, { key }, true));
      expect(JSON.stringify(res), path).toContain(LEAK_A);
    }
    ok(await call("GET", `/api/functions/${A.leaky.id}/calls`, { key }, true));
  });

  it("refuses bad secret input without echoing a value", async () => {
    const key = A.t.keys.developer;
    const path = `/api/functions/${A.quiet.id}`;
    const value = QUIET_A;
    const bad: [string, unknown][] = [
      ["oversized", { secrets: { token: `${value}${"v".repeat(26 * 1024)}` } }],
      ["bad name", { secrets: { "BAD NAME": value } }],
      ["not a string", { secrets: { token: { nested: value } } }],
      ["not a record", { secrets: value }],
      ["too many", { secrets: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`s${i}`, value])) }],
      ["clash with an env var", { secrets: { token: value }, envVars: { token: "x" } }],
      ["*** with nothing stored", { secrets: { token: value, other: "***" } }],
      ["unknown field", { secrets: { token: value }, bogus: value }],
      ["invalid timeout alongside", { secrets: { token: value }, timeoutMs: -1 }],
    ];
    for (const [what, body] of bad) {
      const res = await call("PATCH", path, { key, body });
      expect(res.status, `${what}: ${JSON.stringify(res.body).slice(0, 200)}`).toBe(400);
      expectError(res, 400, "bad_request");
      expect(JSON.stringify(res.body), what).not.toContain(value);
    }
    const raw = await call("PATCH", path, { key, raw: `{"secrets": {"token": "${value}"` });
    expectError(raw, 400, "bad_request");
    expect(JSON.stringify(raw.body)).not.toContain(value);
    // A create that fails (taken name, then a bad field) with a secret in its body.
    for (const body of [
      { workspaceId: A.t.ws.id, name: A.quiet.name, secrets: { token: value } },
      { workspaceId: A.t.ws.id, name: "fresh", secrets: { token: value }, cpuMs: 0 },
      { workspaceId: B.t.ws.id, name: "fresh", secrets: { token: value } },
    ]) {
      const res = await call("POST", "/api/functions", { key, body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(res.body)).not.toContain(value);
    }
    // Nothing changed: the stored secret still works.
    expect(ok(await call("POST", `${path}/invoke`, { key, body: {} })).result).toEqual({
      length: value.length,
      inEnv: true,
    });
  });

  it("keeps secrets encrypted at rest: no D1 row, Durable Object or R2 object holds a quiet secret", async () => {
    const tables = (
      await env.DB.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      ).all<{ name: string }>()
    ).results.map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(["functions", "calls", "call_logs", "versions", "api_keys"]));
    const leakyCalls = new Set(
      (
        await env.DB.prepare("SELECT id FROM calls WHERE function_id IN (?, ?)")
          .bind(A.leaky.id, B.leaky.id)
          .all<{ id: string }>()
      ).results.map((r) => r.id),
    );
    for (const table of tables) {
      const { results } = await env.DB.prepare(`SELECT * FROM "${table}"`).all<Record<string, unknown>>();
      for (const row of results) {
        const text = JSON.stringify(row);
        for (const secret of [QUIET_A, QUIET_B]) expect(text, `${table} row`).not.toContain(secret);
        for (const secret of [LEAK_A, LEAK_B]) {
          // Only what the leaky functions' own calls returned and logged.
          if (text.includes(secret)) {
            expect(["calls", "call_logs"], `${table} holds ${secret}`).toContain(table);
            expect(leakyCalls.has(String(row.id ?? row.call_id)), `${table} ${text.slice(0, 200)}`).toBe(true);
          }
        }
      }
    }
    const stored = await env.DB.prepare("SELECT secrets FROM functions WHERE id = ?")
      .bind(A.quiet.id)
      .first<{ secrets: string }>();
    expect(JSON.parse(stored?.secrets as string).token).toMatch(/^v2\.[\w-]{8}\.[\w-]+\.[\w-]+$/);

    for (const fnId of [A.leaky.id, A.quiet.id, B.leaky.id, B.quiet.id]) {
      const state = await env.FUNCTIONS.get(env.FUNCTIONS.idFromName(fnId)).snapshot(fnId);
      for (const secret of [QUIET_A, QUIET_B, LEAK_A, LEAK_B]) expect(JSON.stringify(state)).not.toContain(secret);
    }

    let cursor: string | undefined;
    let objects = 0;
    do {
      const page = await env.CODE.list({ cursor });
      for (const o of page.objects) {
        const text = await (await env.CODE.get(o.key))?.text();
        objects++;
        for (const secret of [QUIET_A, QUIET_B]) expect(text, o.key).not.toContain(secret);
        for (const secret of [LEAK_A, LEAK_B]) {
          if (text?.includes(secret))
            expect(
              [...leakyCalls].map((id) => `results/${id}`),
              o.key,
            ).toContain(o.key);
        }
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    expect(objects).toBeGreaterThan(0);
  });

  it("no answer of the platform and no line it logged carries a secret, beyond the user's own output", async () => {
    // Everything a key of A can read, so the scan below sees every kind of answer.
    const key = A.t.keys.admin;
    for (const path of [
      "/api/functions",
      "/api/functions?include_deleted=true",
      `/api/functions/${A.leaky.id}`,
      `/api/functions/${A.quiet.id}`,
      `/api/functions/${A.quiet.id}/versions`,
      `/api/functions/${A.leaky.id}/versions`,
      `/api/functions/${A.leaky.id}/versions/${A.version}`,
      `/api/functions/${A.leaky.id}/versions/${A.version}/source`,
      `/api/functions/${A.quiet.id}/calls`,
      `/api/functions/${A.leaky.id}/metrics`,
      `/api/schedules`,
      `/api/schedules/${A.schedule}`,
      `/api/schedules/${A.schedule}/input-data`,
      "/api/keys",
      "/api/workspaces",
      `/api/workspaces/${A.t.ws.id}`,
      "/api/schemas",
      "/api/limits",
      "/api/runtimes",
    ]) {
      ok(await call("GET", path, { key }));
    }
    const patched = ok(
      await call("PATCH", `/api/functions/${A.quiet.id}`, { key, body: { secrets: { token: "***", more: QUIET_A } } }),
    );
    expect(patched.secrets).toEqual({ token: "***", more: "***" });
    ok(await call("GET", "/api/openapi.json", { key: null }));

    // The platform's logs: proven to be captured by a minute tick, which always logs.
    const { default: worker } = await import("../../src/index");
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import(
      "cloudflare:test"
    );
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(consoleLines.some((l) => l.includes('"event":"cron"'))).toBe(true);
    for (const line of consoleLines) {
      for (const secret of [QUIET_A, QUIET_B, LEAK_A, LEAK_B])
        expect(line, "a platform log line").not.toContain(secret);
    }

    expect(seen.length).toBeGreaterThan(500);
    for (const r of seen) {
      const what = `${r.label} (${r.status}): ${r.text.slice(0, 200)}`;
      for (const secret of [QUIET_A, QUIET_B]) expect(r.text, what).not.toContain(secret);
      if (r.keyOf === "A") expect(r.text, what).not.toContain(LEAK_B);
      if (!r.userOutput) for (const secret of [LEAK_A, LEAK_B]) expect(r.text, what).not.toContain(secret);
    }
  });
});
