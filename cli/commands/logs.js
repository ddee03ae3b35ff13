/** `edgefn calls <function>` and `edgefn logs <call or function>` (with --follow). */
import { unwrap } from "../../client/index.js";
import { positiveInt } from "../context.js";
import { ago, CliError, err, info, out, printTable, statusColor } from "../ui.js";

const TERMINAL = new Set(["completed", "failed", "timeout", "canceled"]);

/** @param {import("../../client/index.js").Schemas["CallLogs"]["items"]} items @param {string} [prefix] */
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

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { globals, client, fn, show }) {
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
}
