/**
 * What the commands share: the settings in force (flags, environment, config file, the local `npm start`), the API
 * client they make, name lookups, JSON mode and input parsing. `createContext(program)` binds them to the program's
 * global options; every command group gets the same context.
 */
import { readFileSync } from "node:fs";
import { ApiError, createClient, resolveFunction, resolveWorkspace, unwrap } from "../client/index.js";
import { readConfig } from "./config.js";
import { CliError, EXIT, info, printJson } from "./ui.js";

/** @typedef {import("commander").Command} Command */
/** @typedef {import("../client/index.js").EdgefnClient} EdgefnClient */
/** @typedef {{ url?: string, key?: string, workspace?: string, json?: boolean }} GlobalOptions */
/** @typedef {ReturnType<typeof createContext>} Context */

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

/** @param {Command} program the program whose global options (--url, --key, --workspace, --json) are in force */
export function createContext(program) {
  /** @returns {GlobalOptions} */
  const globals = () => program.opts();

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
   * A function by name (in the workspace, when one is set) or id.
   * @param {EdgefnClient} api
   * @param {string} nameOrId
   * @param {"exclude" | "include" | "only"} [deleted]
   */
  async function fn(api, nameOrId, deleted = "exclude") {
    return resolveFunction(api, nameOrId, { workspaceId: await lookupWorkspaceId(api), deleted });
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

  return { globals, settings, client, currentWorkspace, lookupWorkspaceId, fn, show };
}

/** A version by id (ver_...) or number ("3" or "v3"). */
export async function version(
  /** @type {EdgefnClient} */ api,
  /** @type {string} */ functionId,
  /** @type {string} */ ref,
) {
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

/** @param {string} text @param {string} what */
export function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${what} is not valid JSON: ${e instanceof Error ? e.message : e}`, EXIT.usage);
  }
}

export async function readStdin() {
  if (process.stdin.isTTY) return "";
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** A --limit: a whole number from 1 to 100 (commander's argument parser). @param {string} value */
export function positiveInt(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new CliError(`${value} is not a number from 1 to 100`);
  return String(n);
}
