/** `edgefn admin`: platform administration (an admin key for every workspace). */
import { unwrap } from "../../client/index.js";
import { EXIT, err, info } from "../ui.js";

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
}
