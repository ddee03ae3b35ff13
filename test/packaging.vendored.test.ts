/**
 * Vendored dependencies: bare imports resolved from the upload's own node_modules by Node's rules (package.json
 * `exports` with the platform's conditions, `module`/`main`/index.js, scoped packages, nested node_modules),
 * CommonJS packages run as CommonJS (default and named imports, require() of files, packages, JSON and the
 * runtime's built-ins), every module of them under the loop guard, and an unresolved import's build error.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { expectStatus, newFunction, newWorkspace, type Workspace } from "./support/api";
import { deploy, invoke, upload } from "./support/deploy";

let ws: Workspace;
beforeAll(async () => {
  ws = await newWorkspace();
});

const json = (value: unknown) => JSON.stringify(value);

/** A new function with one ready version of `files` (`upload`: more fields of the upload, e.g. entrypoint). */
async function fnWith(files: Record<string, string | { base64: string }>, upload: Record<string, unknown> = {}) {
  const fn = await newFunction(ws.id);
  const version = await deploy(fn.id, files, upload);
  return { id: fn.id as string, version };
}

async function resultOf(fnId: string, args?: unknown) {
  const res = expectStatus(await invoke(fnId, args), 200);
  expect(res.ok, json(res.error)).toBe(true);
  return res.result;
}

const logText = (v: { buildLogs: { message: string }[] }) => v.buildLogs.map((l) => l.message).join("\n");

describe("packaging: vendored ES module packages", () => {
  it("follows package.json exports: workerd before default and node, subpaths, patterns, nested conditions", async () => {
    const { id } = await fnWith({
      "index.ts": [
        `import which from "cond";`,
        `import sub from "cond/sub";`,
        `import { feature } from "cond/features/alpha";`,
        `import nested from "nested-cond";`,
        `import nodeOnly from "node-only";`,
        `export async function handle() { return { which, sub, feature, nested, nodeOnly }; }`,
      ].join("\n"),
      "node_modules/cond/package.json": json({
        name: "cond",
        type: "module",
        exports: {
          ".": { node: "./node.js", workerd: "./workerd.js", default: "./default.js" },
          "./sub": "./lib/sub.js",
          "./features/*": "./lib/features/*.js",
          "./package.json": "./package.json",
        },
      }),
      "node_modules/cond/node.js": `export default "node";`,
      "node_modules/cond/workerd.js": `export default "workerd";`,
      "node_modules/cond/default.js": `export default "default";`,
      "node_modules/cond/lib/sub.js": `export default "sub";`,
      "node_modules/cond/lib/features/alpha.js": `export const feature = "alpha";`,
      "node_modules/nested-cond/package.json": json({
        name: "nested-cond",
        exports: {
          node: { import: "./node.mjs", require: "./node.cjs" },
          import: { browser: "./browser.mjs", default: "./import.mjs" },
          default: "./fallback.js",
        },
      }),
      "node_modules/nested-cond/node.mjs": `export default "node import";`,
      "node_modules/nested-cond/node.cjs": `module.exports = "node require";`,
      "node_modules/nested-cond/browser.mjs": `export default "import browser";`,
      "node_modules/nested-cond/import.mjs": `export default "import default";`,
      "node_modules/nested-cond/fallback.js": `export default "fallback";`,
      // A package that maps only `node`: taken, as nothing else matches.
      "node_modules/node-only/package.json": json({ name: "node-only", exports: { node: "./n.mjs" } }),
      "node_modules/node-only/n.mjs": `export default "node only";`,
    });
    expect(await resultOf(id)).toEqual({
      which: "workerd",
      sub: "sub",
      feature: "alpha",
      nested: "import browser",
      nodeOnly: "node only",
    });
  });

  it("takes module, then main, then index.js; a scoped package; a package's own node_modules first", async () => {
    const { id, version } = await fnWith({
      "index.js": [
        `import { hi } from "@acme/greet";`,
        `import extra from "@acme/greet/extra.js";`,
        `import mainOnly from "main-only";`,
        `import bare from "bare";`,
        `import dep from "dep";`,
        `import outer from "outer";`,
        `export async function handle(d) { return { hi: hi(d.name), extra, mainOnly, bare, dep, outer }; }`,
      ].join("\n"),
      "node_modules/@acme/greet/package.json": json({
        name: "@acme/greet",
        module: "./esm/index.js",
        main: "./cjs/index.js",
      }),
      "node_modules/@acme/greet/esm/index.js": `export const hi = (n) => "hi " + n + " (esm)";`,
      "node_modules/@acme/greet/cjs/index.js": `exports.hi = (n) => "hi " + n + " (cjs)";`,
      "node_modules/@acme/greet/extra.js": `export default "extra";`,
      "node_modules/main-only/package.json": json({ name: "main-only", main: "lib/main" }),
      "node_modules/main-only/lib/main.js": `export default "main";`,
      "node_modules/bare/index.js": `export default "index";`,
      "node_modules/dep/package.json": json({ name: "dep", version: "1.0.0" }),
      "node_modules/dep/index.js": `export default "dep 1";`,
      "node_modules/outer/index.js": `import dep from "dep";\nexport default "outer sees " + dep;`,
      "node_modules/outer/node_modules/dep/index.js": `export default "dep 2";`,
      "node_modules/unused/index.js": `export default "never imported";`,
    });
    expect(await resultOf(id, { name: "Ada" })).toEqual({
      hi: "hi Ada (esm)",
      extra: "extra",
      mainOnly: "main",
      bare: "index",
      dep: "dep 1",
      outer: "outer sees dep 2",
    });
    // What nothing imports (the unused package, @acme/greet's CommonJS build) is left out, and the build says so.
    expect(logText(version)).toMatch(/Left out 2 file\(s\) of node_modules/);
  });
});

describe("packaging: vendored CommonJS packages", () => {
  it("gives module.exports as the default import and the names it assigns as named imports", async () => {
    const { id } = await fnWith({
      "index.mjs": [
        `import lib, { shout, encode, version, fromDep, circular } from "cjs-lib";`,
        `import add, { twice } from "cjs-fn";`,
        `import tsDefault, { named } from "ts-compiled";`,
        `import reexported from "reexport";`,
        `import { shout as again } from "reexport";`,
        `export async function handle() {`,
        `  return { shout: shout("hey"), same: lib.shout === shout, encode: encode("hi"), version, fromDep, circular,`,
        `    add: add(2, 3), twice: twice(4), tsDefault: tsDefault(), named, again: again("x"), keys: Object.keys(reexported).sort() };`,
        `}`,
      ].join("\n"),
      "node_modules/cjs-lib/package.json": json({ name: "cjs-lib", version: "3.1.4", main: "lib/index.js" }),
      "node_modules/cjs-lib/lib/index.js": [
        `"use strict";`,
        `const helper = require("./helper");`,
        `const { Buffer } = require("buffer");`,
        `const pkg = require("../package.json");`,
        `const dep = require("cjs-dep");`,
        `exports.shout = (s) => helper.upper(s) + "!";`,
        `exports.encode = (s) => Buffer.from(s).toString("base64");`,
        `exports.version = pkg.version;`,
        `exports.fromDep = dep.value;`,
        `exports.circular = require("./helper").seen;`,
      ].join("\n"),
      "node_modules/cjs-lib/lib/helper.js": [
        `const index = require("./index");`,
        `module.exports = { upper: (s) => s.toUpperCase(), seen: typeof index };`,
      ].join("\n"),
      "node_modules/cjs-lib/node_modules/cjs-dep/index.js": `module.exports = { value: "nested " + require("path").posix.join("a", "b") };`,
      "node_modules/cjs-fn/index.js": [
        `module.exports = function add(a, b) { return a + b; };`,
        `module.exports.twice = (x) => x * 2;`,
      ].join("\n"),
      "node_modules/ts-compiled/index.js": [
        `"use strict";`,
        `Object.defineProperty(exports, "__esModule", { value: true });`,
        `exports.named = void 0;`,
        `exports.named = "named";`,
        `function greet() { return "ts default"; }`,
        `exports.default = greet;`,
      ].join("\n"),
      "node_modules/reexport/index.js": `module.exports = require("cjs-lib");`,
    });
    expect(await resultOf(id)).toEqual({
      shout: "HEY!",
      same: true,
      encode: "aGk=",
      version: "3.1.4",
      fromDep: "nested a/b",
      circular: "object",
      add: 5,
      twice: 8,
      tsDefault: "ts default",
      named: "named",
      again: "X!",
      keys: ["circular", "encode", "fromDep", "shout", "version"],
    });
  });

  it("runs a CommonJS entrypoint, and an ES module package required from CommonJS", async () => {
    const { id } = await fnWith(
      {
        "index.cjs": [
          `const { label } = require("esm-pkg");`,
          `const data = require("./data.json");`,
          `exports.handle = async (d) => label(d.n) + " " + data.unit;`,
        ].join("\n"),
        "data.json": json({ unit: "kg" }),
        "node_modules/esm-pkg/package.json": json({ name: "esm-pkg", type: "module", exports: "./index.js" }),
        "node_modules/esm-pkg/index.js": `export const label = (n) => "n=" + n;`,
      },
      { entrypoint: "index.cjs" },
    );
    expect(await resultOf(id, { n: 7 })).toBe("n=7 kg");
  });

  it("keeps a require() only some platforms need out of the build, failing when it runs", async () => {
    const { id, version } = await fnWith({
      "index.js": `import probe from "optional";\nexport async function handle() { return probe(); }`,
      "node_modules/optional/index.js": [
        `let native = null;`,
        `try { native = require("native-addon"); } catch (e) { native = e.code; }`,
        `module.exports = () => native;`,
      ].join("\n"),
    });
    expect(await resultOf(id)).toBe("MODULE_NOT_FOUND");
    expect(logText(version)).toMatch(/native-addon/);
  });
});

describe("packaging: the loop guard covers vendored code", () => {
  it.each([
    ["an ES module package", `export default function spin() { for (;;) {} }`, "esm-spin"],
    ["a CommonJS package", `module.exports = function spin() { while (true) {} };`, "cjs-spin"],
  ])("ends an infinite loop in %s", async (_, code, name) => {
    const { id } = await fnWith({
      "index.js": `import spin from "${name}";\nexport async function handle() { spin(); return "never"; }`,
      [`node_modules/${name}/index.js`]: code,
    });
    const started = Date.now();
    const res = expectStatus(await invoke(id), 200);
    expect(res).toMatchObject({ ok: false, status: "failed" });
    expect(res.error).toMatch(/^StretchLimitError/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("packaging: unresolved imports fail the build with the file and line", () => {
  it.each([
    [
      "a package that is not uploaded",
      { "index.ts": `// deps\n\nimport pad from "left-pad";\nexport async function handle() { return pad("1", 3); }` },
      "index.ts:3: cannot resolve 'left-pad' (not in the upload's node_modules)",
    ],
    [
      "a subpath the package does not export",
      {
        "index.js": `import x from "sealed/internal.js";\nexport async function handle() { return x; }`,
        "node_modules/sealed/package.json": json({ name: "sealed", exports: { ".": "./index.js" } }),
        "node_modules/sealed/index.js": `export default 1;`,
        "node_modules/sealed/internal.js": `export default 2;`,
      },
      "index.js:1: cannot resolve 'sealed/internal.js' (node_modules/sealed/package.json does not export './internal.js')",
    ],
    [
      "an import inside a vendored package",
      {
        "index.js": `import a from "a";\nexport async function handle() { return a; }`,
        "node_modules/a/index.js": `export { default } from "./b.js";`,
        "node_modules/a/b.js": `\nimport missing from "not-there";\nexport default missing;`,
      },
      "node_modules/a/b.js:2: cannot resolve 'not-there' (not in the upload's node_modules)",
    ],
    [
      "a require() in the upload's own CommonJS",
      { "index.cjs": `const x = require("nope");\nexports.handle = async () => x;` },
      "index.cjs:1: cannot resolve 'nope' (not in the upload's node_modules)",
    ],
  ])("%s", async (_, files, message) => {
    const fn = await newFunction(ws.id);
    const entrypoint = Object.keys(files)[0];
    const v = await upload(fn.id, files, { entrypoint });
    expect(v).toMatchObject({ status: "failed", error: { message } });
  });
});
