/**
 * Generated bad input against every route of the platform's own OpenAPI document (so a new route is fuzzed
 * as soon as it is documented): bad path ids, query parameters, bodies and headers, with fast-check and a
 * fixed seed. Every answer must be below 500, every error must be exactly the one shape, no answer may
 * carry the admin key or a function's secret, and a rejected request must change nothing (D1 rows and R2
 * objects are compared before and after).
 *
 * Each generated request is invalid on purpose: it draws one "primary" axis (auth, a path id, a body, a
 * header, the method...) from the route's axes and makes that one certainly wrong, and fills the others
 * with valid values or more garbage. So a state-changing route is never sent a request it should accept.
 *
 * EDGEFN_FUZZ_SEED and EDGEFN_FUZZ_RUNS (cases per route), set in the shell, reach the test as bindings
 * (vitest.reliability.config.ts); EDGEFN_FUZZ_VERBOSE=1 logs every request and answer.
 */
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { gzipSync, strToU8, zipSync } from "fflate";
import { createTar } from "nanotar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newApp } from "../../src/http/app";
import { ERROR_STATUS } from "../../src/lib/errors";
import { ADMIN_KEY, api, expectStatus, newFunction, newKey, newWorkspace } from "../support/api";
import { deploy, invoke } from "../support/deploy";

const SEED = Number(env.EDGEFN_FUZZ_SEED || 20261201);
const RUNS = Number(env.EDGEFN_FUZZ_RUNS || 200);
/** Logs every request and answer, and each route's statuses. */
const VERBOSE = env.EDGEFN_FUZZ_VERBOSE === "1";

const ORIGIN = "http://edgefn.test";
const SECRET = `fuzz-secret-${crypto.randomUUID()}`;
const HANDLE = "export async function handle(data){ return data }";
/** The fixture function's input schema: args that do not match are a 400 before anything runs. */
const INPUT_SCHEMA = {
  type: "object",
  properties: { n: { type: "integer" } },
  required: ["n"],
  additionalProperties: false,
};

/**
 * Routes the app serves (its Hono route table) that are not fuzzed, each with the reason. Every other served
 * route that the document does not describe is fuzzed too, as an "extra" route with free path parameters.
 */
const SKIPPED: Record<string, string> = {
  "GET /docs": "an HTML page (the API reference, rendered by Scalar) that takes no input",
  "ALL /run/{workspace}/{fn}":
    "the handler of the documented /run/{workspace}/{function}/{path}, whose cases include an empty path",
  "ALL /run/{workspace}/{fn}/*": "documented as /run/{workspace}/{function}/{path} (GET, POST, PUT, PATCH, DELETE)",
};
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

// ---------------------------------------------------------------------------------------------------------
// The routes, from the OpenAPI document
// ---------------------------------------------------------------------------------------------------------

/** What a path parameter names; "path": free text of any segments, "free": one segment of free text. */
type Kind = "ws" | "key" | "fun" | "ver" | "call" | "sch" | "scm" | "path" | "free";
type ObjectKind = Exclude<Kind, "path" | "free">;
type JsonSchema = Record<string, any>;

interface RouteSpec {
  id: string;
  method: string;
  template: string;
  params: { name: string; kind: Kind }[];
  query: { name: string; schema: JsonSchema }[];
  headers: string[];
  body: { required: boolean; schema: JsonSchema; name: string | null; mediaTypes: string[] } | null;
  /** Other methods the document has for the same path (a wrong method must not reach them). */
  siblings: string[];
  mutating: boolean;
  run: boolean;
  /** Why the route cannot be fuzzed as documented (its test fails with this, so coverage cannot shrink). */
  problem?: string;
}

const doc: any = await (await exports.default.fetch(`${ORIGIN}/api/openapi.json`)).json();

const SEGMENT_KINDS: Record<string, Kind> = {
  keys: "key",
  workspaces: "ws",
  functions: "fun",
  versions: "ver",
  calls: "call",
  schedules: "sch",
  schemas: "scm",
  users: "free",
  sessions: "free",
};
const PARAM_KINDS: Record<string, Kind> = {
  vid: "ver",
  workspace: "ws",
  function: "fun",
  path: "path",
  // Accounts' ids: users, members, invites, invite tokens and one's own sessions are strings of their own.
  userId: "free",
  inviteId: "free",
  token: "free",
};

/** What kind of object a path parameter names (by its name, else by the segment before it); null: unknown. */
function paramKind(template: string, name: string): Kind | null {
  const direct = PARAM_KINDS[name];
  if (direct) return direct;
  const segments = template.split("/");
  const before = segments[segments.indexOf(`{${name}}`) - 1] ?? "";
  return SEGMENT_KINDS[before] ?? null;
}

function resolveRef(schema: JsonSchema | undefined): JsonSchema | undefined {
  if (!schema?.$ref) return schema;
  return doc.components.schemas[String(schema.$ref).split("/").pop() as string];
}

function routeSpecs(): RouteSpec[] {
  const specs: RouteSpec[] = [];
  for (const [template, item] of Object.entries<any>(doc.paths)) {
    const methods = Object.keys(item).map((m) => m.toUpperCase());
    for (const [m, op] of Object.entries<any>(item)) {
      const method = m.toUpperCase();
      const parameters: any[] = op.parameters ?? [];
      const json = op.requestBody?.content?.["application/json"];
      const unknown = parameters.filter((p) => p.in === "path" && paramKind(template, p.name) === null);
      specs.push({
        id: `${method} ${template}`,
        method,
        template,
        params: parameters
          .filter((p) => p.in === "path")
          .map((p) => ({ name: p.name, kind: paramKind(template, p.name) ?? "free" })),
        query: parameters.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        headers: parameters.filter((p) => p.in === "header").map((p) => String(p.name).toLowerCase()),
        body: op.requestBody
          ? {
              required: op.requestBody.required === true,
              schema: resolveRef(json?.schema) ?? {},
              name: json?.schema?.$ref ? (String(json.schema.$ref).split("/").pop() as string) : null,
              mediaTypes: Object.keys(op.requestBody.content ?? {}),
            }
          : null,
        siblings: methods.filter((x) => x !== method),
        mutating: method !== "GET",
        run: template.startsWith("/run/"),
        ...(unknown.length > 0
          ? {
              problem: `No generator knows what {${unknown[0].name}} names: teach paramKind (SEGMENT_KINDS, PARAM_KINDS)`,
            }
          : {}),
      });
    }
  }
  // Served but not described: the document itself, middleware paths (any URL), anything added off the record.
  const documented = new Set(specs.map((r) => r.id));
  for (const key of servedRoutes()) {
    if (documented.has(key) || key in SKIPPED) continue;
    const [method, path] = key.split(" ") as [string, string];
    const template = path.replace(/\*$/, "{path}");
    specs.push({
      id: key,
      method,
      template,
      params: [...template.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1] as string,
        kind: m[1] === "path" ? "path" : "free",
      })),
      query: [],
      headers: [],
      body: null,
      siblings: [],
      mutating: method !== "GET",
      run: false,
    });
  }
  return specs;
}

/** The app's own route table as "METHOD /path/{param}" (a trailing * stays). */
function servedRoutes(): Set<string> {
  const served = new Set<string>();
  for (const r of newApp().routes) served.add(`${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  return served;
}

const ROUTES = routeSpecs();

// ---------------------------------------------------------------------------------------------------------
// The fixture: two workspaces, each with a function (a secret, an input schema, a ready version), a
// schedule, a call, a schema and keys
// ---------------------------------------------------------------------------------------------------------

interface Side {
  ws: { id: string; name: string };
  fn: { id: string; name: string };
  version: string;
  schedule: string;
  call: string;
  schema: string;
  key: string;
}
interface Fixture {
  a: Side;
  b: Side;
  keys: { wsAdmin: string; viewer: string; foreign: string };
}

/** Whether the call's record is in (sync calls are recorded just after their answer). */
async function recorded(id: string): Promise<boolean> {
  for (let i = 0; i < 120; i++) {
    const res = await api("GET", `/api/calls/${id}`);
    if (res.status === 200 && res.body.status === "completed") return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** A finished call of the function; if the sync call's record never lands, a call queued for tomorrow. */
async function fixtureCall(functionId: string): Promise<string> {
  const call = expectStatus(await invoke(functionId, { n: 1 }), 200).callId as string;
  if (await recorded(call)) return call;
  console.warn(`fuzz fixture: the record of call ${call} did not land; using a queued call instead`);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
  return expectStatus(await invoke(functionId, { n: 1 }, { scheduledAt: tomorrow }), 202).callId as string;
}

async function side(keyRole: "viewer" | "admin"): Promise<Side & { secretKey: string }> {
  const ws = await newWorkspace();
  const schema = expectStatus(
    await api("POST", "/api/schemas", { body: { workspaceId: ws.id, name: "input", schema: INPUT_SCHEMA } }),
    201,
  ).id as string;
  const fn = await newFunction(ws.id, { secrets: { token: SECRET }, envVars: { MODE: "fuzz" }, inputSchemaId: schema });
  const version = (await deploy(fn.id, { "index.js": HANDLE })).id as string;
  const schedule = expectStatus(
    await api("POST", "/api/schedules", {
      body: { functionId: fn.id, name: "daily", cron: "@daily", data: { n: 1 } },
    }),
    201,
  ).id as string;
  const call = await fixtureCall(fn.id);
  const key = await newKey(keyRole, ws.id);
  return { ws, fn, version, schedule, call, schema, key: key.id, secretKey: key.key };
}

const realId = (s: Side, kind: ObjectKind): string =>
  ({ ws: s.ws.id, key: s.key, fun: s.fn.id, ver: s.version, call: s.call, sch: s.schedule, scm: s.schema })[kind];

// ---------------------------------------------------------------------------------------------------------
// State: every row of every table, and every R2 object
// ---------------------------------------------------------------------------------------------------------

/** The platform's tables (D1's own and the migrations' bookkeeping aside), read once the migrations ran. */
let TABLES: string[] = [];
async function platformTables(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' ORDER BY name",
  ).all<{ name: string }>();
  return results.map((r) => r.name).filter((name) => !(name in UNWATCHED_TABLES));
}

/** Tables whose rows change without any change a user makes, each with the reason. */
const UNWATCHED_TABLES: Record<string, string> = {
  cognite_ids:
    "the numbers the Cognite surface gives an object the first time it shows it, reads included: a name, not state",
};

async function snapshot(): Promise<Record<string, string>> {
  const results = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`SELECT * FROM ${t} ORDER BY 1`)));
  const state: Record<string, string> = {};
  TABLES.forEach((t, i) => {
    state[t] = JSON.stringify(results[i]?.results ?? []);
  });
  const objects: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.CODE.list({ cursor });
    for (const o of page.objects) objects.push(`${o.key}:${o.size}:${o.etag}`);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  state.r2 = objects.join("\n");
  return state;
}

function stateDiff(before: Record<string, string>, after: Record<string, string>): string | null {
  const changed = Object.keys(after).filter((k) => before[k] !== after[k]);
  if (changed.length === 0) return null;
  return changed
    .map((k) => {
      const [b, a] = [before[k] ?? "", after[k] ?? ""];
      let i = 0;
      while (i < b.length && b[i] === a[i]) i++;
      const from = Math.max(0, i - 120);
      return `${k}: …${b.slice(from, i + 200)}… became …${a.slice(from, i + 200)}…`;
    })
    .join("\n");
}

async function settledSnapshot() {
  let last = await snapshot();
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const next = await snapshot();
    if (!stateDiff(last, next)) return next;
    last = next;
  }
  return last;
}

// ---------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const PREFIXES: Record<ObjectKind, string> = {
  ws: "ws",
  key: "key",
  fun: "fun",
  ver: "ver",
  call: "call",
  sch: "sch",
  scm: "scm",
};
const ascii = (min = 0x20, max = 0x7e) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));

/** Text of every kind: ASCII, any Unicode (lone surrogates included), JSON-ish and injection-ish. */
const anyText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "null",
    "undefined",
    "true",
    "0",
    "-1",
    "1e309",
    "NaN",
    "{}",
    "[]",
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "' OR 1=1 --",
    '"; DROP TABLE functions; --',
    "../../etc/passwd",
    "..\\..\\windows",
    "%00",
    "\u0000",
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "ｆｕｎ＿",
    "💥🔥",
    "\ud800",
    "a\u200db",
    "$" + "{process.env}",
    "{{7*7}}",
    "<script>alert(1)</script>",
  ),
);
const hugeText = fc
  .tuple(fc.constantFrom("x", "é", "💥", "\\", '"', "%"), fc.integer({ min: 1_000, max: 300_000 }))
  .map(([c, n]) => c.repeat(n));

function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80"; // a lone surrogate, as its (invalid) UTF-8 bytes
  }
}

/** Path segments sent as they are (already URL syntax): traversal, bad percent-encoding, separators. */
const RAW_SEGMENTS = [
  "..%2f",
  "..%2F..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f",
  "..%5c",
  "%00",
  "%",
  "%zz",
  "%E0%A4%A",
  "%ED%A0%80",
  "%C0%AF",
  "%FF%FE",
  "%25",
  "%2F",
  "a%2Fb",
  "%20",
  "+",
  "%0d%0aX-Injected:%201",
  ";",
  ",",
  "*",
  "~",
  "!",
  "'",
  "(",
  "..",
  ".",
  "%2e",
  "%2e%2e",
];

/** A path parameter that names nothing: garbage, long, the wrong kind of id, or a near miss of a real id. */
function garbageSegment(kind: Kind, f: Fixture): fc.Arbitrary<string> {
  const others = (Object.keys(PREFIXES) as ObjectKind[]).filter((k) => k !== kind);
  const real = kind === "path" || kind === "free" ? f.a.fn.id : realId(f.a, kind);
  const prefix = kind === "path" || kind === "free" ? "fun" : PREFIXES[kind];
  return fc.oneof(
    anyText.map(encodeSegment),
    fc.constantFrom(...RAW_SEGMENTS),
    fc.integer({ min: 65, max: 20_000 }).map((n) => "a".repeat(n)),
    fc.integer({ min: 27, max: 2_000 }).map((n) => `${prefix}_${"0".repeat(n)}`),
    fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 26, maxLength: 26 }).map((s) => `${prefix}_${s}`),
    fc.constantFrom(...others).map((k) => realId(f.a, k)),
    fc.constantFrom(
      real.toUpperCase(),
      `${real}%20`,
      `%20${real}`,
      `${real}%00`,
      `${real}x`,
      real.slice(0, -1),
      `${real}%2F..`,
      encodeURIComponent(`${real}'--`),
    ),
  );
}

type AuthKind = "admin" | "wsAdmin" | "viewer" | "foreign" | "bad";

const badAuthorization = fc.oneof(
  fc.constant<string | null>(null),
  fc.constantFrom(
    "",
    "Bearer",
    "Bearer ",
    "Basic Zm9vOmJhcg==",
    `Token ${ADMIN_KEY}`,
    `Bearer ${ADMIN_KEY}x`,
    `Bearer ${ADMIN_KEY.slice(0, -1)}`,
    `Bearer ${ADMIN_KEY} ${ADMIN_KEY}`,
    `Bearer ${ADMIN_KEY.toUpperCase()}`,
    `Basic ${btoa(`admin:${ADMIN_KEY}`)}`,
    "Bearer efn_",
    "Bearer null",
    "Bearer undefined",
    "Bearer \u00e9\u00e8",
  ),
  fc.string({ unit: ascii(0x21, 0x7e), minLength: 1, maxLength: 80 }).map((s) => `Bearer efn_${s}`),
  fc.string({ unit: ascii(), maxLength: 60 }),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => `Bearer ${"k".repeat(n)}`),
);

function authHeader(kind: AuthKind, f: Fixture): fc.Arbitrary<string | null> {
  switch (kind) {
    case "admin":
      return fc.constantFrom(`Bearer ${ADMIN_KEY}`, `bearer ${ADMIN_KEY}`, `Bearer   ${ADMIN_KEY}  `);
    case "wsAdmin":
      return fc.constant(`Bearer ${f.keys.wsAdmin}`);
    case "viewer":
      return fc.constant(`Bearer ${f.keys.viewer}`);
    case "foreign":
      return fc.constant(`Bearer ${f.keys.foreign}`);
    case "bad":
      return badAuthorization;
  }
}

// --- query parameters ---

const base64url = (text: string) => {
  let binary = "";
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
};

const FIELDS = [
  "id",
  "workspaceId",
  "functionId",
  "versionId",
  "scheduleId",
  "name",
  "description",
  "status",
  "trigger",
  "role",
  "cron",
  "enabled",
  "system",
  "source",
  "number",
  "durationMs",
  "attempt",
  "createdAt",
  "updatedAt",
  "deletedAt",
  "startTime",
  "endTime",
  "expiresAt",
  "nextRunAt",
  "createdTime",
  "workspace",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "and",
  "or",
  "not",
  "",
];
const OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "like", "ilike", "isNull"];
const fieldName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELDS) }, anyText);
const badDate = fc.constantFrom(
  "not-a-date",
  "2026-13-45T99:99:99Z",
  "yesterday",
  "",
  "+275760-09-13T00:00:01Z",
  "-271821-04-19T00:00:00Z",
  "2026-11-01T00:00:00+25:00",
  "0000-00-00",
);
const filterValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  badDate,
  fc.double(),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 130 }),
  hugeText.map((s) => s.slice(0, 5_000)),
  fc.constantFrom("%", "_", "\\", "[", "*", "?", "%\\"),
);
const operatorObject = fc.dictionary(
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...OPERATORS) }, anyText),
  filterValue,
  { maxKeys: 3 },
);
const { node: filterNode } = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.dictionary(fieldName, fc.oneof(operatorObject, filterValue), { minKeys: 0, maxKeys: 3 }),
    fc.record({ and: fc.oneof(fc.array(tie("node"), { maxLength: 3 }), filterValue) }),
    fc.record({ or: fc.oneof(fc.array(tie("node"), { maxLength: 3 }), filterValue) }),
    fc.record({ not: tie("node") }),
  ),
}));
const nested = (open: string, close: string, inner: string) =>
  fc.integer({ min: 5, max: 20_000 }).map((n) => open.repeat(n) + inner + close.repeat(n));
const badFilter = fc.oneof(
  filterNode.map((n) => JSON.stringify(n)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  anyText,
  fc.constantFrom(
    "{",
    "{'id': {'eq': 1}}",
    '{"id":{"eq":1}',
    "[]",
    "null",
    '"id"',
    "{}",
    '{"and":[]}',
    '{"durationMs":{"gt":1e400}}',
    '{"createdAt":{"gte":-1e400}}',
    '{"__proto__":{"polluted":{"eq":1}}}',
    '{"constructor":{"prototype":{"eq":1}}}',
    '{"id":{"in":[]}}',
    '{"name":{"like":5}}',
    '{"createdAt":{"like":"x%"}}',
    '{"enabled":{"gt":true}}',
    '{"id":{"isNull":"yes"}}',
    '{"workspace":{"name":{"eq":1}}}',
    '{"workspace":{"workspace":{"id":{"eq":"x"}}}}',
  ),
  nested('{"not":', "}", '{"id":{"eq":"x"}}'),
  nested('{"and":[', "]}", '{"id":{"eq":"x"}}'),
  nested("[", "]", "1"),
  fc
    .integer({ min: 51, max: 2_000 })
    .map((n) => JSON.stringify({ or: Array.from({ length: n }, (_, i) => ({ id: { eq: `x${i}` } })) })),
  fc
    .integer({ min: 101, max: 5_000 })
    .map((n) => JSON.stringify({ id: { in: Array.from({ length: n }, (_, i) => i) } })),
);
const badOrderBy = fc.oneof(
  fc
    .array(
      fc.dictionary(fieldName, fc.oneof(fc.constantFrom("asc", "desc", "sideways", "ASC", ""), fc.jsonValue()), {
        maxKeys: 2,
      }),
      {
        maxLength: 7,
      },
    )
    .map((v) => JSON.stringify(v)),
  anyText,
  fc.constantFrom(
    "[",
    "createdAt desc",
    '{"createdAt":"desc"}',
    '[{"createdAt":"desc"},{"createdAt":"asc"}]',
    '[{"__proto__":"asc"}]',
    '[{"constructor":"asc"}]',
    '[{"toString":"desc"}]',
    "[{}]",
    "[null]",
    "[[]]",
    '[{"a":"asc","b":"desc"}]',
    '[{"id":"asc"},{"name":"asc"},{"createdAt":"asc"},{"updatedAt":"asc"},{"description":"asc"},{"status":"asc"}]',
    "[]",
  ),
  nested("[", "]", '{"id":"asc"}'),
);
const badCursor = fc.oneof(
  anyText,
  fc.constantFrom("!!!", "====", "e30", "bnVsbA", "W10", "eyJzIjoxfQ", "_-_-", "%", "a".repeat(10_000)),
  fc
    .record({
      s: fc.oneof(fc.constantFrom("createdAt:d,id:d", "id:a", "name:a,id:a"), anyText),
      v: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }),
    })
    .map((c) => base64url(JSON.stringify(c))),
  fc.jsonValue().map((v) => base64url(JSON.stringify(v))),
  fc
    .constantFrom(
      '{"s":"createdAt:d,id:d","v":[1e400,"x"]}',
      '{"s":"createdAt:d,id:d","v":[null,null]}',
      '{"s":"createdAt:d,id:d","v":[1,2,3]}',
      '{"s":"createdAt:d,id:d","v":{"0":1,"1":"x"}}',
      '{"__proto__":{"s":"x"}}',
    )
    .map(base64url),
  fc.uint8Array({ maxLength: 60 }).map((bytes) => btoa(String.fromCharCode(...bytes))),
);
const badRange = fc.oneof(
  anyText,
  fc
    .dictionary(
      fc.oneof(fc.constantFrom("min", "max", "__proto__", "constructor"), anyText),
      fc.oneof(badDate, fc.jsonValue({ maxDepth: 1 })),
      { maxKeys: 3 },
    )
    .map((v) => JSON.stringify(v)),
  fc.constantFrom(
    "{",
    "[]",
    "null",
    "5",
    '{"min":"not-a-date"}',
    '{"min":1e400}',
    '{"max":-1e400}',
    '{"min":{}}',
    '{"max":true}',
    '{"foo":1}',
    '{"__proto__":{"min":1}}',
    '{"min":"2026-01-01","max":"2025-01-01"}',
  ),
);
const badLimit = fc.oneof(
  fc.constantFrom(
    "-1",
    "0",
    "101",
    "1e9",
    "1e999",
    "abc",
    "1.5",
    " 5",
    "0x10",
    "NaN",
    "Infinity",
    "-0",
    "+5",
    "٣",
    "9".repeat(400),
    "5 ",
    "1,2",
  ),
  anyText,
  fc.integer().map(String),
);
const badIds = fc.oneof(
  fc.constantFrom(",", ",,,", " , ", "%2C"),
  fc.integer({ min: 101, max: 3_000 }).map((n) => Array.from({ length: n }, (_, i) => `fun_${i}`).join(",")),
  fc.array(anyText, { maxLength: 10 }).map((a) => a.join(",")),
);

/** A wrong value for one query parameter, by its name and its documented schema. */
function badQueryValue(name: string, schema: JsonSchema): fc.Arbitrary<string> {
  const byName: Record<string, fc.Arbitrary<string>> = {
    limit: badLimit,
    after: badCursor,
    before: badCursor,
    filter: badFilter,
    orderBy: badOrderBy,
    startTime: badRange,
    endTime: badRange,
    createdTime: badRange,
    ids: badIds,
  };
  const own = byName[name];
  const generic: fc.Arbitrary<string>[] = [anyText, hugeText.map((s) => s.slice(0, 20_000))];
  if (Array.isArray(schema.enum)) generic.push(anyText.filter((s) => !schema.enum.includes(s)));
  if (typeof schema.maxLength === "number") generic.push(fc.constant("q".repeat(schema.maxLength + 1)));
  return own ? fc.oneof({ weight: 4, arbitrary: own }, ...generic) : fc.oneof(...generic);
}

/** Query text appended as is: malformed escapes, bare keys, repeats. */
const rawQuery = fc.constantFrom(
  "%zz=1",
  "limit=%E0%A4%A",
  "&&&",
  "=x",
  "limit",
  "limit=1&limit=2",
  "filter=%7B",
  "__proto__=1&constructor=2",
  "a[b]=1&a[c]=2",
  "%00=%00",
  "x=%ED%A0%80",
  "limit=5#frag",
);

// --- bodies ---

const JSON_KINDS = ["string", "number", "boolean", "null", "array", "object"] as const;
const kindArb: Record<(typeof JSON_KINDS)[number], fc.Arbitrary<unknown>> = {
  string: anyText,
  number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  boolean: fc.boolean(),
  null: fc.constant(null),
  array: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  object: fc.dictionary(anyText, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
};

/** A value the property's schema certainly rejects, or null when it accepts anything. */
function wrongValue(schema: JsonSchema | undefined): fc.Arbitrary<unknown> | null {
  const s = resolveRef(schema) ?? {};
  const types: string[] = s.type ? [s.type].flat() : s.enum ? ["string"] : [];
  if (types.length === 0) return null;
  const options: fc.Arbitrary<unknown>[] = [];
  for (const kind of JSON_KINDS) {
    // Integers are numbers: only a type that takes neither gets a number as its wrong value.
    if (kind === "number" ? types.includes("number") || types.includes("integer") : types.includes(kind)) continue;
    options.push(kindArb[kind]);
  }
  if (types.includes("string")) {
    if (Array.isArray(s.enum)) options.push(anyText.filter((v) => !s.enum.includes(v)));
    if (typeof s.maxLength === "number") {
      const max = s.maxLength;
      options.push(fc.integer({ min: max + 1, max: max + 5_000 }).map((n) => "m".repeat(n)));
    }
    if (typeof s.minLength === "number" && s.minLength > 0) options.push(fc.constant(""));
    if (s.pattern) options.push(fc.constantFrom("NOT VALID !", " ", "UPPER_CASE", "a..b", "-x-"));
    if (s.format === "date-time") options.push(badDate);
  }
  if (types.includes("integer") && !types.includes("number")) {
    options.push(fc.constantFrom(1.5, -0.25, 1e21 + 0.5));
    if (typeof s.minimum === "number") options.push(fc.integer({ min: -1e9, max: s.minimum - 1 }));
    if (typeof s.maximum === "number") options.push(fc.integer({ min: s.maximum + 1, max: s.maximum + 1e9 }));
    options.push(fc.constantFrom("5", "1e3"), hugeNumber);
  }
  if (types.includes("array")) {
    const item = wrongValue(s.items);
    if (item) options.push(fc.array(item, { minLength: 1, maxLength: 3 }));
    if (typeof s.minItems === "number" && s.minItems > 0) options.push(fc.constant([]));
  }
  if (types.includes("object") && s.additionalProperties && typeof s.additionalProperties === "object") {
    const value = wrongValue(s.additionalProperties);
    if (value)
      options.push(fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), value, { minKeys: 1, maxKeys: 3 }));
  }
  return options.length > 0 ? fc.oneof(...options) : null;
}

/** A valid body for each documented request schema: the fuzzer breaks one part of it at a time. */
function validBody(name: string | null, schema: JsonSchema, f: Fixture): Record<string, unknown> {
  switch (name) {
    case "CreateWorkspace":
      return { name: `fuzz-${crypto.randomUUID().slice(0, 8)}` };
    case "PatchWorkspace":
    case "PatchFunction":
    case "PatchSchedule":
      return { description: "fuzzed" };
    case "CreateFunction":
      return { workspaceId: f.a.ws.id, name: `fuzz-${crypto.randomUUID().slice(0, 8)}` };
    case "UploadVersion":
      return { code: HANDLE };
    case "Invoke":
      return { args: { n: 1 } };
    case "CreateApiKey":
      return { name: "fuzz", role: "viewer", workspaceId: f.a.ws.id };
    case "CreateSchedule":
      return { functionId: f.a.fn.id, name: "fuzz", cron: "@daily" };
    case "CreateJsonSchema":
      return { workspaceId: f.a.ws.id, name: "fuzz", schema: { type: "object" } };
  }
  // A schema nobody taught this file yet: its required properties with plain values.
  const body: Record<string, unknown> = {};
  for (const key of schema.required ?? []) {
    const p = resolveRef(schema.properties?.[key]) ?? {};
    const t = [p.type].flat()[0];
    body[key] = Array.isArray(p.enum)
      ? p.enum[0]
      : t === "integer" || t === "number"
        ? (p.minimum ?? 1)
        : t === "boolean"
          ? true
          : t === "array"
            ? []
            : t === "object"
              ? {}
              : "x";
  }
  return body;
}

/** Bodies a schema allows but the service must refuse, by request schema. */
function semanticallyInvalid(name: string | null, f: Fixture): fc.Arbitrary<Record<string, unknown>>[] {
  const notMatchingInput = fc
    .oneof(
      fc.jsonValue(),
      hugeText.map((s) => ({ s })),
      deepValue,
      protoObject,
    )
    .filter((v) => !(typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).join() === "n"));
  switch (name) {
    case "Invoke":
      return [
        notMatchingInput.map((args) => ({ args })),
        fc
          .constantFrom(f.b.version, f.a.call, `ver_${"0".repeat(26)}`)
          .map((versionId) => ({ args: { n: 1 }, versionId })),
        fc.integer({ min: 1_048_577, max: 1_200_000 }).map((n) => ({ args: { n: 1, pad: "x".repeat(n) } })),
      ];
    case "CreateWorkspace":
      return [fc.constant({ name: f.a.ws.name })];
    case "PatchWorkspace":
      return [fc.constant({ name: f.b.ws.name })];
    case "CreateFunction":
      return [
        fc.constant({ workspaceId: f.a.ws.id, name: f.a.fn.name }),
        fc.constant({ workspaceId: f.a.ws.id, name: "fuzz-clash", envVars: { token: "x" }, secrets: { token: "y" } }),
        fc.constant({ workspaceId: f.a.ws.id, name: "fuzz-keep", secrets: { token: "***" } }),
        fc.constant({ workspaceId: f.a.ws.id, name: "fuzz-schema", inputSchemaId: `scm_${"0".repeat(26)}` }),
        fc.constant({ workspaceId: `ws_${"0".repeat(26)}`, name: "fuzz-nowhere" }),
      ];
    case "PatchFunction":
      return [
        fc.constant({ envVars: { token: "x" } }),
        fc.constant({ secrets: { other: "***" } }),
        fc.constant({ inputSchemaId: `scm_${"0".repeat(26)}` }),
        fc.constant({ outputSchemaId: f.a.fn.id }),
        fc.constant({}),
      ];
    case "CreateApiKey":
      return [
        badDate.map((expiresAt) => ({ name: "fuzz", role: "viewer", workspaceId: f.a.ws.id, expiresAt })),
        fc.constant({ name: "fuzz", role: "viewer", workspaceId: f.a.ws.id, expiresAt: "2000-01-01T00:00:00Z" }),
        fc.constant({ name: "fuzz", role: "admin", workspaceId: f.a.ws.id, functionIds: [f.a.fn.id] }),
        fc.constant({ name: "fuzz", role: "viewer", workspaceId: f.a.ws.id, functionIds: [`fun_${"0".repeat(26)}`] }),
        fc.constant({ name: "fuzz", role: "viewer", workspaceId: `ws_${"0".repeat(26)}` }),
      ];
    case "CreateSchedule":
    case "PatchSchedule": {
      const base = name === "CreateSchedule" ? { functionId: f.a.fn.id, name: "fuzz" } : {};
      return [
        fc
          .oneof(
            fc.constantFrom(
              "60 * * * *",
              "* 24 * * *",
              "* * 32 * *",
              "* * * 13 *",
              "* * * * 9",
              "@never",
              "*/0 * * * *",
              "* * * *",
              "a b c d e",
              "0 0 30 2 *",
              "5-1 * * * *",
              "*/-1 * * * *",
              "1,,2 * * * *",
              " ",
            ),
            anyText.filter((s) => s.trim().split(/\s+/).length !== 5 && !s.trim().startsWith("@")),
          )
          .map((cron) => ({ ...base, cron })),
        fc
          .constantFrom("Mars/Olympus", "UTC+25", "../../etc/localtime", "Europe/", "utc ", "Etc/GMT+99", "\u0000")
          .map((timezone) => ({ ...base, cron: "@daily", timezone })),
        fc.integer({ min: 1_048_577, max: 1_100_000 }).map((n) => ({ ...base, cron: "@daily", data: "x".repeat(n) })),
        ...(name === "CreateSchedule" ? [fc.constant({ functionId: f.a.version, name: "fuzz", cron: "@daily" })] : []),
      ];
    }
    case "CreateJsonSchema":
      return [
        fc
          .constantFrom<unknown>(
            { type: "nonsense" },
            { properties: 5 },
            { required: "n" },
            { minLength: -1 },
            { $ref: "http://example.com/x" },
          )
          .map((schema) => ({ workspaceId: f.a.ws.id, name: "fuzz", schema })),
        fc.constant({ workspaceId: `ws_${"0".repeat(26)}`, name: "fuzz", schema: { type: "object" } }),
      ];
    case "UploadVersion":
      return [
        fc.constant({ code: HANDLE, files: { "index.js": HANDLE } }),
        fc.constant({}),
        fc.constant({ activate: true }),
        fc.constant({ files: { "": HANDLE } }),
        fc.constant({ files: { "../index.js": HANDLE } }),
        fc.constantFrom(...BAD_ENTRYPOINTS).map((entrypoint) => ({ code: HANDLE, entrypoint })),
      ];
  }
  return [];
}

/**
 * Deeply nested JSON, made in the text (a nested object would overflow the test's own JSON.stringify): the
 * value is a marker string that toJson expands.
 */
const deepValue = fc
  .tuple(fc.constantFrom("array", "object"), fc.integer({ min: 50, max: 20_000 }))
  .map(([shape, depth]) => `\u0000deep:${shape}:${depth}\u0000`);
const DEEP_MARKER = /"\\u0000deep:(array|object):(\d+)\\u0000"/g;
/** A number JSON can write but JavaScript cannot hold (it parses to Infinity), as a marker toJson expands. */
const hugeNumber = fc.constantFrom("\u0000num:1e400\u0000", "\u0000num:-1e400\u0000");
const NUMBER_MARKER = /"\\u0000num:(-?1e400)\\u0000"/g;
const toJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(DEEP_MARKER, (_, shape: string, depth: string) => {
      const n = Number(depth);
      return shape === "array" ? `${"[".repeat(n)}1${"]".repeat(n)}` : `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
    })
    .replace(NUMBER_MARKER, "$1");
const protoObject = fc.constantFrom<Record<string, unknown>>(
  JSON.parse('{"__proto__":{"polluted":"yes"}}'),
  JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}'),
  JSON.parse('{"prototype":{"polluted":"yes"},"toString":"x","valueOf":1,"hasOwnProperty":null}'),
);

/** A body certainly invalid for the route: not JSON, JSON of the wrong type, a wrong field, and so on. */
function invalidBody(route: RouteSpec, f: Fixture): fc.Arbitrary<string> {
  const { schema, name } = route.body!;
  const base = () => validBody(name, schema, f);
  const options: fc.WeightedArbitrary<string>[] = [];
  const add = (weight: number, arbitrary: fc.Arbitrary<string>) => options.push({ weight, arbitrary });
  // Not JSON at all.
  add(
    1,
    fc
      .oneof(
        fc.string({ unit: "binary", maxLength: 60 }),
        fc.constantFrom(
          "{",
          "{'a':1}",
          "[1,]",
          "undefined",
          "NaN",
          '{"a":1}}',
          '{"a":}',
          "\ufeff{}",
          "",
          "nul",
          '{"a":"\\u12"}',
        ),
      )
      .filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
  );
  // JSON of the wrong type.
  add(1, fc.oneof(kindArb.string, kindArb.number, kindArb.boolean, kindArb.null, kindArb.array, deepValue).map(toJson));
  const props = Object.entries<JsonSchema>(schema.properties ?? {})
    .map(([key, p]) => [key, wrongValue(p)] as const)
    .filter((e): e is readonly [string, fc.Arbitrary<unknown>] => e[1] !== null);
  if (props.length > 0) {
    // One field of the wrong type or out of its range, the rest valid (plus noise).
    add(
      4,
      fc
        .constantFrom(...props)
        .chain(([key, arb]) => arb.map((v) => ({ ...base(), [key]: v })))
        .chain(decorate)
        .map(toJson),
    );
  }
  for (const key of schema.required ?? []) {
    add(
      1,
      fc.constant(key).map((k) => {
        const b = base();
        delete b[k];
        return JSON.stringify(b);
      }),
    );
  }
  if (schema.additionalProperties === false) {
    const known = new Set(Object.keys(schema.properties ?? {}));
    add(
      1,
      fc
        .tuple(
          fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype", "extra", "isAdmin"), anyText),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .filter(([k]) => !known.has(k))
        .map(([k, v]) => {
          // As text, so that "__proto__" is a plain key of the JSON.
          const text = JSON.stringify(base());
          return `{${JSON.stringify(k)}:${toJson(v)}${text.length > 2 ? "," : ""}${text.slice(1)}`;
        }),
    );
  }
  for (const arb of semanticallyInvalid(name, f)) add(2, arb.map(toJson));
  return fc.oneof(...options);
}

/** Adds noise to an already invalid body: unknown fields, prototype keys, huge or deep values. */
function decorate(body: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record(
      {
        extra: fc.dictionary(
          fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype"), anyText),
          fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 3 },
        ),
        huge: hugeText,
        deep: deepValue,
      },
      { requiredKeys: [] },
    )
    .map((noise) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(noise.extra ?? {}))
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      Object.assign(out, body);
      if (noise.huge !== undefined) out.zzHuge = noise.huge;
      if (noise.deep !== undefined) out.zzDeep = noise.deep;
      return out;
    });
}

const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "Application/JSON",
  "application/vnd.api+json",
];
const BAD_TYPES = [
  "text/plain",
  "application/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "multipart/form-data",
  "application/jsonp",
  "application/json-patch",
  "text/json",
  "json",
  "*/*",
  "application/zip",
  "application/gzip",
  "application/x-tar",
  "application/octet-stream",
  "image/png",
];

/** Entrypoints no upload of one index file can have. */
const BAD_ENTRYPOINTS = [
  "missing.js",
  "../index.ts",
  "..",
  "/",
  ".",
  "a/../../index.ts",
  "..\\index.ts",
  "index.ts/..",
];

type Payload = string | Uint8Array;

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

/** A multipart/form-data body by hand (so that it can be malformed). */
function multipart(parts: { name: string; filename?: string; data: Payload }[], boundary = "fuzzboundary"): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const file = part.filename === undefined ? "" : `; filename="${part.filename}"`;
    const type = part.filename === undefined ? "" : "\r\nContent-Type: application/octet-stream";
    chunks.push(strToU8(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${file}${type}\r\n\r\n`));
    chunks.push(typeof part.data === "string" ? strToU8(part.data) : part.data);
    chunks.push(strToU8("\r\n"));
  }
  chunks.push(strToU8(`--${boundary}--\r\n`));
  return concat(chunks);
}

const ARCHIVE_TYPES = [
  "application/zip",
  "application/gzip",
  "application/x-gzip",
  "application/x-tar",
  "application/octet-stream",
];
const oneFileZip = () => zipSync({ "index.js": strToU8(HANDLE) });
/** Archives the upload must refuse, made when first drawn (the bombs take a moment). */
const BAD_ARCHIVES: Record<string, () => Uint8Array> = {
  emptyZip: () => zipSync({}),
  onlySkippedFiles: () =>
    zipSync({ ".env": strToU8("A=1"), "node_modules/x.js": strToU8(HANDLE), "dir/": new Uint8Array() }),
  binaryOnly: () => zipSync({ "index.js": new Uint8Array([0xff, 0xfe, 0xfd, 0x00]) }),
  twoEntrypoints: () => zipSync({ "a.js": strToU8(HANDLE), "b.js": strToU8(HANDLE) }),
  truncatedZip: () => oneFileZip().slice(0, 40),
  zipMagicOnly: () => concat([strToU8("PK\u0003\u0004"), crypto.getRandomValues(new Uint8Array(64))]),
  zipBomb: () => zipSync({ "index.js": new Uint8Array(11 * 1024 * 1024) }),
  gzipOfGarbage: () => gzipSync(crypto.getRandomValues(new Uint8Array(600))),
  gzipMagicOnly: () => concat([new Uint8Array([0x1f, 0x8b]), crypto.getRandomValues(new Uint8Array(64))]),
  truncatedTarGz: () => gzipSync(createTar([{ name: "index.js", data: HANDLE }])).slice(0, 30),
  gzipBomb: () => gzipSync(new Uint8Array(12 * 1024 * 1024)),
  emptyTar: () => createTar([]),
  tarOfDotfiles: () => createTar([{ name: ".hidden.js", data: HANDLE }]),
  randomBytes: () => crypto.getRandomValues(new Uint8Array(256)),
  empty: () => new Uint8Array(),
};
const archiveCache = new Map<string, Uint8Array>();
const archive = (name: string) => {
  let bytes = archiveCache.get(name);
  if (!bytes) {
    bytes = (BAD_ARCHIVES[name] as () => Uint8Array)();
    archiveCache.set(name, bytes);
  }
  return bytes;
};

interface BodyPart {
  text: Payload;
  type: string | null;
  /** Query parameters the body's form needs (a raw archive's entrypoint). */
  query?: [string, string][];
}

/** Uploads in the non-JSON forms, each certainly refused: bad archives, bad entrypoints, bad multipart. */
const invalidUpload: fc.Arbitrary<BodyPart> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...Object.keys(BAD_ARCHIVES)), fc.constantFrom(...ARCHIVE_TYPES))
    .map(([name, type]) => ({ text: archive(name), type })),
  fc
    .tuple(fc.constantFrom(...BAD_ENTRYPOINTS), fc.constantFrom(...ARCHIVE_TYPES))
    .map(([entrypoint, type]): BodyPart => ({ text: oneFileZip(), type, query: [["entrypoint", entrypoint]] })),
  fc.constantFrom(...Object.keys(BAD_ARCHIVES)).map((name) => ({
    text: multipart([{ name: "code", filename: "code.zip", data: archive(name) }]),
    type: "multipart/form-data; boundary=fuzzboundary",
  })),
  fc.constantFrom(...BAD_ENTRYPOINTS).map((entrypoint) => ({
    text: multipart([
      { name: "code", filename: "code.zip", data: oneFileZip() },
      { name: "entrypoint", data: entrypoint },
    ]),
    type: "multipart/form-data; boundary=fuzzboundary",
  })),
  fc.constantFrom(
    { text: multipart([{ name: "code", data: HANDLE }]), type: "multipart/form-data; boundary=fuzzboundary" },
    {
      text: multipart([{ name: "other", filename: "x.zip", data: "x" }]),
      type: "multipart/form-data; boundary=fuzzboundary",
    },
    { text: multipart([{ name: "code", filename: "x.zip", data: "x" }]), type: "multipart/form-data; boundary=other" },
    { text: "--fuzzboundary\r\nnot a part", type: "multipart/form-data; boundary=fuzzboundary" },
    { text: "", type: "multipart/form-data; boundary=fuzzboundary" },
  ),
);

/** Foreign references a body can carry: ids of workspace B where workspace A's objects are meant. */
const REF_FIELDS: Record<string, ObjectKind> = {
  workspaceId: "ws",
  functionId: "fun",
  versionId: "ver",
  inputSchemaId: "scm",
  outputSchemaId: "scm",
};

// --- a whole request ---

type Axis =
  | "auth"
  | "path"
  | "foreignPath"
  | "query"
  | "body"
  | "contentType"
  | "foreignBody"
  | "idempotency"
  | "version"
  | "method";

interface Case {
  primary: Axis | "regression";
  method: string;
  url: string;
  headers: [string, string][];
  body?: Payload;
}

function axes(route: RouteSpec): Axis[] {
  const out: Axis[] = ["auth"];
  const named = route.params.filter((p) => p.kind !== "path" && p.kind !== "free");
  if (named.length > 0) out.push("path", "foreignPath");
  if (!route.mutating) out.push("query");
  if (route.body) out.push("body", "contentType");
  if (route.body && Object.keys(route.body.schema.properties ?? {}).some((k) => REF_FIELDS[k])) out.push("foreignBody");
  if (route.headers.includes("idempotency-key")) out.push("idempotency");
  if (route.run) out.push("version");
  const wrongMethods = METHODS.filter((m) => m !== route.method && !route.siblings.includes(m));
  if (!route.run && route.method !== "ALL" && wrongMethods.length > 0) out.push("method");
  return out;
}

function caseArb(route: RouteSpec, f: Fixture): fc.Arbitrary<Case> {
  const weight: Record<Axis, number> = {
    auth: 1,
    path: 2,
    foreignPath: 1,
    query: 4,
    body: 4,
    contentType: 1,
    foreignBody: 1,
    idempotency: 1,
    version: 1,
    method: 1,
  };
  const primaries = axes(route).map((a) => ({ weight: weight[a], arbitrary: fc.constant(a) }));
  return fc.oneof(...primaries).chain((primary) => {
    const auth: fc.Arbitrary<AuthKind> =
      primary === "auth"
        ? route.mutating
          ? fc.constantFrom<AuthKind>("bad", "viewer")
          : fc.constant<AuthKind>("bad")
        : primary === "foreignPath" || primary === "foreignBody"
          ? fc.constantFrom<AuthKind>("wsAdmin", "viewer")
          : fc.oneof(
              { weight: 6, arbitrary: fc.constant<AuthKind>("admin") },
              { weight: 2, arbitrary: fc.constant<AuthKind>("wsAdmin") },
              { weight: 1, arbitrary: fc.constantFrom<AuthKind>("viewer", "foreign", "bad") },
            );

    // Path parameters: one certainly wrong for "path" and "foreignPath", the others real or garbage.
    const named = route.params.filter((p) => p.kind !== "path" && p.kind !== "free").map((p) => p.name);
    const target = named.length > 0 ? fc.constantFrom(...named) : fc.constant("");
    const segments = target.chain((broken) =>
      fc.tuple(
        ...route.params.map((p): fc.Arbitrary<string | null> => {
          if (p.kind === "path") {
            return fc.oneof(
              fc.constant(null),
              fc
                .array(
                  fc.oneof(
                    anyText.map(encodeSegment),
                    fc.constantFrom(...RAW_SEGMENTS.filter((s) => s !== ".." && s !== ".")),
                  ),
                  { maxLength: 4 },
                )
                .map((a) => a.join("/")),
            );
          }
          const kind = p.kind;
          if (kind === "free") {
            const anyReal = (Object.keys(PREFIXES) as ObjectKind[]).map((k) => realId(f.a, k));
            return fc.oneof(garbageSegment(kind, f), fc.constantFrom(...anyReal));
          }
          const real = fc.constantFrom(
            realId(f.a, kind),
            ...(route.run && kind === "ws" ? [f.a.ws.name] : []),
            ...(route.run && kind === "fun" ? [f.a.fn.name] : []),
          );
          const foreign = fc.constantFrom(
            realId(f.b, kind),
            ...(route.run && kind === "ws" ? [f.b.ws.name] : []),
            ...(route.run && kind === "fun" ? [f.b.fn.name] : []),
          );
          if (p.name === broken && primary === "path") return garbageSegment(kind, f);
          if (p.name === broken && primary === "foreignPath") return foreign;
          return fc.oneof({ weight: 9, arbitrary: real }, { weight: 1, arbitrary: garbageSegment(kind, f) });
        }),
      ),
    );

    const query: fc.Arbitrary<{ pairs: [string, string][]; raw: string | null }> = fc.record({
      pairs:
        route.query.length > 0
          ? fc
              .subarray(route.query, { minLength: primary === "query" ? 1 : 0 })
              .chain((chosen) =>
                chosen.length === 0
                  ? fc.constant<[string, string][]>([])
                  : fc.tuple(
                      ...chosen.map((q) => badQueryValue(q.name, q.schema).map((v): [string, string] => [q.name, v])),
                    ),
              )
              .chain((pairs) =>
                fc
                  .array(
                    fc.tuple(
                      fc.oneof(fc.constantFrom("__proto__", "constructor", "version", "unknown"), anyText),
                      anyText,
                    ),
                    { maxLength: 2 },
                  )
                  .map((extra): [string, string][] => [...(pairs as [string, string][]), ...extra]),
              )
          : fc.array(fc.tuple(fc.oneof(fc.constantFrom("__proto__", "limit", "filter"), anyText), anyText), {
              maxLength: primary === "query" ? 3 : 1,
              minLength: primary === "query" ? 1 : 0,
            }),
      raw: fc.option(rawQuery, { freq: 4 }),
    });

    const version =
      primary === "version"
        ? fc.oneof(
            garbageSegment("ver", f).map((v) => ({ where: "query" as const, value: v })),
            fc.constantFrom(f.b.version, f.a.call, f.a.fn.id).map((v) => ({ where: "header" as const, value: v })),
            fc
              .string({ unit: ascii(0x21, 0x7e), minLength: 1, maxLength: 40 })
              .map((v) => ({ where: "header" as const, value: v })),
          )
        : fc.constant(null);

    const body: fc.Arbitrary<BodyPart | null> = (() => {
      if (route.body) {
        const json = fc.constantFrom(...JSON_TYPES);
        const uploads = route.body.mediaTypes.some((t) => t !== "application/json");
        const valid = fc.constant(null).map(() => JSON.stringify(validBody(route.body!.name, route.body!.schema, f)));
        if (primary === "body") {
          const asJson = fc.record({ text: invalidBody(route, f), type: json });
          return uploads ? fc.oneof(asJson, invalidUpload) : asJson;
        }
        if (primary === "contentType") {
          return fc.record({
            text: fc.oneof(valid, invalidBody(route, f), fc.string({ unit: "binary", maxLength: 200 })),
            type: fc.oneof(
              { weight: 5, arbitrary: fc.constantFrom(...BAD_TYPES) },
              { weight: 1, arbitrary: fc.constant(null) },
            ),
          });
        }
        if (primary === "foreignBody") {
          const refs = Object.keys(route.body.schema.properties ?? {}).filter((k) => REF_FIELDS[k]);
          return fc.record({
            text: fc.constantFrom(...refs).map((k) =>
              JSON.stringify({
                ...validBody(route.body!.name, route.body!.schema, f),
                [k]: realId(f.b, REF_FIELDS[k]!),
              }),
            ),
            type: json,
          });
        }
        return fc.oneof(
          { weight: 3, arbitrary: fc.record({ text: valid, type: json }) },
          { weight: 1, arbitrary: fc.record({ text: invalidBody(route, f), type: json }) },
          ...(route.body.required ? [] : [{ weight: 1, arbitrary: fc.constant(null) }]),
        );
      }
      if (!route.mutating) return fc.constant(null);
      // A body nobody asked for: ignored, but it must not hurt.
      return fc.option(
        fc.record({
          text: fc.oneof(
            anyText,
            fc.jsonValue().map((v) => JSON.stringify(v)),
          ),
          type: fc.constantFrom(...JSON_TYPES, ...BAD_TYPES),
        }),
        { freq: 3 },
      );
    })();

    const idempotency =
      primary === "idempotency"
        ? fc.oneof(
            fc.constantFrom("", " ", "a b", "tab\there", "\u00e9t\u00e9", "\u00ff"),
            fc.integer({ min: 256, max: 5_000 }).map((n) => "k".repeat(n)),
            fc
              .tuple(fc.string({ unit: ascii(0x21, 0x7e), maxLength: 10 }), fc.constantFrom(" ", "\u00a0", "\u00e9"))
              .map(([a, b]) => `${a}${b}${a}x`),
          )
        : fc.option(fc.string({ unit: ascii(0x21, 0x7e), minLength: 1, maxLength: 40 }), { freq: 4 });

    const method =
      route.method === "ALL"
        ? fc.constantFrom(...METHODS)
        : primary === "method"
          ? fc.constantFrom(...METHODS.filter((m) => m !== route.method && !route.siblings.includes(m)))
          : fc.constant(route.method);

    const noise = fc.record(
      {
        prefer: fc.oneof(
          fc.constantFrom("respond-async", "respond-async, wait=1", "handling=strict"),
          fc.string({ unit: ascii(), maxLength: 30 }),
        ),
        accept: fc.constantFrom("text/html", "*/*", "application/xml", "application/json;q=0"),
        "x-forwarded-for": fc.constantFrom("127.0.0.1", "::1", "evil"),
        origin: fc.constantFrom("https://evil.example", "null"),
      },
      { requiredKeys: [] },
    );

    return fc
      .record({
        auth: auth.chain((k) => authHeader(k, f)),
        segments,
        query,
        version,
        body,
        idempotency,
        method,
        noise,
      })
      .map((parts): Case => {
        const values = new Map(route.params.map((p, i) => [p.name, parts.segments[i]]));
        let path = route.template;
        for (const p of route.params) {
          const v = values.get(p.name);
          path =
            p.kind === "path" && v === null ? path.replace(`/{${p.name}}`, "") : path.replace(`{${p.name}}`, v ?? "");
        }
        const search = new URLSearchParams([...parts.query.pairs, ...(parts.body?.query ?? [])]);
        if (parts.version?.where === "query") search.append("version", parts.version.value);
        let qs = search.toString();
        if (parts.query.raw) qs = qs ? `${qs}&${parts.query.raw}` : parts.query.raw;
        const headers: [string, string][] = [];
        if (parts.auth !== null) headers.push(["authorization", parts.auth]);
        if (parts.version?.where === "header") headers.push(["edgefn-version", parts.version.value]);
        if (parts.idempotency !== null) headers.push(["idempotency-key", parts.idempotency]);
        for (const [k, v] of Object.entries(parts.noise)) if (v !== undefined) headers.push([k, v]);
        const sendsBody = parts.body !== null && parts.method !== "GET";
        if (sendsBody && parts.body?.type) headers.push(["content-type", parts.body.type]);
        return {
          primary,
          method: parts.method,
          url: `${path}${qs ? `?${qs}` : ""}`,
          headers,
          body: sendsBody ? parts.body?.text : undefined,
        };
      });
  });
}

/**
 * Requests the fuzzer once found answered wrongly (5xx, or accepted), fixed since: each route runs its own
 * first, whatever the seed.
 */
function regressions(route: RouteSpec, f: Fixture): Case[] {
  const admin: [string, string] = ["authorization", `Bearer ${ADMIN_KEY}`];
  const json: [string, string] = ["content-type", "application/json"];
  const versions = `/api/functions/${f.a.fn.id}/versions`;
  const cases: Record<string, Omit<Case, "primary">[]> = {
    // An entrypoint out of the upload was a 500 (normalizePath's BuildError escaped).
    "POST /api/functions/{id}/versions": [
      {
        method: "POST",
        url: versions,
        headers: [admin, json],
        body: toJson({ code: HANDLE, entrypoint: "../index.ts" }),
      },
      {
        method: "POST",
        url: `${versions}?entrypoint=a%2F..%2F..%2Findex.ts`,
        headers: [admin, ["content-type", "application/zip"]],
        body: oneFileZip(),
      },
      {
        method: "POST",
        url: versions,
        headers: [admin, ["content-type", "multipart/form-data; boundary=fuzzboundary"]],
        body: multipart([
          { name: "code", filename: "code.zip", data: oneFileZip() },
          { name: "entrypoint", data: "../x.js" },
        ]),
      },
    ],
    // An empty expiresAt made a key that never expires.
    "POST /api/keys": [
      {
        method: "POST",
        url: "/api/keys",
        headers: [admin, json],
        body: toJson({ name: "fuzz", role: "viewer", workspaceId: f.a.ws.id, expiresAt: "" }),
      },
    ],
  };
  // /run of a function without a fetch handler was a 501 in plain text, and a recorded call.
  if (route.run) {
    cases[route.id] = [{ method: route.method, url: `/run/${f.a.ws.name}/${f.a.fn.name}/x`, headers: [admin] }];
  }
  return (cases[route.id] ?? []).map((c) => ({ ...c, primary: "regression" }));
}

// ---------------------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------------------

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();
const describeCase = (c: Case) =>
  `${c.method} ${c.url.slice(0, 300)} [primary: ${c.primary}] headers=${JSON.stringify(c.headers.map(([k, v]) => [k, v.slice(0, 80)]))} body=${typeof c.body === "string" || c.body === undefined ? JSON.stringify(c.body?.slice(0, 300) ?? null) : `<${c.body.byteLength} bytes>`}`;

async function send(c: Case): Promise<{ status: number; text: string; headers: Headers } | null> {
  let request: Request;
  try {
    const headers = new Headers();
    for (const [k, v] of c.headers) headers.append(k, v);
    request = new Request(`${ORIGIN}${c.url}`, { method: c.method, headers, body: c.body });
  } catch {
    return null; // no client can send this (e.g. a header value fetch refuses)
  }
  const res = await exports.default.fetch(request);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/**
 * The compatibility surfaces answer errors in their platforms' shapes (docs/compat.md); everything else about an
 * answer (below 500, no key or secret, no state change) is checked as for the native API.
 */
const SURFACES: { prefix: RegExp; name: string; shaped: (body: any, status: number) => boolean }[] = [
  {
    prefix: /^\/api\/v1(\/|$)/,
    name: "Cognite",
    shaped: (b, status) =>
      Object.keys(b ?? {}).join() === "error" &&
      b.error.code === status &&
      typeof b.error.message === "string" &&
      b.error.message.length > 0,
  },
  {
    // Everything under /v1 is Appwrite's surface: functions, health, console, projects, proxy rules, account.
    prefix: /^\/v1(\/|$)/,
    name: "Appwrite",
    shaped: (b, status) =>
      typeof b?.message === "string" && b.message.length > 0 && b.code === status && typeof b.type === "string",
  },
  {
    prefix: /^\/cloud\/v1\/faas(\/|$)/,
    name: "Gcore",
    shaped: (b) => typeof b?.message === "string" && b.message.length > 0,
  },
];

function checkAnswer(c: Case, res: { status: number; text: string; headers: Headers }) {
  const where = `${describeCase(c)}\n  -> ${res.status} ${res.text.slice(0, 500)}`;
  if (res.status >= 500) throw new Error(`5xx: ${where}`);
  if (res.text.includes(ADMIN_KEY)) throw new Error(`the answer carries the admin key: ${where}`);
  if (res.text.includes(SECRET)) throw new Error(`the answer carries a function secret: ${where}`);
  if (Object.values(f.keys).some((key) => res.text.includes(key)))
    throw new Error(`the answer carries an API key: ${where}`);
  if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== PROTOTYPE_KEYS || "polluted" in {}) {
    throw new Error(`Object.prototype was polluted: ${where}`);
  }
  if (res.status < 400) return;
  let body: any;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new Error(`an error that is not JSON: ${where}`);
  }
  // The path the request reached: "/cloud/v1/faas/%2e%2e" is "/cloud/v1/", which is no surface's.
  let path = c.url.split(/[?#]/)[0] ?? c.url;
  try {
    path = new URL(c.url, ORIGIN).pathname;
  } catch {
    // Not a URL the runtime would parse either: keep the raw path.
  }
  const surface = SURFACES.find((x) => x.prefix.test(path));
  if (surface) {
    if (!surface.shaped(body, res.status)) throw new Error(`an error not in ${surface.name}'s shape: ${where}`);
    if (/\n\s+at |^\s+at .+:\d+:\d+/m.test(String(body.message ?? body.error?.message)))
      throw new Error(`an error message with a stack trace: ${where}`);
    return;
  }
  const error = body?.error;
  const shaped =
    typeof body === "object" &&
    body !== null &&
    Object.keys(body).join() === "error" &&
    typeof error === "object" &&
    error !== null &&
    Object.keys(error).every((k) => ["code", "message", "requestId", "details"].includes(k)) &&
    typeof error.code === "string" &&
    ERROR_STATUS[error.code as keyof typeof ERROR_STATUS] === res.status &&
    typeof error.message === "string" &&
    error.message.length > 0 &&
    typeof error.requestId === "string" &&
    error.requestId.length > 0;
  if (!shaped) throw new Error(`an error not in the one shape: ${where}`);
  if (/\n\s+at |^\s+at .+:\d+:\d+/m.test(error.message))
    throw new Error(`an error message with a stack trace: ${where}`);
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json")) {
    throw new Error(`an error without Content-Type application/json: ${where}`);
  }
  if (res.headers.get("x-request-id") !== error.requestId) throw new Error(`requestId is not x-request-id: ${where}`);
}

// ---------------------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------------------

const stats = {
  started: 0,
  requests: 0,
  unsendable: 0,
  byStatus: {} as Record<string, number>,
  accepted: [] as string[],
  casesByRoute: new Map<string, number>(),
  statusByRoute: new Map<string, Record<string, number>>(),
};

let f: Fixture;
beforeAll(async () => {
  stats.started = Date.now();
  TABLES = await platformTables();
  expect(TABLES).toEqual(
    expect.arrayContaining(["functions", "versions", "schedules", "schemas", "api_keys", "calls"]),
  );
  const a = await side("viewer");
  const b = await side("admin");
  const wsAdmin = await newKey("admin", a.ws.id);
  f = { a, b, keys: { wsAdmin: wsAdmin.key, viewer: a.secretKey, foreign: b.secretKey } };
});

afterAll(() => {
  if (VERBOSE) for (const [id, counts] of stats.statusByRoute) console.log(`${id}: ${JSON.stringify(counts)}`);
  const fourXX = Object.fromEntries(
    Object.entries(stats.byStatus).filter(([s]) => Number(s) >= 400 && Number(s) < 500),
  );
  const fiveXX = Object.entries(stats.byStatus)
    .filter(([s]) => Number(s) >= 500)
    .reduce((n, [, count]) => n + count, 0);
  console.log(
    JSON.stringify({
      fuzz: "edgefn",
      seed: SEED,
      casesPerRoute: RUNS,
      routesFuzzed: stats.casesByRoute.size,
      requests: stats.requests,
      unsendable: stats.unsendable,
      fourXX,
      twoXX: Object.entries(stats.byStatus)
        .filter(([s]) => Number(s) < 400)
        .reduce((n, [, count]) => n + count, 0),
      fiveXX,
      acceptedMutations: stats.accepted.length,
      seconds: Math.round((Date.now() - stats.started) / 1000),
    }),
  );
});

describe(`fuzz every route (seed ${SEED}, ${RUNS} cases per route)`, () => {
  it("fuzzes every route the app serves, and the document describes /run", () => {
    const fuzzed = new Set(ROUTES.map((r) => r.id));
    const uncovered = [...servedRoutes()].filter((r) => !fuzzed.has(r) && !(r in SKIPPED));
    expect(uncovered, "served routes neither fuzzed nor skipped with a reason").toEqual([]);
    expect([...fuzzed]).toContain("POST /run/{workspace}/{function}/{path}");
    const extras = ROUTES.filter((r) => !doc.paths[r.template]).map((r) => r.id);
    console.log(`fuzzing ${ROUTES.length} routes; not in the document: ${extras.join(", ")}`);
  });

  for (const route of ROUTES) {
    it(route.id, async () => {
      if (route.problem) throw new Error(`${route.id}: ${route.problem}`);
      let baseline = await settledSnapshot();
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(caseArb(route, f), async (c) => {
          cases++;
          const res = await send(c);
          if (res === null) {
            stats.unsendable++;
            return;
          }
          stats.requests++;
          stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
          const mine = stats.statusByRoute.get(route.id) ?? {};
          mine[res.status] = (mine[res.status] ?? 0) + 1;
          stats.statusByRoute.set(route.id, mine);
          if (VERBOSE) console.log(`${res.status} ${describeCase(c).slice(0, 400)} -> ${res.text.slice(0, 160)}`);
          checkAnswer(c, res);
          if (c.primary === "regression" && res.status < 400) {
            throw new Error(`a request known to be invalid was accepted: ${describeCase(c)} -> ${res.status}`);
          }
          if (!route.mutating && c.method === "GET") return;
          const after = await snapshot();
          if (res.status < 400) {
            // Valid after all: its change is legitimate. Noted, and the new state is the baseline.
            stats.accepted.push(`${describeCase(c)} -> ${res.status}`);
            console.warn(`accepted: ${describeCase(c)} -> ${res.status} ${res.text.slice(0, 200)}`);
            baseline = await settledSnapshot();
            return;
          }
          const diff = stateDiff(baseline, after);
          if (diff) {
            baseline = after;
            throw new Error(`a rejected request changed state: ${describeCase(c)} -> ${res.status}\n${diff}`);
          }
        }),
        { seed: SEED, numRuns: RUNS, examples: regressions(route, f).map((c): [Case] => [c]) },
      );
      stats.casesByRoute.set(route.id, cases);
      // Writes made after the answer (call records) land within ~10 ms: give them time, then compare.
      await new Promise((r) => setTimeout(r, 100));
      expect(stateDiff(baseline, await snapshot()), `${route.id} changed state`).toBeNull();
    });
  }

  it("every route got its cases, and none answered 5xx", () => {
    const short = ROUTES.filter((r) => (stats.casesByRoute.get(r.id) ?? 0) < RUNS).map((r) => r.id);
    expect(short, "routes with fewer fuzz cases than EDGEFN_FUZZ_RUNS").toEqual([]);
    expect(stats.byStatus).not.toHaveProperty("500");
  });
});
