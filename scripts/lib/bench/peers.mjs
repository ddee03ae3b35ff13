/**
 * The peers edgefn is compared with: what its users would run instead on their machine, each serving the same
 * no-op function (bench/peers/): it answers a POST of `{"args": ...}` with `{"ok": true, "result": args}`.
 * Each is started as its users start it, from a copy of its fixture in a temporary directory (their state
 * folders stay out of the repository), with what keeps it offline and nothing that tunes it:
 *
 * - serverless-offline 13 under the serverless framework 3: `serverless offline` over a serverless.yml with one
 *   `httpApi` function (handlers run in worker threads, its default), telemetry and notifications off;
 * - netlify-cli 27: `netlify functions:serve --offline`, with the function as a v1 (Lambda-style) handler and as
 *   a v2 (web platform) handler;
 * - a bare Worker: the no-op as a Worker's fetch handler, run in workerd through Miniflare exactly as edgefn's
 *   runtime runs the platform (scripts/lib/runtime.mjs), so the difference is the platform.
 *
 * A peer is `{ id, label, how, start() }`; start() returns a running server (./servers.mjs) with its `cases`:
 * `{ name, request: { url, method, headers, body } }`.
 */
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../local.mjs";
import { freePort, startServer } from "./servers.mjs";

const PEERS = join(ROOT, "bench", "peers");
const NODE_MODULES = join(ROOT, "node_modules");

/** The request every no-op answers: the same body as edgefn's invoke sends. */
export const NOOP_BODY = JSON.stringify({ args: { name: "bench", n: 1 } });
const post = (url, headers = {}) => ({
  url,
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: NOOP_BODY,
});

/** A copy of a fixture folder, with the project's node_modules beside it (as a user's project has its own). */
function copyFixture(name) {
  const dir = mkdtempSync(join(tmpdir(), `edgefn-bench-${name}-`));
  cpSync(join(PEERS, name), dir, { recursive: true });
  symlinkSync(NODE_MODULES, join(dir, "node_modules"), "dir");
  return dir;
}

/** Starts a server from a fixture copy; the copy goes when the server stops. */
async function fromFixture(fixture, start) {
  const dir = copyFixture(fixture);
  try {
    const server = await start(dir);
    const stop = server.stop;
    server.stop = async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    };
    return server;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function serverlessOffline() {
  const [httpPort, lambdaPort, websocketPort] = [await freePort(), await freePort(), await freePort()];
  const url = `http://127.0.0.1:${httpPort}`;
  const server = await fromFixture("serverless", (dir) =>
    startServer({
      name: "serverless-offline",
      command: process.execPath,
      args: [
        join(NODE_MODULES, "serverless", "bin", "serverless.js"),
        "offline",
        "--host",
        "127.0.0.1",
        "--httpPort",
        String(httpPort),
        "--lambdaPort",
        String(lambdaPort),
        "--websocketPort",
        String(websocketPort),
      ],
      cwd: dir,
      env: { SLS_TELEMETRY_DISABLED: "1", SLS_NOTIFICATIONS_MODE: "off", SLS_INTERACTIVE_SETUP_DISABLE: "1" },
      readyUrl: `${url}/`,
    }),
  );
  server.cases = [{ name: "POST /noop", request: post(`${url}/noop`) }];
  return server;
}

async function netlify() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await fromFixture("netlify", (dir) =>
    startServer({
      name: "netlify functions:serve",
      command: process.execPath,
      args: [
        join(NODE_MODULES, "netlify-cli", "bin", "run.js"),
        "functions:serve",
        "--offline",
        "--port",
        String(port),
      ],
      cwd: dir,
      readyUrl: `${url}/`,
    }),
  );
  server.cases = [
    { name: "v1 handler", request: post(`${url}/.netlify/functions/noop-v1`) },
    { name: "v2 handler", request: post(`${url}/.netlify/functions/noop-v2`) },
  ];
  return server;
}

async function bareWorker() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer({
    name: "bare Worker",
    command: process.execPath,
    args: [join(ROOT, "scripts", "lib", "bench", "bare-worker.mjs"), String(port), join(PEERS, "worker", "index.js")],
    cwd: ROOT,
    readyUrl: `${url}/`,
  });
  server.cases = [{ name: "fetch", request: post(`${url}/`) }];
  return server;
}

export const peers = [
  {
    id: "worker",
    label: "bare Worker",
    how: "the no-op as a Worker's fetch handler (bench/peers/worker), in workerd through Miniflare as `npm start` runs edgefn: its socket served directly, request logging off",
    start: bareWorker,
  },
  {
    id: "sls",
    label: "serverless-offline, running",
    how: "`serverless offline` (serverless 3, serverless-offline 13) over bench/peers/serverless: one `httpApi` function, handlers in worker threads (its default), telemetry and notifications off; started once and kept for the whole run",
    start: serverlessOffline,
  },
  {
    id: "sls-fresh",
    label: "serverless-offline, fresh",
    how: "the same, started anew for each measurement (after its own warm-up)",
    start: serverlessOffline,
    fresh: true,
  },
  {
    id: "netlify",
    label: "netlify functions:serve",
    how: "`netlify functions:serve --offline` (netlify-cli 27) over bench/peers/netlify: the no-op as a v1 (Lambda-style) and as a v2 (web platform) handler",
    start: netlify,
  },
];
