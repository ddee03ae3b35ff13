/**
 * A throwaway local platform for the benchmarks and the black-box tests: its own port and storage directory,
 * random keys, migrations applied, the runtime of `npm start` (Miniflare, under the supervisor) running in a
 * child process of its own process group until stopped (or killed, to test crashes). The child is this file
 * run as `node platform.mjs serve`; it stops by itself when the process that started it goes away.
 *
 * Unlike `npm start` it reads no .dev.vars: its vars are wrangler.toml's, its keys and the `vars` given. Its
 * `vars` also name the supervisor's journal (EDGEFN_SUPERVISOR_URL, EDGEFN_SUPERVISOR_TOKEN).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fireCron, freePort, ROOT } from "./local.mjs";
import { workerdPids } from "./runtime.mjs";

const SELF = fileURLToPath(import.meta.url);

/** Signals a whole process group; false if it is gone. */
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a local platform. `vars` are extra Worker vars; `persistTo` reuses a storage directory (a restart).
 * Returns { url, adminKey, persistTo, vars, output(), stop({keep}), kill(), restart(), cron(time?), stall() }.
 */
export async function startPlatform({ vars = {}, persistTo, adminKey, secretsKey, main } = {}) {
  const state = persistTo ?? mkdtempSync(join(tmpdir(), "edgefn-local-"));
  const keys = {
    EDGEFN_ENV: "local",
    EDGEFN_ADMIN_KEY: adminKey ?? `efn_${randomBytes(24).toString("base64url")}`,
    EDGEFN_SECRETS_KEY: secretsKey ?? randomBytes(32).toString("base64url"),
    ...vars,
  };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [SELF, "serve"], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, EDGEFN_PLATFORM: JSON.stringify({ port, persistTo: state, vars: keys, main }) },
  });
  // Kept so a failed start (or a failed test) can say why.
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", () => resolve()));

  let ready;
  try {
    ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("The platform did not start within 180 s")), 180_000);
      child.on("message", (m) => {
        if (m?.type !== "ready") return;
        clearTimeout(timer);
        resolve(m);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`The platform exited (${code ?? signal}) before it was up`));
      });
    });
  } catch (err) {
    signalGroup(child.pid, "SIGKILL");
    throw new Error(`${err.message}\n${output}`);
  }
  // The channel stays open (the child stops when it closes, so a test runner that dies takes its platforms
  // along) without keeping this process alive.
  child.channel?.unref();

  const platform = {
    url,
    /** The platform's process (workerd and the rest of the runtime are its descendants). */
    pid: child.pid,
    adminKey: keys.EDGEFN_ADMIN_KEY,
    persistTo: state,
    vars: { ...keys, ...ready.vars },
    output: () => output,
    /** Stops the platform; removes its storage unless `keep`. */
    async stop({ keep = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        const timer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      // Whatever of the group is left (nothing, normally).
      signalGroup(child.pid, "SIGKILL");
      if (!keep && !persistTo) rmSync(state, { recursive: true, force: true });
    },
    /** Kills the runtime and its workerd at once (SIGKILL), as a crash or power loss would; keeps the storage. */
    async kill() {
      signalGroup(child.pid, "SIGKILL");
      await exited;
    },
    /** Starts a new platform on the same storage and keys. */
    restart() {
      return startPlatform({
        vars,
        persistTo: state,
        adminKey: keys.EDGEFN_ADMIN_KEY,
        secretsKey: keys.EDGEFN_SECRETS_KEY,
        main,
      });
    },
    /** Fires the cron trigger, optionally as if at `time` (epoch ms). */
    cron(time) {
      return fireCron(ready.controlUrl, "* * * * *", { time, timeoutMs: 120_000 });
    },
    /**
     * Test only: freezes workerd (SIGSTOP), which to the supervisor's probe looks exactly like a thread stuck
     * in native code; the supervisor then restarts it. Returns the pids stopped.
     */
    stall() {
      const pids = workerdPids(child.pid);
      for (const pid of pids) process.kill(pid, "SIGSTOP");
      return pids;
    },
  };
  return platform;
}

export { fireCron, freePort };

/** The child: the runtime under its supervisor, configured by EDGEFN_PLATFORM. */
async function serve() {
  const { port, persistTo, vars, main } = JSON.parse(process.env.EDGEFN_PLATFORM ?? "{}");
  delete process.env.EDGEFN_PLATFORM;
  const { startSupervised } = await import("./supervisor.mjs");
  let local;
  const killWorkerd = () => {
    for (const pid of workerdPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  };
  process.on("exit", killWorkerd);
  // Stops at once, workerd killed, as npm start does (Miniflare's exit hook would exit on these signals anyway).
  const stop = () => process.exit(0);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stop);
  // The process that started this one is gone (or hung up): so is the platform.
  process.on("disconnect", stop);
  try {
    local = await startSupervised({ port, persistTo, vars, main });
  } catch (err) {
    console.error(`edgefn: ${err.message}`);
    process.exit(1);
  }
  process.send?.({ type: "ready", vars: local.supervisor.vars, controlUrl: local.runtime.controlUrl });
}

if (process.argv[2] === "serve" && process.argv[1] && resolve(process.argv[1]) === SELF) await serve();
