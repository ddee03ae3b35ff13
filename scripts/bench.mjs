/**
 * `npm run bench`: how much edgefn adds to a function's time, measured on this machine.
 *
 * 1. Starts a throwaway local platform with a bench token (which enables the /__bench baseline routes, see
 *    src/routes/bench.ts), deploys its fixtures over the API and drives it with autocannon: invoke, invoke without
 *    recording and /run against the same bundle called straight through the Worker Loader, at concurrency 1 and 32;
 *    cold start (first call after a new version) for a 1 KB and a 1 MB bundle; upload-to-ready for a 100 KB
 *    TypeScript function.
 * 2. Runs the in-runtime benchmarks of bench/*.bench.ts (list and calls paging at scale, the schedule dispatcher,
 *    in-process invoke costs) and collects their figures.
 * 3. Writes bench/results.json and bench/results.md and prints the table.
 *
 * Every figure is a ratio against a baseline measured in the same run, cases interleaved round by round, so the
 * machine's noise falls on both alike. `--quick` runs shorter rounds (for a smoke run); `--http-only` skips step 2;
 * `--report` only renders bench/results.md again from bench/results.json.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { ROOT } from "./lib/local.mjs";
import { startPlatform } from "./lib/platform.mjs";

const QUICK = process.argv.includes("--quick");
const HTTP_ONLY = process.argv.includes("--http-only");
const ROUNDS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 1 : 2;
const COLD_SAMPLES = QUICK ? 2 : 5;

const log = (...args) => console.log("bench:", ...args);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const round = (n, d = 2) => Number(n.toFixed(d));

// ---------------------------------------------------------------------------------------------- the platform

if (process.argv.includes("--report")) {
  // Only re-render bench/results.md from bench/results.json.
  const table = markdown(JSON.parse(readFileSync(join(ROOT, "bench", "results.json"), "utf8")));
  writeFileSync(join(ROOT, "bench", "results.md"), table);
  console.log(table);
  process.exit(0);
}

const token = randomBytes(24).toString("base64url");
log("starting a local platform");
// The benchmarks' own worker: the platform's, plus the baseline routes (never in the production bundle).
const platform = await startPlatform({ vars: { EDGEFN_BENCH: token }, main: "bench/worker/index.ts" });
const { url } = platform;
process.on("SIGINT", async () => {
  await platform.stop();
  process.exit(130);
});

async function api(method, path, body, key = platform.adminKey) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return json;
}

/** Uploads a version and polls it (every 10 ms) until its build is over; returns it with the time it took. */
async function uploadVersion(functionId, files) {
  const started = performance.now();
  const queued = await api("POST", `/api/functions/${functionId}/versions`, { files });
  for (;;) {
    const v = await api("GET", `/api/functions/${functionId}/versions/${queued.id}`);
    if (v.status === "ready") return { version: v, ms: performance.now() - started };
    if (v.status !== "queued" && v.status !== "building")
      throw new Error(`build ${v.status}: ${JSON.stringify(v.error)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const NOOP = `export async function handle(data) {
  return data;
}
export default {
  async fetch() {
    return new Response("ok");
  },
};
`;

// ------------------------------------------------------------------------------------------ load generation

/** One autocannon run; latencies taken from every response (ms, sub-millisecond precision). */
function load({ path, method = "GET", headers = {}, body, connections, seconds }) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const instance = autocannon(
      { url: `${url}${path}`, method, headers, body, connections, duration: seconds, timeout: 30 },
      (err, result) => {
        if (err) return reject(err);
        const bad = result.non2xx + result.errors + result.timeouts;
        if (bad > 0) return reject(new Error(`${method} ${path}: ${bad} failed requests of ${result.requests.total}`));
        resolve({
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          rps: result.requests.total / seconds,
          n: latencies.length,
        });
      },
    );
    instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}

async function httpOverhead(fx) {
  const json = { "content-type": "application/json" };
  const bench = { "x-edgefn-bench": token };
  const auth = { authorization: `Bearer ${fx.invokerKey}` };
  const args = JSON.stringify({ args: { name: "bench", n: 1 } });
  const cases = {
    healthz: { path: "/healthz" },
    direct: { path: `/__bench/direct/${fx.versionId}`, method: "POST", headers: { ...json, ...bench }, body: args },
    invoke: {
      path: `/api/functions/${fx.functionId}/invoke`,
      method: "POST",
      headers: { ...json, ...auth },
      body: args,
    },
    "invoke, not recorded": {
      path: `/__bench/unrecorded/${fx.functionId}`,
      method: "POST",
      headers: { ...json, ...auth, ...bench },
      body: args,
    },
    "direct fetch": { path: `/__bench/direct/${fx.versionId}/fetch/hello`, headers: bench },
    "/run": { path: `/run/${fx.workspaceId}/${fx.functionName}/hello`, headers: auth },
  };
  const baselineOf = { invoke: "direct", "invoke, not recorded": "direct", "/run": "direct fetch" };

  // Every answered invoke and /run request of the no-op function must end up recorded: counted here, checked after.
  const recorded = new Set(["invoke", "/run"]);
  let sent = 0;
  let slack = 0;
  const run = async (name, options) => {
    const m = await load(options);
    if (recorded.has(name)) {
      sent += m.n;
      slack += options.connections;
    }
    return m;
  };

  log("warming up");
  for (const [name, c] of Object.entries(cases)) await run(name, { ...c, connections: 8, seconds: 1 });

  const samples = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const connections of [1, 32]) {
      for (const [name, c] of Object.entries(cases)) {
        const m = await run(name, { ...c, connections, seconds: SECONDS });
        const key = `${name}@${connections}`;
        samples[key] = [...(samples[key] ?? []), m];
        log(
          `round ${r + 1}/${ROUNDS} c=${connections} ${name}: p50 ${m.p50.toFixed(2)} ms, ${Math.round(m.rps)} req/s`,
        );
      }
    }
  }
  // Records are written after the answers: give the last ones a moment, then count them.
  let stored = 0;
  for (let i = 0; i < 50 && stored < sent; i++) {
    await new Promise((r) => setTimeout(r, 200));
    stored = (await api("GET", `/api/functions/${fx.functionId}/metrics?window=1h`)).total;
  }
  // autocannon stops counting when a run's time is up: requests still in flight then are answered (and recorded)
  // uncounted, at most one per connection per run.
  if (stored < sent || stored > sent + slack) throw new Error(`${sent} calls answered, but ${stored} recorded`);
  log(`${stored} calls recorded for ${sent} counted answers (up to ${slack} more were in flight at run ends)`);

  const rows = [];
  for (const connections of [1, 32]) {
    for (const name of Object.keys(cases)) {
      const s = samples[`${name}@${connections}`];
      const base = baselineOf[name] && samples[`${baselineOf[name]}@${connections}`];
      const row = {
        name,
        concurrency: connections,
        p50Ms: round(median(s.map((x) => x.p50))),
        p99Ms: round(median(s.map((x) => x.p99))),
        rps: Math.round(median(s.map((x) => x.rps))),
        requests: s.reduce((n, x) => n + x.n, 0),
      };
      if (base) {
        // Ratios per round (the same stretch of the machine's noise), then their median.
        row.vs = baselineOf[name];
        row.p50Ratio = round(median(s.map((x, i) => x.p50 / base[i].p50)));
        row.p99Ratio = round(median(s.map((x, i) => x.p99 / base[i].p99)));
        row.rpsRatio = round(median(s.map((x, i) => x.rps / base[i].rps)));
      }
      rows.push(row);
    }
  }
  return { rows, recordedCalls: stored };
}

// ------------------------------------------------------------------------------- cold start, upload-to-ready

/** About `bytes` of JavaScript: many small functions, as a bundled library would be. */
function bulkyModule(bytes, n) {
  const parts = [`// revision ${n}`];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `function f${i}(x) { const y = x * ${i % 97} + ${i}; return y > ${i} ? y - ${i} : y + "${i.toString(36)}"; }`;
    parts.push(line);
    size += line.length + 1;
  }
  parts.push(`export async function handle(data) { return { n: ${n}, v: f1(2) }; }`);
  return parts.join("\n");
}

/** About `bytes` of TypeScript: interfaces, generics, classes and enums for the type-stripper to chew on. */
function typescriptModule(bytes, n) {
  const parts = [`// revision ${n}`];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const chunk = `interface Item${i}<T extends object = Record<string, unknown>> { id: number; tags: readonly string[]; payload?: T }
enum Kind${i} { A = ${i}, B, C }
export class Store${i}<T extends object> {
  private readonly items = new Map<number, Item${i}<T>>();
  put(item: Item${i}<T>): this { this.items.set(item.id, item); return this; }
  kinds(): Kind${i}[] { return [Kind${i}.A, Kind${i}.B, Kind${i}.C]; }
  count(filter?: (i: Item${i}<T>) => boolean): number { let c = 0; for (const v of this.items.values()) if (!filter || filter(v)) c++; return c; }
}
`;
    parts.push(chunk);
    size += chunk.length;
  }
  parts.push(`export async function handle(data: { n?: number } | null): Promise<{ n: number; count: number }> {
  const s = new Store0<{ x: number }>().put({ id: 1, tags: ["a"], payload: { x: 1 } });
  return { n: ${n}, count: s.count() };
}`);
  return parts.join("\n");
}

async function timedInvoke(functionId, key) {
  const t = performance.now();
  const out = await api("POST", `/api/functions/${functionId}/invoke`, { args: {} }, key);
  if (!out.ok) throw new Error(`invoke failed: ${JSON.stringify(out.errorDetail)}`);
  return performance.now() - t;
}

async function coldStarts(fx) {
  const rows = [];
  for (const [label, bytes] of [
    ["1 KB bundle", 1024],
    ["1 MB bundle", 1024 * 1024],
  ]) {
    const fn = await api("POST", "/api/functions", { workspaceId: fx.workspaceId, name: `cold-${bytes}` });
    const first = [];
    const warm = [];
    let bundleBytes = 0;
    for (let n = 1; n <= COLD_SAMPLES; n++) {
      const { version } = await uploadVersion(fn.id, { "index.js": bulkyModule(bytes, n) });
      bundleBytes = version.size ?? version.bundleSize ?? bundleBytes;
      first.push(await timedInvoke(fn.id, fx.invokerKey));
      const w = [];
      for (let i = 0; i < 10; i++) w.push(await timedInvoke(fn.id, fx.invokerKey));
      warm.push(median(w));
    }
    const row = {
      name: `cold start, ${label}`,
      firstCallMs: round(median(first)),
      warmCallMs: round(median(warm)),
      ratio: round(median(first.map((f, i) => f / warm[i]))),
      samples: COLD_SAMPLES,
    };
    if (bundleBytes) row.bundleBytes = bundleBytes;
    rows.push(row);
    log(`${row.name}: first call ${row.firstCallMs} ms, warm ${row.warmCallMs} ms (${row.ratio}x)`);
  }
  return rows;
}

async function uploadToReady(fx) {
  const fn = await api("POST", "/api/functions", { workspaceId: fx.workspaceId, name: "upload-ts" });
  const small = [];
  const large = [];
  let sourceBytes = 0;
  for (let n = 1; n <= COLD_SAMPLES; n++) {
    small.push((await uploadVersion(fn.id, { "index.ts": typescriptModule(1024, n) })).ms);
    const code = typescriptModule(100 * 1024, n);
    sourceBytes = code.length;
    large.push((await uploadVersion(fn.id, { "index.ts": code })).ms);
  }
  const row = {
    name: "upload-to-ready, 100 KB TypeScript",
    ms: round(median(large)),
    baselineMs: round(median(small)),
    vs: "upload-to-ready, 1 KB TypeScript",
    ratio: round(median(large.map((l, i) => l / small[i]))),
    sourceBytes,
    samples: COLD_SAMPLES,
  };
  log(`${row.name}: ${row.ms} ms (1 KB: ${row.baselineMs} ms, ${row.ratio}x)`);
  return row;
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

// ----------------------------------------------------------------------------------------------- reporting

function markdown(results) {
  const lines = [];
  lines.push(
    `Measured ${results.date} on ${results.machine.cpu} (${results.machine.cores} cores, ${results.machine.memoryGiB} GiB), Node ${results.machine.node}.`,
  );
  lines.push("", "### Invoke overhead (HTTP, autocannon)", "");
  lines.push("| case | concurrency | p50 ms | p99 ms | req/s | vs | p50 ratio | p99 ratio | req/s ratio |");
  lines.push("|---|---:|---:|---:|---:|---|---:|---:|---:|");
  for (const r of results.http) {
    lines.push(
      `| ${r.name} | ${r.concurrency} | ${r.p50Ms} | ${r.p99Ms} | ${r.rps} | ${r.vs ?? "baseline"} | ${r.p50Ratio ?? ""} | ${r.p99Ratio ?? ""} | ${r.rpsRatio ?? ""} |`,
    );
  }
  lines.push(
    "",
    `Every invoke and /run call answered during these runs was recorded: ${results.recordedCalls} calls, counted through the metrics endpoint afterwards.`,
  );
  lines.push("", "### Cold start and build", "");
  lines.push("| case | figure | baseline | ratio |", "|---|---:|---:|---:|");
  for (const r of results.cold) {
    lines.push(`| ${r.name} | first call ${r.firstCallMs} ms | warm call ${r.warmCallMs} ms | ${r.ratio}x |`);
  }
  const u = results.upload;
  lines.push(`| ${u.name} | ${u.ms} ms | ${u.vs}: ${u.baselineMs} ms | ${u.ratio}x |`);
  if (results.workers.length) {
    lines.push("", "### In the runtime (bench/*.bench.ts)");
    for (const b of results.workers) {
      lines.push("", `**${b.bench}**`, "", "| case | median ms | ratio |", "|---|---:|---|");
      for (const r of b.results) {
        lines.push(`| ${r.name} | ${r.medianMs} | ${r.vs ? `${r.ratio}x ${r.vs}` : "baseline"} |`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

let results;
try {
  const ws = await api("POST", "/api/workspaces", { name: "bench" });
  const fn = await api("POST", "/api/functions", { workspaceId: ws.id, name: "noop" });
  const { version } = await uploadVersion(fn.id, { "index.js": NOOP });
  const invoker = await api("POST", "/api/keys", { name: "bench-invoker", role: "invoker", workspaceId: ws.id });
  const fx = {
    workspaceId: ws.id,
    functionId: fn.id,
    functionName: fn.name,
    versionId: version.id,
    invokerKey: invoker.key,
  };

  const { rows: http, recordedCalls } = await httpOverhead(fx);
  const cold = await coldStarts(fx);
  const upload = await uploadToReady(fx);
  await platform.stop();

  const workers = HTTP_ONLY ? [] : await workersBenchmarks();
  const cpu = cpus();
  results = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpu[0]?.model.trim() ?? "unknown",
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    },
    method: { rounds: ROUNDS, secondsPerRun: SECONDS, coldSamples: COLD_SAMPLES, quick: QUICK },
    http,
    recordedCalls,
    cold,
    upload,
    workers,
  };
} catch (err) {
  await platform.stop();
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
}

const table = markdown(results);
writeFileSync(join(ROOT, "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(ROOT, "bench", "results.md"), table);
console.log(`\n${table}`);
console.log("bench: wrote bench/results.json and bench/results.md");
