import type { Context } from "hono";
import { warmRecentFunctions } from "../../domain/calls/warm-up";
import { parseRecovery, recoverAfterRestart } from "../../domain/recover";
import type { AppEnv } from "../../env";
import { digestsEqual } from "../../lib/crypto";
import { ApiError } from "../../lib/errors";
import { journalEnabled } from "../../runtime/journal";
import { getDb } from "../../storage/db";
import type { App } from "../router";

/**
 * The local supervisor's (npm start) own routes. They exist only where the supervisor configured the journal,
 * answer only its token, are not part of the API and not in its document; anywhere else they are an ordinary 404.
 * - `POST /__edgefn/recover`: the call journal, handed back after the supervisor restarted a frozen or crashed
 *   runtime.
 * - `POST /__edgefn/warm`: after each start of the runtime, makes the isolates of the functions called most
 *   recently (domain/calls/warm-up).
 */
export function registerSupervisorRoutes(app: App) {
  app.post("/__edgefn/recover", async (c) => {
    onlyTheSupervisor(c);
    const recovery = parseRecovery(await c.req.json().catch(() => null));
    if (!recovery) throw new ApiError("bad_request", "Send the journal's recovery: {reason, stalled, interrupted}");
    return c.json(await recoverAfterRestart(getDb(c.env.DB), c.env, recovery), 200);
  });

  app.post("/__edgefn/warm", async (c) => {
    onlyTheSupervisor(c);
    return c.json(await warmRecentFunctions(getDb(c.env.DB), c.env), 200);
  });
}

function onlyTheSupervisor(c: Context<AppEnv>) {
  const token = c.req.header("x-edgefn-supervisor") ?? "";
  if (!journalEnabled(c.env) || !digestsEqual(token, c.env.EDGEFN_SUPERVISOR_TOKEN as string)) {
    throw new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  }
}
