/**
 * A function's runtime configuration: env vars and secrets (Cognite's rules), timeoutMs and cpuMs within the
 * bounds of GET /api/limits, allowedHosts, and configRevision. What an isolate sees of this is checked in
 * runtime.isolation.test.ts; here, what the API takes, refuses, shows and stores.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, expectError, expectStatus, newFunction, newWorkspace, unique, type Workspace } from "./support/api";
import { deploy, invoke } from "./support/deploy";

let ws: Workspace;
let limits: any;
beforeAll(async () => {
  ws = await newWorkspace();
  limits = expectStatus(await api("GET", "/api/limits"), 200);
});

const fnPath = (id: string) => `/api/functions/${id}`;
const getFn = async (id: string) => expectStatus(await api("GET", fnPath(id)), 200);
const patch = (id: string, body: unknown) => api("PATCH", fnPath(id), { body });
const create = (body: Record<string, unknown>) =>
  api("POST", "/api/functions", { body: { workspaceId: ws.id, name: unique("fn"), ...body } });
const many = (n: number, key: (i: number) => string, value = "v") =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [key(i), value]));

/** The functions table row as D1 holds it. */
const rowOf = (id: string) =>
  env.DB.prepare("SELECT env_vars, secrets, config_revision FROM functions WHERE id = ?")
    .bind(id)
    .first<{ env_vars: string | null; secrets: string | null; config_revision: number }>();

/**
 * Sends every body, on create and as a patch of `fn`, expecting a 400 whose message matches; then checks
 * that nothing was created and the function is unchanged.
 */
async function expectRefused(cases: [Record<string, unknown>, RegExp][]) {
  const fn = await newFunction(ws.id, { envVars: { KEEP: "me" }, secrets: { keep: "secret" } });
  const before = await rowOf(fn.id);
  for (const [body, message] of cases) {
    const name = unique("refused");
    const label = JSON.stringify(body).slice(0, 100);
    expect(expectError(await create({ ...body, name }), 400, "bad_request").message, label).toMatch(message);
    expect(expectError(await patch(fn.id, body), 400, "bad_request").message, label).toMatch(message);
    const found = expectStatus(await api("GET", `/api/functions?workspace_id=${ws.id}&name=${name}`), 200);
    expect(found.data, label).toEqual([]);
  }
  expect(await getFn(fn.id)).toEqual(fn);
  expect(await rowOf(fn.id)).toEqual(before);
}

describe("env vars", () => {
  it("takes up to 100 variables named with letters, digits and underscores", async () => {
    const envVars = { REGION: "eu", _private: "1", camelCase2: "", LONG: "x".repeat(limits.envVars.valueBytes) };
    const fn = expectStatus(await create({ envVars }), 201);
    expect(fn.envVars).toEqual(envVars);
    const hundred = many(limits.envVars.count, (i) => `VAR_${i}`);
    const patched = expectStatus(await patch(fn.id, { envVars: hundred }), 200);
    // A patch replaces the whole set.
    expect(patched.envVars).toEqual(hundred);
    expect(expectStatus(await patch(fn.id, { envVars: null }), 200).envVars).toBeNull();
  });

  it("refuses bad names, too many, too long, and values that are not strings: 400 naming the problem", async () => {
    expect(limits.envVars).toMatchObject({ count: 100, key: "^[A-Za-z_][A-Za-z0-9_]*$", valueBytes: 32768 });
    await expectRefused([
      [{ envVars: { "my-var": "x" } }, /^Invalid body: envVars: 'my-var' is not a valid name/],
      [{ envVars: { "MY VAR": "x" } }, /envVars: 'MY VAR' is not a valid name/],
      [{ envVars: { "1ST": "x" } }, /envVars: '1ST' is not a valid name/],
      [{ envVars: { ÄRGER: "x" } }, /not a valid name/],
      [{ envVars: { "": "x" } }, /not a valid name/],
      [{ envVars: many(101, (i) => `V${i}`) }, /envVars: at most 100 variables/],
      [{ envVars: { BIG: "x".repeat(limits.envVars.valueBytes + 1) } }, /value of 'BIG' is longer than 32768 bytes/],
      [{ envVars: many(5, (i) => `V${i}`, "x".repeat(30_000)) }, /envVars: names and values together exceed/],
      [{ envVars: { N: 1 } }, /envVars/],
      [{ envVars: ["A=1"] }, /envVars/],
    ]);
    // The total is what a function row can hold; the message and /api/limits say the same number.
    expect(limits.envVars.totalBytes).toBeGreaterThanOrEqual(limits.envVars.valueBytes);
  });
});

describe("secrets", () => {
  it("shows every secret as *** on create, get, list and patch, never its value", async () => {
    const secrets = { "api-key": "sk_live_abc123", "db-password": "correct horse battery", "0-9": "" };
    const created = expectStatus(await create({ secrets }), 201);
    const masked = { "api-key": "***", "db-password": "***", "0-9": "***" };
    expect(created.secrets).toEqual(masked);
    expect((await getFn(created.id)).secrets).toEqual(masked);
    const listed = expectStatus(await api("GET", `/api/functions?workspace_id=${ws.id}&name=${created.name}`), 200);
    expect(listed.data[0].secrets).toEqual(masked);
    const patched = expectStatus(
      await patch(created.id, { secrets: { "api-key": "***", "new-one": "fresh value" } }),
      200,
    );
    expect(patched.secrets).toEqual({ "api-key": "***", "new-one": "***" });
    const shown = JSON.stringify([created, await getFn(created.id), listed, patched]);
    for (const value of ["sk_live_abc123", "correct horse battery", "fresh value"]) expect(shown).not.toContain(value);
  });

  it("stores secrets encrypted, bound to their function: D1 never holds the value", async () => {
    const value = "plain-text-value-4711";
    const a = expectStatus(await create({ secrets: { token: value } }), 201);
    const b = expectStatus(await create({ secrets: { token: value } }), 201);
    const stored = JSON.parse((await rowOf(a.id))?.secrets as string);
    const other = JSON.parse((await rowOf(b.id))?.secrets as string);
    expect(Object.keys(stored)).toEqual(["token"]);
    expect(stored.token).toMatch(/^v2\.[\w-]{8}\.[\w-]+\.[\w-]+$/);
    // A fresh IV for every value: the same secret looks different in each function.
    expect(other.token).not.toBe(stored.token);
    const everything = await env.DB.prepare("SELECT * FROM functions WHERE id IN (?, ?)").bind(a.id, b.id).all();
    expect(JSON.stringify(everything.results)).not.toContain(value);
    expect(JSON.stringify(everything.results)).not.toContain(btoa(value).slice(0, 12));

    // Re-sending the value seals it again; "***" keeps the stored ciphertext as it is.
    await patch(a.id, { secrets: { token: value } });
    const resealed = JSON.parse((await rowOf(a.id))?.secrets as string).token;
    expect(resealed).not.toBe(stored.token);
    await patch(a.id, { secrets: { token: "***" } });
    expect(JSON.parse((await rowOf(a.id))?.secrets as string).token).toBe(resealed);
  });

  it("refuses bad names, too many, more than 25 KB, and *** without a value: 400, nothing changes", async () => {
    expect(limits.secrets).toMatchObject({ count: 30, key: "^[a-z0-9-]{1,15}$", totalBytes: 25 * 1024 });
    await expectRefused([
      [{ secrets: { "API-KEY": "x" } }, /^Invalid body: secrets: 'API-KEY' is not a valid secret name/],
      [{ secrets: { api_key: "x" } }, /secrets: 'api_key' is not a valid secret name/],
      [{ secrets: { "sixteen-chars-xx": "x" } }, /'sixteen-chars-xx' is not a valid secret name/],
      [{ secrets: { "": "x" } }, /not a valid secret name/],
      [{ secrets: { "with.dot": "x" } }, /not a valid secret name/],
      [{ secrets: many(31, (i) => `s${i}`) }, /secrets: at most 30 secrets/],
      [{ secrets: { big: "x".repeat(25 * 1024 - 2) } }, /secrets: names and values together exceed 25600 bytes/],
      [{ secrets: many(2, (i) => `s${i}`, "é".repeat(6400)) }, /exceed 25600 bytes/],
      [{ secrets: { brand: "***" } }, /^secrets\.brand: "\*\*\*" keeps a current value, but there is none/],
      [{ secrets: { n: 5 } }, /secrets/],
      // The isolate's env holds both, so a name is one or the other.
      [{ secrets: { keep: "***" }, envVars: { keep: "x" } }, /'keep' is both an env var and a secret/],
    ]);
  });

  it("accepts exactly the limits: 30 secrets, names and values of 25 KB in all", async () => {
    const thirty = many(30, (i) => `secret-${i}`);
    expect(Object.keys(expectStatus(await create({ secrets: thirty }), 201).secrets)).toHaveLength(30);
    const full = { big: "x".repeat(25 * 1024 - 3) };
    expect(expectStatus(await create({ secrets: full }), 201).secrets).toEqual({ big: "***" });
    const longest = { "fifteen-chars-x": "v" };
    expect(expectStatus(await create({ secrets: longest }), 201).secrets).toEqual({ "fifteen-chars-x": "***" });
  });

  it("gives the very next call the changed set: added, replaced and removed secrets", async () => {
    const fn = await newFunction(ws.id, { envVars: { MODE: "a" } });
    await deploy(fn.id, {
      "index.js":
        "export async function handle(d, ctx) { return { secrets: ctx.secrets, env: Object.keys(ctx.env).sort() }; }",
    });
    expect(expectStatus(await invoke(fn.id), 200).result).toEqual({ secrets: {}, env: ["MODE"] });

    expectStatus(await patch(fn.id, { secrets: { one: "1", two: "2" } }), 200);
    expect(expectStatus(await invoke(fn.id), 200).result).toEqual({
      secrets: { one: "1", two: "2" },
      env: ["MODE", "one", "two"],
    });
    // A patch replaces the set: "two" is gone, "one" keeps its value, "three" is new.
    expectStatus(await patch(fn.id, { secrets: { one: "***", three: "3" } }), 200);
    expect(expectStatus(await invoke(fn.id), 200).result).toEqual({
      secrets: { one: "1", three: "3" },
      env: ["MODE", "one", "three"],
    });
    expectStatus(await patch(fn.id, { secrets: null, envVars: null }), 200);
    expect(expectStatus(await invoke(fn.id), 200).result).toEqual({ secrets: {}, env: [] });
  });
});

describe("timeoutMs and cpuMs", () => {
  it("takes values within the bounds of /api/limits and null for the default; refuses the rest", async () => {
    const { timeoutMs, cpuMs } = limits;
    expect(timeoutMs).toMatchObject({ default: 30_000, min: expect.any(Number), max: 900_000 });
    expect(cpuMs).toMatchObject({ default: 30_000, min: expect.any(Number), max: expect.any(Number) });
    const fn = expectStatus(await create({ timeoutMs: timeoutMs.min, cpuMs: cpuMs.max }), 201);
    expect(fn).toMatchObject({ timeoutMs: timeoutMs.min, cpuMs: cpuMs.max });
    const patched = expectStatus(await patch(fn.id, { timeoutMs: timeoutMs.max, cpuMs: cpuMs.min }), 200);
    expect(patched).toMatchObject({ timeoutMs: timeoutMs.max, cpuMs: cpuMs.min });
    expect(expectStatus(await patch(fn.id, { timeoutMs: null, cpuMs: null }), 200)).toMatchObject({
      timeoutMs: null,
      cpuMs: null,
    });

    await expectRefused([
      [{ timeoutMs: timeoutMs.min - 1 }, /timeoutMs/],
      [{ timeoutMs: timeoutMs.max + 1 }, /timeoutMs/],
      [{ timeoutMs: 0 }, /timeoutMs/],
      [{ timeoutMs: 1500.5 }, /timeoutMs/],
      [{ timeoutMs: "1000" }, /timeoutMs/],
      [{ cpuMs: cpuMs.min - 1 }, /cpuMs/],
      [{ cpuMs: cpuMs.max + 1 }, /cpuMs/],
      [{ cpuMs: -5 }, /cpuMs/],
    ]);
  });
});

describe("allowedHosts", () => {
  it("takes host names and *.subdomain patterns, up to the limit", async () => {
    const hosts = ["api.example.com", "*.example.org", "EXAMPLE.NET", "a-b.c-d.io"];
    const fn = expectStatus(await create({ allowedHosts: hosts }), 201);
    expect(fn.allowedHosts).toEqual(hosts);
    const full = Array.from({ length: limits.allowedHosts }, (_, i) => `h${i}.example.com`);
    expect(expectStatus(await patch(fn.id, { allowedHosts: full }), 200).allowedHosts).toHaveLength(50);
    expect(expectStatus(await patch(fn.id, { allowedHosts: null }), 200).allowedHosts).toBeNull();
  });

  it("refuses URLs, paths, ports, bare wildcards and overlong names", async () => {
    const bad = [
      "https://example.com",
      "example.com/path",
      "example.com:443",
      "*",
      "*.",
      "*.*.example.com",
      "ex ample.com",
      "example..com",
      "",
      "user@example.com",
      `${"a".repeat(64)}.com`,
      Array.from({ length: 60 }, () => "abcd").join("."),
    ];
    await expectRefused([
      ...bad.map((host): [Record<string, unknown>, RegExp] => [{ allowedHosts: [host] }, /allowedHosts\.0/]),
      [{ allowedHosts: ["ok.example.com", "bad/host"] }, /allowedHosts\.1/],
      [{ allowedHosts: Array.from({ length: 51 }, (_, i) => `h${i}.example.com`) }, /allowedHosts/],
      [{ allowedHosts: "example.com" }, /allowedHosts/],
    ]);
  });
});

describe("configRevision", () => {
  it("goes up with each change of what the isolate runs with, and not with descriptive fields", async () => {
    const fn = await newFunction(ws.id);
    expect(fn.configRevision).toBe(1);
    let revision = 1;
    const runtimeChanges: Record<string, unknown>[] = [
      { envVars: { A: "1" } },
      { secrets: { s: "1" } },
      { secrets: { s: "***" } },
      { timeoutMs: 5_000 },
      { cpuMs: 1_000 },
      { allowedHosts: ["example.com"] },
      { allowedHosts: null },
      { envVars: null, description: "both at once" },
    ];
    for (const body of runtimeChanges) {
      const patched = expectStatus(await patch(fn.id, body), 200);
      revision += 1;
      expect(patched.configRevision, JSON.stringify(body)).toBe(revision);
    }
    const descriptive: Record<string, unknown>[] = [
      { description: "only words" },
      { name: unique("renamed") },
      { metadata: { team: "data" } },
      { externalId: unique("ext") },
      { runtimeUserId: "svc-user" },
      { retentionTier: "extended" },
    ];
    for (const body of descriptive) {
      const patched = expectStatus(await patch(fn.id, body), 200);
      expect(patched.configRevision, JSON.stringify(body)).toBe(revision);
    }
    // A refused patch changes nothing, the revision included.
    expectError(await patch(fn.id, { envVars: { "bad-name": "x" } }), 400, "bad_request");
    expect((await getFn(fn.id)).configRevision).toBe(revision);
    expect((await rowOf(fn.id))?.config_revision).toBe(revision);
  });
});
