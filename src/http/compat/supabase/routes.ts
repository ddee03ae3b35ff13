import type { Context } from "hono";
import { invokeSupabase } from "../../../domain/compat/supabase";
import type { AppEnv } from "../../../env";
import type { App } from "../../app";
import { requestContext } from "../../context";

/**
 * The Supabase Edge Functions surface (see docs/compat.md): `ANY /functions/v1/{name}[/...]` invokes the
 * function named {name} in the key's workspace, so `new FunctionsClient(host + "/functions/v1", ...)` works.
 */
export function registerSupabaseRoutes(app: App): void {
  const handler = async (c: Context<AppEnv>) => {
    const name = c.req.param("name") ?? "";
    // "/functions/v1/{name}/a/b" -> "/a/b", kept as sent (still percent-encoded).
    const path = `/${new URL(c.req.url).pathname.split("/").slice(4).join("/")}`;
    return invokeSupabase(requestContext(c), c.req.raw, { name, path }, c.get("requestId"));
  };
  app.all("/functions/v1/:name", handler);
  app.all("/functions/v1/:name/*", handler);
}
