/** `edgefn login`, `logout` and `whoami`: the config file and the settings in force. */
import { createInterface } from "node:readline/promises";
import { createClient, resolveWorkspace, unwrap } from "../../client/index.js";
import { configPath, removeConfig, writeConfig } from "../config.js";
import { CliError, err, info, printTable } from "../ui.js";

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { globals, settings, show }) {
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
}
