/**
 * The route auth matrix of test/security.routes.test.ts, for the compatibility surfaces (Appwrite at /v1, Cognite at
 * /api/v1/projects/{project}, Gcore at /cloud/v1/faas, Supabase at /functions/v1) and for /run of a public and of a
 * protected function: no key and bad keys are 401 in the surface's own shape, a role below the route's need is 403,
 * a key of another workspace naming workspace A's objects gets exactly the answer a made-up id of the same shape gets,
 * and a key scoped to another function gets the same for this function's objects. A last test checks that every
 * compatibility route the app serves is in the table.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { newApp } from "../src/http/app";
import { newId } from "../src/lib/ids";
import { ADMIN_KEY, type ApiResponse, api, expectStatus, newFunction, newKey, tenant, unique } from "./support/api";
import { deploy } from "./support/deploy";
import { deploymentForm, expectSurfaceError, type Surface, send, tgz } from "./support/http";

type Role = "viewer" | "invoker" | "developer" | "admin";
type Fixture = Awaited<ReturnType<typeof setup>>;
type Tenant = Awaited<ReturnType<typeof tenant>>;

/** The objects a request can name. A route's `url`, `body` and `headers` take them from here. */
interface Ids {
  /** The workspace by name: Appwrite's X-Appwrite-Project, Cognite's {project}, Gcore's {namespace}, Supabase's x-edgefn-workspace, /run's {workspace}. */
  project: string;
  wsId: string;
  fnId: string;
  fnName: string;
  /** The function's Appwrite id (a custom id: its externalId). */
  awFn: string;
  /** A version of the function (an Appwrite deployment). */
  dep: string;
  /** A call of the function (an Appwrite execution). */
  exec: string;
  variable: string;
  /** Cognite's integer ids of the function, a call of it and a schedule of it. */
  cogFn: number;
  cogCall: number;
  cogSchedule: number;
  /** A file of the Cognite surface's Files API, uploaded. */
  cogFile: number;
  /** A version of the public function that is not its active one. */
  oldVersion: string;
}
type IdKey = keyof Ids;

interface RouteCase {
  surface: Surface;
  /** The method as the app's route table has it ("ALL" for a catch-all). */
  method: string;
  /** The path as the app's route table has it, with {param}s. */
  path: string;
  /** The method sent, for an "ALL" route. */
  send?: string;
  url: (ids: Ids) => string;
  body?: (ids: Ids) => unknown;
  headers?: (ids: Ids) => Record<string, string>;
  /** The lowest role that may call it. */
  role: Role;
  /** Needs a key for every workspace (a scoped admin gets 403). */
  global?: boolean;
  /** The objects the request names: a key of another workspace must get what made-up ones get. */
  names: IdKey[];
  /** The status without any key, when it is not 401 (an anonymous pin of a public function's version). */
  anonymous?: number;
  /** Tells cases of the same route apart. */
  label?: string;
}

const WORKSPACE_KEYS: IdKey[] = ["project", "wsId"];
const OUTER_KEYS: IdKey[] = ["fnId", "fnName", "awFn", "cogFn"];
const INNER_KEYS: IdKey[] = ["dep", "exec", "variable", "cogCall", "cogSchedule", "cogFile"];

const HANDLER = "export default { fetch(request) { return new Response('hi ' + new URL(request.url).pathname); } };";

const AW = "/v1/functions";
const aw = (
  method: string,
  path: string,
  url: (ids: Ids) => string,
  role: Role,
  names: IdKey[],
  body?: (ids: Ids) => unknown,
): RouteCase => ({
  surface: "appwrite",
  method,
  path: `${AW}${path}`,
  url: (ids) => `${AW}${url(ids)}`,
  role,
  names,
  body,
});

/** A route of the rest of Appwrite's /v1 (what its CLI calls around functions). */
const v1 = (
  method: string,
  path: string,
  url: (ids: Ids) => string,
  role: Role,
  names: IdKey[],
  body?: (ids: Ids) => unknown,
): RouteCase => ({
  surface: "appwrite",
  method,
  path: `/v1${path}`,
  url: (ids) => `/v1${url(ids)}`,
  role,
  names,
  body,
});

const COG = "/api/v1/projects/{project}";
const cog = (
  method: string,
  path: string,
  url: (ids: Ids) => string,
  role: Role,
  names: IdKey[],
  body?: (ids: Ids) => unknown,
): RouteCase => ({
  surface: "cognite",
  method,
  path: `${COG}${path}`,
  url: (ids) => `/api/v1/projects/${ids.project}${url(ids)}`,
  role,
  names: ["project", ...names],
  body,
});

const GC = "/cloud/v1/faas/namespaces/{project_id}/{region_id}";
const gc = (
  method: string,
  path: string,
  url: (ids: Ids) => string,
  role: Role,
  names: IdKey[],
  extra: Partial<RouteCase> = {},
): RouteCase => ({
  surface: "gcore",
  method,
  path: `${GC}${path}`,
  url: (ids) => `/cloud/v1/faas/namespaces/1/76${url(ids)}`,
  role,
  names,
  ...extra,
});

const GCORE_CODE = "export async function run(data) { return { ok: true }; }";

function routes(f: () => Fixture): RouteCase[] {
  return [
    // --- Appwrite ---------------------------------------------------------------------------------------------
    aw("GET", "/runtimes", () => "/runtimes", "viewer", ["project"]),
    aw("GET", "/specifications", () => "/specifications", "viewer", ["project"]),
    aw("GET", "", () => "", "viewer", ["project"]),
    aw(
      "POST",
      "",
      () => "",
      "developer",
      ["project"],
      () => ({
        functionId: "unique()",
        name: unique("aw"),
        runtime: "node-22",
      }),
    ),
    aw("GET", "/{functionId}", (i) => `/${i.awFn}`, "viewer", ["project", "awFn"]),
    aw(
      "PUT",
      "/{functionId}",
      (i) => `/${i.awFn}`,
      "developer",
      ["project", "awFn"],
      () => ({ name: "changed" }),
    ),
    aw("DELETE", "/{functionId}", (i) => `/${i.awFn}`, "developer", ["project", "awFn"]),
    aw(
      "PATCH",
      "/{functionId}/deployment",
      (i) => `/${i.awFn}/deployment`,
      "developer",
      ["project", "awFn", "dep"],
      (i) => ({
        deploymentId: i.dep,
      }),
    ),
    aw("PATCH", "/{functionId}/deployments/{deploymentId}", (i) => `/${i.awFn}/deployments/${i.dep}`, "developer", [
      "project",
      "awFn",
      "dep",
    ]),
    aw("GET", "/{functionId}/deployments", (i) => `/${i.awFn}/deployments`, "viewer", ["project", "awFn"]),
    aw(
      "POST",
      "/{functionId}/deployments",
      (i) => `/${i.awFn}/deployments`,
      "developer",
      ["project", "awFn"],
      () => deploymentForm(tgz({ "index.js": HANDLER }), { activate: "false" }),
    ),
    aw("GET", "/{functionId}/deployments/{deploymentId}", (i) => `/${i.awFn}/deployments/${i.dep}`, "viewer", [
      "project",
      "awFn",
      "dep",
    ]),
    aw(
      "GET",
      "/{functionId}/deployments/{deploymentId}/download",
      (i) => `/${i.awFn}/deployments/${i.dep}/download`,
      "viewer",
      ["project", "awFn", "dep"],
    ),
    aw(
      "PATCH",
      "/{functionId}/deployments/{deploymentId}/status",
      (i) => `/${i.awFn}/deployments/${i.dep}/status`,
      "developer",
      ["project", "awFn", "dep"],
    ),
    aw("DELETE", "/{functionId}/deployments/{deploymentId}", (i) => `/${i.awFn}/deployments/${i.dep}`, "developer", [
      "project",
      "awFn",
      "dep",
    ]),
    aw(
      "POST",
      "/{functionId}/deployments/duplicate",
      (i) => `/${i.awFn}/deployments/duplicate`,
      "developer",
      ["project", "awFn", "dep"],
      (i) => ({ deploymentId: i.dep }),
    ),
    aw(
      "POST",
      "/{functionId}/deployments/{deploymentId}/build",
      (i) => `/${i.awFn}/deployments/${i.dep}/build`,
      "developer",
      ["project", "awFn", "dep"],
    ),
    aw(
      "POST",
      "/{functionId}/deployments/template",
      (i) => `/${i.awFn}/deployments/template`,
      "developer",
      ["project", "awFn"],
      () => ({ repository: "templates", owner: "edgefn", rootDirectory: "node/starter" }),
    ),
    // No version control here: a 405 once the key may deploy, and the function exists.
    aw(
      "POST",
      "/{functionId}/deployments/vcs",
      (i) => `/${i.awFn}/deployments/vcs`,
      "developer",
      ["project", "awFn"],
      () => ({ type: "branch", reference: "main" }),
    ),
    aw(
      "POST",
      "/{functionId}/executions",
      (i) => `/${i.awFn}/executions`,
      "invoker",
      ["project", "awFn"],
      () => ({
        body: "{}",
      }),
    ),
    aw("GET", "/{functionId}/executions", (i) => `/${i.awFn}/executions`, "viewer", ["project", "awFn"]),
    aw("GET", "/{functionId}/executions/{executionId}", (i) => `/${i.awFn}/executions/${i.exec}`, "viewer", [
      "project",
      "awFn",
      "exec",
    ]),
    aw("DELETE", "/{functionId}/executions/{executionId}", (i) => `/${i.awFn}/executions/${i.exec}`, "developer", [
      "project",
      "awFn",
      "exec",
    ]),
    aw("GET", "/{functionId}/variables", (i) => `/${i.awFn}/variables`, "viewer", ["project", "awFn"]),
    aw(
      "POST",
      "/{functionId}/variables",
      (i) => `/${i.awFn}/variables`,
      "developer",
      ["project", "awFn"],
      () => ({
        key: "NEW_VAR",
        value: "x",
      }),
    ),
    aw("GET", "/{functionId}/variables/{variableId}", (i) => `/${i.awFn}/variables/${i.variable}`, "viewer", [
      "project",
      "awFn",
      "variable",
    ]),
    aw(
      "PUT",
      "/{functionId}/variables/{variableId}",
      (i) => `/${i.awFn}/variables/${i.variable}`,
      "developer",
      ["project", "awFn", "variable"],
      () => ({ value: "changed" }),
    ),
    aw("DELETE", "/{functionId}/variables/{variableId}", (i) => `/${i.awFn}/variables/${i.variable}`, "developer", [
      "project",
      "awFn",
      "variable",
    ]),
    // The surface's middleware and its catch-all: an unknown route under a function.
    { ...v1("ALL", "/*", (i) => `/functions/${i.awFn}/no/such/route`, "viewer", ["project", "awFn"]), send: "GET" },
    v1("GET", "/console/variables", () => "/console/variables", "viewer", []),
    v1("GET", "/projects/{projectId}", (i) => `/projects/${i.project}`, "viewer", ["project"]),
    v1("GET", "/proxy/rules", () => "/proxy/rules", "viewer", ["project"]),
    v1("GET", "/proxy/rules/{ruleId}", (i) => `/proxy/rules/rule-${i.fnId}`, "viewer", ["project", "fnId"]),
    v1(
      "POST",
      "/proxy/rules/function",
      () => "/proxy/rules/function",
      "viewer",
      ["project", "awFn"],
      (i) => ({ domain: "x.example.com", functionId: i.awFn }),
    ),

    // --- Cognite ----------------------------------------------------------------------------------------------
    cog("GET", "/functions/limits", () => "/functions/limits", "viewer", []),
    cog("GET", "/functions/status", () => "/functions/status", "viewer", []),
    cog("POST", "/functions/status", () => "/functions/status", "viewer", []),
    cog(
      "POST",
      "/functions/schedules",
      () => "/functions/schedules",
      "developer",
      ["cogFn"],
      (i) => ({
        items: [{ name: "nightly", cronExpression: "0 3 * * *", functionId: i.cogFn }],
      }),
    ),
    cog("GET", "/functions/schedules", () => "/functions/schedules", "viewer", []),
    cog(
      "POST",
      "/functions/schedules/list",
      () => "/functions/schedules/list",
      "viewer",
      [],
      () => ({}),
    ),
    cog(
      "POST",
      "/functions/schedules/byids",
      () => "/functions/schedules/byids",
      "viewer",
      ["cogSchedule"],
      (i) => ({
        items: [{ id: i.cogSchedule }],
      }),
    ),
    cog(
      "POST",
      "/functions/schedules/delete",
      () => "/functions/schedules/delete",
      "developer",
      ["cogSchedule"],
      (i) => ({ items: [{ id: i.cogSchedule }] }),
    ),
    cog(
      "GET",
      "/functions/schedules/{scheduleId}/input_data",
      (i) => `/functions/schedules/${i.cogSchedule}/input_data`,
      "viewer",
      ["cogSchedule"],
    ),
    cog("GET", "/functions/schedules/{scheduleId}", (i) => `/functions/schedules/${i.cogSchedule}`, "viewer", [
      "cogSchedule",
    ]),
    cog(
      "POST",
      "/functions",
      () => "/functions",
      "developer",
      [],
      () => ({
        items: [{ name: unique("cog"), code: "export function handle() { return 1; }" }],
      }),
    ),
    cog("GET", "/functions", () => "/functions", "viewer", []),
    cog(
      "POST",
      "/functions/list",
      () => "/functions/list",
      "viewer",
      [],
      () => ({}),
    ),
    cog(
      "POST",
      "/functions/byids",
      () => "/functions/byids",
      "viewer",
      ["cogFn"],
      (i) => ({
        items: [{ id: i.cogFn }],
      }),
    ),
    cog(
      "POST",
      "/functions/delete",
      () => "/functions/delete",
      "developer",
      ["cogFn"],
      (i) => ({
        items: [{ id: i.cogFn }],
      }),
    ),
    cog("GET", "/functions/{functionId}", (i) => `/functions/${i.cogFn}`, "viewer", ["cogFn"]),
    cog(
      "POST",
      "/functions/{functionId}/call",
      (i) => `/functions/${i.cogFn}/call`,
      "invoker",
      ["cogFn"],
      () => ({
        data: {},
      }),
    ),
    cog("GET", "/functions/{functionId}/calls", (i) => `/functions/${i.cogFn}/calls`, "viewer", ["cogFn"]),
    cog(
      "POST",
      "/functions/{functionId}/calls/list",
      (i) => `/functions/${i.cogFn}/calls/list`,
      "viewer",
      ["cogFn"],
      () => ({}),
    ),
    cog(
      "POST",
      "/functions/{functionId}/calls/byids",
      (i) => `/functions/${i.cogFn}/calls/byids`,
      "viewer",
      ["cogFn", "cogCall"],
      (i) => ({ items: [{ id: i.cogCall }] }),
    ),
    cog(
      "GET",
      "/functions/{functionId}/calls/{callId}/response",
      (i) => `/functions/${i.cogFn}/calls/${i.cogCall}/response`,
      "viewer",
      ["cogFn", "cogCall"],
    ),
    cog(
      "GET",
      "/functions/{functionId}/calls/{callId}/logs",
      (i) => `/functions/${i.cogFn}/calls/${i.cogCall}/logs`,
      "viewer",
      ["cogFn", "cogCall"],
    ),
    cog("GET", "/functions/{functionId}/calls/{callId}", (i) => `/functions/${i.cogFn}/calls/${i.cogCall}`, "viewer", [
      "cogFn",
      "cogCall",
    ]),
    cog(
      "POST",
      "/sessions",
      () => "/sessions",
      "viewer",
      [],
      () => ({ items: [{ tokenExchange: true }] }),
    ),
    cog(
      "POST",
      "/files",
      () => "/files",
      "developer",
      [],
      () => ({ name: unique("code") }),
    ),
    cog("GET", "/files", () => "/files", "viewer", []),
    cog(
      "POST",
      "/files/list",
      () => "/files/list",
      "viewer",
      [],
      () => ({}),
    ),
    cog(
      "POST",
      "/files/byids",
      () => "/files/byids",
      "viewer",
      ["cogFile"],
      (i) => ({ items: [{ id: i.cogFile }] }),
    ),
    cog(
      "POST",
      "/files/delete",
      () => "/files/delete",
      "developer",
      ["cogFile"],
      (i) => ({ items: [{ id: i.cogFile }] }),
    ),
    cog("GET", "/files/{fileId}", (i) => `/files/${i.cogFile}`, "viewer", ["cogFile"]),
    // The project middleware, before the surface's catch-all: an unknown route under a project.
    { ...cog("ALL", "/*", () => "/no/such/route", "viewer", []), send: "GET" },

    // --- Gcore ------------------------------------------------------------------------------------------------
    gc("GET", "", () => "", "viewer", []),
    gc("POST", "", () => "", "admin", [], { global: true, body: () => ({ name: unique("ns") }) }),
    gc("GET", "/{namespace}", (i) => `/${i.project}`, "viewer", ["project"]),
    gc("DELETE", "/{namespace}", (i) => `/${i.project}`, "admin", ["project"], { global: true }),
    gc("GET", "/{namespace}/functions", (i) => `/${i.project}/functions`, "viewer", ["project"]),
    gc("POST", "/{namespace}/functions", (i) => `/${i.project}/functions`, "developer", ["project"], {
      body: () => ({ name: unique("gc"), code_text: GCORE_CODE, main_method: "run", runtime: "node18.20.2" }),
    }),
    gc("GET", "/{namespace}/functions/{function}", (i) => `/${i.project}/functions/${i.fnName}`, "viewer", [
      "project",
      "fnName",
    ]),
    gc(
      "PATCH",
      "/{namespace}/functions/{function}",
      (i) => `/${i.project}/functions/${i.fnName}`,
      "developer",
      ["project", "fnName"],
      { body: () => ({ description: "changed" }) },
    ),
    gc("DELETE", "/{namespace}/functions/{function}", (i) => `/${i.project}/functions/${i.fnName}`, "developer", [
      "project",
      "fnName",
    ]),

    // --- Supabase: a protected fetch function and a handle(data) one --------------------------------------------
    ...["GET", "POST"].map(
      (method): RouteCase => ({
        surface: "native",
        method: "ALL",
        send: method,
        path: "/functions/v1/{name}",
        url: (i) => `/functions/v1/${i.fnName}`,
        headers: (i) => ({ "x-edgefn-workspace": i.project }),
        body: method === "POST" ? () => ({ a: 1 }) : undefined,
        role: "invoker",
        names: ["project", "fnName"],
      }),
    ),
    {
      surface: "native",
      method: "ALL",
      send: "POST",
      path: "/functions/v1/{name}/*",
      url: (i) => `/functions/v1/${i.fnName}/a/b?x=1`,
      headers: (i) => ({ "x-edgefn-workspace": i.project }),
      body: () => "text",
      role: "invoker",
      names: ["project", "fnName"],
    },
    {
      surface: "native",
      method: "ALL",
      send: "POST",
      path: "/functions/v1/{name}",
      url: () => `/functions/v1/${f().a.handleName}`,
      headers: () => ({ "x-edgefn-workspace": f().a.ws.name }),
      body: () => ({ a: 1 }),
      role: "invoker",
      names: [],
      label: "a handle(data) function",
    },

    // --- /run: a protected function by names and by ids; a public function's non-active version pinned ----------
    ...["GET", "POST", "DELETE"].map(
      (method): RouteCase => ({
        surface: "native",
        method,
        path: "/run/{workspace}/{function}/{path}",
        url: (i) => `/run/${i.project}/${i.fnName}/x`,
        role: "invoker",
        names: ["project", "fnName"],
      }),
    ),
    {
      surface: "native",
      method: "PUT",
      path: "/run/{workspace}/{function}/{path}",
      url: (i) => `/run/${i.wsId}/${i.fnId}/x?y=1`,
      body: () => ({ a: 1 }),
      role: "invoker",
      names: ["wsId", "fnId"],
    },
    {
      surface: "native",
      method: "GET",
      path: "/run/{workspace}/{function}/{path}",
      url: (i) => `/run/${f().a.ws.name}/${f().a.publicName}/x?version=${i.oldVersion}`,
      role: "invoker",
      names: ["oldVersion"],
      anonymous: 404,
      label: "public, ?version= of another version",
    },
    {
      surface: "native",
      method: "POST",
      path: "/run/{workspace}/{function}/{path}",
      url: () => `/run/${f().a.ws.id}/${f().a.publicId}/x`,
      headers: (i) => ({ "edgefn-version": i.oldVersion }),
      role: "invoker",
      names: ["oldVersion"],
      anonymous: 404,
      label: "public, edgefn-version of another version",
    },
  ];
}

/**
 * The compatibility routes that take no key: catch-alls that only ever answer 404, the Cognite upload URL (its token
 * is the credential: test/compat/cognite-files.test.ts), and what Appwrite serves to anyone (its version, the
 * function templates), and Appwrite's sign-in, account and sign-out (the session cookie is the credential:
 * test/compat/appwrite-account.test.ts). An anonymous Appwrite execution is in the table above: a function's
 * `execute` roles decide (tested in test/compat/appwrite-access.test.ts).
 */
const PUBLIC = [
  "ALL /api/v1/*",
  "ALL /cloud/v1/faas/*",
  "PUT /api/v1/files/upload/{token}",
  "GET /v1/health/version",
  "GET /v1/functions/templates",
  "GET /v1/functions/templates/{templateId}",
  "POST /v1/account/sessions/email",
  "POST /v1/account/sessions",
  "GET /v1/account",
  "DELETE /v1/account/sessions/{sessionId}",
];
const ROLES: Role[] = ["viewer", "invoker", "developer", "admin"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One workspace's objects, named through every surface. */
async function side(t: Tenant, variable: string) {
  const awFn = unique("aw");
  const fn = await newFunction(t.ws.id, { externalId: awFn, envVars: { [variable]: "a" } });
  const version = await deploy(fn.id, { "index.js": HANDLER });
  const handle = await newFunction(t.ws.id);
  await deploy(handle.id, { "index.js": "export function handle(data) { return { got: data }; }" });
  const awHeaders = { "x-appwrite-project": t.ws.id, "x-appwrite-key": t.keys.developer };
  const exec = expectStatus(
    await send(`/v1/functions/${awFn}/executions`, {
      method: "POST",
      headers: { ...awHeaders, "content-type": "application/json" },
      body: JSON.stringify({ body: "{}" }),
    }),
    201,
  ).$id as string;
  const cogBase = `/api/v1/projects/${t.ws.name}/functions`;
  const cogFn = expectStatus(
    await api("POST", `${cogBase}/byids`, { key: t.keys.developer, body: { items: [{ externalId: awFn }] } }),
    200,
  ).items[0].id as number;
  const cogCall = expectStatus(
    await api("POST", `${cogBase}/${cogFn}/call`, { key: t.keys.developer, body: { data: {} } }),
    201,
  ).id as number;
  const cogSchedule = expectStatus(
    await api("POST", `${cogBase}/schedules`, {
      key: t.keys.developer,
      body: { items: [{ name: "daily", cronExpression: "0 4 * * *", functionId: cogFn }] },
    }),
    201,
  ).items[0].id as number;
  const file = expectStatus(
    await api("POST", `/api/v1/projects/${t.ws.name}/files`, { key: t.keys.developer, body: { name: "code.zip" } }),
    201,
  );
  expect((await send(file.uploadUrl, { method: "PUT", body: "zip" })).status).toBe(200);
  const cogFile = file.id as number;

  // A public function with two versions: the second is active.
  const pub = await newFunction(t.ws.id, { public: true });
  const v1 = await deploy(pub.id, { "index.js": "export default { fetch() { return new Response('v1'); } };" });
  await deploy(pub.id, { "index.js": "export default { fetch() { return new Response('v2'); } };" });

  const ids: Ids = {
    project: t.ws.name,
    wsId: t.ws.id,
    fnId: fn.id,
    fnName: fn.name,
    awFn,
    dep: version.id,
    exec,
    variable,
    cogFn,
    cogCall,
    cogSchedule,
    cogFile,
    oldVersion: v1.id,
  };
  return { ...t, ids, handleName: handle.name as string, publicId: pub.id as string, publicName: pub.name as string };
}

async function setup() {
  const [ta, tb] = await Promise.all([tenant(), tenant()]);
  const [a, b] = await Promise.all([side(ta, "A_VAR"), side(tb, "B_VAR")]);

  // Made-up objects of the same shapes.
  const fake: Ids = {
    project: unique("ws"),
    wsId: newId("ws"),
    fnId: newId("fun"),
    fnName: unique("fn"),
    awFn: unique("aw"),
    dep: newId("ver"),
    exec: newId("call"),
    variable: "NO_VAR",
    cogFn: 4_000_000_000 + Math.floor(Math.random() * 1e6),
    cogCall: 4_100_000_000 + Math.floor(Math.random() * 1e6),
    cogSchedule: 4_200_000_000 + Math.floor(Math.random() * 1e6),
    cogFile: 4_300_000_000 + Math.floor(Math.random() * 1e6),
    oldVersion: newId("ver"),
  };

  // A key of workspace A scoped to another function of A: A's function objects do not exist for it.
  const elsewhere = await newFunction(a.ws.id);
  const scopedKey = (await newKey("invoker", a.ws.id, { functionIds: [elsewhere.id] })).key;

  const revoked = await newKey("admin", a.ws.id);
  expectStatus(await api("DELETE", `/api/keys/${revoked.id}`), 200);
  // An expired key can only be made by aging one: the API refuses an expiry in the past.
  const expired = await newKey("admin", a.ws.id, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
  await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
    .bind(Date.now() - 1000, expired.id)
    .run();

  // Calls are recorded just after their answers: wait for every one, so that no later write is taken for a change.
  for (let i = 0; i < 200; i++) {
    const open = await env.DB.prepare("SELECT count(*) AS n FROM calls WHERE status IN ('queued', 'running')").first<{
      n: number;
    }>();
    if (open?.n === 0) break;
    await sleep(25);
  }
  await sleep(200);
  return { a, b, fake, elsewhere: elsewhere.id as string, scopedKey, revokedKey: revoked.key, expiredKey: expired.key };
}

/** What workspace A's objects look like, to prove a rejected request changed nothing. */
async function stateOfA(f: Fixture) {
  const all = async (sql: string) => (await env.DB.prepare(sql).bind(f.a.ws.id).all()).results;
  return {
    ws: await all("SELECT name, description, updated_at FROM workspaces WHERE id = ?"),
    functions: await all(
      "SELECT id, name, description, env_vars, deleted_at, default_version_id, updated_at FROM functions WHERE workspace_id = ? ORDER BY id",
    ),
    versions: await all(
      "SELECT v.id, v.status FROM versions v JOIN functions f ON f.id = v.function_id WHERE f.workspace_id = ? ORDER BY v.id",
    ),
    schedules: await all(
      "SELECT id, name, cron, enabled, updated_at FROM schedules WHERE workspace_id = ? ORDER BY id",
    ),
    calls: await all("SELECT id, status FROM calls WHERE workspace_id = ? ORDER BY id"),
    keys: await all("SELECT id FROM api_keys WHERE workspace_id = ? ORDER BY id"),
    namespaces: (await env.DB.prepare("SELECT count(*) AS n FROM workspaces").first())?.n,
  };
}

/** A key as the surface takes it; `{raw}` is a header value sent as is. */
type Auth = string | null | { raw: string };

function request(route: RouteCase, ids: Ids, auth: Auth): Promise<ApiResponse> {
  const headers = new Headers(route.headers?.(ids));
  if (route.surface === "appwrite") headers.set("x-appwrite-project", ids.project);
  if (auth !== null) {
    const value = typeof auth === "string" ? auth : auth.raw;
    if (route.surface === "appwrite") headers.set("x-appwrite-key", value);
    else if (typeof auth !== "string") headers.set("authorization", value);
    else headers.set("authorization", route.surface === "gcore" ? `apikey ${value}` : `Bearer ${value}`);
  }
  const body = route.body?.(ids);
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (typeof body === "string") {
    payload = body;
    headers.set("content-type", "text/plain");
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers.set("content-type", "application/json");
  }
  return send(route.url(ids), { method: route.send ?? route.method, headers, body: payload });
}

/**
 * An answer with the ids and names of both requests put in their places (and no request id), so that the answer
 * for a real object and for a made-up one compare equal when they tell nothing apart.
 */
function normalized(body: unknown, real: Ids, fake: Ids, named: IdKey[] = []): unknown {
  // The objects the request names first: integer ids of different kinds (a Cognite file's, a function's) may be equal.
  const keys = [...named, ...(Object.keys(real) as IdKey[]).filter((k) => !named.includes(k))];
  const pairs = keys.flatMap((k) => [
    [real[k], k],
    [fake[k], k],
  ]) as [string | number, IdKey][];
  const strings = pairs
    .filter(([v]) => typeof v === "string")
    .sort(([x], [y]) => String(y).length - String(x).length) as [string, IdKey][];
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === "string") return strings.reduce((s, [value, k]) => s.split(value).join(`<${k}>`), v);
    if (typeof v === "number" && key !== "code") return pairs.find(([value]) => value === v)?.[1] ?? v;
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v)
          .filter(([k]) => k !== "requestId")
          .map(([k, x]) => [k, walk(x, k)]),
      );
    }
    return v;
  };
  return walk(body);
}

/** The ways a key of another workspace names A's objects, each with made-up objects in the same places. */
function foreignVariants(route: RouteCase, f: Fixture): { name: string; real: Ids; fake: Ids }[] {
  const a = f.a.ids;
  const b = f.b.ids;
  const fakeAll = { ...a };
  for (const k of route.names) Object.assign(fakeAll, { [k]: f.fake[k] });
  const variants = [{ name: "A's objects", real: a, fake: fakeAll }];
  const named = (keys: IdKey[]) => route.names.some((k) => keys.includes(k));
  if (named(WORKSPACE_KEYS) && named([...OUTER_KEYS, ...INNER_KEYS])) {
    const own = { project: b.project, wsId: b.wsId };
    variants.push({ name: "A's objects in B's workspace", real: { ...a, ...own }, fake: { ...fakeAll, ...own } });
  }
  if (named(WORKSPACE_KEYS) && named(OUTER_KEYS) && named(INNER_KEYS)) {
    const own = { project: b.project, wsId: b.wsId, fnId: b.fnId, fnName: b.fnName, awFn: b.awFn, cogFn: b.cogFn };
    variants.push({ name: "A's objects under B's function", real: { ...a, ...own }, fake: { ...fakeAll, ...own } });
  }
  return variants;
}

describe("compatibility surfaces and /run: authentication, roles and workspace walls", () => {
  let f: Fixture;
  const ROUTES = routes(() => f);
  beforeAll(async () => {
    f = await setup();
  }, 120_000);

  for (const route of ROUTES) {
    const method = route.method === "ALL" ? `${route.send} (ALL)` : route.method;
    const name = `${method} ${route.path}${route.label ? ` (${route.label})` : ""}`;

    it(`${name}: 401 without a key, with a malformed, an unknown, a revoked and an expired key`, async () => {
      const before = await stateOfA(f);
      const ids = f.a.ids;
      if (route.anonymous) expectSurfaceError(route.surface, await request(route, ids, null), route.anonymous);
      else expectSurfaceError(route.surface, await request(route, ids, null), 401);
      expectSurfaceError(route.surface, await request(route, ids, { raw: "Basic Zm9vOmJhcg==" }), 401);
      expectSurfaceError(route.surface, await request(route, ids, "efn_not-a-real-key-at-all"), 401);
      expectSurfaceError(route.surface, await request(route, ids, f.revokedKey), 401);
      const expired = expectSurfaceError(route.surface, await request(route, ids, f.expiredKey), 401);
      expect(expired).toMatch(/expired/i);
      expect(await stateOfA(f)).toEqual(before);
    });

    const below = ROLES.slice(0, ROLES.indexOf(route.role));
    if (below.length > 0) {
      it(`${name}: 403 for ${below.join(", ")} keys of the workspace`, async () => {
        const before = await stateOfA(f);
        for (const role of below) expectSurfaceError(route.surface, await request(route, f.a.ids, f.a.keys[role]), 403);
        expect(await stateOfA(f)).toEqual(before);
      });
    }

    if (route.global) {
      it(`${name}: 403 for an admin key scoped to one workspace`, async () => {
        const before = await stateOfA(f);
        expectSurfaceError(route.surface, await request(route, f.a.ids, f.a.keys.admin), 403);
        expect(await stateOfA(f)).toEqual(before);
      });
    }

    if (route.names.length > 0) {
      it(`${name}: every key of another workspace gets what made-up ids get`, async () => {
        const before = await stateOfA(f);
        for (const variant of foreignVariants(route, f)) {
          for (const role of ROLES) {
            const real = await request(route, variant.real, f.b.keys[role]);
            const fake = await request(route, variant.fake, f.b.keys[role]);
            const what = `${variant.name}, ${role} key of B: ${JSON.stringify(real.body)}`;
            expect(real.status, what).toBe(fake.status);
            expect(normalized(real.body, variant.real, variant.fake, route.names), what).toEqual(
              normalized(fake.body, variant.real, variant.fake, route.names),
            );
            // Never a 403 that only the real object earns; Cognite answers an unknown project 403 and unknown ids in
            // a batch 400 (`missing`), for made-up ones alike.
            expect([400, 403, 404], what).toContain(real.status);
            if (real.status === 403 && route.surface !== "cognite") {
              expect(ROLES.indexOf(role), what).toBeLessThan(ROLES.indexOf(route.role));
            }
            expectSurfaceError(route.surface, real, real.status);
          }
        }
        expect(await stateOfA(f)).toEqual(before);
      });
    }

    if (route.names.some((k) => [...OUTER_KEYS, ...INNER_KEYS, "oldVersion"].includes(k))) {
      it(`${name}: a key scoped to another function gets what made-up ids get`, async () => {
        const before = await stateOfA(f);
        const fake = { ...f.a.ids };
        for (const k of route.names) if (!WORKSPACE_KEYS.includes(k)) Object.assign(fake, { [k]: f.fake[k] });
        const real = await request(route, f.a.ids, f.scopedKey);
        const made = await request(route, fake, f.scopedKey);
        const what = JSON.stringify(real.body);
        expect(real.status, what).toBe(made.status);
        expect(normalized(real.body, f.a.ids, fake, route.names), what).toEqual(
          normalized(made.body, f.a.ids, fake, route.names),
        );
        if (real.status === 403) expect(ROLES.indexOf("invoker")).toBeLessThan(ROLES.indexOf(route.role));
        else if (real.status === 400) expect(route.surface).toBe("cognite");
        else expectSurfaceError(route.surface, real, 404);
        expect(await stateOfA(f)).toEqual(before);
      });
    }
  }

  it("lists through every surface leave out the functions a scoped key cannot see", async () => {
    const key = f.scopedKey;
    const appwrite = expectStatus(
      await send("/v1/functions", { headers: { "x-appwrite-project": f.a.ws.id, "x-appwrite-key": key } }),
      200,
    );
    expect(appwrite.functions.map((x: any) => x.$id)).toEqual([f.elsewhere]);
    const cognite = expectStatus(await api("GET", `/api/v1/projects/${f.a.ws.name}/functions`, { key }), 200);
    expect(cognite.items.map((x: any) => x.name)).not.toContain(f.a.ids.fnName);
    expect(cognite.items).toHaveLength(1);
    const schedules = expectStatus(
      await api("GET", `/api/v1/projects/${f.a.ws.name}/functions/schedules`, { key }),
      200,
    );
    expect(schedules.items).toEqual([]);
    const gcore = expectStatus(
      await send(`/cloud/v1/faas/namespaces/1/76/${f.a.ws.name}/functions`, {
        headers: { authorization: `apikey ${key}` },
      }),
      200,
    );
    expect(gcore.results.map((x: any) => x.id)).toEqual([f.elsewhere]);
  });

  it("lists through every surface show nothing of another workspace", async () => {
    const key = f.b.keys.admin;
    const gcore = expectStatus(
      await send("/cloud/v1/faas/namespaces/1/76", { headers: { authorization: `apikey ${key}` } }),
      200,
    );
    expect(gcore.results.map((x: any) => x.name)).toEqual([f.b.ws.name]);
    const appwrite = expectStatus(
      await send("/v1/functions?search=", { headers: { "x-appwrite-project": f.b.ws.id, "x-appwrite-key": key } }),
      200,
    );
    expect(JSON.stringify(appwrite)).not.toContain(f.a.ids.fnId);
    const cognite = expectStatus(
      await api("POST", `/api/v1/projects/${f.b.ws.name}/functions/list`, { key, body: {} }),
      200,
    );
    expect(JSON.stringify(cognite)).not.toContain(f.a.ids.fnName);
  });

  it("the public catch-alls answer 404 in their surface's shape, with or without a key", async () => {
    for (const auth of [null, f.b.keys.admin]) {
      const headers: Record<string, string> = auth ? { authorization: `Bearer ${auth}` } : {};
      expectSurfaceError("cognite", await send("/api/v1/nothing/here", { headers }), 404);
      expectSurfaceError("gcore", await send("/cloud/v1/faas/nothing/here", { headers }), 404);
    }
  });

  describe("/run of a public function", () => {
    const run = (path: string, init: RequestInit & { key?: string } = {}) => {
      const headers = new Headers(init.headers);
      if (init.key) headers.set("authorization", `Bearer ${init.key}`);
      return send(path, { ...init, headers });
    };
    const base = () => `/run/${f.a.ws.name}/${f.a.publicName}/x`;

    it("answers anonymous calls with the active version", async () => {
      const res = await run(base());
      expect(res.status).toBe(200);
      expect(res.body).toBe("v2");
      expect((await run(`/run/${f.a.ws.id}/${f.a.publicId}/`, { method: "POST", body: "x" })).body).toBe("v2");
    });

    it("answers an anonymous pin of the active version, by ?version= and by the edgefn-version header", async () => {
      const active = expectStatus(await api("GET", `/api/functions/${f.a.publicId}`), 200).defaultVersionId as string;
      expect((await run(`${base()}?version=${active}`)).body).toBe("v2");
      expect((await run(base(), { headers: { "edgefn-version": active } })).body).toBe("v2");
    });

    it("answers an anonymous pin of another version 404, as a made-up version", async () => {
      for (const version of [f.a.ids.oldVersion, f.fake.oldVersion, f.b.ids.oldVersion, f.b.ids.dep]) {
        const byQuery = await run(`${base()}?version=${version}`);
        const msg = expectSurfaceError("native", byQuery, 404);
        expect(msg).toBe(`version ${version} not found`);
        const byHeader = await run(base(), { headers: { "edgefn-version": version } });
        expect(expectSurfaceError("native", byHeader, 404)).toBe(msg);
      }
    });

    it("lets an invoker key of its workspace (and a key of every workspace) pin any of its versions", async () => {
      for (const key of [f.a.keys.invoker, f.a.keys.developer, f.a.keys.admin, ADMIN_KEY]) {
        expect((await run(`${base()}?version=${f.a.ids.oldVersion}`, { key })).body).toBe("v1");
        expect((await run(base(), { key, headers: { "edgefn-version": f.a.ids.oldVersion } })).body).toBe("v1");
      }
      // Not a version of another function, even of the same workspace.
      expectSurfaceError("native", await run(`${base()}?version=${f.a.ids.dep}`, { key: f.a.keys.invoker }), 404);
    });
  });

  it("covers every compatibility route the app serves", () => {
    const COMPAT = /^\/(v1|api\/v1|cloud\/v1|functions\/v1)(\/|$)/;
    const served = new Set<string>();
    for (const r of newApp().routes) {
      if (COMPAT.test(r.path)) served.add(`${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    }
    const covered = new Set([
      ...ROUTES.filter((r) => !r.path.startsWith("/run/")).map((r) => `${r.method} ${r.path}`),
      ...PUBLIC,
    ]);
    expect([...served].sort()).toEqual([...covered].sort());
  });
});
