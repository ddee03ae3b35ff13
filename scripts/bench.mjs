/**
 * `npm run bench`: edgefn against what its users would run instead, and against itself, on this machine.
 *
 * 1. Starts the targets: a throwaway local edgefn platform (its fixtures deployed over the API) and the peers of
 *    scripts/lib/bench/peers.mjs (serverless-offline, netlify functions:serve, a bare Worker), each serving the
 *    same no-op function; with `--compare <checkout>` a second edgefn platform from another checkout (main, say).
 * 2. Drives every case of every target with autocannon at concurrency 1 and 32, interleaved round by round, and
 *    reads each server's CPU from /proc; a "fresh" peer is started anew for each measurement.
 * 3. Measures edgefn's one-off figures: the cold start of a new version, upload to ready, `npm start` to healthy,
 *    and Python's (scripts/lib/bench/python.mjs): a first call from the memory snapshot and without it, the build.
 * 4. Runs the in-runtime benchmarks of bench/*.bench.ts (list and calls paging at scale, the schedule dispatcher,
 *    in-process invoke costs) and collects their figures.
 * 5. Writes bench/results.json and bench/results.md, prints the tables and whether each goal is met.
 *
 * Every figure is a ratio against a baseline measured in the same run, cases interleaved round by round (each
 * round starting with another target), so the machine's noise falls on both alike. Options: `--quick` (one short
 * round, a smoke run), `--rounds N`, `--seconds N`, `--http-only` (skip step 4), `--no-peers` (edgefn alone),
 * `--compare <dir>`, `--report` (only render bench/results.md again from bench/results.json), `--compare-label NAME`
 * (the compared platform's name).
 *
 * A target is `{ label, how, start(), fresh? }`; start() gives `{ pid, cases: [{ name, request }], stop() }`:
 * another kind of case (a Python function, say) is one more case or one more entry of `targets`.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  coldStarts,
  newIsolate,
  startEdgefn,
  startupTimes,
  uploadToReady,
  uploadVersion,
} from "./lib/bench/edgefn.mjs";
import { measure, median, round, settle } from "./lib/bench/load.mjs";
import { peers } from "./lib/bench/peers.mjs";
import { pythonFigures } from "./lib/bench/python.mjs";
import { GOAL_BASELINE, goalsOf, markdown } from "./lib/bench/report.mjs";
import { restartFirstCalls } from "./lib/bench/restart.mjs";
import { stopOnSignals } from "./lib/bench/servers.mjs";
import { ROOT } from "./lib/local.mjs";

const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "http-only": { type: "boolean", default: false },
    "no-peers": { type: "boolean", default: false },
    report: { type: "boolean", default: false },
    rounds: { type: "string" },
    seconds: { type: "string" },
    compare: { type: "string" },
    "compare-label": { type: "string" },
  },
});
const QUICK = opts.quick;
const ROUNDS = Number(opts.rounds ?? (QUICK ? 1 : 5));
const SECONDS = Number(opts.seconds ?? (QUICK ? 1 : 4));
const COLD_SAMPLES = QUICK ? 2 : 5;
const STARTUP_SAMPLES = QUICK ? 1 : 3;
const CONCURRENCY = [1, 32];
const RESULTS = join(ROOT, "bench", "results.json");

const log = (...args) => console.log("bench:", ...args);
const loads = () => loadavg().map((n) => Number(n.toFixed(2)));

if (opts.report) {
  const table = markdown(JSON.parse(readFileSync(RESULTS, "utf8")));
  writeFileSync(join(ROOT, "bench", "results.md"), table);
  console.log(table);
  process.exit(0);
}

/** The commit a checkout is at, and whether it has changes not committed. */
function revision(root) {
  try {
    const head = execFileSync("git", ["-C", root, "rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: "pipe",
    }).trim();
    const dirty = execFileSync("git", ["-C", root, "status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    });
    return dirty.trim() ? `${head}+changes` : head;
  } catch {
    return "unknown";
  }
}

const packageVersion = (name) =>
  JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;

// ------------------------------------------------------------------------------------------------ targets

/** An edgefn platform as a target: its cases, and those whose calls must all be recorded. */
function edgefnTarget(root, label, only) {
  return {
    label,
    how: `\`npm start\`'s runtime (scripts/lib/platform.mjs of ${root === ROOT ? "this checkout" : "the compared checkout"}, at ${revision(root)}): workerd through Miniflare under its supervisor, the benchmarks' worker (the platform plus the baseline routes of bench/worker), an invoker key of the function's workspace`,
    root,
    async start() {
      const e = await startEdgefn(root);
      if (only) e.cases = e.cases.filter((c) => only.includes(c.name));
      return e;
    },
  };
}

const targets = [edgefnTarget(ROOT, "edgefn")];
if (opts.compare) {
  const root = resolve(opts.compare);
  targets.push(edgefnTarget(root, opts["compare-label"] ?? `edgefn at ${revision(root)}`, ["invoke", "/run"]));
}
if (!opts["no-peers"]) targets.push(...peers);
const edgefnTargets = targets.filter((t) => t.root);

/** Running targets by label (fresh ones are started per measurement). */
const running = new Map();
stopOnSignals(() => Promise.allSettled([...running.values()].map((r) => r.stop())));

/**
 * Warm-up of every case: one request (a target's first answer may load its handler, which takes a while), then
 * one second at concurrency 8.
 */
async function warm(target, server) {
  for (const c of server.cases) {
    const { url, ...init } = c.request;
    const first = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
    await first.arrayBuffer();
    if (!first.ok) throw new Error(`${target.label}: ${c.name} answered ${first.status}`);
    if (server.recorded?.has(c.name)) count(target, 1, 0);
    const m = await measure(c.request, { connections: 8, seconds: 1 });
    if (server.recorded?.has(c.name)) count(target, m.n, 8);
  }
  await settle(server.pid);
}

/** Every case's measurements: samples[key][concurrency] = [per round]. */
const samples = {};
const keep = (label, name, connections, m) => {
  const key = `${label}: ${name}`;
  samples[key] ??= {};
  samples[key][connections] ??= [];
  samples[key][connections].push(m);
  return key;
};
/** Calls answered by the recorded cases of each edgefn target, and the slack of requests in flight at run ends. */
const sent = new Map();
function count(target, n, connections) {
  const s = sent.get(target.label) ?? { n: 0, slack: 0 };
  sent.set(target.label, { n: s.n + n, slack: s.slack + connections });
}

async function measureTarget(target, server, connections, r) {
  for (const c of server.cases) {
    const m = await measure(c.request, { connections, seconds: SECONDS, pid: server.pid });
    const key = keep(target.label, c.name, connections, m);
    if (server.recorded?.has(c.name)) count(target, m.n, connections);
    log(
      `round ${r + 1}/${ROUNDS} c=${connections} ${key}: p50 ${m.p50?.toFixed(2) ?? "-"} ms, ${Math.round(m.rps)} req/s, ${m.cpuMs?.toFixed(3) ?? "-"} CPU ms/req`,
    );
    // Whatever the server still does for this run (queued requests, records) is not the next case's.
    await settle(server.pid);
  }
}

const startMs = new Map();
/** The baseline case of each case of each target (kept past the target's stop, for the tables). */
const baselines = new Map();
const noteStart = (target, server) => {
  startMs.set(target.label, [...(startMs.get(target.label) ?? []), server.startMs]);
  if (server.baselineOf) baselines.set(target.label, server.baselineOf);
};

async function runRounds() {
  for (const target of targets.filter((t) => !t.fresh)) {
    log(`starting ${target.label}`);
    const server = await target.start();
    running.set(target.label, server);
    noteStart(target, server);
  }
  log("warming up");
  for (const [label, server] of running)
    await warm(
      targets.find((t) => t.label === label),
      server,
    );
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts with another target, so that none always runs first (or right after the same one).
    const order = [...targets.slice(r % targets.length), ...targets.slice(0, r % targets.length)];
    for (const connections of CONCURRENCY) {
      for (const target of order) {
        if (!target.fresh) {
          await measureTarget(target, running.get(target.label), connections, r);
          continue;
        }
        const server = await target.start();
        try {
          noteStart(target, server);
          await warm(target, server);
          await measureTarget(target, server, connections, r);
        } finally {
          await server.stop();
        }
      }
    }
  }
}

/** Every answered invoke and /run call of the no-op must end up recorded: counted there, checked here. */
async function checkRecorded() {
  const out = {};
  for (const target of edgefnTargets) {
    const e = running.get(target.label);
    const { n, slack } = sent.get(target.label) ?? { n: 0, slack: 0 };
    let stored = 0;
    for (let i = 0; i < 50 && stored < n; i++) {
      await new Promise((r) => setTimeout(r, 200));
      stored = (await e.api("GET", `/api/functions/${e.fx.functionId}/metrics?window=1h`)).total;
    }
    // autocannon stops counting when a run's time is up: requests still in flight then are answered (and
    // recorded) uncounted, at most one per connection per run.
    if (stored < n || stored > n + slack)
      throw new Error(`${target.label}: ${n} calls answered, but ${stored} recorded`);
    log(`${target.label}: ${stored} calls recorded for ${n} counted answers (up to ${slack} more were in flight)`);
    out[target.label] = stored;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ figures

const ratio = (a, b) => (a === null || b === null || b === 0 ? null : a / b);

/** Per-round ratios of `rows` against `base` (the same stretch of the machine's noise), then their median. */
function ratios(rows, base) {
  const per = (f) => {
    const xs = rows.map((x, i) => ratio(f(x), base[i] ? f(base[i]) : null)).filter((x) => x !== null);
    return xs.length ? round(median(xs)) : null;
  };
  return {
    p50Ratio: per((x) => x.p50),
    p99Ratio: per((x) => x.p99),
    rpsRatio: per((x) => x.rps),
    cpuRatio: per((x) => x.cpuMs),
  };
}

function httpRows() {
  const rows = [];
  for (const [key, byConcurrency] of Object.entries(samples)) {
    const target = targets.find((t) => key.startsWith(`${t.label}: `));
    const name = key.slice(target.label.length + 2);
    for (const connections of CONCURRENCY) {
      const s = byConcurrency[connections] ?? [];
      const cpu = s.map((x) => x.cpuMs).filter((x) => x !== null);
      const row = {
        key,
        target: target.label,
        case: name,
        concurrency: connections,
        p50Ms: round(median(s.map((x) => x.p50))),
        p99Ms: round(median(s.map((x) => x.p99))),
        rps: round(median(s.map((x) => x.rps)), 0),
        cpuMs: cpu.length ? round(median(cpu), 3) : null,
        requests: s.reduce((n, x) => n + x.n, 0),
      };
      const base = samples[GOAL_BASELINE]?.[connections];
      if (base) row.peers = { vs: GOAL_BASELINE, ...ratios(s, base) };
      if (target.root) {
        const baseline = baselines.get(target.label)?.[name];
        const own = baseline && samples[`${target.label}: ${baseline}`]?.[connections];
        row.self = own ? { vs: `${target.label}: ${baseline}`, ...ratios(s, own) } : {};
      }
      rows.push(row);
    }
  }
  return rows;
}

// ------------------------------------------------------------------------------------ in-runtime benchmarks

/** Runs bench/*.bench.ts in workerd and collects the JSON line each benchmark prints. */
function workersBenchmarks() {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "vitest"), ["run", "--config", "vitest.bench.config.ts"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the in-runtime benchmarks failed (exit ${code})`));
      const found = [];
      for (const line of out.split("\n")) {
        const at = line.indexOf('{"bench":');
        if (at >= 0) found.push(JSON.parse(line.slice(at)));
      }
      resolve(found);
    });
  });
}

// ------------------------------------------------------------------------------------------------ the run

const loadBefore = loads();
let results;
try {
  await runRounds();
  const recordedCalls = await checkRecorded();
  const cold = [];
  const upload = [];
  const failed = [];
  // A one-off figure that cannot be measured (a build the loaded machine let time out) is said, not fatal: the
  // figures against the peers are kept.
  const oneOff = async (what, target, f) => {
    try {
      await f();
    } catch (err) {
      // Node's fetch says only "fetch failed"; its cause says why (a reset connection, a refused one).
      const why = err.cause ? `${err.message} (${err.cause.code ?? err.cause.message})` : err.message;
      log(`${target.label}: ${what} could not be measured: ${why}`);
      failed.push({ target: target.label, what, error: String(why).slice(0, 300) });
    }
  };
  for (const target of edgefnTargets) {
    const e = running.get(target.label);
    await oneOff("Python cold start and build", target, async () => {
      await pythonFigures(e, COLD_SAMPLES, log, {
        keepCold: (row) => cold.push({ target: target.label, ...row }),
        keepUpload: (row) => upload.push({ target: target.label, ...row }),
        uploadVersion,
        newIsolate,
      });
    });
    await oneOff("cold start", target, async () => {
      await coldStarts(e, COLD_SAMPLES, log, (row) => cold.push({ target: target.label, ...row }));
    });
    await oneOff("upload to ready", target, async () => {
      upload.push({ target: target.label, ...(await uploadToReady(e, COLD_SAMPLES, log)) });
    });
  }
  for (const [label, server] of running) {
    await server.stop();
    running.delete(label);
  }
  const startup = [];
  for (const target of edgefnTargets) {
    await oneOff("npm start", target, async () => {
      startup.push({ target: target.label, ...(await startupTimes(target.root, STARTUP_SAMPLES, log)) });
    });
    await oneOff("first call after a restart", target, async () => {
      cold.push({ target: target.label, ...(await restartFirstCalls(target.root, COLD_SAMPLES, log)) });
    });
  }
  const loadAfter = loads();
  const workers = opts["http-only"] ? [] : await workersBenchmarks();
  const cpu = cpus();
  const http = httpRows();
  const goalCases = edgefnTargets.flatMap((t) => [`${t.label}: invoke`, `${t.label}: /run`]);
  results = {
    date: new Date().toISOString(),
    // The compared checkout's folder is this machine's: named by what it is instead.
    command: `npm run bench${
      process.argv.length > 2
        ? ` -- ${process.argv
            .slice(2)
            .map((a) => (a === opts.compare ? "<checkout>" : a))
            .join(" ")}`
        : ""
    }`,
    machine: {
      cpu: cpu[0]?.model.trim() ?? "unknown",
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      loadBefore,
      loadAfter,
    },
    versions: Object.fromEntries(
      ["serverless", "serverless-offline", "netlify-cli", "miniflare", "wrangler", "autocannon"].map((p) => [
        p,
        packageVersion(p),
      ]),
    ),
    method: { rounds: ROUNDS, secondsPerRun: SECONDS, coldSamples: COLD_SAMPLES, quick: QUICK },
    targets: targets.map((t) => ({
      label: t.label,
      how: t.how,
      startMs: startMs.has(t.label) ? round(median(startMs.get(t.label)), 0) : null,
    })),
    peerRows: [
      ...targets
        .filter((t) => !t.root)
        .flatMap((t) => Object.keys(samples).filter((k) => k.startsWith(`${t.label}: `))),
      ...goalCases,
    ],
    goalCases,
    http,
    recordedCalls,
    cold,
    upload,
    startup,
    failed,
    workers,
  };
} catch (err) {
  // What the platforms said last tells why a request failed.
  for (const [label, server] of running) {
    if (server.platform) console.error(`bench: ${label}'s last output:\n${server.platform.output().slice(-4000)}`);
  }
  await Promise.allSettled([...running.values()].map((r) => r.stop()));
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
}

const table = markdown(results);
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(ROOT, "bench", "results.md"), table);
console.log(`\n${table}`);
for (const g of goalsOf(results))
  log(`goal ${g.met ? "met" : "NOT met"}: ${g.case}, ${g.goal}: ${g.ratio} (${g.target})`);
console.log("bench: wrote bench/results.json and bench/results.md");
