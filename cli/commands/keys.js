/** `edgefn keys` (admin): list, create and revoke API keys. */
import { Option } from "commander";
import { unwrap } from "../../client/index.js";
import { ago, err, info, printTable } from "../ui.js";

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { client, currentWorkspace, show }) {
  const keys = program.command("keys").description("list, create and revoke API keys (admin)");
  keys
    .command("list", { isDefault: true })
    .description("the API keys (their secrets are never shown again)")
    .action(async () => {
      const page = await unwrap(client().GET("/api/keys", { params: { query: { limit: "100" } } }));
      show(page, () =>
        printTable(page.data, [
          ["NAME", (k) => k.name],
          ["ID", (k) => k.id],
          ["PREFIX", (k) => k.prefix],
          ["ROLE", (k) => k.role],
          ["WORKSPACE", (k) => k.workspaceId ?? "(all)"],
          ["EXPIRES", (k) => k.expiresAt],
          ["CREATED", (k) => ago(k.createdAt)],
        ]),
      );
    });
  keys
    .command("create <name>")
    .description("create a key; its secret is printed once")
    .addOption(
      new Option("--role <role>", "its role")
        .choices(["viewer", "invoker", "developer", "admin"])
        .makeOptionMandatory(),
    )
    .option("--workspace-only", "limit it to the current workspace (--workspace)")
    .option("--expires <iso>", "when it stops working (ISO 8601)")
    .action(
      async (
        /** @type {string} */ name,
        /** @type {{ role: "viewer" | "invoker" | "developer" | "admin", workspaceOnly?: boolean, expires?: string }} */ o,
      ) => {
        const api = client();
        const workspaceId = o.workspaceOnly ? (await currentWorkspace(api)).id : null;
        const k = await unwrap(
          api.POST("/api/keys", { body: { name, role: o.role, workspaceId, expiresAt: o.expires ?? null } }),
        );
        show(k, () => {
          process.stdout.write(`${k.key}\n`);
          info(err.dim(`key ${k.name} (${k.id}), ${k.role}; the secret above is shown only now`));
        });
      },
    );
  keys
    .command("revoke <id>")
    .description("revoke a key (key_...)")
    .action(async (/** @type {string} */ id) => {
      await unwrap(client().DELETE("/api/keys/{id}", { params: { path: { id } } }));
      show({ success: true, id }, () => info(`${err.green("✔")} revoked ${id}`));
    });
}
