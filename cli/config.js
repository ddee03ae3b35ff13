/** Where `edgefn login` keeps the URL, key and default workspace: a JSON file only its user can read (0600). */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** @typedef {{ url?: string, key?: string, workspace?: string }} Config */

export function configPath() {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "edgefn", "config.json");
}

/** @returns {Config} */
export function readConfig() {
  const path = configPath();
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : err}`);
  }
}

/** @param {Config} config */
export function writeConfig(config) {
  const path = configPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // an existing file keeps its mode through writeFileSync
  return path;
}

export function removeConfig() {
  const path = configPath();
  const existed = existsSync(path);
  rmSync(path, { force: true });
  return existed ? path : null;
}
