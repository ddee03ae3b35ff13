import { env, exports } from "cloudflare:workers";
import { zipSync } from "fflate";
import { createTarGzip } from "nanotar";
import { describe, expect, it } from "vitest";
import {
  ADMIN_KEY,
  type ApiResponse,
  api,
  expectError,
  expectStatus,
  newFunction,
  newKey,
  newWorkspace,
  tenant,
} from "./support/api";
import { deploy, invoke, upload, waitForBuild } from "./support/deploy";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).byteLength;
const versionsOf = (fnId: string) => `/api/functions/${fnId}/versions`;

/** A fresh function in a fresh workspace. */
async function freshFunction() {
  const ws = await newWorkspace();
  return newFunction(ws.id);
}

/** Posts a JSON upload and returns the raw response. */
const post = (fnId: string, body: unknown, key = ADMIN_KEY) => api("POST", versionsOf(fnId), { key, body });

/** Posts a JSON upload that must be accepted; returns the queued version. */
async function queue(fnId: string, body: unknown) {
  const v = expectStatus(await post(fnId, body), 201);
  expect(v).toMatchObject({ functionId: fnId, status: "queued", isDefault: false });
  return v;
}

/** Sends a binary body (api() only sends strings). */
async function send(path: string, body: Uint8Array | FormData, contentType?: string): Promise<ApiResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_KEY}` };
  if (contentType) headers["content-type"] = contentType;
  const res = await exports.default.fetch(`http://edgefn.test${path}`, { method: "POST", headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

const getFn = async (fnId: string) => expectStatus(await api("GET", `/api/functions/${fnId}`), 200);
const getVersion = async (fnId: string, vid: string) =>
  expectStatus(await api("GET", `${versionsOf(fnId)}/${vid}`), 200);
const activate = (fnId: string, vid: string) => api("POST", `${versionsOf(fnId)}/${vid}/activate`);
const cancel = (fnId: string, vid: string) => api("POST", `${versionsOf(fnId)}/${vid}/cancel`);
const listVersions = async (fnId: string) => expectStatus(await api("GET", `${versionsOf(fnId)}?limit=100`), 200).data;
const resultOf = async (fnId: string) => expectStatus(await invoke(fnId), 200).result;

/** A handler returning a fixed value. */
const returning = (value: unknown) => ({
  "index.ts": `export async function handle(): Promise<unknown> { return ${JSON.stringify(value)}; }`,
});

describe("versions: upload and build", () => {
  it("builds a multi-file TypeScript upload, describes it, serves its source and runs it", async () => {
    const fn = await freshFunction();
    const files = {
      "index.ts": [
        `import type { Shape } from "./lib/shapes";`,
        `import { area, describe } from "./lib/shapes";`,
        `interface Input { shapes: Shape[] }`,
        `export async function handle(data: Input): Promise<{ total: number; first: string }> {`,
        `  const total: number = data.shapes.reduce((sum, s) => sum + area(s), 0);`,
        `  return { total, first: describe(data.shapes[0]!) };`,
        `}`,
      ].join("\n"),
      "lib/shapes.ts": [
        `export interface Shape { kind: "square" | "rect"; w: number; h?: number }`,
        `export type Area = number;`,
        `export const area = (s: Shape): Area => s.w * (s.h ?? s.w);`,
        `export function describe(s: Shape): string { return \`\${s.kind} \${s.w}\`; }`,
      ].join("\n"),
    };
    const sourceSize = bytes(files["index.ts"]) + bytes(files["lib/shapes.ts"]);

    const queued = await queue(fn.id, { files });
    expect(queued).toMatchObject({ number: 1, entrypoint: "index.ts", activate: true, sourceSize, bundleSize: null });
    expect(queued.id).toMatch(/^ver_/);

    const built = await waitForBuild(fn.id, queued.id);
    const v = await getVersion(fn.id, queued.id);
    expect(v).toMatchObject({
      id: queued.id,
      number: 1,
      status: "ready",
      entrypoint: "index.ts",
      handlers: ["handle"],
      sourceSize,
      isDefault: true,
      error: null,
    });
    expect(built.status).toBe("ready");
    expect(v.bundleSize).toBeGreaterThan(0);
    expect(v.buildStartedAt).not.toBeNull();
    expect(v.buildFinishedAt).not.toBeNull();
    expect(v.buildLogs.length).toBeGreaterThan(0);
    for (const line of v.buildLogs) expect(line).toMatchObject({ level: "info", message: expect.any(String) });
    expect(v.buildLogs.map((l: { message: string }) => l.message).join("\n")).toContain("index.ts");

    const source = expectStatus(await api("GET", `${versionsOf(fn.id)}/${v.id}/source`), 200);
    expect(source).toEqual({ entrypoint: "index.ts", files });

    expect((await getFn(fn.id)).defaultVersionId).toBe(v.id);
    const list = await listVersions(fn.id);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: v.id, isDefault: true, status: "ready" });

    const call = expectStatus(
      await invoke(fn.id, {
        shapes: [
          { kind: "square", w: 3 },
          { kind: "rect", w: 2, h: 5 },
        ],
      }),
      200,
    );
    expect(call).toMatchObject({ ok: true, status: "completed", result: { total: 19, first: "square 3" } });
    expect(call.versionId).toBe(v.id);
  });

  it("accepts a single-file {code} upload (Gcore code_text style) as index.ts", async () => {
    const fn = await freshFunction();
    const code = `export async function handle(data: { n: number }) { return { doubled: data.n * 2 }; }`;
    const queued = await queue(fn.id, { code });
    expect(queued.entrypoint).toBe("index.ts");
    expect((await waitForBuild(fn.id, queued.id)).status).toBe("ready");
    const source = expectStatus(await api("GET", `${versionsOf(fn.id)}/${queued.id}/source`), 200);
    expect(source).toEqual({ entrypoint: "index.ts", files: { "index.ts": code } });
    expect(expectStatus(await invoke(fn.id, { n: 21 }), 200).result).toEqual({ doubled: 42 });
  });

  it("rejects a body with both or neither of files and code", async () => {
    const fn = await freshFunction();
    expectError(await post(fn.id, { code: "x", files: { "a.ts": "x" } }), 400, "bad_request");
    expectError(await post(fn.id, { entrypoint: "index.ts" }), 400, "bad_request");
    expectError(await post(fn.id, { files: {} }), 400, "bad_request");
    expect(await listVersions(fn.id)).toEqual([]);
  });

  it("reports which handlers a module exports", async () => {
    const fn = await freshFunction();
    const onlyFetch = await deploy(fn.id, {
      "index.js": `export default { async fetch(request) { return new Response("hi"); } };`,
    });
    expect(onlyFetch.handlers).toEqual(["fetch"]);
    const both = await deploy(fn.id, {
      "index.js": `export async function handle() { return 1; }\nexport default { async fetch() { return new Response("hi"); } };`,
    });
    expect(both.handlers).toEqual(["handle", "fetch"]);
  });

  it("guesses the entrypoint, and names a wrong one", async () => {
    const fn = await freshFunction();
    const handler = `export async function handle() { return 1; }`;
    const guess = async (files: Record<string, string>) => (await queue(fn.id, { files })).entrypoint;

    expect(await guess({ "helper.ts": "export const x = 1;", "index.ts": handler })).toBe("index.ts");
    expect(await guess({ "lib.ts": "export const x = 1;", "src/index.ts": handler })).toBe("src/index.ts");
    expect(
      await guess({
        "package.json": JSON.stringify({ name: "x", main: "./dist/app.js" }),
        "dist/app.js": handler,
        "index.ts": handler,
      }),
    ).toBe("dist/app.js");
    expect(await guess({ "handler.js": handler, "README.md": "# hi" })).toBe("handler.js");

    const ambiguous = expectError(
      await post(fn.id, { files: { "a.ts": handler, "b.ts": handler } }),
      400,
      "bad_request",
    );
    expect(ambiguous.message).toMatch(/entrypoint/);
    const wrong = expectError(
      await post(fn.id, { files: { "index.ts": handler }, entrypoint: "nope/main.ts" }),
      400,
      "bad_request",
    );
    expect(wrong.message).toContain("nope/main.ts");
    expect(await listVersions(fn.id)).toHaveLength(4);
  });

  const jsonImporter = (importLine: string) => ({
    "index.ts": [
      `import { shout } from "./util.js";`,
      importLine,
      `export async function handle() { return { greeting: shout(config.greeting), limits: config.limits }; }`,
    ].join("\n"),
    "util.ts": `export const shout = (s: string): string => s.toUpperCase() + "!";`,
    "data.json": JSON.stringify({ greeting: "hello", limits: [1, 2, 3] }),
  });

  it("resolves TypeScript's './util.js' to util.ts and imports a JSON module", async () => {
    const fn = await freshFunction();
    await deploy(fn.id, jsonImporter(`import config from "./data.json";`));
    expect(await resultOf(fn.id)).toEqual({ greeting: "HELLO!", limits: [1, 2, 3] });
  });

  // TypeScript's nodenext mode requires this form.
  it('imports a JSON module with the import attribute `with { type: "json" }`', async () => {
    const fn = await freshFunction();
    await deploy(fn.id, jsonImporter(`import config from "./data.json" with { type: "json" };`));
    expect(await resultOf(fn.id)).toEqual({ greeting: "HELLO!", limits: [1, 2, 3] });
  });

  it("resolves an import starting with / from the upload's root", async () => {
    const fn = await freshFunction();
    await deploy(fn.id, {
      "index.ts": `import { run } from "./src/main";\nexport async function handle() { return run(); }`,
      "src/main.ts": `import { name } from "/shared/name";\nexport const run = (): string => name;`,
      "shared/name.ts": `export const name = "from the root";`,
    });
    expect(await resultOf(fn.id)).toBe("from the root");
  });

  // The Worker Loader takes only .js names for plain source, so the build renames them.
  it("builds .mjs and .mts modules", async () => {
    const fn = await freshFunction();
    const v = await deploy(fn.id, {
      "index.mjs": `import { twice } from "./twice.mjs";\nexport async function handle() { return twice(21); }`,
      "twice.mts": `export const twice = (n: number): number => n * 2;`,
    });
    expect(v.entrypoint).toBe("index.mjs");
    expect(await resultOf(fn.id)).toBe(42);
  });
});

describe("versions: failed builds", () => {
  const failures: [string, Record<string, string>, RegExp[]][] = [
    [
      "a syntax error, naming the file and line",
      {
        "index.ts": `import { f } from "./lib/broken";\nexport async function handle() { return f(); }`,
        "lib/broken.ts": `export function f() {\n  const a = 1;\n  return a +* 2;\n}`,
      },
      [/lib\/broken\.ts/, /\b3\b/],
    ],
    [
      "a syntax error in JavaScript, naming the file and line",
      { "index.js": `export async function handle() {\n  return 1;\n}\n}` },
      [/index\.js:4/],
    ],
    [
      "an import of a missing file",
      { "index.ts": `import { x } from "./missing";\nexport async function handle() { return x; }` },
      [/\.\/missing/, /not among the uploaded files/],
    ],
    [
      "a module that throws at import time",
      { "index.ts": `throw new Error("boom at import");\nexport async function handle() { return 1; }` },
      [/boom at import/],
    ],
    ["a module with no handler", { "index.ts": `export const answer = 42;` }, [/no handler/, /handle/]],
  ];

  it.each(failures)("records %s", async (_, files, patterns) => {
    const fn = await freshFunction();
    const v = await upload(fn.id, files);
    expect(v).toMatchObject({
      status: "failed",
      isDefault: false,
      handlers: null,
      error: { message: expect.any(String), trace: expect.any(String) },
    });
    for (const p of patterns) expect(v.error.message).toMatch(p);
    // The trace is the user's own: never the platform's modules or frames.
    expect(v.error.trace).not.toMatch(/__edgefn|node_modules|sucrase|acorn|build\.ts|src\//);
    expect(v.buildFinishedAt).not.toBeNull();
    const errors = v.buildLogs.filter((l: { level: string }) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toBe(v.error.message);

    expect((await getFn(fn.id)).defaultVersionId).toBeNull();
    const call = expectError(await invoke(fn.id), 409, "conflict");
    expect(call.message).toMatch(/no ready version/);
  });

  it("keeps the stack of a module that throws at import, pointing at the user's code", async () => {
    const fn = await freshFunction();
    const v = await upload(fn.id, {
      "index.js": `import { check } from "./lib/check.js";\ncheck();\nexport async function handle() { return 1; }`,
      "lib/check.js": `export function check() {\n  throw new RangeError("misconfigured");\n}`,
    });
    expect(v.status).toBe("failed");
    expect(v.error.message).toMatch(/RangeError: misconfigured/);
    expect(v.error.message).toBe("The module failed to load: RangeError: misconfigured");
    expect(v.error.trace).toMatch(/lib\/check\.js:2:\d+ in check/);
    expect(v.error.trace).not.toMatch(/__edgefn/);
  });

  it("never makes a failed version the default: the last good one keeps serving", async () => {
    const fn = await freshFunction();
    const good = await deploy(fn.id, returning("good"));
    const bad = await upload(fn.id, { "index.ts": `export const nothing = 1;` });
    expect(bad).toMatchObject({ number: 2, status: "failed", isDefault: false });
    expect((await getFn(fn.id)).defaultVersionId).toBe(good.id);
    expect((await getVersion(fn.id, good.id)).isDefault).toBe(true);
    expect(await resultOf(fn.id)).toBe("good");
  });
});

describe("versions: numbering", () => {
  it("numbers 20 concurrent uploads 1..20 with no gap or duplicate; the newest becomes the default", async () => {
    const fn = await freshFunction();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => post(fn.id, { files: returning(i) })));
    for (const r of responses) expectStatus(r, 201);
    const numbers = responses.map((r) => r.body.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const list = await listVersions(fn.id);
    expect(list.map((v: { number: number }) => v.number)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    expect(new Set(list.map((v: { id: string }) => v.id)).size).toBe(20);

    const built = await Promise.all(list.map((v: { id: string }) => waitForBuild(fn.id, v.id, ADMIN_KEY, 60_000)));
    for (const v of built) expect(v.status).toBe("ready");
    const newest = list[0];
    expect((await getFn(fn.id)).defaultVersionId).toBe(newest.id);
    // Each upload returns its index in `responses`: the function serves the newest one.
    const sent = responses.find((r) => r.body.id === newest.id);
    expect(await resultOf(fn.id)).toBe(responses.indexOf(sent as ApiResponse));
  }, 90_000);
});

describe("versions: activate and roll back", () => {
  it("keeps an activate:false version off until it is activated; activating an older one rolls back", async () => {
    const fn = await freshFunction();
    const v1 = await deploy(fn.id, returning("one"));
    const v2 = await deploy(fn.id, returning("two"), { activate: false });
    expect(v2).toMatchObject({ number: 2, status: "ready", activate: false, isDefault: false });
    expect((await getFn(fn.id)).defaultVersionId).toBe(v1.id);
    expect(await resultOf(fn.id)).toBe("one");

    const activated = expectStatus(await activate(fn.id, v2.id), 200);
    expect(activated).toMatchObject({ id: fn.id, defaultVersionId: v2.id });
    expect((await getVersion(fn.id, v2.id)).isDefault).toBe(true);
    expect((await getVersion(fn.id, v1.id)).isDefault).toBe(false);
    expect(await resultOf(fn.id)).toBe("two");

    const rolledBack = expectStatus(await activate(fn.id, v1.id), 200);
    expect(rolledBack.defaultVersionId).toBe(v1.id);
    expect(await resultOf(fn.id)).toBe("one");
    const list = await listVersions(fn.id);
    expect(list.map((v: { number: number; isDefault: boolean }) => [v.number, v.isDefault])).toEqual([
      [2, false],
      [1, true],
    ]);
  });

  it("refuses to activate a failed, queued or unknown version, or another function's", async () => {
    const fn = await freshFunction();
    const good = await deploy(fn.id, returning("good"));
    const failed = await upload(fn.id, { "index.ts": `export const nothing = 1;` });
    expect(failed.status).toBe("failed");
    expect(expectError(await activate(fn.id, failed.id), 409, "conflict").message).toMatch(/failed/);
    expect((await getFn(fn.id)).defaultVersionId).toBe(good.id);

    // Builds start at the earliest a second after the upload (the queue's batch timeout).
    const queued = await queue(fn.id, { files: returning("later") });
    expect(expectError(await activate(fn.id, queued.id), 409, "conflict").message).toMatch(/queued|building/);

    expectError(await activate(fn.id, "ver_doesnotexist"), 404, "not_found");
    expectError(await api("GET", `${versionsOf(fn.id)}/ver_doesnotexist`), 404, "not_found");

    const other = await freshFunction();
    const foreign = await deploy(other.id, returning("foreign"));
    expectError(await activate(fn.id, foreign.id), 404, "not_found");
    expectError(await api("GET", `${versionsOf(fn.id)}/${foreign.id}`), 404, "not_found");
    expectError(await api("GET", `${versionsOf(fn.id)}/${foreign.id}/source`), 404, "not_found");
    expectError(await cancel(fn.id, foreign.id), 404, "not_found");

    // The queued upload becomes the default once built.
    expect((await getFn(other.id)).defaultVersionId).toBe(foreign.id);
    expect(await waitForBuild(fn.id, queued.id)).toMatchObject({ status: "ready", isDefault: true });
  });
});

describe("versions: cancel", () => {
  it("cancels a queued version, which then stays canceled and is never served", async () => {
    const fn = await freshFunction();
    const queued = await queue(fn.id, { files: returning("never") });
    const res = await cancel(fn.id, queued.id);
    if (res.status === 200) {
      expect(res.body).toMatchObject({ id: queued.id, status: "canceled", isDefault: false });
      expect(res.body.buildFinishedAt).not.toBeNull();
      // Give the queued build time to pick the job up: it must leave the canceled version alone.
      await new Promise((r) => setTimeout(r, 2_500));
      const v = await getVersion(fn.id, queued.id);
      expect(v).toMatchObject({ status: "canceled", isDefault: false, bundleSize: null, handlers: null });
      expect((await getFn(fn.id)).defaultVersionId).toBeNull();
      expectError(await invoke(fn.id), 409, "conflict");
      expect(expectError(await cancel(fn.id, queued.id), 409, "conflict").message).toMatch(/canceled/);
      expect(expectError(await activate(fn.id, queued.id), 409, "conflict").message).toMatch(/canceled/);
    } else {
      // The build won the race: the cancel is refused and the version is finished, one way only.
      expectError(res, 409, "conflict");
      const v = await waitForBuild(fn.id, queued.id);
      expect(["ready", "failed"]).toContain(v.status);
    }
  });

  it("refuses to cancel a finished version", async () => {
    const fn = await freshFunction();
    const ready = await deploy(fn.id, returning("done"));
    expect(expectError(await cancel(fn.id, ready.id), 409, "conflict").message).toMatch(/ready/);
    expect(await getVersion(fn.id, ready.id)).toMatchObject({ status: "ready", isDefault: true });
    expect(await resultOf(fn.id)).toBe("done");
    expectError(await cancel(fn.id, "ver_doesnotexist"), 404, "not_found");
  });
});

describe("versions: archives and multipart", () => {
  const indexTs = `import { label } from "./lib/label";\nexport async function handle(d: { n: number }) { return label(d.n); }`;
  const labelTs = `export const label = (n: number): string => "n=" + n;`;

  it("unpacks a raw zip with a shared top-level folder, leaving out dotfiles, keeping node_modules", async () => {
    const fn = await freshFunction();
    const zip = zipSync({
      "my-fn/index.ts": encoder.encode(indexTs),
      "my-fn/lib/label.ts": encoder.encode(labelTs),
      "my-fn/README.md": encoder.encode("# my fn"),
      "my-fn/.env": encoder.encode("SECRET=1"),
      "my-fn/node_modules/dep/index.js": encoder.encode("export default 1;"),
    });
    const res = await send(versionsOf(fn.id), zip, "application/zip");
    const queued = expectStatus(res, 201);
    expect(queued).toMatchObject({ status: "queued", entrypoint: "index.ts", activate: true });
    const v = await waitForBuild(fn.id, queued.id);
    expect(v.status, JSON.stringify(v.error)).toBe("ready");
    const source = expectStatus(await api("GET", `${versionsOf(fn.id)}/${v.id}/source`), 200);
    expect(source).toEqual({
      entrypoint: "index.ts",
      files: {
        "index.ts": indexTs,
        "lib/label.ts": labelTs,
        "README.md": "# my fn",
        "node_modules/dep/index.js": "export default 1;",
      },
    });
    expect(expectStatus(await invoke(fn.id, { n: 7 }), 200).result).toBe("n=7");
  });

  it("unpacks a raw tar.gz with ?entrypoint= and ?activate=false", async () => {
    const fn = await freshFunction();
    const tgz = await createTarGzip([
      { name: "pkg/src/main.ts", data: indexTs.replace("./lib/label", "../lib/label") },
      { name: "pkg/lib/label.ts", data: labelTs },
      { name: "pkg/other.ts", data: "export const unused = 1;" },
    ]);
    const queued = expectStatus(
      await send(`${versionsOf(fn.id)}?entrypoint=./src/main.ts&activate=false`, tgz, "application/gzip"),
      201,
    );
    expect(queued).toMatchObject({ entrypoint: "src/main.ts", activate: false });
    const v = await waitForBuild(fn.id, queued.id);
    expect(v).toMatchObject({ status: "ready", isDefault: false });
    expect(v.buildLogs.map((l: { message: string }) => l.message).join("\n")).toContain("other.ts");
    expect((await getFn(fn.id)).defaultVersionId).toBeNull();
    expectError(await invoke(fn.id, { n: 1 }), 409, "conflict");
    expectStatus(await activate(fn.id, v.id), 200);
    expect(expectStatus(await invoke(fn.id, { n: 1 }), 200).result).toBe("n=1");
  });

  it("takes an archive in the multipart field `code`, with entrypoint and activate fields", async () => {
    const fn = await freshFunction();
    const zip = zipSync({ "main.ts": encoder.encode(indexTs), "lib/label.ts": encoder.encode(labelTs) });
    const form = new FormData();
    form.append("code", new File([zip], "fn.zip", { type: "application/zip" }));
    form.append("entrypoint", "main.ts");
    form.append("activate", "true");
    const queued = expectStatus(await send(versionsOf(fn.id), form), 201);
    expect(queued).toMatchObject({ entrypoint: "main.ts", activate: true });
    expect((await waitForBuild(fn.id, queued.id)).status).toBe("ready");
    expect(expectStatus(await invoke(fn.id, { n: 3 }), 200).result).toBe("n=3");

    const noFile = new FormData();
    noFile.append("entrypoint", "main.ts");
    expect(expectError(await send(versionsOf(fn.id), noFile), 400, "bad_request").message).toMatch(/code/);
  });

  it("rejects a corrupt archive (400) and an unknown content type (415), creating nothing", async () => {
    const fn = await freshFunction();
    const corruptZip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectError(await send(versionsOf(fn.id), corruptZip, "application/zip"), 400, "bad_request");
    const corruptGzip = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 9, 9, 9, 9, 9, 9, 9, 9]);
    expectError(await send(versionsOf(fn.id), corruptGzip, "application/gzip"), 400, "bad_request");
    const notArchive = encoder.encode("export async function handle() {}");
    const err = expectError(await send(versionsOf(fn.id), notArchive, "application/octet-stream"), 400, "bad_request");
    expect(err.message).toMatch(/zip|tar/);
    expectError(await send(versionsOf(fn.id), notArchive, "text/plain"), 415, "unsupported_media_type");
    expect(await listVersions(fn.id)).toEqual([]);
  });
});

describe("versions: limits and access", () => {
  it("refuses code over 10 MiB with 413 and creates nothing", async () => {
    const fn = await freshFunction();
    const sourcesBefore = (await env.CODE.list({ prefix: "sources/" })).objects.length;
    const chunk = `// ${"x".repeat(5.5 * 1024 * 1024)}\n`;
    const files = { "index.ts": `export async function handle() { return 1; }\n${chunk}`, "big.ts": chunk };
    const err = expectError(await post(fn.id, { files }), 413, "payload_too_large");
    expect(err.message).toContain(String(10 * 1024 * 1024));
    expect(await listVersions(fn.id)).toEqual([]);
    expect((await getFn(fn.id)).defaultVersionId).toBeNull();
    expect((await env.CODE.list({ prefix: "sources/" })).objects.length).toBe(sourcesBefore);

    // The same limit holds for an archive's uncompressed size, however well it compresses.
    const bomb = zipSync({
      "index.ts": encoder.encode(`export async function handle() { return 1; }`),
      "padding.txt": new Uint8Array(11 * 1024 * 1024).fill(0x78),
    });
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    expectError(await send(versionsOf(fn.id), bomb, "application/zip"), 413, "payload_too_large");
    expect(await listVersions(fn.id)).toEqual([]);
  });

  it("lets developers upload, not viewers or invokers (403); other workspaces see 404", async () => {
    const { ws, keys } = await tenant();
    const fn = await newFunction(ws.id);
    const body = { files: returning("mine") };
    expectError(await post(fn.id, body, keys.viewer), 403, "forbidden");
    expectError(await post(fn.id, body, keys.invoker), 403, "forbidden");
    const outsider = await newKey("admin", (await newWorkspace()).id);
    expectError(await post(fn.id, body, outsider.key), 404, "not_found");
    expect(await listVersions(fn.id)).toEqual([]);

    const v = expectStatus(await post(fn.id, body, keys.developer), 201);
    expect(v.number).toBe(1);
    await waitForBuild(fn.id, v.id, keys.viewer);
    expectError(await api("POST", `${versionsOf(fn.id)}/${v.id}/activate`, { key: keys.viewer }), 403, "forbidden");
    expectError(await api("POST", `${versionsOf(fn.id)}/${v.id}/cancel`, { key: keys.invoker }), 403, "forbidden");
  });

  it("refuses uploads to a soft-deleted function with 409", async () => {
    const fn = await freshFunction();
    expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
    expect(expectError(await post(fn.id, { files: returning(1) }), 409, "conflict").message).toMatch(/deleted/);
    expect(await listVersions(fn.id)).toEqual([]);
  });
});

describe("versions: purge", () => {
  /** The R2 keys a function's versions hold, read from D1. */
  async function keysOf(fnId: string) {
    const { results } = await env.DB.prepare("SELECT source_key, bundle_key FROM versions WHERE function_id = ?")
      .bind(fnId)
      .all<{ source_key: string; bundle_key: string | null }>();
    return results.flatMap((r) => [r.source_key, r.bundle_key]).filter((k): k is string => k !== null);
  }
  const stored = async () => {
    const [sources, bundles] = await Promise.all([
      env.CODE.list({ prefix: "sources/" }),
      env.CODE.list({ prefix: "bundles/" }),
    ]);
    return new Set([...sources.objects, ...bundles.objects].map((o) => o.key));
  };
  const purge = async (fnId: string) => {
    expectStatus(await api("DELETE", `/api/functions/${fnId}`), 200);
    expectStatus(await api("DELETE", `/api/functions/${fnId}/purge`), 200);
  };

  it("deletes a purged function's versions and code, but keeps code another function still uses", async () => {
    const nonce = crypto.randomUUID();
    const shared = returning(`shared ${nonce}`);
    const a = await freshFunction();
    const b = await freshFunction();
    await deploy(a.id, shared);
    await deploy(a.id, returning(`only a ${nonce}`));
    await deploy(b.id, shared);

    const keysA = await keysOf(a.id);
    const keysB = await keysOf(b.id);
    expect(keysA).toHaveLength(4);
    expect(keysB).toHaveLength(2);
    expect(
      keysB.every((k) => keysA.includes(k)),
      "identical files share their R2 objects",
    ).toBe(true);
    expect(keysA.filter((k) => k.startsWith("sources/"))).toHaveLength(2);
    expect(keysA.filter((k) => k.startsWith("bundles/"))).toHaveLength(2);
    const onlyA = keysA.filter((k) => !keysB.includes(k));
    expect(onlyA).toHaveLength(2);
    const before = await stored();
    for (const k of keysA) expect(before.has(k), k).toBe(true);

    await purge(a.id);
    expectError(await api("GET", versionsOf(a.id)), 404, "not_found");
    expect(await keysOf(a.id)).toEqual([]);
    const afterA = await stored();
    for (const k of onlyA) expect(afterA.has(k), `${k} should be deleted`).toBe(false);
    for (const k of keysB) expect(afterA.has(k), `${k} is still used by ${b.id}`).toBe(true);
    expect(await resultOf(b.id)).toBe(`shared ${nonce}`);

    await purge(b.id);
    const afterB = await stored();
    for (const k of keysB) expect(afterB.has(k), `${k} should be deleted`).toBe(false);
  });
});
