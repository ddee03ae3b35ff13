/**
 * edgefn in `npm run bench`: a throwaway local platform (scripts/lib/platform.mjs, the runtime of `npm start`)
 * running the benchmarks' worker (bench/worker: the platform plus the baseline routes), its fixtures deployed over
 * the API, and the cases driven against it. Also its one-off figures: the cold start of a new version, upload to
 * ready, and how long `npm start` takes to a healthy platform.
 *
 * `root` is the checkout whose platform runs (this one by default; another one to measure it, such as main, with
 * the same harness and peers).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { coldRow, median, round } from "./load.mjs";
import { NOOP_BODY } from "./peers.mjs";
import { PY_NOOP } from "./python.mjs";
import { freePort, startServer } from "./servers.mjs";

/** The no-op function: `handle` answers with its data; `fetch` answers a POST as the peers' no-ops do. */
export const NOOP = `export async function handle(data) {
  return data;
}
export default {
  async fetch(request) {
    const body = request.method === "POST" ? await request.json().catch(() => ({})) : {};
    return Response.json({ ok: true, result: body.args ?? null });
  },
};
`;

const json = { "content-type": "application/json" };

/** The direct children of this process (to find the platform's process where its handle does not say). */
function children() {
  const out = new Set();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid) out.add(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** `api(method, path, body?, key = the admin key)` against a platform: the answer's JSON; throws on a 4xx or 5xx. */
export function platformApi(platform) {
  return async (method, path, body, key = platform.adminKey) => {
    const res = await fetch(`${platform.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : json) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  };
}

/**
 * Starts the platform of `root` with a bench token and deploys the no-op. Returns { platform, pid, startMs, api,
 * fx, cases, recorded, baselineOf, stop() }: `cases` are { name, request }, `recorded` the names whose every
 * answered call must end up recorded, `baselineOf` the baseline route each edgefn case is compared with.
 */
export async function startEdgefn(root) {
  const { startPlatform } = await import(pathToFileURL(join(root, "scripts", "lib", "platform.mjs")).href);
  const token = randomBytes(24).toString("base64url");
  const before = children();
  const started = performance.now();
  // The benchmarks' own worker: the platform's, plus the baseline routes (never in the production bundle).
  const platform = await startPlatform({ vars: { EDGEFN_BENCH: token }, main: "bench/worker/index.ts" });
  const startMs = performance.now() - started;
  const pid = platform.pid ?? [...children()].find((p) => !before.has(p));
  const { url } = platform;

  const api = platformApi(platform);

  try {
    const ws = await api("POST", "/api/workspaces", { name: "bench" });
    const fn = await api("POST", "/api/functions", { workspaceId: ws.id, name: "noop" });
    const { version } = await uploadVersion(api, fn.id, { "index.js": NOOP });
    const invoker = await api("POST", "/api/keys", { name: "bench-invoker", role: "invoker", workspaceId: ws.id });
    const fx = { workspaceId: ws.id, functionId: fn.id, versionId: version.id, invokerKey: invoker.key };
    const bench = { "x-edgefn-bench": token };
    const auth = { authorization: `Bearer ${invoker.key}` };
    const post = (path, headers) => ({
      url: `${url}${path}`,
      method: "POST",
      headers: { ...json, ...headers },
      body: NOOP_BODY,
    });
    const cases = [
      { name: "healthz", request: { url: `${url}/healthz` } },
      { name: "direct", request: post(`/__bench/direct/${version.id}`, bench) },
      { name: "invoke", request: post(`/api/functions/${fn.id}/invoke`, auth) },
      { name: "invoke, not recorded", request: post(`/__bench/unrecorded/${fn.id}`, { ...auth, ...bench }) },
      { name: "direct fetch", request: post(`/__bench/direct/${version.id}/fetch/`, bench) },
      { name: "/run", request: post(`/run/${ws.id}/${fn.name}/`, auth) },
    ];
    const baselineOf = { invoke: "direct", "invoke, not recorded": "direct", "/run": "direct fetch" };
    // The same no-op in Python, its warm invoke against JavaScript's (a checkout without Python goes without it).
    try {
      const py = await api("POST", "/api/functions", { workspaceId: ws.id, name: "noop-py" });
      await uploadVersion(api, py.id, { "handler.py": PY_NOOP });
      cases.push({ name: "invoke, Python", request: post(`/api/functions/${py.id}/invoke`, auth) });
      baselineOf["invoke, Python"] = "invoke";
    } catch (err) {
      console.log(`bench: no Python no-op on this platform: ${err.message}`);
    }
    return {
      platform,
      pid,
      startMs,
      api,
      fx,
      cases,
      benchToken: token,
      recorded: new Set(["invoke", "/run"]),
      baselineOf,
      stop: () => platform.stop(),
    };
  } catch (err) {
    await platform.stop();
    throw err;
  }
}

/** Uploads a version and polls it (every 10 ms) until its build is over; returns it with the time it took. */
export async function uploadVersion(api, functionId, files) {
  const started = performance.now();
  const queued = await api("POST", `/api/functions/${functionId}/versions`, { files });
  for (;;) {
    const v = await api("GET", `/api/functions/${functionId}/versions/${queued.id}`);
    if (v.status === "ready") return { version: v, ms: performance.now() - started };
    if (v.status !== "queued" && v.status !== "building") {
      throw new Error(`build ${v.status}: ${JSON.stringify(v.error)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** About `bytes` of JavaScript: many small functions, as a bundled library would be. */
export function bulkyModule(bytes, n) {
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

export async function timedInvoke(api, functionId, key) {
  const t = performance.now();
  const out = await api("POST", `/api/functions/${functionId}/invoke`, { args: {} }, key);
  if (!out.ok) throw new Error(`invoke failed: ${JSON.stringify(out.errorDetail)}`);
  return performance.now() - t;
}

/**
 * The first call after a new version (a new isolate) against the median of the next ten, for 1 KB and 1 MB. Each
 * row is given to `keep` once measured, so a size that cannot be measured does not take the other with it.
 */
export async function coldStarts(e, samples, log, keep) {
  // The floor: a new isolate of one empty module, made through the Worker Loader and called once, then again.
  const empty = { first: [], warm: [] };
  const touch = async (name) => {
    const t = performance.now();
    const res = await fetch(`${e.platform.url}/__bench/empty-isolate/${name}`, {
      method: "POST",
      headers: { "x-edgefn-bench": e.benchToken },
    });
    if (!res.ok) throw new Error(`empty isolate: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    return performance.now() - t;
  };
  try {
    for (let n = 1; n <= samples; n++) {
      const name = `${Date.now()}-${n}`;
      empty.first.push(await touch(name));
      const w = [];
      for (let i = 0; i < 10; i++) w.push(await touch(name));
      empty.warm.push(median(w));
    }
    const floor = coldRow("new isolate of an empty module, through the Worker Loader (the floor)", empty, samples);
    keep(floor);
    log(`${floor.name}: first call ${floor.firstCallMs} ms, warm ${floor.warmCallMs} ms (+${floor.overWarmMs} ms)`);
  } catch (err) {
    // A platform from another checkout may not have the route.
    log(`the floor of a cold start could not be measured: ${err.message}`);
  }
  for (const [label, bytes] of [
    ["1 KB bundle", 1024],
    ["1 MB bundle", 1024 * 1024],
  ]) {
    const fn = await e.api("POST", "/api/functions", { workspaceId: e.fx.workspaceId, name: `cold-${bytes}` });
    // The first call after a deploy (the platform makes the new version's isolate as the build ends), after a
    // config change through the API (which makes the new config's isolate after its answer), and of an isolate
    // nobody made before (a new config revision without that warm-up; a checkout without the route: a PATCH).
    const deployed = { first: [], warm: [] };
    const changed = { first: [], warm: [] };
    const fresh = { first: [], warm: [] };
    for (let n = 1; n <= samples; n++) {
      await uploadVersion(e.api, fn.id, { "index.js": bulkyModule(bytes, n) });
      deployed.first.push(await timedInvoke(e.api, fn.id, e.fx.invokerKey));
      deployed.warm.push(await warmMedian(e, fn.id));
      await e.api("PATCH", `/api/functions/${fn.id}`, { envVars: { REVISION: String(n) } });
      await settleAfterChange();
      changed.first.push(await timedInvoke(e.api, fn.id, e.fx.invokerKey));
      changed.warm.push(await warmMedian(e, fn.id));
      await newIsolate(e, fn.id, n);
      fresh.first.push(await timedInvoke(e.api, fn.id, e.fx.invokerKey));
      fresh.warm.push(await warmMedian(e, fn.id));
    }
    for (const [name, m] of [
      [`cold start, ${label}`, deployed],
      [`first call after a config change, ${label}`, changed],
      [`cold start of a new isolate, ${label}`, fresh],
    ]) {
      const row = coldRow(name, m, samples);
      keep(row);
      log(`${row.name}: first call ${row.firstCallMs} ms, warm ${row.warmCallMs} ms (+${row.overWarmMs} ms)`);
    }
  }
}

/** A config change's answer comes before its warm-up is over: a user's next call comes a moment later. */
const settleAfterChange = () => new Promise((r) => setTimeout(r, 100));

/**
 * Makes the function's next call need a new isolate: a new config revision without the warm-up of an API change
 * (`/__bench/new-isolate`), or on a checkout without that route, a config change through the API.
 */
export async function newIsolate(e, functionId, n) {
  const res = await fetch(`${e.platform.url}/__bench/new-isolate/${functionId}`, {
    method: "POST",
    headers: { "x-edgefn-bench": e.benchToken },
  });
  await res.arrayBuffer();
  if (res.status === 404) await e.api("PATCH", `/api/functions/${functionId}`, { envVars: { REVISION: `new-${n}` } });
  else if (!res.ok) throw new Error(`new isolate: ${res.status}`);
}

/** The median of ten warm calls. */
async function warmMedian(e, functionId) {
  const w = [];
  for (let i = 0; i < 10; i++) w.push(await timedInvoke(e.api, functionId, e.fx.invokerKey));
  return median(w);
}

/** Upload to ready (queue, build, check in an isolate) for about 100 KB of TypeScript against about 1 KB. */
export async function uploadToReady(e, samples, log) {
  const fn = await e.api("POST", "/api/functions", { workspaceId: e.fx.workspaceId, name: "upload-ts" });
  const small = [];
  const large = [];
  let sourceBytes = 0;
  for (let n = 1; n <= samples; n++) {
    small.push((await uploadVersion(e.api, fn.id, { "index.ts": typescriptModule(1024, n) })).ms);
    const code = typescriptModule(100 * 1024, n);
    sourceBytes = code.length;
    large.push((await uploadVersion(e.api, fn.id, { "index.ts": code })).ms);
  }
  const row = {
    name: "upload-to-ready, 100 KB TypeScript",
    ms: round(median(large)),
    baselineMs: round(median(small)),
    vs: "upload-to-ready, 1 KB TypeScript",
    ratio: round(median(large.map((l, i) => l / small[i]))),
    sourceBytes,
    samples,
  };
  log(`${row.name}: ${row.ms} ms (1 KB: ${row.baselineMs} ms, ${row.ratio}x)`);
  return row;
}

/**
 * `npm start` (scripts/start.mjs of `root`) until it says the platform is running (migrations applied, /healthz
 * answering): on new storage, then again on the storage it left. Keys come from the environment, so no .dev.vars
 * is written.
 */
export async function startupTimes(root, samples, log) {
  const times = { fresh: [], again: [] };
  for (let n = 0; n < samples; n++) {
    const state = mkdtempSync(join(tmpdir(), "edgefn-start-"));
    try {
      for (const kind of ["fresh", "again"]) {
        const port = await freePort();
        const server = await startServer({
          name: "npm start",
          command: process.execPath,
          args: [join(root, "scripts", "start.mjs")],
          cwd: root,
          env: {
            PORT: String(port),
            EDGEFN_PERSIST_TO: state,
            EDGEFN_ADMIN_KEY: `efn_${randomBytes(24).toString("base64url")}`,
            EDGEFN_SECRETS_KEY: randomBytes(32).toString("base64url"),
          },
          readyLine: /edgefn is running at/,
        });
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        await server.stop();
        if (res.status !== 200) throw new Error(`npm start: /healthz answered ${res.status}\n${server.output()}`);
        times[kind].push(server.startMs);
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }
  const row = {
    name: "npm start to a healthy platform",
    freshMs: round(median(times.fresh), 0),
    againMs: round(median(times.again), 0),
    samples,
  };
  log(`${row.name}: ${row.freshMs} ms on new storage, ${row.againMs} ms on existing storage`);
  return row;
}
