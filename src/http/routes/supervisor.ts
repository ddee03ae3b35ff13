import { parseRecovery, recoverAfterRestart } from "../../domain/recover";
import { digestsEqual } from "../../lib/crypto";
import { ApiError } from "../../lib/errors";
import { journalEnabled } from "../../runtime/journal";
import { getDb } from "../../storage/db";
import type { App } from "../router";

/**
 * `POST /__edgefn/recover`: the local supervisor (npm start) hands back the call journal after it restarted a
 * frozen or crashed runtime. It exists only where the supervisor configured the journal, answers only its token,
 * is not part of the API and not in its document; anywhere else it is an ordinary 404.
 */
export function registerSupervisorRoutes(app: App) {
  app.post("/__edgefn/recover", async (c) => {
    const token = c.req.header("x-edgefn-supervisor") ?? "";
    if (!journalEnabled(c.env) || !digestsEqual(token, c.env.EDGEFN_SUPERVISOR_TOKEN as string)) {
      throw new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`);
    }
    const recovery = parseRecovery(await c.req.json().catch(() => null));
    if (!recovery) throw new ApiError("bad_request", "Send the journal's recovery: {reason, stalled, interrupted}");
    return c.json(await recoverAfterRestart(getDb(c.env.DB), c.env, recovery), 200);
  });
}
