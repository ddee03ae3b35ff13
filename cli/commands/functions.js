/** `edgefn functions` (alias `fn`): list, create, get, delete, restore and purge functions. */
import { unwrap } from "../../client/index.js";
import { positiveInt } from "../context.js";
import { ago, err, info, out, printJson, printTable } from "../ui.js";

/** @param {import("../../client/index.js").Schemas["Function"][]} rows */
function functionTable(rows) {
  printTable(rows, [
    ["NAME", (f) => f.name],
    ["ID", (f) => f.id],
    ["WORKSPACE", (f) => f.workspaceId],
    ["DEFAULT VERSION", (f) => f.defaultVersionId],
    ["STATE", (f) => (f.deletedAt ? out.red(`deleted ${ago(f.deletedAt)}`) : "live")],
    ["CREATED", (f) => ago(f.createdAt)],
  ]);
}

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { client, currentWorkspace, lookupWorkspaceId, fn, show }) {
  const functions = program
    .command("functions")
    .alias("fn")
    .description("list, create, get, delete, restore and purge functions");
  functions
    .command("list", { isDefault: true })
    .description("list functions (of --workspace, if set)")
    .option("--deleted", "also list soft-deleted functions")
    .option("--name <text>", "only names containing this")
    .option("--limit <n>", "at most this many (1-100)", positiveInt, "100")
    .action(async (/** @type {{ deleted?: boolean, name?: string, limit: string }} */ o) => {
      const api = client();
      const workspaceId = await lookupWorkspaceId(api);
      const page = await unwrap(
        api.GET("/api/functions", {
          params: {
            query: {
              limit: o.limit,
              orderBy: JSON.stringify([{ name: "asc" }]),
              ...(o.deleted ? { include_deleted: "true" } : {}),
              ...(o.name ? { name: o.name } : {}),
              ...(workspaceId ? { workspace_id: workspaceId } : {}),
            },
          },
        }),
      );
      show(page, () => functionTable(page.data));
    });
  functions
    .command("create <name>")
    .description("create a function in the workspace")
    .option("-d, --description <text>", "a description")
    .action(async (/** @type {string} */ name, /** @type {{ description?: string }} */ o) => {
      const api = client();
      const ws = await currentWorkspace(api);
      const f = await unwrap(
        api.POST("/api/functions", { body: { workspaceId: ws.id, name, description: o.description } }),
      );
      show(f, () => info(`${err.green("✔")} created function ${f.name} (${f.id}) in ${ws.name}`));
    });
  functions
    .command("get <function>")
    .description("show a function (name or id)")
    .action(async (/** @type {string} */ ref) => {
      const f = await fn(client(), ref, "include");
      show(f, () => printJson(f));
    });
  functions
    .command("delete <function>")
    .description("soft-delete a function (restore brings it back)")
    .action(async (/** @type {string} */ ref) => {
      const api = client();
      const f = await fn(api, ref);
      await unwrap(api.DELETE("/api/functions/{id}", { params: { path: { id: f.id } } }));
      show({ success: true, id: f.id }, () =>
        info(`${err.green("✔")} deleted ${f.name} (${f.id}); \`edgefn functions restore ${f.id}\` brings it back`),
      );
    });
  functions
    .command("restore <function>")
    .description("restore a soft-deleted function")
    .action(async (/** @type {string} */ ref) => {
      const api = client();
      const f = await fn(api, ref, "only");
      const restored = await unwrap(api.POST("/api/functions/{id}/restore", { params: { path: { id: f.id } } }));
      show(restored, () => info(`${err.green("✔")} restored ${restored.name} (${restored.id})`));
    });
  functions
    .command("purge <function>")
    .description("remove a soft-deleted function for good")
    .action(async (/** @type {string} */ ref) => {
      const api = client();
      const f = await fn(api, ref, "only");
      await unwrap(api.DELETE("/api/functions/{id}/purge", { params: { path: { id: f.id } } }));
      show({ success: true, id: f.id }, () => info(`${err.green("✔")} purged ${f.name} (${f.id})`));
    });
}
