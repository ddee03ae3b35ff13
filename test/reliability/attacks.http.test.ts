/**
 * HTTP attacks on the platform, several variants of each:
 * - credentials never reach a function: an edgefn key (the caller's, another one, the admin key) in any header or
 *   cookie is taken out of what a function receives, through /run, a function's own origin, the Supabase surface, an
 *   Appwrite execution and a native invoke; a webhook's own token and ordinary cookies still reach a public function;
 * - function content is inert on the platform's origin: origin-wide response headers are dropped and a sandbox CSP
 *   without allow-same-origin is added (through /run and the Supabase surface); on the function's own origin only
 *   parent-domain cookies are confined; a function's host never serves the console or the API;
 * - bodies are capped while they stream: a body over its route's cap is a 413 in the surface's shape, with or
 *   without Content-Length, and creates nothing; a viewer key cannot make the host read a 64 MiB body.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { ADMIN_KEY, type ApiResponse, api, expectStatus, newFunction, tenant, unique } from "../support/api";
import { deploy } from "../support/deploy";
import { expectSurfaceError, lazyBody, type Surface, send } from "../support/http";

type Tenant = Awaited<ReturnType<typeof tenant>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers with everything it received: method, path and every header. */
const ECHO = {
  "index.js": `export default {
    async fetch(request) {
      const headers = {};
      for (const [k, v] of request.headers) headers[k] = v;
      const url = new URL(request.url);
      return Response.json({ path: url.pathname, host: url.host, headers });
    },
  };`,
};

/** The same, as an Appwrite handler. */
const APPWRITE_ECHO = {
  "index.js": "export default async ({ req, res }) => res.json({ path: req.path, headers: req.headers });",
};

/** Answers with everything a page could do to the origin it is served from. */
const PAGE = {
  "index.js": `export default {
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const headers = new Headers({
        "content-type": "text/html; charset=utf-8",
        "service-worker-allowed": "/",
        "clear-site-data": '"*"',
        "nel": '{"report_to":"default","max_age":31536000,"include_subdomains":true}',
        "report-to": '{"group":"default","max_age":31536000,"endpoints":[{"url":"https://reports.example/r"}]}',
        "reporting-endpoints": 'default="https://reports.example/r"',
        "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
        "access-control-allow-credentials": "true",
        "origin-agent-cluster": "?0",
        "alt-svc": 'h3=":443"; ma=86400',
        "content-security-policy": path === "/own-sandbox"
          ? "sandbox allow-same-origin allow-scripts"
          : "default-src 'self'; img-src https://img.example",
      });
      headers.append("set-cookie", "sid=abc; Path=/; Domain=localhost; HttpOnly; Secure");
      headers.append("set-cookie", "pref=dark; domain=.edgefn.test; Path=/");
      headers.append("set-cookie", "plain=1; Path=/");
      const page = "<!doctype html><script>navigator.serviceWorker.register('/sw.js', { scope: '/' })</script>";
      if (path === "/empty") return new Response(null, { status: 204, headers });
      // Header names that are not strings but become the names of origin-wide headers as text.
      const forged = {
        "/forged-array": [["set-cookie"], "sid=forged; Path=/"],
        "/forged-string": [new String("service-worker-allowed"), "/"],
      }[path];
      if (forged) {
        class Forged extends Response {
          get headers() {
            return [forged, ["content-type", "text/html"]];
          }
        }
        return new Forged(page);
      }
      if (path === "/redirect") {
        headers.set("location", "/api/keys");
        return new Response(null, { status: 302, headers });
      }
      if (path === "/stream") {
        const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(page)); c.close(); } });
        return new Response(body, { headers });
      }
      return new Response(page, { headers });
    },
  };`,
};

/** The headers a function may not send from the platform's origin. */
const ORIGIN_WIDE = [
  "set-cookie",
  "service-worker-allowed",
  "clear-site-data",
  "nel",
  "report-to",
  "reporting-endpoints",
  "strict-transport-security",
  "access-control-allow-credentials",
  "origin-agent-cluster",
  "alt-svc",
];

interface Fixture {
  t: Tenant;
  open: { id: string; name: string };
  closed: { id: string; name: string };
  awOpen: { id: string; name: string };
  awClosed: { id: string; name: string; externalId: string };
  page: { id: string; name: string };
  /** A protected fetch function that ignores its request (for the body caps). */
  sink: { id: string; name: string; externalId: string };
}

let f: Fixture;
beforeAll(async () => {
  const t = await tenant();
  const [open, closed, awOpen, awClosed, page, sink] = await Promise.all([
    newFunction(t.ws.id, { name: unique("open"), public: true }),
    newFunction(t.ws.id, { name: unique("closed") }),
    newFunction(t.ws.id, { name: unique("awopen"), public: true }),
    newFunction(t.ws.id, { name: unique("awclosed"), externalId: unique("aw") }),
    newFunction(t.ws.id, { name: unique("page"), public: true }),
    newFunction(t.ws.id, { name: unique("sink"), externalId: unique("sink") }),
  ]);
  await Promise.all([
    deploy(open.id, ECHO),
    deploy(closed.id, ECHO),
    deploy(awOpen.id, APPWRITE_ECHO),
    deploy(awClosed.id, APPWRITE_ECHO),
    deploy(page.id, PAGE),
    deploy(sink.id, { "index.js": "export default { fetch() { return new Response('ok'); } };" }),
  ]);
  f = { t, open, closed, awOpen, awClosed, page, sink };
}, 120_000);

/** A function's own host: the app routes any request with it to the function. */
const hostOf = (fn: { name: string }) => `${fn.name}.${f.t.ws.name}.localhost`;

// ---------------------------------------------------------------------------------------------------------------
// Credentials never reach a function

/** Every way a client could put an edgefn key into a request, besides the Authorization it authenticates with. */
function carriers(key: string): { name: string; headers: Record<string, string>; authorization?: true }[] {
  return [
    { name: "Authorization: Bearer", headers: { authorization: `Bearer ${key}` }, authorization: true },
    { name: "Authorization: bearer (lower case)", headers: { authorization: `bearer ${key}` }, authorization: true },
    {
      name: "Authorization: Basic, key as user",
      headers: { authorization: `Basic ${btoa(`${key}:`)}` },
      authorization: true,
    },
    {
      name: "Authorization: Basic, key as password",
      headers: { authorization: `Basic ${btoa(`someone:${key}`)}` },
      authorization: true,
    },
    { name: "Authorization: Token", headers: { authorization: `Token ${key}` }, authorization: true },
    { name: "apikey", headers: { apikey: key } },
    { name: "x-api-key", headers: { "x-api-key": key } },
    { name: "x-appwrite-key", headers: { "x-appwrite-key": key } },
    { name: "api-key", headers: { "api-key": key } },
    { name: "a custom header", headers: { "x-upstream-credential": key } },
    { name: "a custom header in a scheme", headers: { "x-forwarded-authorization": `Bearer ${key}` } },
    { name: "a custom header, Basic", headers: { "proxy-authorization": `Basic ${btoa(`u:${key}`)}` } },
    { name: "cookie edgefn_session", headers: { cookie: `edgefn_session=${key}` } },
    { name: "cookie __Host-edgefn_session", headers: { cookie: `__Host-edgefn_session=${key}` } },
    { name: "any cookie whose value is a key", headers: { cookie: `theme=dark; sid=${key}; lang=en` } },
  ];
}

/** What must never show in a function's echo for this key: the key, and the base64 forms Basic carries it in. */
const forbidden = (key: string) => [key, btoa(`${key}:`), btoa(`someone:${key}`), btoa(`u:${key}`)];

/** The credentials an echo shows: each as "what (which key)". */
function leaks(echo: unknown, keys: Record<string, string>, what: string): string[] {
  const text = JSON.stringify(echo);
  const found: string[] = [];
  for (const [name, key] of Object.entries(keys)) {
    if (forbidden(key).some((s) => text.includes(s))) found.push(`${what} (${name})`);
  }
  if (/edgefn_session/i.test(text)) found.push(`${what} (the platform's session cookie)`);
  return found;
}

interface Channel {
  name: string;
  /** Whether a call needs the caller's key in Authorization (a protected function, or the Supabase surface). */
  keyed: boolean;
  call: (headers: Record<string, string>) => Promise<ApiResponse>;
}

/** The ways a request reaches a function: each answers with what the function received. */
function channels(): Channel[] {
  const runPath = (fn: { name: string }) => `/run/${f.t.ws.name}/${fn.name}/echo`;
  const supabase = (fn: () => { name: string }, method: string) => (headers: Record<string, string>) =>
    send(`/functions/v1/${fn().name}/echo`, {
      method,
      headers: { "x-edgefn-workspace": f.t.ws.name, ...headers },
      body: method === "GET" ? undefined : "{}",
    });
  return [
    { name: "/run, public", keyed: false, call: (h) => send(runPath(f.open), { headers: h }) },
    {
      name: "/run, protected",
      keyed: true,
      call: (h) => send(runPath(f.closed), { method: "POST", headers: h, body: "x" }),
    },
    {
      name: "the function's own origin, public",
      keyed: false,
      call: (h) => send("/echo", { headers: { ...h, host: hostOf(f.open) } }),
    },
    {
      name: "the function's own origin, protected",
      keyed: true,
      call: (h) => send("/echo", { method: "PUT", headers: { ...h, host: hostOf(f.closed) }, body: "x" }),
    },
    { name: "the Supabase surface, public", keyed: true, call: supabase(() => f.open, "POST") },
    { name: "the Supabase surface, protected", keyed: true, call: supabase(() => f.closed, "GET") },
    { name: "/run of an Appwrite handler, public", keyed: false, call: (h) => send(runPath(f.awOpen), { headers: h }) },
    {
      name: "/run of an Appwrite handler, protected",
      keyed: true,
      call: (h) => send(runPath(f.awClosed), { headers: h }),
    },
    {
      name: "an Appwrite handler on its own origin, public",
      keyed: false,
      call: (h) => send("/echo", { headers: { ...h, host: hostOf(f.awOpen) } }),
    },
  ];
}

describe("credentials never reach a function", () => {
  const keys = () => ({
    "the caller's key": f.t.keys.invoker,
    "another key": f.t.keys.developer,
    "the admin key": ADMIN_KEY,
  });

  for (const channel of channels()) {
    it(`${channel.name}: no edgefn key, in any header or cookie, reaches the function`, async () => {
      const all = keys();
      const caller = all["the caller's key"];
      const found: string[] = [];
      let cases = 0;
      for (const [which, key] of Object.entries(all)) {
        for (const carrier of carriers(key)) {
          let headers = carrier.headers;
          if (channel.keyed) {
            // The call authenticates with Authorization: a carrier in it must be a Bearer key itself.
            if (carrier.authorization && !/^bearer /i.test(carrier.headers.authorization as string)) continue;
            if (!carrier.authorization) headers = { authorization: `Bearer ${caller}`, ...carrier.headers };
          }
          const what = `${carrier.name} carrying ${which}`;
          const res = await channel.call(headers);
          expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(200);
          expect((res.body as { path: string }).path, what).toBe("/echo");
          found.push(...leaks(res.body, all, what));
          cases++;
        }
      }
      expect(found, "credentials that reached the function").toEqual([]);
      expect(cases).toBeGreaterThanOrEqual(channel.keyed ? 3 * 12 : 3 * 15);
    });
  }

  /** An Appwrite execution of this function with these request headers; the function's echo. */
  const execute = async (id: string, headers: Record<string, string>) => {
    const res = await send(`/v1/functions/${id}/executions`, {
      method: "POST",
      headers: {
        "x-appwrite-project": f.t.ws.id,
        "x-appwrite-key": f.t.keys.invoker,
        "content-type": "application/json",
      },
      body: JSON.stringify({ path: "/echo", method: "GET", headers }),
    });
    const exec = expectStatus(res, 201);
    expect(exec.status, exec.errors).toBe("completed");
    return JSON.parse(exec.responseBody) as { path: string; headers: Record<string, string> };
  };

  it("an Appwrite execution passes its headers on without any edgefn key (Appwrite handler and fetch handler)", async () => {
    const all = keys();
    const found: string[] = [];
    for (const id of [f.awClosed.externalId, f.closed.id]) {
      for (const [which, key] of Object.entries(all)) {
        for (const carrier of carriers(key)) {
          const echo = await execute(id, { ...carrier.headers, "x-kept": "yes" });
          expect(echo.headers["x-kept"]).toBe("yes");
          found.push(
            ...leaks(
              echo,
              all,
              `POST /v1/functions/${id === f.closed.id ? "{fetch fn}" : "{appwrite fn}"}/executions, headers.${carrier.name} carrying ${which}`,
            ),
          );
        }
      }
    }
    expect(found, "credentials that reached the function").toEqual([]);
  });

  it("a native invoke of an Appwrite handler passes none of the invoke request's headers", async () => {
    const all = keys();
    const found: string[] = [];
    for (const [which, key] of Object.entries(all)) {
      for (const carrier of carriers(key).filter((c) => !c.authorization)) {
        const res = await send(`/api/functions/${f.awClosed.id}/invoke`, {
          method: "POST",
          headers: {
            ...carrier.headers,
            authorization: `Bearer ${all["the caller's key"]}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({ args: { a: 1 } }),
        });
        const out = expectStatus(res, 200);
        expect(out.ok, JSON.stringify(out)).toBe(true);
        found.push(...leaks(out.result, all, `${carrier.name} carrying ${which}`));
      }
    }
    expect(found).toEqual([]);
  });

  const WEBHOOK = {
    authorization: "Bearer whsec_123",
    cookie: "theme=dark; edgefn_session=opaque-session-value; cart=42",
    "x-webhook-signature": "t=1,v1=5257a869e7",
  };

  it("a webhook's own Authorization and ordinary cookies still reach a public function", async () => {
    for (const res of [
      await send(`/run/${f.t.ws.name}/${f.open.name}/hook`, { method: "POST", headers: WEBHOOK, body: "{}" }),
      await send("/hook", { method: "POST", headers: { ...WEBHOOK, host: hostOf(f.open) }, body: "{}" }),
      await send(`/run/${f.t.ws.name}/${f.awOpen.name}/hook`, { method: "POST", headers: WEBHOOK, body: "{}" }),
      await send("/hook", { headers: { ...WEBHOOK, host: hostOf(f.awOpen) } }),
    ]) {
      const echo = expectStatus(res, 200) as { headers: Record<string, string> };
      expect(echo.headers.authorization).toBe("Bearer whsec_123");
      expect(echo.headers.cookie).toBe("theme=dark; cart=42");
      expect(echo.headers["x-webhook-signature"]).toBe("t=1,v1=5257a869e7");
    }
  });

  it("an Appwrite execution passes a webhook's Authorization and ordinary cookies on, not the platform's cookie", async () => {
    const echo = await execute(f.awClosed.externalId, WEBHOOK);
    expect(echo.headers.authorization).toBe("Bearer whsec_123");
    expect(echo.headers["x-webhook-signature"]).toBe("t=1,v1=5257a869e7");
    expect(echo.headers.cookie).toBe("theme=dark; cart=42");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Function content is inert on the platform's origin

/** The policies of a Content-Security-Policy answer (several headers are joined with commas). */
const policies = (res: ApiResponse) =>
  (res.headers.get("content-security-policy") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);

function expectInert(res: ApiResponse, what: string, ownPolicy: string) {
  expect(res.status, what).toBeLessThan(400);
  const list = policies(res);
  expect(
    list.some((p) => /(^|;)\s*sandbox\b/.test(p) && !/allow-same-origin/.test(p)),
    `${what}: a sandbox policy without allow-same-origin in ${JSON.stringify(list)}`,
  ).toBe(true);
  expect(list, `${what}: the function's own policy`).toContain(ownPolicy);
  for (const name of ORIGIN_WIDE) expect(res.headers.get(name), `${what}: ${name}`).toBeNull();
  expect(res.headers.getSetCookie(), what).toEqual([]);
}

describe("function content is inert on the platform's origin", () => {
  const OWN = "default-src 'self'; img-src https://img.example";
  const paths = ["/", "/stream", "/empty", "/redirect", "/own-sandbox"];
  const own = (path: string) => (path === "/own-sandbox" ? "sandbox allow-same-origin allow-scripts" : OWN);

  it("through /run: a sandbox CSP without allow-same-origin, the function's own CSP, no origin-wide header", async () => {
    for (const path of paths) {
      for (const method of ["GET", "HEAD", "POST"]) {
        const res = await send(`/run/${f.t.ws.name}/${f.page.name}${path}`, { method, redirect: "manual" });
        expectInert(res, `${method} /run ...${path}`, own(path));
      }
      // An invoker key changes nothing.
      const keyed = await send(`/run/${f.t.ws.id}/${f.page.id}${path}`, {
        headers: { authorization: `Bearer ${f.t.keys.invoker}` },
        redirect: "manual",
      });
      expectInert(keyed, `/run by ids ...${path}`, own(path));
    }
  });

  it("through /run: an answer whose headers getter reports forged names sends only its real headers, inert", async () => {
    for (const path of ["/forged-array", "/forged-string"]) {
      // The answer crosses to the platform as the runtime made it: the getter's pairs are never read as headers.
      const res = await send(`/run/${f.t.ws.name}/${f.page.name}${path}`, { redirect: "manual" });
      expect(res.status, path).toBe(200);
      const list = policies(res);
      expect(
        list.some((p) => /(^|;)\s*sandbox\b/.test(p) && !/allow-same-origin/.test(p)),
        path,
      ).toBe(true);
      for (const name of ORIGIN_WIDE) expect(res.headers.get(name), `${path}: ${name}`).toBeNull();
      expect(res.headers.getSetCookie(), path).toEqual([]);
      expect(res.headers.get("content-type"), path).not.toBe("text/html");
    }
  });

  it("through the Supabase surface: the same", async () => {
    for (const path of paths) {
      for (const method of ["GET", "POST"]) {
        const res = await send(`/functions/v1/${f.page.name}${path}`, {
          method,
          headers: { authorization: `Bearer ${f.t.keys.invoker}` },
          redirect: "manual",
        });
        expectInert(res, `${method} /functions/v1/...${path}`, own(path));
      }
    }
  });

  it("on the function's own origin: its headers pass, cookies lose any Domain, no sandbox", async () => {
    for (const host of [hostOf(f.page), `${f.page.name}--${f.t.ws.name}.localhost`, `${hostOf(f.page)}:8787`]) {
      for (const path of ["/", "/stream", "/empty", "/redirect"]) {
        const res = await send(path, { headers: { host }, redirect: "manual" });
        const what = `${host}${path}`;
        expect(res.status, what).toBeLessThan(400);
        const cookies = res.headers.getSetCookie();
        expect(cookies, what).toHaveLength(3);
        for (const c of cookies) expect(c, what).not.toMatch(/domain\s*=/i);
        expect(cookies.map((c) => c.split(";")[0])).toEqual(["sid=abc", "pref=dark", "plain=1"]);
        expect(policies(res), what).toEqual([OWN]);
        expect(res.headers.get("service-worker-allowed"), what).toBe("/");
      }
    }
  });

  it("on a function's host, the console's and the API's paths are the function's", async () => {
    const hosts = [
      hostOf(f.open),
      `${f.open.name}--${f.t.ws.name}.localhost`,
      hostOf(f.open).toUpperCase(),
      `${hostOf(f.open)}:8787`,
    ];
    const platform = [
      "/",
      "/api/workspaces",
      "/console.js",
      "/index.html",
      "/api/openapi.json",
      "/api/session",
      "/docs",
      "/healthz",
      "/v1/functions",
      `/api/v1/projects/${f.t.ws.name}/functions`,
      `/functions/v1/${f.open.name}`,
      `/run/${f.t.ws.name}/${f.open.name}/x`,
    ];
    for (const host of hosts) {
      for (const path of platform) {
        const res = await send(path, {
          headers: { host, authorization: `Bearer ${ADMIN_KEY}`, "x-appwrite-project": f.t.ws.id },
        });
        const what = `${host}${path}`;
        expect(res.status, what).toBe(200);
        const echo = res.body as { path: string; headers: Record<string, string> };
        expect(echo.path, what).toBe(path);
        expect(leaks(echo, { "the admin key": ADMIN_KEY }, what)).toEqual([]);
      }
    }
    // The platform's origin still serves them.
    expect(Array.isArray(expectStatus(await api("GET", "/api/workspaces"), 200).data)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Bodies are capped while they stream

const MiB = 1024 * 1024;

interface CapCase {
  name: string;
  surface: Surface;
  cap: number;
  url: () => string;
  headers: () => Record<string, string>;
  /** The body's envelope around the filler. */
  prefix: (boundary: string) => string;
  suffix: (boundary: string) => string;
  contentType: (boundary: string) => string;
  /** Rows that a request which got through would have added. */
  count?: () => Promise<number>;
}

const count = async (sql: string, ...binds: unknown[]) =>
  (
    (await env.DB.prepare(sql)
      .bind(...binds)
      .first<{ n: number }>()) ?? { n: 0 }
  ).n;

async function r2Objects(): Promise<number> {
  let n = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await env.CODE.list({ cursor, limit: 1000 });
    n += page.objects.length;
    if (!page.truncated) return n;
    cursor = page.cursor;
  }
}

function capCases(key: () => string): CapCase[] {
  const json = () => "application/json";
  const versionsOf = (id: () => string) => () =>
    count("SELECT count(*) AS n FROM versions WHERE function_id = ?", id());
  const functionsOf = () => count("SELECT count(*) AS n FROM functions WHERE workspace_id = ?", f.t.ws.id);
  return [
    {
      name: "POST /api/functions/{id}/invoke",
      surface: "native",
      cap: LIMITS.body.json,
      url: () => `/api/functions/${f.sink.id}/invoke`,
      headers: () => ({ authorization: `Bearer ${key()}` }),
      prefix: () => '{"args": {"pad": "',
      suffix: () => '"}}',
      contentType: json,
      count: () => count("SELECT count(*) AS n FROM calls WHERE function_id = ?", f.sink.id),
    },
    {
      name: "POST /api/functions/{id}/versions",
      surface: "native",
      cap: LIMITS.body.upload,
      url: () => `/api/functions/${f.sink.id}/versions`,
      headers: () => ({ authorization: `Bearer ${key()}` }),
      prefix: () => '{"files": {"index.js": "export default {}; //',
      suffix: () => '"}}',
      contentType: json,
      count: versionsOf(() => f.sink.id),
    },
    {
      name: "POST /v1/functions/{id}/deployments (Appwrite)",
      surface: "appwrite",
      cap: LIMITS.body.chunk,
      url: () => `/v1/functions/${f.sink.externalId}/deployments`,
      headers: () => ({ "x-appwrite-project": f.t.ws.id, "x-appwrite-key": key() }),
      prefix: (b) =>
        `--${b}\r\nContent-Disposition: form-data; name="activate"\r\n\r\nfalse\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name="code"; filename="code.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`,
      suffix: (b) => `\r\n--${b}--\r\n`,
      contentType: (b) => `multipart/form-data; boundary=${b}`,
      count: versionsOf(() => f.sink.id),
    },
    {
      name: "POST /api/v1/projects/{project}/functions (Cognite)",
      surface: "cognite",
      cap: LIMITS.body.upload,
      url: () => `/api/v1/projects/${f.t.ws.name}/functions`,
      headers: () => ({ authorization: `Bearer ${key()}` }),
      prefix: () => `{"items": [{"name": "${unique("big")}", "code": "export function handle() {} //`,
      suffix: () => '"}]}',
      contentType: json,
      count: functionsOf,
    },
    {
      name: "POST /cloud/v1/faas/namespaces/{p}/{r}/{namespace}/functions (Gcore)",
      surface: "gcore",
      cap: LIMITS.body.upload,
      url: () => `/cloud/v1/faas/namespaces/1/76/${f.t.ws.name}/functions`,
      headers: () => ({ authorization: `apikey ${key()}` }),
      prefix: () =>
        `{"name": "${unique("big")}", "main_method": "run", "runtime": "node18.20.2", "code_text": "export function run() {} //`,
      suffix: () => '"}',
      contentType: json,
      count: functionsOf,
    },
  ];
}

/** How much over the cap a refused body may have been read: what the runtime buffers ahead of the counting. */
const SLACK = 2 * MiB;

describe("bodies are capped while they stream", () => {
  for (const c of capCases(() => f.t.keys.developer)) {
    it(`${c.name}: a body over ${c.cap / MiB} MiB is a 413 with Content-Length and streamed, and creates nothing`, async () => {
      const rows = c.count ?? (async () => 0);
      const before = { rows: await rows(), objects: await r2Objects() };
      const boundary = `----edgefn${crypto.randomUUID().slice(0, 8)}`;
      const size = c.cap + 64 * 1024;
      const headers = () => ({ ...c.headers(), "content-type": c.contentType(boundary) });

      // Whole, so the runtime sends its Content-Length.
      const whole = new Uint8Array(size).fill(0x61);
      whole.set(new TextEncoder().encode(c.prefix(boundary)));
      const end = new TextEncoder().encode(c.suffix(boundary));
      whole.set(end, size - end.byteLength);
      const withLength = await send(c.url(), { method: "POST", headers: headers(), body: whole });
      const capMessage = `larger than ${c.cap} bytes`;
      expect(expectSurfaceError(c.surface, withLength, 413)).toContain(capMessage);

      // A Content-Length over the cap on a stream: refused before the body is read.
      const declared = lazyBody(4 * c.cap, { prefix: c.prefix(boundary), suffix: c.suffix(boundary) });
      const early = await send(c.url(), {
        method: "POST",
        headers: { ...headers(), "content-length": String(declared.counter.total) },
        body: declared.stream,
        duplex: "half",
      } as RequestInit);
      expect(expectSurfaceError(c.surface, early, 413)).toContain(capMessage);
      expect(declared.counter.pulled, "bytes read of a body declared over the cap").toBeLessThanOrEqual(c.cap + SLACK);

      // Streamed without a length: refused once the count passes the cap, long before the end of the body.
      for (const total of [size, 4 * c.cap]) {
        const body = lazyBody(total, { prefix: c.prefix(boundary), suffix: c.suffix(boundary) });
        const streamed = await send(c.url(), {
          method: "POST",
          headers: headers(),
          body: body.stream,
          duplex: "half",
        } as RequestInit);
        expect(expectSurfaceError(c.surface, streamed, 413)).toContain(capMessage);
        expect(body.counter.pulled, "bytes read of a streamed body").toBeLessThanOrEqual(c.cap + SLACK);
      }

      await sleep(100);
      expect({ rows: await rows(), objects: await r2Objects() }).toEqual(before);
    });
  }

  it("a body under the cap, streamed without a length, still gets through", async () => {
    const body = lazyBody(2 * MiB, {
      prefix: '{"activate": false, "files": {"index.js": "export default { fetch() { return new Response(1); } }; //',
      suffix: '"}}',
    });
    const res = await send(`/api/functions/${f.sink.id}/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${f.t.keys.developer}`, "content-type": "application/json" },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    expect(expectStatus(res, 201).status).toBe("queued");
    expect(body.counter.pulled).toBe(body.counter.total);
  });

  const viewerCases = (): CapCase[] => [
    ...capCases(() => f.t.keys.viewer),
    {
      name: "POST /run/{workspace}/{function} (protected)",
      surface: "native",
      cap: LIMITS.body.http,
      url: () => `/run/${f.t.ws.name}/${f.sink.name}/upload`,
      headers: () => ({ authorization: `Bearer ${f.t.keys.viewer}` }),
      prefix: () => "",
      suffix: () => "",
      contentType: () => "application/octet-stream",
    },
    {
      name: "POST /functions/v1/{name} (Supabase, protected)",
      surface: "native",
      cap: LIMITS.body.http,
      url: () => `/functions/v1/${f.sink.name}`,
      headers: () => ({ authorization: `Bearer ${f.t.keys.viewer}` }),
      prefix: () => "",
      suffix: () => "",
      contentType: () => "application/octet-stream",
    },
  ];
  for (const c of viewerCases()) {
    it(`${c.name}: a viewer key cannot make the host read a 64 MiB body`, async () => {
      const boundary = `----edgefn${crypto.randomUUID().slice(0, 8)}`;
      for (const declared of [false, true]) {
        const body = lazyBody(64 * MiB, { prefix: c.prefix(boundary), suffix: c.suffix(boundary) });
        const headers: Record<string, string> = { ...c.headers(), "content-type": c.contentType(boundary) };
        if (declared) headers["content-length"] = String(body.counter.total);
        const res = await send(c.url(), { method: "POST", headers, body: body.stream, duplex: "half" } as RequestInit);
        const what = `${declared ? "with" : "without"} Content-Length: ${res.status} after ${body.counter.pulled} bytes`;
        expect(res.status, what).toBeGreaterThanOrEqual(400);
        expect(res.status, what).toBeLessThan(500);
        expect([403, 413], what).toContain(res.status);
        expectSurfaceError(c.surface, res, res.status);
        expect(body.counter.pulled, what).toBeLessThan(body.counter.total);
        expect(body.counter.pulled, what).toBeLessThanOrEqual(Math.min(c.cap, LIMITS.body.upload) + SLACK);
        console.log(`viewer, 64 MiB, ${c.name}, ${what}`);
      }
    });
  }
});
