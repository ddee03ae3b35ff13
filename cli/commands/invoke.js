/** `edgefn invoke <function>`: one call, its input from --data or stdin; the result on stdout. */
import { unwrap } from "../../client/index.js";
import { parseJson, readStdin, version } from "../context.js";
import { EXIT, err, info } from "../ui.js";

/** @typedef {import("../../client/index.js").Schemas} Schemas */

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { client, fn, show }) {
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
}
