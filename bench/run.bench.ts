/**
 * What /run adds: GET /run/{workspace}/{function}/... through the platform (resolve, auth, forward, stream back,
 * record) against the same bundle's fetch handler called directly through the Worker Loader in the same process.
 */
import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { ADMIN_KEY, newFunction, newWorkspace } from "../test/support/api";
import { deploy } from "../test/support/deploy";
import { directIsolate } from "./direct";
import { compare, report } from "./support";

const HANDLER = `export default {
  async fetch(request) {
    return new Response("hello " + new URL(request.url).pathname);
  },
};`;

it("serves /run: through the platform vs. the fetch handler called directly", async () => {
  const ws = await newWorkspace();
  const fn = await newFunction(ws.id, { name: "web" });
  const open = await newFunction(ws.id, { name: "web-public", public: true });
  const version = await deploy(fn.id, { "index.js": HANDLER });
  await deploy(open.id, { "index.js": HANDLER });
  const direct = await directIsolate(version.id, "bench-run");

  const read = async (res: Response) => {
    const text = await res.text();
    if (res.status !== 200 || text !== "hello /x") throw new Error(`${res.status} ${text}`);
  };
  const m = await compare(
    {
      direct: async () => read(await direct.fetch(new Request("http://edgefn.test/x"))),
      run: async () =>
        read(
          await exports.default.fetch(`http://edgefn.test/run/${ws.name}/web/x`, {
            headers: { authorization: `Bearer ${ADMIN_KEY}` },
          }),
        ),
      public: async () => read(await exports.default.fetch(`http://edgefn.test/run/${ws.name}/web-public/x`)),
    },
    { rounds: 15, perRound: 20 },
  );
  expect(m.run).toBeGreaterThan(0);
  report("ANY /run/{workspace}/{function}/*", [
    { name: "fetch handler through the loader (baseline)", ms: m.direct as number },
    { name: "GET /run with a key", ms: m.run as number, vs: "fetch handler through the loader (baseline)" },
    {
      name: "GET /run of a public function",
      ms: m.public as number,
      vs: "fetch handler through the loader (baseline)",
    },
  ]);
});
