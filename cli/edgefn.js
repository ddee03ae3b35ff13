#!/usr/bin/env node
/**
 * edgefn: the command line for an edgefn platform. Every request goes through the typed client (edgefn/client).
 * See docs/cli.md.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, Option } from "commander";
import { ApiError, createClient, resolveFunction, resolveWorkspace, unwrap, waitForBuild } from "../client/index.js";
import { bundle, defaultName } from "./bundle.js";
import { configPath, readConfig, removeConfig, writeConfig } from "./config.js";
import { ago, CliError, EXIT, err, info, out, printJson, printTable, spinner, statusColor } from "./ui.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

/** @typedef {import("../client/index.js").EdgefnClient} EdgefnClient */
/** @typedef {import("../client/index.js").Schemas} Schemas */
/** @typedef {{ url?: string, key?: string, workspace?: string, json?: boolean }} GlobalOptions */

/**
 * The function's own origin on a local platform: `{function}.{workspace}.localhost`, which browsers resolve to
 * this machine (names that are not host labels use the function's id). Null for a remote platform, whose run
 * domain the operator chose.
 * @param {string} apiUrl
 * @param {string} workspace
 * @param {{ id: string, name: string }} fn
 * @returns {string | null}
 */
function functionOrigin(apiUrl, workspace, fn) {
  const url = new URL(apiUrl);
  if (!["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) return null;
  const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(fn.name) ? fn.name : fn.id;
  url.hostname = `${label}.${workspace}.localhost`;
  url.pathname = "/";
  return url.toString();
}

const program = new Command("edgefn")
  .description("Deploy, invoke and inspect functions on an edgefn platform.")
  .version(pkg.version, "-v, --version")
  .option("--url <url>", "the platform's URL (env EDGEFN_URL, else the one `login` saved)")
  .option("--key <key>", "the API key (env EDGEFN_KEY, else the one `login` saved)")
  .option("-w, --workspace <workspace>", "workspace name or id (env EDGEFN_WORKSPACE, else the one `login` saved)")
  .option("--json", "print JSON (for scripts)")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

/** @returns {GlobalOptions} */
const globals = () => program.opts();

/**
 * The platform `npm start` runs from this folder, when nothing else is set: its URL (PORT, default 8787) and the
 * admin key it keeps in .dev.vars.
 * @returns {{ url: string, key: string } | null}
 */
function localPlatform() {
  let vars;
  try {
    vars = readFileSync(".dev.vars", "utf8");
  } catch {
    return null;
  }
  const line = vars.split(/\r?\n/).find((l) => /^\s*EDGEFN_ADMIN_KEY\s*=/.test(l));
  const key = line
    ?.replace(/^\s*EDGEFN_ADMIN_KEY\s*=\s*/, "")
    .replace(/^(["'])(.*)\1$/, "$2")
    .trim();
  return key ? { url: `http://localhost:${process.env.PORT || 8787}`, key } : null;
}

/** The settings in force: flags, then the environment, then the config file, then the local `npm start`. */
function settings() {
  const o = globals();
  const config = readConfig();
  let url = o.url ?? process.env.EDGEFN_URL ?? config.url;
  let key = o.key ?? process.env.EDGEFN_KEY ?? config.key;
  const local = !url && !key ? localPlatform() : null;
  if (local) ({ url, key } = local);
  return {
    url,
    key,
    local: local !== null,
    workspace: o.workspace ?? process.env.EDGEFN_WORKSPACE ?? config.workspace,
  };
}

/** @returns {EdgefnClient} */
function client() {
  const { url, key } = settings();
  if (!url || !key) {
    throw new CliError(
      "not logged in: run `edgefn login`, or set EDGEFN_URL and EDGEFN_KEY (in the folder where `npm start` runs, its local platform is used)",
      EXIT.usage,
    );
  }
  return createClient({ url, key });
}

/**
 * The workspace to create in: --workspace / EDGEFN_WORKSPACE / login's, else the only one the key sees. With
 * `orCreate`, a platform with no workspace yet gets one named "default" (a first deploy needs no setup).
 */
async function currentWorkspace(/** @type {EdgefnClient} */ api, { orCreate = false } = {}) {
  const { workspace } = settings();
  if (workspace) return resolveWorkspace(api, workspace);
  const page = await unwrap(api.GET("/api/workspaces", { params: { query: { limit: "2" } } }));
  if (page.data.length === 1) return page.data[0];
  if (page.data.length === 0 && orCreate) {
    const created = await unwrap(api.POST("/api/workspaces", { body: { name: "default" } }));
    info(`created workspace ${created.name} (${created.id})`);
    return created;
  }
  if (page.data.length === 0) {
    throw new CliError("there is no workspace yet: create one with `edgefn workspaces create <name>`", EXIT.usage);
  }
  throw new CliError("this key sees several workspaces: name one with --workspace (or EDGEFN_WORKSPACE)", EXIT.usage);
}

/** The workspace id names are looked up in, when one is set. */
async function lookupWorkspaceId(/** @type {EdgefnClient} */ api) {
  const { workspace } = settings();
  return workspace ? (await resolveWorkspace(api, workspace)).id : undefined;
}

/**
 * @param {EdgefnClient} api
 * @param {string} nameOrId
 * @param {"exclude" | "include" | "only"} [deleted]
 */
async function fn(api, nameOrId, deleted = "exclude") {
  return resolveFunction(api, nameOrId, { workspaceId: await lookupWorkspaceId(api), deleted });
}

/** @param {string} text @param {string} what */
function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${what} is not valid JSON: ${e instanceof Error ? e.message : e}`, EXIT.usage);
  }
}

async function readStdin() {
  if (process.stdin.isTTY) return "";
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** @param {string} value */
function positiveInt(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new CliError(`${value} is not a number from 1 to 100`);
  return String(n);
}

/**
 * Shows `value` as JSON with --json, else runs `human`.
 * @param {unknown} value
 * @param {() => void} human
 */
function show(value, human) {
  if (globals().json) printJson(value);
  else human();
}

/** @param {Schemas["Function"][]} rows */
function functionTable(rows) {
  printTable(rows, [
    ["NAME", (f) => f.name],
    ["ID", (f) => f.id],
    ["WORKSPACE", (f) => f.workspaceId],
    ["DEFAULT VERSION", (f) => f.defaultVersionId],
    ["STATE", (f) => (f.deletedAt ? out.red(`deleted ${ago(f.deletedAt)}`) : "live")],
    ["CREATED", (f) => ago(f.createdAt)],
  ]);
}

/** @param {Schemas["Version"][]} rows */
function versionTable(rows) {
  printTable(rows, [
    ["VERSION", (v) => v.number],
    ["ID", (v) => v.id],
    ["STATUS", (v) => statusColor(v.status)],
    ["DEFAULT", (v) => (v.isDefault ? out.green("*") : "")],
    ["HANDLERS", (v) => (v.handlers ?? []).join(",")],
    ["CREATED", (v) => ago(v.createdAt)],
  ]);
}

/** @param {Schemas["CallLogs"]["items"]} items @param {string} [prefix] */
function printLogs(items, prefix = "") {
  for (const line of items) {
    const level =
      line.level === "error"
        ? out.red(line.level)
        : line.level === "warn"
          ? out.yellow(line.level)
          : out.dim(line.level);
    process.stdout.write(`${prefix}${out.dim(line.timestamp)} ${level} ${line.message}\n`);
  }
}

/** A version by id (ver_...) or number ("3" or "v3"). */
async function version(/** @type {EdgefnClient} */ api, /** @type {string} */ functionId, /** @type {string} */ ref) {
  const number = /^v?(\d+)$/.exec(ref)?.[1];
  if (!number) {
    return unwrap(api.GET("/api/functions/{id}/versions/{vid}", { params: { path: { id: functionId, vid: ref } } }));
  }
  const page = await unwrap(
    api.GET("/api/functions/{id}/versions", {
      params: { path: { id: functionId }, query: { filter: JSON.stringify({ number: { eq: Number(number) } }) } },
    }),
  );
  if (!page.data[0]) throw new ApiError(`version ${ref} not found`, { status: 404, code: "not_found" });
  return page.data[0];
}

// ---------------------------------------------------------------------------------------------------- login

program
  .command("login")
  .description("save the platform URL and an API key (checked first) in the config file")
  .option("--url <url>", "the platform's URL")
  .option("--key <key>", "the API key")
  .option("-w, --workspace <workspace>", "a default workspace")
  .action(async (/** @type {{ url?: string, key?: string, workspace?: string }} */ o) => {
    const g = globals();
    let url = o.url ?? g.url ?? process.env.EDGEFN_URL;
    let key = o.key ?? g.key ?? process.env.EDGEFN_KEY;
    if ((!url || !key) && process.stdin.isTTY) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      url ||= (await rl.question("edgefn URL (e.g. http://localhost:8787): ")).trim();
      key ||= (await rl.question("API key: ")).trim();
      rl.close();
    }
    if (!url || !key) throw new CliError("login needs --url and --key (or EDGEFN_URL and EDGEFN_KEY)");
    if (!/^https?:\/\//.test(url)) throw new CliError(`${url} is not an http(s) URL`);
    const api = createClient({ url, key });
    await unwrap(api.GET("/api/limits")); // the key works
    const workspace = o.workspace ?? g.workspace;
    if (workspace) await resolveWorkspace(api, workspace);
    const path = writeConfig({ url: api.url, key, ...(workspace ? { workspace } : {}) });
    show({ url: api.url, workspace: workspace ?? null, config: path }, () =>
      info(`${err.green("✔")} logged in to ${api.url}; saved in ${path}`),
    );
  });

program
  .command("logout")
  .description("remove the config file")
  .action(() => {
    const path = removeConfig();
    show({ removed: path }, () => info(path ? `removed ${path}` : "not logged in"));
  });

program
  .command("whoami")
  .description("show the URL, workspace and config file in force")
  .action(() => {
    const s = settings();
    const value = {
      url: s.url ?? null,
      workspace: s.workspace ?? null,
      key: s.key ? `${s.key.slice(0, 8)}...` : null,
      config: configPath(),
    };
    show(value, () =>
      printTable(
        [value],
        [
          ["URL", (v) => v.url],
          ["WORKSPACE", (v) => v.workspace],
          ["KEY", (v) => v.key],
          ["CONFIG", (v) => v.config],
        ],
      ),
    );
  });

// ----------------------------------------------------------------------------------------------- workspaces

const workspaces = program.command("workspaces").alias("ws").description("list and create workspaces");
workspaces
  .command("list", { isDefault: true })
  .description("list the workspaces the key sees")
  .action(async () => {
    const page = await unwrap(client().GET("/api/workspaces", { params: { query: { limit: "100" } } }));
    show(page, () =>
      printTable(page.data, [
        ["NAME", (w) => w.name],
        ["ID", (w) => w.id],
        ["DESCRIPTION", (w) => w.description],
        ["CREATED", (w) => ago(w.createdAt)],
      ]),
    );
  });
workspaces
  .command("create <name>")
  .description("create a workspace (admin)")
  .option("-d, --description <text>", "a description")
  .action(async (/** @type {string} */ name, /** @type {{ description?: string }} */ o) => {
    const ws = await unwrap(client().POST("/api/workspaces", { body: { name, description: o.description } }));
    show(ws, () => info(`${err.green("✔")} created workspace ${ws.name} (${ws.id})`));
  });
workspaces
  .command("delete <workspace>")
  .description("delete an empty workspace (admin)")
  .action(async (/** @type {string} */ ref) => {
    const api = client();
    const ws = await resolveWorkspace(api, ref);
    await unwrap(api.DELETE("/api/workspaces/{id}", { params: { path: { id: ws.id } } }));
    show({ success: true, id: ws.id }, () => info(`${err.green("✔")} deleted workspace ${ws.name}`));
  });

// ------------------------------------------------------------------------------------------------ functions

const functions = program
  .command("functions")
  .alias("fn")
  .description("list, create, get, delete, restore and purge functions");
functions
  .command("list", { isDefault: true })
  .description("list functions (of --workspace, if set)")
  .option("--deleted", "also list soft-deleted functions")
  .option("--name <text>", "only names containing this")
  .option("--limit <n>", "at most this many (1-100)", positiveInt, "100")
  .action(async (/** @type {{ deleted?: boolean, name?: string, limit: string }} */ o) => {
    const api = client();
    const workspaceId = await lookupWorkspaceId(api);
    const page = await unwrap(
      api.GET("/api/functions", {
        params: {
          query: {
            limit: o.limit,
            orderBy: JSON.stringify([{ name: "asc" }]),
            ...(o.deleted ? { include_deleted: "true" } : {}),
            ...(o.name ? { name: o.name } : {}),
            ...(workspaceId ? { workspace_id: workspaceId } : {}),
          },
        },
      }),
    );
    show(page, () => functionTable(page.data));
  });
functions
  .command("create <name>")
  .description("create a function in the workspace")
  .option("-d, --description <text>", "a description")
  .action(async (/** @type {string} */ name, /** @type {{ description?: string }} */ o) => {
    const api = client();
    const ws = await currentWorkspace(api);
    const f = await unwrap(
      api.POST("/api/functions", { body: { workspaceId: ws.id, name, description: o.description } }),
    );
    show(f, () => info(`${err.green("✔")} created function ${f.name} (${f.id}) in ${ws.name}`));
  });
functions
  .command("get <function>")
  .description("show a function (name or id)")
  .action(async (/** @type {string} */ ref) => {
    const f = await fn(client(), ref, "include");
    show(f, () => printJson(f));
  });
functions
  .command("delete <function>")
  .description("soft-delete a function (restore brings it back)")
  .action(async (/** @type {string} */ ref) => {
    const api = client();
    const f = await fn(api, ref);
    await unwrap(api.DELETE("/api/functions/{id}", { params: { path: { id: f.id } } }));
    show({ success: true, id: f.id }, () =>
      info(`${err.green("✔")} deleted ${f.name} (${f.id}); \`edgefn functions restore ${f.id}\` brings it back`),
    );
  });
functions
  .command("restore <function>")
  .description("restore a soft-deleted function")
  .action(async (/** @type {string} */ ref) => {
    const api = client();
    const f = await fn(api, ref, "only");
    const restored = await unwrap(api.POST("/api/functions/{id}/restore", { params: { path: { id: f.id } } }));
    show(restored, () => info(`${err.green("✔")} restored ${restored.name} (${restored.id})`));
  });
functions
  .command("purge <function>")
  .description("remove a soft-deleted function for good")
  .action(async (/** @type {string} */ ref) => {
    const api = client();
    const f = await fn(api, ref, "only");
    await unwrap(api.DELETE("/api/functions/{id}/purge", { params: { path: { id: f.id } } }));
    show({ success: true, id: f.id }, () => info(`${err.green("✔")} purged ${f.name} (${f.id})`));
  });

// --------------------------------------------------------------------------------------------------- deploy

program
  .command("deploy <folder>")
  .description("bundle a folder (npm dependencies included), upload it as a new version and wait for its build")
  .option("-n, --name <function>", "the function's name (default: package.json name, else the folder's)")
  .option("--entry <file>", "the entry file (default: package.json module/main, else index.ts/index.js)")
  .option("--no-activate", "do not make the new version the default")
  .option("--minify", "minify the bundle")
  .option("--no-wait", "do not wait for the build")
  .action(
    async (
      /** @type {string} */ folder,
      /** @type {{ name?: string, entry?: string, activate: boolean, minify?: boolean, wait: boolean }} */ o,
    ) => {
      const api = client();
      const json = Boolean(globals().json);
      const started = Date.now();
      const name = o.name ?? defaultName(folder);
      const progress = spinner(`Bundling ${folder}`, { quiet: json });
      let bundled;
      try {
        bundled = await bundle(folder, { entry: o.entry, minify: o.minify });
      } catch (e) {
        progress.error(`Bundling ${folder} failed`);
        throw e;
      }
      const ws = await currentWorkspace(api, { orCreate: true });
      let f;
      try {
        f = await resolveFunction(api, name, { workspaceId: ws.id });
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== "not_found") throw e;
        progress.update(`Creating function ${name}`);
        f = await unwrap(api.POST("/api/functions", { body: { workspaceId: ws.id, name } }));
      }
      progress.update(`Uploading ${name} (${(bundled.code.length / 1024).toFixed(1)} KiB)`);
      const uploaded = await unwrap(
        api.POST("/api/functions/{id}/versions", {
          params: { path: { id: f.id } },
          body: { files: { "index.js": bundled.code }, entrypoint: "index.js", activate: o.activate },
        }),
      );
      let v = uploaded;
      if (o.wait) {
        v = await waitForBuild(api, f.id, uploaded.id, {
          onStatus: (status) => progress.update(`Building ${name} version ${uploaded.number}: ${status}`),
        });
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const runUrl = `${api.url}/run/${ws.name}/${f.name}/`;
      const originUrl = functionOrigin(api.url, ws.name, f);
      const invoke = `npx edgefn invoke ${f.name} --data '{}'`;
      if (json) {
        printJson({ function: f, version: v, workspace: ws, runUrl, originUrl, invoke });
      } else if (v.status === "ready" || !o.wait) {
        const what = v.status === "ready" ? "Deployed" : "Uploaded";
        progress.success(`${what} ${f.name} version ${v.number} (${v.id}) in ${seconds} s: ${v.status}`);
        process.stdout.write(`version  ${v.number} ${out.dim(`(${v.id})`)} ${statusColor(v.status)}\n`);
        if (v.handlers) process.stdout.write(`handlers ${v.handlers.join(", ")}\n`);
        process.stdout.write(`invoke   ${out.cyan(invoke)}\n`);
        if (!v.handlers || v.handlers.includes("fetch")) {
          process.stdout.write(`run      ${out.cyan(runUrl)}\n`);
          if (originUrl) process.stdout.write(`origin   ${out.cyan(originUrl)} ${out.dim("(its own origin)")}\n`);
        }
        for (const w of bundled.warnings) info(`${err.yellow("warning")} ${w}`);
      } else {
        progress.error(`Build of ${f.name} version ${v.number} (${v.id}) ${v.status}`);
      }
      if (o.wait && v.status !== "ready") {
        if (!json) {
          const error = /** @type {{ message?: string, trace?: string } | null} */ (v.error);
          if (error?.message) info(err.red(error.message));
          for (const line of v.buildLogs ?? []) info(err.dim(typeof line === "string" ? line : JSON.stringify(line)));
        }
        process.exitCode = EXIT.failed;
      }
    },
  );

// --------------------------------------------------------------------------------------------------- invoke

program
  .command("invoke <function>")
  .description("call a function; its input is --data, else stdin (JSON)")
  .option("-d, --data <json>", "the input (JSON); `-` reads stdin")
  .option("--use-version <version>", "run this version (id, number or v<number>) instead of the default")
  .option("--async", "queue the call and print its id")
  .action(
    async (/** @type {string} */ ref, /** @type {{ data?: string, useVersion?: string, async?: boolean }} */ o) => {
      const api = client();
      const raw = o.data === undefined || o.data === "-" ? await readStdin() : o.data;
      const args = raw.trim() === "" ? undefined : parseJson(raw, "the input");
      const f = await fn(api, ref);
      const versionId = o.useVersion ? (await version(api, f.id, o.useVersion)).id : undefined;
      const body = {
        ...(args === undefined ? {} : { args }),
        ...(versionId ? { versionId } : {}),
        ...(o.async ? { async: true } : {}),
      };
      const { data, error, response } = await api.POST("/api/functions/{id}/invoke", {
        params: { path: { id: f.id } },
        body,
      });
      const answer = await unwrap(Promise.resolve({ data, error, response }));
      if (response.status === 202 || !("ok" in answer)) {
        const queued = /** @type {Schemas["QueuedCall"]} */ (answer);
        show(queued, () => {
          process.stdout.write(`${queued.callId}\n`);
          info(err.dim(`queued; \`edgefn logs ${queued.callId}\` shows its logs once it ran`));
        });
        return;
      }
      const result = /** @type {Schemas["InvokeResult"]} */ (answer);
      show(result, () => {
        if (result.ok) process.stdout.write(`${JSON.stringify(result.result, null, 2) ?? "null"}\n`);
        else {
          info(`${err.red("✖")} ${result.error ?? "the call failed"}`);
          const stack = result.errorDetail?.stack;
          if (stack) info(err.dim(stack));
        }
        info(err.dim(`${result.status} · ${result.callId} · ${result.durationMs} ms · ${result.versionId}`));
      });
      if (!result.ok) process.exitCode = EXIT.failed;
    },
  );

// ---------------------------------------------------------------------------------------------- calls, logs

program
  .command("calls <function>")
  .description("the function's recent calls, newest first")
  .option("--status <status>", "only calls in this status (queued, running, completed, failed, ...)")
  .option("--limit <n>", "at most this many (1-100)", positiveInt, "20")
  .action(async (/** @type {string} */ ref, /** @type {{ status?: string, limit: string }} */ o) => {
    const api = client();
    const f = await fn(api, ref, "include");
    const page = await unwrap(
      api.GET("/api/functions/{id}/calls", {
        params: {
          path: { id: f.id },
          query: {
            limit: o.limit,
            orderBy: JSON.stringify([{ createdAt: "desc" }]),
            ...(o.status ? { status: o.status } : {}),
          },
        },
      }),
    );
    show(page, () =>
      printTable(page.data, [
        ["CALL", (c) => c.id],
        ["STATUS", (c) => statusColor(c.status)],
        ["TRIGGER", (c) => c.trigger],
        ["DURATION", (c) => (c.durationMs === null ? "-" : `${c.durationMs} ms`)],
        ["VERSION", (c) => c.versionId],
        ["CREATED", (c) => ago(c.createdAt)],
        ["ERROR", (c) => (c.error ? `${c.error.name}: ${c.error.message}` : "")],
      ]),
    );
  });

const TERMINAL = new Set(["completed", "failed", "timeout", "canceled"]);

program
  .command("logs <target>")
  .description("a call's logs (call_...), or a function's recent calls' logs; --follow keeps watching")
  .option("-f, --follow", "keep printing the logs of new calls (Ctrl-C stops)")
  .option("--interval <ms>", "how often --follow looks (ms)", "1000")
  .action(async (/** @type {string} */ target, /** @type {{ follow?: boolean, interval: string }} */ o) => {
    const api = client();
    if (target.startsWith("call_")) {
      if (o.follow) throw new CliError("--follow needs a function, not a call");
      const logs = await unwrap(api.GET("/api/calls/{id}/logs", { params: { path: { id: target } } }));
      show(logs, () => {
        printLogs(logs.items);
        if (logs.truncated) info(err.yellow("(truncated: the call logged more than the per-call cap)"));
        if (logs.items.length === 0) info(err.dim("(no logs)"));
      });
      return;
    }
    const f = await fn(api, target, "include");
    const seen = new Set();
    const json = Boolean(globals().json);
    const interval = Math.max(200, Number(o.interval) || 1000);
    /** @param {boolean} first */
    const poll = async (first) => {
      const page = await unwrap(
        api.GET("/api/functions/{id}/calls", {
          params: { path: { id: f.id }, query: { limit: "20", orderBy: JSON.stringify([{ createdAt: "desc" }]) } },
        }),
      );
      const done = page.data.filter((c) => TERMINAL.has(c.status) && !seen.has(c.id)).reverse();
      for (const call of done) {
        seen.add(call.id);
        if (first && o.follow) continue; // --follow shows what happens from now on
        const logs = await unwrap(api.GET("/api/calls/{id}/logs", { params: { path: { id: call.id } } }));
        if (json) process.stdout.write(`${JSON.stringify({ callId: call.id, status: call.status, ...logs })}\n`);
        else {
          process.stdout.write(`${out.bold(call.id)} ${statusColor(call.status)} ${out.dim(call.createdAt)}\n`);
          printLogs(logs.items, "  ");
        }
      }
    };
    await poll(true);
    if (!o.follow) {
      if (seen.size === 0 && !json) info(err.dim(`(${f.name} has no finished calls yet)`));
      return;
    }
    if (!json) info(err.dim(`following ${f.name}; Ctrl-C stops`));
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, interval));
      await poll(false);
    }
  });

// ------------------------------------------------------------------------------------------------- versions

const versions = program.command("versions").description("list a function's versions; activate one (rollback)");
versions
  .command("list <function>", { isDefault: true })
  .description("the function's versions, newest first")
  .action(async (/** @type {string} */ ref) => {
    const api = client();
    const f = await fn(api, ref, "include");
    const page = await unwrap(
      api.GET("/api/functions/{id}/versions", {
        params: { path: { id: f.id }, query: { orderBy: JSON.stringify([{ number: "desc" }]) } },
      }),
    );
    show(page, () => versionTable(page.data));
  });
versions
  .command("activate <function> <version>")
  .description("make a ready version (id, number or v<number>) the default: a rollback or roll forward")
  .action(async (/** @type {string} */ ref, /** @type {string} */ versionRef) => {
    const api = client();
    const f = await fn(api, ref);
    const v = await version(api, f.id, versionRef);
    const activated = await unwrap(
      api.POST("/api/functions/{id}/versions/{vid}/activate", { params: { path: { id: f.id, vid: v.id } } }),
    );
    show(activated, () => info(`${err.green("✔")} ${f.name} now runs version ${v.number} (${v.id})`));
  });

// ------------------------------------------------------------------------------------------------ schedules

const schedules = program.command("schedules").description("list, create and delete schedules");
schedules
  .command("list", { isDefault: true })
  .description("the schedules (of one function with --function)")
  .option("--function <function>", "only this function's")
  .action(async (/** @type {{ function?: string }} */ o) => {
    const api = client();
    const functionId = o.function ? (await fn(api, o.function)).id : undefined;
    const page = await unwrap(api.GET("/api/schedules", { params: { query: functionId ? { functionId } : {} } }));
    show(page, () =>
      printTable(page.data, [
        ["NAME", (s) => s.name],
        ["ID", (s) => s.id],
        ["FUNCTION", (s) => s.functionId],
        ["CRON", (s) => `${s.cron} ${s.timezone}`],
        ["WHEN", (s) => s.when],
        ["ENABLED", (s) => (s.enabled ? "yes" : "no")],
        ["NEXT", (s) => s.nextRuns[0]],
      ]),
    );
  });
schedules
  .command("create <function> <name> <cron>")
  .description("run a function on a cron schedule, e.g. create hello morning '30 7 * * 1-5' --timezone Europe/Oslo")
  .option("--timezone <tz>", "IANA time zone (default UTC)")
  .option("-d, --data <json>", "the input each call gets (JSON)")
  .option("--disabled", "create it disabled")
  .action(
    async (
      /** @type {string} */ ref,
      /** @type {string} */ name,
      /** @type {string} */ cron,
      /** @type {{ timezone?: string, data?: string, disabled?: boolean }} */ o,
    ) => {
      const api = client();
      const data = o.data === undefined ? undefined : parseJson(o.data, "--data");
      const f = await fn(api, ref);
      const s = await unwrap(
        api.POST("/api/schedules", {
          body: { functionId: f.id, name, cron, timezone: o.timezone, data, ...(o.disabled ? { enabled: false } : {}) },
        }),
      );
      show(s, () =>
        info(`${err.green("✔")} created schedule ${s.name} (${s.id}): ${s.when}; next ${s.nextRuns[0] ?? "-"}`),
      );
    },
  );
schedules
  .command("delete <id>")
  .description("delete a schedule (sch_...)")
  .action(async (/** @type {string} */ id) => {
    await unwrap(client().DELETE("/api/schedules/{id}", { params: { path: { id } } }));
    show({ success: true, id }, () => info(`${err.green("✔")} deleted schedule ${id}`));
  });

// ----------------------------------------------------------------------------------------------------- keys

const keys = program.command("keys").description("list, create and revoke API keys (admin)");
keys
  .command("list", { isDefault: true })
  .description("the API keys (their secrets are never shown again)")
  .action(async () => {
    const page = await unwrap(client().GET("/api/keys", { params: { query: { limit: "100" } } }));
    show(page, () =>
      printTable(page.data, [
        ["NAME", (k) => k.name],
        ["ID", (k) => k.id],
        ["PREFIX", (k) => k.prefix],
        ["ROLE", (k) => k.role],
        ["WORKSPACE", (k) => k.workspaceId ?? "(all)"],
        ["EXPIRES", (k) => k.expiresAt],
        ["CREATED", (k) => ago(k.createdAt)],
      ]),
    );
  });
keys
  .command("create <name>")
  .description("create a key; its secret is printed once")
  .addOption(
    new Option("--role <role>", "its role").choices(["viewer", "invoker", "developer", "admin"]).makeOptionMandatory(),
  )
  .option("--workspace-only", "limit it to the current workspace (--workspace)")
  .option("--expires <iso>", "when it stops working (ISO 8601)")
  .action(
    async (
      /** @type {string} */ name,
      /** @type {{ role: "viewer" | "invoker" | "developer" | "admin", workspaceOnly?: boolean, expires?: string }} */ o,
    ) => {
      const api = client();
      const workspaceId = o.workspaceOnly ? (await currentWorkspace(api)).id : null;
      const k = await unwrap(
        api.POST("/api/keys", { body: { name, role: o.role, workspaceId, expiresAt: o.expires ?? null } }),
      );
      show(k, () => {
        process.stdout.write(`${k.key}\n`);
        info(err.dim(`key ${k.name} (${k.id}), ${k.role}; the secret above is shown only now`));
      });
    },
  );
keys
  .command("revoke <id>")
  .description("revoke a key (key_...)")
  .action(async (/** @type {string} */ id) => {
    await unwrap(client().DELETE("/api/keys/{id}", { params: { path: { id } } }));
    show({ success: true, id }, () => info(`${err.green("✔")} revoked ${id}`));
  });

// ---------------------------------------------------------------------------------------------------- admin

const admin = program.command("admin").description("platform administration (an admin key for every workspace)");
admin
  .command("reencrypt-secrets")
  .description("after a rotation of EDGEFN_SECRETS_KEY, seal every function secret with the newest key")
  .action(async () => {
    // Not in the generated client's types yet: the same client, untyped for this one path.
    const api = /** @type {any} */ (client());
    /** @type {{ functions: number, secrets: number, remaining: number, unreadable: string[] }} */
    const total = { functions: 0, secrets: 0, remaining: 0, unreadable: [] };
    for (;;) {
      const step = /** @type {typeof total} */ (await unwrap(api.POST("/api/admin/secrets/reencrypt")));
      total.functions += step.functions;
      total.secrets += step.secrets;
      total.remaining = step.remaining;
      total.unreadable = step.unreadable;
      // Done, or only functions no configured key opens are left.
      if (step.remaining === 0 || step.functions === 0) break;
    }
    show(total, () => {
      info(`${err.green("✔")} re-encrypted ${total.secrets} secrets of ${total.functions} functions`);
      if (total.remaining > 0) {
        info(
          `${err.red("✖")} ${total.remaining} functions still hold secrets under an older key${total.unreadable.length ? `; none of the configured keys opens those of ${total.unreadable.join(", ")}` : ""}`,
        );
      }
    });
    if (total.remaining > 0) process.exitCode = EXIT.error;
  });

// ----------------------------------------------------------------------------------------------------- main

/** Applies exitOverride to every subcommand too, so usage errors reach the handler below. */
for (const command of program.commands) {
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and --version end with exit code 0; usage errors were already printed by commander
    process.exitCode = e.exitCode === 0 ? 0 : EXIT.usage;
  } else if (e instanceof ApiError) {
    const where = e.requestId ? `, request ${e.requestId}` : "";
    if (globals().json) {
      process.stderr.write(
        `${JSON.stringify({ error: { code: e.code, message: e.message, status: e.status, requestId: e.requestId } })}\n`,
      );
    } else {
      info(`${err.red("error:")} ${e.message} ${err.dim(`(${e.code}${e.status ? ` ${e.status}` : ""}${where})`)}`);
    }
    if (e.code === "network_error" && !globals().json) info(err.dim(`is ${settings().url} the right URL?`));
    process.exitCode = EXIT.error;
  } else if (e instanceof CliError) {
    info(`${err.red("error:")} ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    info(`${err.red("error:")} ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = EXIT.error;
  }
}
