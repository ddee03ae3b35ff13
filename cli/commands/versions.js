/** `edgefn versions`: list a function's versions; activate one (a rollback or roll forward). */
import { unwrap } from "../../client/index.js";
import { version } from "../context.js";
import { ago, err, info, out, printTable, statusColor } from "../ui.js";

/** @param {import("../../client/index.js").Schemas["Version"][]} rows */
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

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { client, fn, show }) {
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
}
