/**
 * The Appwrite adapter (src/runtime/adapters/appwrite.ts): the entry module every isolate runs knows only the
 * generic contract (handle, default { fetch }); the build adds the adapter to the bundle of a version whose module
 * has no handle (an Appwrite handler, or a fetch handler that Appwrite executions reach), and to no other.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { entryModuleSource } from "../../src/runtime/entry";
import { expectStatus, newFunction, newWorkspace, type Workspace } from "../support/api";
import { deploy, invoke } from "../support/deploy";

const ADAPTER = "__edgefn/appwrite.js";

/** The modules of the bundle a version was built into. */
async function bundleOf(versionId: string): Promise<{ entry: string; modules: Record<string, unknown> }> {
  const row = await env.DB.prepare("SELECT bundle_key FROM versions WHERE id = ?")
    .bind(versionId)
    .first<{ bundle_key: string }>();
  const object = await env.CODE.get(row?.bundle_key as string);
  return (await object?.json()) as { entry: string; modules: Record<string, unknown> };
}

describe("the Appwrite adapter", () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await newWorkspace();
  });

  it("is not in the entry module", () => {
    const source = entryModuleSource({
      userModule: "index.js",
      secretNames: [],
      maxResultBytes: 1,
      maxLogBytes: 1,
      maxLogLines: 1,
      logLineOverhead: 1,
    });
    expect(source).not.toMatch(/appwrite/i);
  });

  it("is added to the bundles of modules without handle, and only to them", async () => {
    const cases = [
      { code: "export default async ({ res }) => res.json({ ok: true });", adapted: true, handlers: ["fetch"] },
      { code: "export default { fetch() { return new Response('ok'); } };", adapted: true, handlers: ["fetch"] },
      { code: "export async function handle(data) { return data; }", adapted: false, handlers: ["handle"] },
      {
        code: "export async function handle(data) { return data; }\nexport default { fetch() { return new Response('ok'); } };",
        adapted: false,
        handlers: ["handle", "fetch"],
      },
    ];
    for (const c of cases) {
      const fn = await newFunction(ws.id);
      const version = await deploy(fn.id, { "index.js": c.code });
      expect(version.handlers, c.code).toEqual(c.handlers);
      const bundle = await bundleOf(version.id);
      expect(Object.hasOwn(bundle.modules, ADAPTER), c.code).toBe(c.adapted);
      expect(bundle.entry, c.code).toBe(c.adapted ? ADAPTER : "index.js");
    }
  });

  it("runs an Appwrite handler through a native invoke: no args is an empty body, an error status fails the call", async () => {
    const fn = await newFunction(ws.id);
    await deploy(fn.id, {
      "index.js": `export default async ({ req, res }) =>
        req.bodyJson?.fail ? res.json({ refused: true }, 422) : res.json({ body: req.bodyText, method: req.method });`,
    });
    const none = expectStatus(await invoke(fn.id), 200);
    expect(none).toMatchObject({ ok: true, result: { body: "", method: "POST" } });
    const some = expectStatus(await invoke(fn.id, { a: 1 }), 200);
    expect(some.result).toEqual({ body: '{"a":1}', method: "POST" });
    const refused = expectStatus(await invoke(fn.id, { fail: true }), 200);
    expect(refused).toMatchObject({ ok: false, errorDetail: { name: "ResultError", code: "http_422" } });
  });

  it("keeps user code from importing it", async () => {
    const fn = await newFunction(ws.id);
    await deploy(fn.id, {
      "index.js": `export default {
        async fetch() {
          const name = "/__edgefn/" + "appwrite.js";
          try { await import(name); return new Response("imported"); } catch (err) { return new Response(String(err.message)); }
        },
      };`,
    });
    const res = expectStatus(await invoke(fn.id), 200);
    expect(res.result).toMatch(/not a module of this upload/);
  });
});
