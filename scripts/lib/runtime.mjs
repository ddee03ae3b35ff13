/**
 * The local runtime: the Worker of src/index.ts in workerd through Miniflare, driven from this Node process
 * (no `wrangler dev`, no proxy in front of workerd). Used by `npm start` and by the throwaway platform of the
 * tests and benchmarks (scripts/lib/platform.mjs); `npm run dev` stays `wrangler dev`.
 *
 * Everything comes from wrangler.toml, read by wrangler's own helpers (`unstable_readConfig`,
 * `unstable_getMiniflareWorkerOptions`): compatibility date and flags, vars, D1, R2, the Durable Object, the
 * Worker Loader, the queues with their consumers, the assets of console/ with the Worker running first, the
 * module rules. Importing wrangler takes seconds, so what it derives from wrangler.toml (and the migrations
 * split into statements) is cached in node_modules/.cache/edgefn, keyed by the files' contents and the
 * versions; so is the Worker bundle, keyed by the size and mtime of every file esbuild read.
 *
 * Storage uses wrangler's layout (<persist>/v3/{d1,r2,do,...}, persist = .wrangler/state or EDGEFN_PERSIST_TO),
 * so `wrangler d1 ... --local` and `npm run dev` see the same data; D1 migrations are applied through the D1
 * binding and recorded in wrangler's `d1_migrations` table, as `wrangler d1 migrations apply --local` does.
 *
 * The Worker's fetch handler is served on the runtime's port directly: Miniflare's own entry (its entry worker,
 * and for a Worker with assets the assets router and its proxy: three hops of JavaScript in front of every
 * request) listens on a second, local port, which only the cron trigger's route (/cdn-cgi/local/scheduled) uses.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { freePort, ROOT, writeAtomic } from "./local.mjs";
import { batchedWorkerdStdout } from "./workerd-stdout.mjs";

const DEFAULT_MIGRATIONS_TABLE = "d1_migrations";

/**
 * The Worker's fetch handler as an entrypoint of its own (src/index.ts): what the runtime's port serves. With
 * assets, Miniflare would route the default entrypoint's socket through the assets router and its proxy.
 */
export const LOCAL_ENTRYPOINT = "LocalHttp";

/** How the Worker's journal lines start in its log (src/runtime/journal.ts): they go to `events.journal`. */
export const JOURNAL_PREFIX = "edgefn-journal ";

/**
 * V8 flags for workerd unless the user set MINIFLARE_WORKERD_V8_FLAGS: a regular expression that backtracks
 * too much switches to the linear-time engine, so most catastrophic patterns end in milliseconds (not those
 * with backreferences or lookarounds, which that engine cannot run; the supervisor's watchdog covers them).
 */
export const WORKERD_V8_FLAGS =
  "--enable-experimental-regexp-engine-on-excessive-backtracks --regexp-backtracks-before-fallback=10000";

const sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(typeof p === "string" ? p : Buffer.from(p)).update("\0");
  return h.digest("hex");
};

// One folder per checkout: worktrees may share one node_modules, and must not overwrite each other's bundles.
const CACHE = join(ROOT, "node_modules", ".cache", "edgefn", sha256(ROOT).slice(0, 16));
const CONFIG_CACHE = join(CACHE, "local-config.json");

function packageVersion(dir) {
  return JSON.parse(readFileSync(join(ROOT, "node_modules", dir, "package.json"), "utf8")).version;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** wrangler's module rule globs (glob-to-regexp without `extended`/`globstar`): `*` is `.*`, the rest literal. */
function globToRegExp(glob) {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\/?=!]/g, "\\$&").replace(/\*/g, ".*")}$`);
}

const RULE_MODULE_TYPES = { Text: "Text", Data: "Data", CompiledWasm: "CompiledWasm" };

/**
 * What wrangler.toml says, as Miniflare options: from the cache when wrangler.toml, the migrations and the
 * versions are unchanged, else from wrangler (and cached). Worker vars from .dev.vars are not part of it.
 */
export async function localConfig() {
  const configPath = join(ROOT, "wrangler.toml");
  const toml = readFileSync(configPath);
  const versions = `${packageVersion("wrangler")}/${packageVersion("miniflare")}`;
  const key = sha256(toml, versions, ROOT);
  let cached = readJson(CONFIG_CACHE);
  let wrangler;
  const loadWrangler = async () => {
    wrangler ??= await import("wrangler");
    return wrangler;
  };
  let dirty = false;
  if (cached?.key !== key) {
    const w = await loadWrangler();
    const config = w.unstable_readConfig({ config: configPath });
    const { workerOptions, main } = w.unstable_getMiniflareWorkerOptions(config);
    // Vars and secrets are added at start (.dev.vars, the environment): only wrangler.toml's [vars] are kept.
    const vars = { ...(config.vars ?? {}) };
    const d1 = config.d1_databases?.[0];
    if (d1?.migrations_pattern) throw new Error("wrangler.toml: migrations_pattern is not supported by npm start");
    cached = {
      key,
      name: config.name,
      main,
      workerOptions: { ...workerOptions, bindings: vars },
      d1: d1
        ? {
            binding: d1.binding,
            migrationsDir: resolve(ROOT, d1.migrations_dir ?? "migrations"),
            migrationsTable: d1.migrations_table ?? DEFAULT_MIGRATIONS_TABLE,
          }
        : null,
      migrations: {},
    };
    dirty = true;
  }
  // The migrations, split into statements the way wrangler splits them (its splitter, cached by content).
  const migrations = [];
  if (cached.d1) {
    let names = [];
    try {
      names = readdirSync(cached.d1.migrationsDir)
        .filter((n) => n.endsWith(".sql"))
        .sort();
    } catch {
      // No migrations folder: nothing to apply.
    }
    const kept = {};
    for (const name of names) {
      const sql = readFileSync(join(cached.d1.migrationsDir, name), "utf8");
      const hash = sha256(sql);
      let queries = cached.migrations[hash];
      if (!queries) {
        queries = (await loadWrangler()).unstable_splitSqlQuery(sql);
        dirty = true;
      }
      kept[hash] = queries;
      migrations.push({ name, queries });
    }
    if (Object.keys(kept).length !== Object.keys(cached.migrations).length) dirty = true;
    cached.migrations = kept;
  }
  if (dirty) writeAtomic(CONFIG_CACHE, JSON.stringify(cached));
  return { ...cached, migrations };
}

/**
 * Bundles the Worker as wrangler does (esbuild, ESM, conditions workerd/worker/browser, `node:*` and
 * `cloudflare:*` external, es2024, files matched by a module rule kept as modules of their own) into
 * node_modules/.cache/edgefn/worker. Reuses the last bundle when no file it was built from changed.
 * Returns Miniflare's `modules` list and `modulesRoot`.
 */
export async function bundleWorker(main, modulesRules = []) {
  const rules = modulesRules
    .filter((r) => RULE_MODULE_TYPES[r.type])
    .flatMap((r) => r.include.map((glob) => ({ type: r.type, regex: globToRegExp(glob) })));
  const esbuildVersion = packageVersion("esbuild");
  const key = sha256(main, esbuildVersion, JSON.stringify(modulesRules), "edgefn-bundle-v1");
  // One folder per entry (the platform's, the benchmarks' worker), so that starting one does not rebuild the other.
  const bundleDir = join(CACHE, "worker", sha256(main).slice(0, 16));
  const metaPath = join(bundleDir, "meta.json");
  const meta = readJson(metaPath);
  if (meta?.key === key && inputsUnchanged(meta.inputs)) return modulesOf(bundleDir, meta);

  const esbuild = await import("esbuild");
  const collected = new Map();
  const moduleCollector = {
    name: "edgefn-module-collector",
    setup(build) {
      for (const rule of rules) {
        build.onResolve({ filter: rule.regex }, async (args) => {
          if (args.pluginData?.skip) return undefined;
          const cleaned = args.path.replace(/\?.*$/, "");
          let filePath = join(args.resolveDir, cleaned);
          const resolved = await build.resolve(cleaned, {
            kind: args.kind,
            importer: args.importer,
            resolveDir: args.resolveDir,
            pluginData: { skip: true },
          });
          if (resolved.path) filePath = resolved.path;
          const content = readFileSync(filePath);
          const name = `./${createHash("sha1").update(content).digest("hex")}-${basename(cleaned)}`;
          collected.set(name, { type: rule.type, filePath });
          return { path: name, external: true, namespace: `edgefn-module-${rule.type}` };
        });
      }
    },
  };
  const nodeEnv = JSON.stringify("development");
  const result = await esbuild.build({
    entryPoints: [main],
    absWorkingDir: ROOT,
    bundle: true,
    format: "esm",
    target: "es2024",
    supported: { "import-source": true, using: true },
    loader: { ".js": "jsx", ".mjs": "jsx", ".cjs": "jsx" },
    conditions: ["workerd", "worker", "browser"],
    external: ["node:*", "cloudflare:*", "__STATIC_CONTENT_MANIFEST"],
    define: {
      "process.env.NODE_ENV": nodeEnv,
      "global.process.env.NODE_ENV": nodeEnv,
      "globalThis.process.env.NODE_ENV": nodeEnv,
    },
    sourcemap: true,
    metafile: true,
    write: false,
    outdir: bundleDir,
    entryNames: "index",
    logLevel: "silent",
    plugins: [moduleCollector],
  });
  mkdirSync(bundleDir, { recursive: true });
  for (const file of result.outputFiles) writeAtomic(file.path, file.contents);
  const modules = [{ type: "ESModule", path: "index.js" }];
  for (const [name, { type, filePath }] of collected) {
    const file = name.slice(2);
    writeAtomic(join(bundleDir, file), readFileSync(filePath));
    modules.push({ type, path: file });
  }
  const inputs = {};
  for (const input of [...Object.keys(result.metafile.inputs), ...[...collected.values()].map((c) => c.filePath)]) {
    const abs = isAbsolute(input) ? input : resolve(ROOT, input.replace(/^[a-z-]+:/, ""));
    try {
      const s = statSync(abs);
      inputs[relative(ROOT, abs)] = [s.size, s.mtimeMs];
    } catch {
      // A virtual module: nothing to watch.
    }
  }
  const fresh = { key, inputs, modules };
  writeAtomic(metaPath, JSON.stringify(fresh));
  return modulesOf(bundleDir, fresh);
}

function inputsUnchanged(inputs) {
  for (const [path, [size, mtimeMs]] of Object.entries(inputs ?? {})) {
    try {
      const s = statSync(resolve(ROOT, path));
      if (s.size !== size || s.mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return inputs !== undefined;
}

function modulesOf(bundleDir, meta) {
  return {
    modulesRoot: bundleDir,
    modules: meta.modules.map((m) => ({
      type: m.type,
      path: join(bundleDir, m.path),
      contents: readFileSync(join(bundleDir, m.path)),
    })),
  };
}

/** The persistence root wrangler uses for `--persist-to` (default .wrangler/state next to wrangler.toml). */
export function persistRoot(persistTo) {
  return persistTo ? resolve(process.cwd(), persistTo) : join(ROOT, ".wrangler", "state");
}

/** The process ids of the workerd processes this Node process started (Miniflare's runtime). */
export function workerdPids(parent = process.pid) {
  const run = spawnSync("pgrep", ["-P", String(parent), "-x", "workerd"], { encoding: "utf8" });
  return (run.stdout ?? "")
    .split("\n")
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * Miniflare's options (v4 shape) for a Worker served the local runtime's way: its fetch handler (`entrypoint`)
 * on host:port, Miniflare's entry on controlPort, no request log, no request.cf fetched (a placeholder locally;
 * the Worker does not use it), the scheduled route on, workerd's log lines to `onLog`; with EDGEFN_INSPECTOR_PORT in
 * the environment, workerd's inspector on that port (for profiling: docs/performance.md).
 */
export function servedWorkerOptions({ host, port, controlPort, log, onLog, worker, entrypoint, persistTo }) {
  return {
    host,
    port: controlPort,
    log,
    logRequests: false,
    cf: false,
    unsafeTriggerHandlers: true,
    handleStructuredLogs: onLog,
    ...(process.env.EDGEFN_INSPECTOR_PORT ? { inspectorPort: Number(process.env.EDGEFN_INSPECTOR_PORT) } : {}),
    ...(persistTo === undefined ? {} : { resourcePersistencePath: join(persistRoot(persistTo), "v3") }),
    workers: [{ ...worker, unsafeDirectSockets: [{ host, port, ...(entrypoint ? { entrypoint } : {}) }] }],
  };
}

/**
 * A Worker of one module, served the way startRuntime serves the platform (the benchmarks' bare Worker: the
 * same compatibility date, flags and Miniflare setup, nothing else). Returns { url, dispose() }.
 */
export async function startBareRuntime({ port, host = "127.0.0.1", scriptPath }) {
  const miniflare = import("miniflare");
  miniflare.catch(() => {});
  const config = await localConfig();
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await miniflare;
  const controlPort = await freePort();
  const mf = new Miniflare(
    convertV4MiniflareOptions(
      servedWorkerOptions({
        host,
        port,
        controlPort,
        log: new Log(LogLevel.WARN),
        onLog: printStructuredLog,
        worker: {
          name: "bare",
          compatibilityDate: config.workerOptions.compatibilityDate,
          compatibilityFlags: config.workerOptions.compatibilityFlags,
          modulesRoot: dirname(scriptPath),
          modules: [{ type: "ESModule", path: scriptPath, contents: readFileSync(scriptPath) }],
        },
      }),
    ),
  );
  await mf.ready;
  return { url: `http://${host}:${port}`, dispose: () => mf.dispose() };
}

/**
 * Starts the runtime: bundle, Miniflare with workerd serving the Worker on host:port, migrations applied.
 * `vars` are Worker vars and secrets on top of wrangler.toml's [vars]. `events` receives `crash` (workerd
 * exited by itself: Miniflare is restarting it), `restarted` (Miniflare restarted workerd after an exit) and
 * `journal` (a journal line of the Worker's log, without its prefix; never printed).
 * Returns { url, controlUrl (Miniflare's entry: the cron trigger's route), port, applied, workerdPids(),
 * drainLog(), kill(), recreate(), dispose() }.
 */
export async function startRuntime({
  port,
  host = "127.0.0.1",
  persistTo,
  vars = {},
  events = {},
  log = () => {},
  main,
}) {
  if (process.env.MINIFLARE_WORKERD_V8_FLAGS === undefined) process.env.MINIFLARE_WORKERD_V8_FLAGS = WORKERD_V8_FLAGS;
  // Miniflare takes a while to import: started first, it loads while the config and bundle are read.
  const miniflare = import("miniflare");
  miniflare.catch(() => {}); // awaited below; a failure there is the one reported
  const config = await localConfig();
  // `main`: another entry for the same Worker (the benchmarks' worker, which adds its baseline routes).
  const { modules, modulesRoot } = await bundleWorker(
    main ? resolve(ROOT, main) : config.main,
    config.workerOptions.modulesRules,
  );
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await miniflare;

  let expectingExit = false;
  let stopping = false;
  /** Miniflare's log, with its note about a restarted runtime turned into events for the supervisor. */
  class RuntimeLog extends Log {
    warn(message) {
      if (/Workers runtime crashed unexpectedly/.test(message)) {
        // What the exited workerd wrote is read first: the journal's last lines among it.
        stdout?.drain();
        if (!expectingExit && !stopping) events.crash?.();
        return;
      }
      super.warn(message);
    }
  }

  const { modulesRules: _rules, bindings: configVars, ...workerOptions } = config.workerOptions;
  // Kept across a recreate, so the cron trigger's route stays where it was.
  const controlPort = await freePort();
  const onLog = (line) => {
    if (line.message.startsWith(JOURNAL_PREFIX)) events.journal?.(line.message.slice(JOURNAL_PREFIX.length));
    else printStructuredLog(line);
  };
  const options = () =>
    convertV4MiniflareOptions({
      ...servedWorkerOptions({
        host,
        port,
        controlPort,
        log: new RuntimeLog(LogLevel.WARN),
        onLog,
        persistTo,
        entrypoint: LOCAL_ENTRYPOINT,
        worker: {
          name: config.name,
          ...workerOptions,
          rootPath: ROOT,
          modulesRoot,
          modules,
          bindings: { ...configVars, ...vars },
        },
      }),
      unsafeHandleRuntimeRestart: () => {
        const expected = expectingExit;
        expectingExit = false;
        if (!stopping) events.restarted?.({ expected });
      },
    });

  // workerd's standard output (the Worker's log, the journal's lines) is read in batches, not line by line.
  const stdout = batchedWorkerdStdout(onLog, { scriptDir: CACHE });
  let mf = new Miniflare(options());
  try {
    await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    stdout?.close();
    throw err;
  }
  let applied = [];
  if (config.d1) {
    try {
      applied = await applyMigrations(mf, config.d1, config.migrations);
    } catch (err) {
      await mf.dispose().catch(() => {});
      stdout?.close();
      throw err;
    }
    if (applied.length) log(`applied ${applied.length} D1 migration(s): ${applied.join(", ")}`);
  }

  return {
    url: `http://${host}:${port}`,
    controlUrl: `http://${host}:${controlPort}`,
    port,
    applied,
    workerdPids: () => workerdPids(),
    /** Hands over every line workerd has logged so far (the journal's included), before a stall is acted on. */
    drainLog: () => stdout?.drain(),
    /** SIGKILLs workerd; Miniflare starts it again on the same ports and storage. Returns the pids killed. */
    kill() {
      const pids = workerdPids();
      if (pids.length) expectingExit = true;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      return pids;
    },
    /** Disposes of Miniflare (its workerd killed) and starts a new one on the same port and storage. */
    async recreate() {
      expectingExit = true;
      const old = mf;
      for (const pid of workerdPids()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await Promise.race([old.dispose().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
      expectingExit = false;
      mf = new Miniflare(options());
      await mf.ready;
    },
    /** Stops Miniflare and its workerd. */
    async dispose() {
      stopping = true;
      try {
        await mf.dispose();
      } finally {
        stdout?.close();
      }
    },
  };
}

/**
 * workerd's log lines (the Worker's console output among them), as Miniflare prints them, less the note that
 * its bootstrap compile cache does not fit the V8 flags above (printed at every start of workerd).
 */
function printStructuredLog({ level, message }) {
  if (/bootstrap compile cache failed its compatibility check/.test(message)) return;
  if (level === "error" || level === "warn") console.error(message);
  else console.log(message);
}

/**
 * Applies the migrations not yet recorded in wrangler's migrations table, each in one batch with its row in
 * that table (what `wrangler d1 migrations apply --local` runs). Returns the names applied.
 */
async function applyMigrations(mf, d1, migrations) {
  const db = await mf.getD1Database(d1.binding);
  const table = `"${d1.migrationsTable.replace(/"/g, '""')}"`;
  await db
    .prepare(
      `CREATE TABLE IF NOT EXISTS ${table}(
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		name       TEXT UNIQUE,
		applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);`,
    )
    .run();
  const done = new Set((await db.prepare(`SELECT name FROM ${table} ORDER BY id`).all()).results.map((r) => r.name));
  const applied = [];
  for (const { name, queries } of migrations) {
    if (done.has(name)) continue;
    const insert = `INSERT INTO ${table} (name)\nvalues ('${name.replace(/'/g, "''")}');`;
    try {
      await db.batch([...queries, insert].map((q) => db.prepare(q)));
    } catch (err) {
      throw new Error(`Migration ${name} failed: ${err?.cause?.message ?? err?.message ?? err}`);
    }
    applied.push(name);
  }
  return applied;
}
