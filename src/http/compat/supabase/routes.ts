import type { Context } from "hono";
import { call, findTarget, forward, WORKSPACE_HEADER } from "../../../domain/compat/supabase";
import type { App } from "../../router";
import { bearer, type CompatEnv, compatRouter } from "../kit";
import { supabaseError } from "./errors";
import { answerOf, argsOf } from "./mapping";

/**
 * The Supabase Edge Functions surface (see docs/compat.md): `ANY /functions/v1/{name}[/...]` invokes the
 * function named {name} in the key's workspace, so `new FunctionsClient(host + "/functions/v1", ...)` works.
 */
export function registerSupabaseRoutes(app: App): void {
  const s = compatRouter({ credential: bearer, toBody: supabaseError, authOn: "/:name/*" });
  const handler = async (c: Context<CompatEnv>) => {
    const ctx = c.var.ctx;
    const target = await findTarget(ctx, c.req.header(WORKSPACE_HEADER) ?? null, c.req.param("name") ?? "");
    if (target.version?.handlers?.includes("fetch")) {
      // "/functions/v1/{name}/a/b" -> "/a/b", kept as sent (still percent-encoded).
      const path = `/${new URL(c.req.url).pathname.split("/").slice(4).join("/")}`;
      return forward(ctx, c.req.raw, target, path);
    }
    return answerOf(await call(ctx, target, await argsOf(c.req.raw)), c.get("requestId"));
  };
  s.all("/:name", handler);
  s.all("/:name/*", handler);
  app.route("/functions/v1", s as unknown as App);
}
