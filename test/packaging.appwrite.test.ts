/**
 * An Appwrite deployment as Appwrite's CLI makes it: the function's folder packed from `.` (entries named
 * `./src/main.js`, ...), its node_modules and a binary file in it, sent as a tar.gz in one multipart request.
 * The deployment builds with the vendored packages and the handler imports the binary file.
 */
import { gzipSync } from "fflate";
import { createTar } from "nanotar";
import { beforeAll, describe, expect, it } from "vitest";
import { expectStatus, newKey, newWorkspace, unique } from "./support/api";
import { type Aw, appwriteClient } from "./support/appwrite";

let ws: { id: string };
let key: string;
beforeAll(async () => {
  ws = await newWorkspace();
  key = (await newKey("admin", ws.id)).key;
});

/** Appwrite's API as the SDKs call it, with this file's workspace as the project and its admin key. */
const aw = (...args: Parameters<Aw>) => appwriteClient({ project: ws.id, key })(...args);

const PIXEL = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x00, 0x01]);

describe("packaging: Appwrite deployments with node_modules", () => {
  it("builds a tar.gz of ./ entries with its vendored packages and binary file, and executes it", async () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const files: Record<string, Uint8Array> = {
      "./package.json": enc(JSON.stringify({ name: "fn", type: "module", dependencies: { "shout-cjs": "1.0.0" } })),
      "./src/main.js": enc(
        [
          `import shout, { whisper } from "shout-cjs";`,
          `import { slug } from "@acme/slug";`,
          `import pixel from "../static/pixel.png";`,
          `export default async ({ req, res }) => res.json({`,
          `  loud: shout(req.query.w), quiet: whisper("HI"), slug: slug("Hello World"), pixel: [...new Uint8Array(pixel)],`,
          `});`,
        ].join("\n"),
      ),
      "./static/pixel.png": PIXEL,
      "./node_modules/shout-cjs/package.json": enc(JSON.stringify({ name: "shout-cjs", main: "index.js" })),
      "./node_modules/shout-cjs/index.js": enc(
        `module.exports = (s) => String(s).toUpperCase() + "!";\nmodule.exports.whisper = (s) => require("./lower")(s);`,
      ),
      "./node_modules/shout-cjs/lower.js": enc(`module.exports = (s) => s.toLowerCase();`),
      "./node_modules/@acme/slug/package.json": enc(
        JSON.stringify({ name: "@acme/slug", type: "module", exports: { ".": { workerd: "./w.js", node: "./n.js" } } }),
      ),
      "./node_modules/@acme/slug/w.js": enc(`export const slug = (s) => s.toLowerCase().replace(/\\s+/g, "-");`),
      "./node_modules/.package-lock.json": enc("{}"),
    };
    const tgz = gzipSync(createTar([{ name: "./" }, ...Object.entries(files).map(([name, data]) => ({ name, data }))]));
    const id = unique("vendored");
    expectStatus(await aw("POST", "/functions", { functionId: id, name: id, runtime: "node-22" }), 201);
    const form = new FormData();
    form.set("code", new File([tgz], "code.tar.gz", { type: "application/gzip" }));
    form.set("entrypoint", "src/main.js");
    form.set("activate", "true");
    const dep = expectStatus(await aw("POST", `/functions/${id}/deployments`, form), 202);

    let built: any;
    for (let i = 0; i < 400; i++) {
      built = expectStatus(await aw("GET", `/functions/${id}/deployments/${dep.$id}`), 200);
      if (!["waiting", "building", "processing"].includes(built.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(built.status, built.buildLogs).toBe("ready");

    const exec = expectStatus(await aw("POST", `/functions/${id}/executions`, { path: "/?w=hey", method: "GET" }), 201);
    expect(exec).toMatchObject({ status: "completed", responseStatusCode: 200 });
    expect(JSON.parse(exec.responseBody)).toEqual({
      loud: "HEY!",
      quiet: "hi",
      slug: "hello-world",
      pixel: [...PIXEL],
    });
  });
});
