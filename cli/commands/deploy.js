/**
/**
 * `edgefn deploy <folder>`: upload the folder as it is (or one esbuild bundle with --bundle; a Python folder with
 * the wheels its requirements.txt needs), create the function if needed, and follow the new version's build.
 */
import { ApiError, resolveFunction, unwrap, waitForBuild } from "../../client/index.js";
import { bundle, defaultName } from "../bundle.js";
import { pack } from "../pack.js";
import { isPythonFolder, pythonUpload } from "../python.js";
import { CliError, EXIT, err, info, out, printJson, spinner, statusColor } from "../ui.js";

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

/**
 * The platform's Python as pip names it ("3.14"), from GET /api/runtimes.
 * @param {ReturnType<import("../context.js").Context["client"]>} api
 */
async function pythonVersion(api) {
  const runtimes = await unwrap(api.GET("/api/runtimes", {}));
  const py = runtimes.data.find((r) => r.runtime === "python");
  if (!py?.version) throw new CliError("this platform runs no Python (GET /api/runtimes)");
  return String(py.version).split(".").slice(0, 2).join(".");
}

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { globals, client, currentWorkspace }) {
  program
    .command("deploy <folder>")
    .description(
      "upload a folder (its node_modules dependencies and binary files included; a Python folder with the wheels it needs) as a new version and wait for its build",
    )
    .option("-n, --name <function>", "the function's name (default: package.json name, else the folder's)")
    .option(
      "--entry <file>",
      "the entry file (default: package.json module/main, else index.ts/index.js, else handler.py/main.py)",
    )
    .option("--no-pip", "Python: do not fetch wheels for requirements.txt with pip")
    .option("--no-activate", "do not make the new version the default")
    .option("--bundle", "bundle the entry with esbuild into one module and upload only that")
    .option("--minify", "minify the bundle (implies --bundle)")
    .option("--no-wait", "do not wait for the build")
    .action(
      async (
        /** @type {string} */ folder,
        /** @type {{ name?: string, entry?: string, activate: boolean, bundle?: boolean, minify?: boolean, wait: boolean, pip: boolean }} */ o,
      ) => {
        const api = client();
        const json = Boolean(globals().json);
        const started = Date.now();
        const name = o.name ?? defaultName(folder);
        const python = isPythonFolder(folder, o.entry);
        const bundling = !python && Boolean(o.bundle || o.minify);
        const progress = spinner(`${bundling ? "Bundling" : "Reading"} ${folder}`, { quiet: json });
        /** @type {{ files: Record<string, string | { base64: string }>, entry?: string, bytes: number, what: string, warnings: string[] }} */
        let upload;
        try {
          if (python) {
            const py = pythonUpload(folder, { entry: o.entry, pip: o.pip, python: await pythonVersion(api) });
            const what = `${Object.keys(py.files).length} file(s)`;
            const warnings = py.fetched.length ? [`fetched with pip: ${py.fetched.join(", ")}`] : [];
            upload = { files: py.files, entry: py.entrypoint, bytes: py.size, what, warnings };
          } else if (bundling) {
            const b = await bundle(folder, { entry: o.entry, minify: o.minify });
            upload = {
              files: { "index.js": b.code },
              entry: "index.js",
              bytes: b.code.length,
              what: "1 bundle",
              warnings: b.warnings,
            };
          } else {
            const p = pack(folder, { entry: o.entry });
            const count = Object.keys(p.files).length;
            const what = `${count} file(s)${p.packages.length > 0 ? `, ${p.packages.length} package(s)` : ""}`;
            upload = { files: p.files, entry: p.entry, bytes: p.bytes, what, warnings: p.warnings };
          }
        } catch (e) {
          progress.error(`${bundling ? "Bundling" : "Reading"} ${folder} failed`);
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
        progress.update(`Uploading ${name} (${upload.what}, ${(upload.bytes / 1024).toFixed(1)} KiB)`);
        const uploaded = await unwrap(
          api.POST("/api/functions/{id}/versions", {
            params: { path: { id: f.id } },
            body: {
              files: upload.files,
              ...(upload.entry ? { entrypoint: upload.entry } : {}),
              ...(python ? { runtime: "python" } : {}),
              activate: o.activate,
            },
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
          for (const w of upload.warnings) info(`${python ? err.dim("note") : err.yellow("warning")} ${w}`);
        } else {
          progress.error(`Build of ${f.name} version ${v.number} (${v.id}) ${v.status}`);
        }
        if (o.wait && v.status !== "ready") {
          if (!json) {
            const error = /** @type {{ message?: string, trace?: string } | null} */ (v.error);
            if (error?.message) info(err.red(error.message));
            for (const line of v.buildLogs ?? []) {
              info(err.dim(typeof line === "string" ? line : JSON.stringify(line)));
            }
          }
          process.exitCode = EXIT.failed;
        }
      },
    );
}
