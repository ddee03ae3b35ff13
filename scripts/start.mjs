/**
 * `npm start`: edgefn on this machine, on embedded local storage (D1, R2, Durable Objects and Queues live
 * under .wrangler/state). Applies the local D1 migrations, makes sure an admin key exists, runs `wrangler dev`
 * on PORT (default 8787), fires the cron trigger at the start of every minute (wrangler dev never does), and
 * stops everything it started on Ctrl-C.
 */
import {
  applyLocalMigrations,
  ensureLocalKeys,
  fireCron,
  startWrangler,
  stopGroup,
  waitHealthy,
} from "./lib/local.mjs";

const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number, not '${process.env.PORT}'`);
  process.exit(2);
}
const url = `http://localhost:${port}`;
// Where the local D1, R2, Durable Object and Queue data live (wrangler's default is .wrangler/state).
const persistTo = process.env.EDGEFN_PERSIST_TO || undefined;

const keys = ensureLocalKeys();
console.log("edgefn: applying local D1 migrations");
try {
  applyLocalMigrations({ persistTo });
} catch (err) {
  console.error(`edgefn: ${err.message}`);
  process.exit(1);
}

console.log(`edgefn: starting wrangler dev on port ${port}`);
const child = startWrangler({ port, persistTo, vars: keys.override });
let stopping = false;
let cronTimer;

function stop(signal) {
  if (stopping) return;
  stopping = true;
  clearTimeout(cronTimer);
  stopGroup(child, signal === "SIGINT" ? "SIGINT" : "SIGTERM");
  // If wrangler ignores the polite signal, make sure it and its workerd are gone.
  setTimeout(() => stopGroup(child, "SIGKILL"), 5000).unref();
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(signal));
process.on("exit", () => stopGroup(child, "SIGKILL"));
child.on("exit", (code, signal) => {
  clearTimeout(cronTimer);
  if (!stopping) console.error(`edgefn: wrangler dev stopped (${code ?? signal})`);
  process.exit(stopping ? 0 : (code ?? 1));
});

try {
  await waitHealthy(`http://127.0.0.1:${port}`, child);
} catch (err) {
  console.error(`edgefn: ${err.message}`);
  stop("SIGTERM");
  process.exitCode = 1;
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
  scheduleCron();
}

/** Fires the cron trigger at the start of each minute, as Cloudflare does. */
function scheduleCron() {
  const now = Date.now();
  cronTimer = setTimeout(
    async () => {
      try {
        const status = await fireCron(`http://127.0.0.1:${port}`);
        if (status >= 400) console.error(`edgefn: the cron trigger answered ${status}`);
      } catch (err) {
        if (!stopping) console.error(`edgefn: could not fire the cron trigger: ${err.message}`);
      }
      if (!stopping) scheduleCron();
    },
    60_000 - (now % 60_000),
  );
}
