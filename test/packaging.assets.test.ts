/**
 * Files that are not code: a `.wasm` imported as a WebAssembly.Module, other files as bytes (an ArrayBuffer) or,
 * for text kinds, as a string; and `ctx.asset(path)`, which reads the upload's own non-code files by a computed
 * name and nothing else.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, expectStatus, newFunction, newWorkspace, type Workspace } from "./support/api";
import { deploy, invoke, upload } from "./support/deploy";

/** A WebAssembly module exporting add(a: i32, b: i32): i32, written out by hand. */
const ADD_WASM = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version 1
  0x01,
  0x07,
  0x01,
  0x60,
  0x02,
  0x7f,
  0x7f,
  0x01,
  0x7f, // type section: (i32, i32) -> i32
  0x03,
  0x02,
  0x01,
  0x00, // function section: one function of type 0
  0x07,
  0x07,
  0x01,
  0x03,
  0x61,
  0x64,
  0x64,
  0x00,
  0x00, // export "add" = function 0
  0x0a,
  0x09,
  0x01,
  0x07,
  0x00,
  0x20,
  0x00,
  0x20,
  0x01,
  0x6a,
  0x0b, // code: local.get 0, local.get 1, i32.add
]);
/** Bytes that are not UTF-8 (a NUL, 0xff): a binary file. */
const MODEL = new Uint8Array([0x00, 0xff, 0x10, 0x20, 0x80, 0x7f, 0x00, 0x42]);
const b64 = (bytes: Uint8Array) => ({ base64: bytes.toBase64() });

let ws: Workspace;
beforeAll(async () => {
  ws = await newWorkspace();
});

async function fnWith(files: Record<string, string | { base64: string }>) {
  const fn = await newFunction(ws.id);
  const version = await deploy(fn.id, files);
  return { id: fn.id as string, version };
}

async function resultOf(fnId: string, args?: unknown) {
  const res = expectStatus(await invoke(fnId, args), 200);
  expect(res.ok, JSON.stringify(res.error)).toBe(true);
  return res.result;
}

describe("packaging: importing files that are not code", () => {
  it("imports a .wasm as a WebAssembly.Module the function instantiates, in its own code and in a package", async () => {
    const { id } = await fnWith({
      "index.ts": [
        `import addModule from "./wasm/add.wasm";`,
        `import { addViaPackage } from "wasm-pkg";`,
        `export async function handle(d: { a: number; b: number }) {`,
        `  const instance = await WebAssembly.instantiate(addModule);`,
        `  const add = instance.exports.add as (a: number, b: number) => number;`,
        `  return { isModule: addModule instanceof WebAssembly.Module, sum: add(d.a, d.b), viaPackage: await addViaPackage(d.a, 100) };`,
        `}`,
      ].join("\n"),
      "wasm/add.wasm": b64(ADD_WASM),
      "node_modules/wasm-pkg/package.json": JSON.stringify({ name: "wasm-pkg", type: "module", main: "index.js" }),
      "node_modules/wasm-pkg/index.js": [
        `import mod from "./lib/add.wasm";`,
        `export async function addViaPackage(a, b) { return (await WebAssembly.instantiate(mod)).exports.add(a, b); }`,
      ].join("\n"),
      "node_modules/wasm-pkg/lib/add.wasm": b64(ADD_WASM),
    });
    expect(await resultOf(id, { a: 2, b: 40 })).toEqual({ isModule: true, sum: 42, viaPackage: 102 });
  });

  it("imports a binary file as an ArrayBuffer and text files (.txt, .html, .csv, .md) as strings", async () => {
    const { id } = await fnWith({
      "index.js": [
        `import model from "./model.bin";`,
        `import notes from "./notes.txt";`,
        `import page from "./static/page.html";`,
        `import table from "./data.csv";`,
        `import readme from "./README.md";`,
        `import logo from "./logo.svg";`,
        `export async function handle() {`,
        `  return { isBuffer: model instanceof ArrayBuffer, bytes: [...new Uint8Array(model)], notes, page, rows: table.trim().split("\\n").length, readme, logo: typeof logo };`,
        `}`,
      ].join("\n"),
      "model.bin": b64(MODEL),
      "notes.txt": "héllo ✓\n",
      "static/page.html": "<h1>Hi</h1>",
      "data.csv": "a,b\n1,2\n3,4\n",
      "README.md": "# Title",
      "logo.svg": "<svg/>",
    });
    expect(await resultOf(id)).toEqual({
      isBuffer: true,
      bytes: [...MODEL],
      notes: "héllo ✓\n",
      page: "<h1>Hi</h1>",
      rows: 3,
      readme: "# Title",
      logo: "string",
    });
  });

  it("fails the build when an imported .wasm is not WebAssembly", async () => {
    const fn = await newFunction(ws.id);
    const v = await upload(fn.id, {
      "index.js": `import m from "./broken.wasm";\nexport async function handle() { return typeof m; }`,
      "broken.wasm": b64(MODEL),
    });
    expect(v.status).toBe("failed");
    expect(v.error.message).toMatch(/broken\.wasm|WebAssembly|wasm/i);
  });
});

describe("packaging: ctx.asset(path)", () => {
  const files = {
    "index.js": [
      `export async function handle(d, ctx) {`,
      // A null-prototype object: a path named __proto__ is an own key like any other.
      `  const out = Object.create(null);`,
      `  for (const p of d.paths) {`,
      `    const bytes = await ctx.asset(p);`,
      `    out[p] = bytes === null ? null : bytes instanceof ArrayBuffer ? [...new Uint8Array(bytes)] : "not an ArrayBuffer";`,
      `  }`,
      `  return out;`,
      `}`,
    ].join("\n"),
    "lib/util.js": `export const x = 1;`,
    "models/a.bin": b64(MODEL),
    "models/b.bin": b64(new Uint8Array([1, 2, 3])),
    "config.json": `{"k":1}`,
    "node_modules/pkg/data.bin": b64(new Uint8Array([9, 9])),
  };

  it("reads the upload's own non-code files by a computed name, as a fresh ArrayBuffer each time", async () => {
    const { id, version } = await fnWith(files);
    const result = await resultOf(id, {
      paths: ["models/a.bin", "./models/b.bin", "/models/a.bin", "config.json"],
    });
    expect(result).toEqual({
      "models/a.bin": [...MODEL],
      "./models/b.bin": [1, 2, 3],
      "/models/a.bin": [...MODEL],
      "config.json": [...new TextEncoder().encode(`{"k":1}`)],
    });
    expect(version.buildLogs.map((l: { message: string }) => l.message).join("\n")).toMatch(
      /3 file\(s\) for ctx\.asset/,
    );

    const fresh = await fnWith({
      "index.js": [
        `export async function handle(d, ctx) {`,
        `  const a = await ctx.asset("models/a.bin");`,
        `  new Uint8Array(a).fill(0);`,
        `  return [...new Uint8Array(await ctx.asset("models/a.bin"))];`,
        `}`,
      ].join("\n"),
      "models/a.bin": b64(MODEL),
    });
    expect(await resultOf(fresh.id)).toEqual([...MODEL]);
  });

  it("gives null for code, node_modules, the platform's modules, missing paths and paths climbing out", async () => {
    const { id } = await fnWith(files);
    const paths = [
      "index.js",
      "lib/util.js",
      "node_modules/pkg/data.bin",
      "__edgefn/guard.js",
      "__edgefn/entry.js",
      "__edgefn/assets/0",
      "models/../../models/a.bin",
      "../models/a.bin",
      "missing.bin",
      "models",
      "__proto__",
      "constructor",
    ];
    const result = await resultOf(id, { paths });
    expect(result).toEqual(Object.fromEntries(paths.map((p) => [p, null])));
  });

  it("never reads another function's files", async () => {
    const owner = await fnWith({
      "index.js": `export async function handle() { return 1; }`,
      "secret.bin": b64(MODEL),
    });
    expect(owner.version.status).toBe("ready");
    const other = await fnWith(files);
    expect(await resultOf(other.id, { paths: ["secret.bin"] })).toEqual({ "secret.bin": null });
  });

  it("is on the ctx of an HTTP function's fetch handler too", async () => {
    const ws2 = await newWorkspace();
    const fn = await newFunction(ws2.id);
    await deploy(fn.id, {
      "index.js": [
        `export default { async fetch(request, env, ctx) {`,
        `  const bytes = await ctx.asset(new URL(request.url).pathname);`,
        `  return bytes ? new Response(bytes, { headers: { "content-type": "application/octet-stream" } }) : new Response("none", { status: 404 });`,
        `} };`,
      ].join("\n"),
      "public/logo.png": b64(MODEL),
    });
    const get = (path: string) =>
      exports.default.fetch(`http://edgefn.test/run/${ws2.name}/${fn.name}${path}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
    const found = await get("/public/logo.png");
    expect(found.status).toBe(200);
    expect([...new Uint8Array(await found.arrayBuffer())]).toEqual([...MODEL]);
    const missing = await get("/index.js");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("none");
  });
});
