/**
 * `edgefn deploy --bundle`: bundles a folder's entry with esbuild, its npm dependencies inlined, into one ES
 * module. Also the entry file and name a folder deploys with, whichever way it is uploaded.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { build } from "esbuild";
import { CliError, EXIT } from "./ui.js";

const ENTRIES = [
  "index.ts",
  "index.js",
  "index.mts",
  "index.mjs",
  "src/index.ts",
  "src/index.js",
  "worker.ts",
  "worker.js",
];

/**
 * @param {string} folder
 * @returns {{ name?: string, main?: string, module?: string, [field: string]: unknown } | null}
 */
export function packageJson(folder) {
  const path = join(folder, "package.json");
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CliError(`${path} is not valid JSON: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * The function name a folder deploys as: its package.json name (without a scope), else the folder's name.
 * @param {string} folder
 */
export function defaultName(folder) {
  const pkg = packageJson(resolve(folder));
  const name = pkg?.name?.replace(/^@[^/]+\//, "");
  return name || basename(resolve(folder));
}

/**
 * The entry file of a folder: the one named, else package.json's module or main, else a usual name.
 * @param {string} folder as the user wrote it @param {string} dir its absolute path @param {string} [entry]
 */
export function entryOf(folder, dir, entry) {
  const pkg = packageJson(dir);
  const candidates = entry ? [entry] : [pkg?.module, pkg?.main, ...ENTRIES].filter((e) => typeof e === "string");
  const found = candidates.find((e) => existsSync(join(dir, e)) && statSync(join(dir, e)).isFile());
  if (!found) {
    throw new CliError(
      entry
        ? `${join(folder, entry)} does not exist`
        : `no entry file in ${folder} (looked for ${ENTRIES.join(", ")}); name one with --entry`,
    );
  }
  return found.replace(/^\.\//, "");
}

/**
 * @param {string} folder
 * @param {{ entry?: string, minify?: boolean }} [options]
 * @returns {Promise<{ code: string, entry: string, warnings: string[] }>}
 */
export async function bundle(folder, { entry, minify = false } = {}) {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`${folder} is not a folder`);
  const found = entryOf(folder, dir, entry);
  try {
    const result = await build({
      absWorkingDir: dir,
      entryPoints: [join(dir, found)],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      external: ["node:*", "cloudflare:*"],
      minify,
      write: false,
      logLevel: "silent",
      legalComments: "none",
    });
    return {
      code: result.outputFiles[0].text,
      entry: found,
      warnings: result.warnings.map((w) => w.text),
    };
  } catch (e) {
    const errors = /** @type {{ errors?: { text: string, location?: { file: string, line: number } | null }[] }} */ (e)
      .errors;
    if (!errors) throw e;
    const lines = errors.map((x) => (x.location ? `${x.location.file}:${x.location.line}: ${x.text}` : x.text));
    const missing = errors.some((x) => x.text.startsWith("Could not resolve"));
    const hint = missing ? `\n(run npm install in ${folder} first?)` : "";
    throw new CliError(`bundling ${folder} failed:\n  ${lines.join("\n  ")}${hint}`, EXIT.usage);
  }
}
