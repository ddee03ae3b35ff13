/** `edgefn workspaces` (alias `ws`): list, create and delete workspaces. */
import { resolveWorkspace, unwrap } from "../../client/index.js";
import { ago, err, info, printTable } from "../ui.js";

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { client, show }) {
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
}
