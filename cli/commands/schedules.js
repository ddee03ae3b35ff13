/** `edgefn schedules`: list, create and delete cron schedules. */
import { unwrap } from "../../client/index.js";
import { parseJson } from "../context.js";
import { err, info, printTable } from "../ui.js";

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { client, fn, show }) {
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
            body: {
              functionId: f.id,
              name,
              cron,
              timezone: o.timezone,
              data,
              ...(o.disabled ? { enabled: false } : {}),
            },
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
}
