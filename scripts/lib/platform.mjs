/**
 * A throwaway local platform for the benchmarks and the black-box reliability tests: its own port and storage
 * directory, random keys, migrations applied, `wrangler dev` running until stopped (or killed, to test crashes).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyLocalMigrations, fireCron, startWrangler, stopGroup, waitHealthy } from "./local.mjs";

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a local platform. `vars` are extra Worker vars; `persistTo` reuses a storage directory (a restart).
 * Returns { url, adminKey, persistTo, vars, stop(), kill(), restart(), cron(time?) }.
 */
export async function startPlatform({ vars = {}, persistTo, adminKey, secretsKey } = {}) {
  const state = persistTo ?? mkdtempSync(join(tmpdir(), "edgefn-local-"));
  const keys = {
    EDGEFN_ENV: "local",
    EDGEFN_ADMIN_KEY: adminKey ?? `efn_${randomBytes(24).toString("base64url")}`,
    EDGEFN_SECRETS_KEY: secretsKey ?? randomBytes(32).toString("base64url"),
    ...vars,
  };
  applyLocalMigrations({ persistTo: state, quiet: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startWrangler({ port, persistTo: state, vars: keys, quiet: true });
  try {
    await waitHealthy(url, child, 180_000);
  } catch (err) {
    stopGroup(child, "SIGKILL");
    throw new Error(`${err.message}\n${child.output ?? ""}`);
  }
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const platform = {
    url,
    adminKey: keys.EDGEFN_ADMIN_KEY,
    persistTo: state,
    vars: keys,
    output: () => child.output ?? "",
    /** Stops the platform; removes its storage unless `keep`. */
    async stop({ keep = false } = {}) {
      stopGroup(child, "SIGTERM");
      const timer = setTimeout(() => stopGroup(child, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      if (!keep && !persistTo) rmSync(state, { recursive: true, force: true });
    },
    /** Kills wrangler and workerd at once (SIGKILL), as a crash or power loss would; keeps the storage. */
    async kill() {
      stopGroup(child, "SIGKILL");
      await exited;
    },
    /** Starts a new platform on the same storage and keys. */
    restart() {
      return startPlatform({
        vars,
        persistTo: state,
        adminKey: keys.EDGEFN_ADMIN_KEY,
        secretsKey: keys.EDGEFN_SECRETS_KEY,
      });
    },
    /** Fires the cron trigger, optionally as if at `time` (epoch ms). */
    async cron(time) {
      const q = time === undefined ? "" : `&time=${time}`;
      const res = await fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}${q}`, {
        signal: AbortSignal.timeout(120_000),
      });
      return res.status;
    },
  };
  return platform;
}

export { fireCron };
