/**
 * `npm start`: edgefn on this machine, on embedded local storage (D1, R2, Durable Objects and Queues live
 * under .wrangler/state, or EDGEFN_PERSIST_TO). Makes sure an admin key exists, runs the Worker in workerd
 * through Miniflare on 127.0.0.1:PORT (default 8787; scripts/lib/runtime.mjs) with the D1 migrations applied,
 * under the supervisor that restarts a runtime which stops answering (scripts/lib/supervisor.mjs), fires the
 * cron trigger at the start of every minute, and stops everything it started on Ctrl-C, SIGTERM or SIGHUP.
 */
import { ensureLocalKeys, readDevVars, scheduleCron } from "./lib/local.mjs";
import { workerdPids } from "./lib/runtime.mjs";
import { startSupervised } from "./lib/supervisor.mjs";

const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number, not '${process.env.PORT}'`);
  process.exit(2);
}
const url = `http://localhost:${port}`;
// Where the local D1, R2, Durable Object and Queue data live (wrangler's default is .wrangler/state).
const persistTo = process.env.EDGEFN_PERSIST_TO || undefined;

const keys = ensureLocalKeys();
// The Worker's vars and secrets: wrangler.toml's [vars], then .dev.vars, then the keys from the environment.
const vars = { ...readDevVars(), ...keys.override };

let stopping = false;
let stopCron = () => {};

/** Kills the workerd this process started, at once (on every way out of this process). */
function killWorkerd() {
  for (const pid of workerdPids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
process.on("exit", killWorkerd);

/**
 * Stops everything at once: workerd is killed (what Miniflare's own exit hook, which also listens to these
 * signals, does too) and the process exits, so there is nothing for a second Ctrl-C to force.
 */
function stop(code = 0) {
  stopping = true;
  stopCron();
  killWorkerd();
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(0));

console.log(`edgefn: starting the local runtime (workerd through Miniflare) on port ${port}`);
let local;
try {
  local = await startSupervised({ port, persistTo, vars });
} catch (err) {
  console.error(`edgefn: ${err.message}`);
  stop(1);
}

if (!stopping) {
  const line = "-".repeat(72);
  console.log(
    [
      "",
      line,
      `  edgefn is running at ${url}`,
      `  Web console:    ${url}/`,
      `  API reference:  ${url}/docs`,
      `  Admin API key:  ${keys.adminKey}`,
      `                  (from ${keys.adminFrom})`,
      "",
      `  curl -H "Authorization: Bearer $EDGEFN_ADMIN_KEY" ${url}/api/workspaces`,
      "  The cron trigger fires at the start of every minute. Ctrl-C stops everything.",
      line,
      "",
    ].join("\n"),
  );
  // The cron trigger's route is on Miniflare's own port (the runtime's port serves the Worker alone).
  stopCron = scheduleCron(local.runtime.controlUrl, (err) => {
    if (!stopping) console.error(`edgefn: could not fire the cron trigger: ${err.message}`);
  });
}
