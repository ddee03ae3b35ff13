/** `edgefn admin`: platform administration (an admin key for every workspace). */
import { unwrap } from "../../client/index.js";
import { CliError, EXIT, err, info, printTable } from "../ui.js";

/**
 * A password: from stdin when it is not a terminal (`echo ... | edgefn admin create-user`), else asked for on the
 * terminal without echoing it.
 * @returns {Promise<string>}
 */
async function readPassword() {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = "";
    for await (const chunk of stdin) text += chunk;
    return text.split(/\r?\n/)[0] ?? "";
  }
  process.stderr.write("password: ");
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = "";
    /** @param {string} data */
    const onData = (data) => {
      for (const ch of data) {
        if (ch === "\r" || ch === "\n") {
          done();
          resolve(typed);
          return;
        }
        if (ch === "\u0003") {
          done();
          reject(new CliError("canceled"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}

/**
 * @param {import("commander").Command} program
 * @param {import("../context.js").Context} ctx
 */
export function register(program, { client, show }) {
  const admin = program.command("admin").description("platform administration (an admin key for every workspace)");
  admin
    .command("reencrypt-secrets")
    .description("after a rotation of EDGEFN_SECRETS_KEY, seal every function secret with the newest key")
    .action(async () => {
      // Not in the generated client's types yet: the same client, untyped for this one path.
      const api = /** @type {any} */ (client());
      /** @type {{ functions: number, secrets: number, remaining: number, unreadable: string[] }} */
      const total = { functions: 0, secrets: 0, remaining: 0, unreadable: [] };
      for (;;) {
        const step = /** @type {typeof total} */ (await unwrap(api.POST("/api/admin/secrets/reencrypt")));
        total.functions += step.functions;
        total.secrets += step.secrets;
        total.remaining = step.remaining;
        total.unreadable = step.unreadable;
        // Done, or only functions no configured key opens are left.
        if (step.remaining === 0 || step.functions === 0) break;
      }
      show(total, () => {
        info(`${err.green("✔")} re-encrypted ${total.secrets} secrets of ${total.functions} functions`);
        if (total.remaining > 0) {
          info(
            `${err.red("✖")} ${total.remaining} functions still hold secrets under an older key${total.unreadable.length ? `; none of the configured keys opens those of ${total.unreadable.join(", ")}` : ""}`,
          );
        }
      });
      if (total.remaining > 0) process.exitCode = EXIT.error;
    });

  admin
    .command("create-user")
    .description("create a user who signs in to the console with email and password (the first one with --admin)")
    .requiredOption("--email <email>", "the user's email (trimmed and lower-cased)")
    .option("--password <password>", "at least 8 characters; without it, read from stdin or asked for")
    .option("--name <name>", "how the person is called")
    .option("--admin", "a platform admin: an admin of every workspace")
    .action(async (/** @type {{ email: string, password?: string, name?: string, admin?: boolean }} */ o) => {
      const password = o.password ?? (await readPassword());
      if (!password) throw new CliError("create-user needs a password: --password, stdin, or the prompt");
      const user = await unwrap(
        client().POST("/api/users", {
          body: { email: o.email, password, ...(o.name ? { name: o.name } : {}), platformAdmin: o.admin === true },
        }),
      );
      show(user, () => {
        info(`${err.green("✔")} created ${user.email} (${user.id})${user.platformAdmin ? ", a platform admin" : ""}`);
        info(`sign in to the console at ${client().url} with this email and password`);
      });
    });

  admin
    .command("users")
    .description("list the platform's users")
    .action(async () => {
      const page = await unwrap(client().GET("/api/users", { params: { query: { limit: "100" } } }));
      show(page, () =>
        printTable(page.data, [
          ["email", (u) => u.email],
          ["id", (u) => u.id],
          ["admin", (u) => (u.platformAdmin ? "platform" : "")],
          ["created", (u) => u.createdAt],
        ]),
      );
    });
}
