import type { Context } from "hono";
import type { App } from "../app";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";
import { renderError } from "../lib/respond";
import { runHttp } from "../services/run";

/**
 * `ANY /run/{workspace}/{function}/*`: the function as a web endpoint. The request goes to its `fetch` handler
 * as it came (method, the path after the function, query, headers, streamed body) and the answer streams back.
 */
export function registerRunRoutes(app: App) {
  const handler = async (c: Context<AppEnv>) => {
    const { workspace, fn } = c.req.param() as { workspace: string; fn: string };
    // "/run/{workspace}/{function}/a/b" -> "/a/b", kept as sent (still percent-encoded).
    const segments = new URL(c.req.url).pathname.split("/");
    const path = `/${segments.slice(4).join("/")}`;
    try {
      return await runHttp(c.env, getDb(c.env.DB), c.req.raw, { workspace, fn, path }, (p) =>
        c.executionCtx.waitUntil(p),
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === "rate_limited") {
        const res = renderError(c, err);
        res.headers.set("retry-after", String((err.details as { retryAfterSeconds: number }).retryAfterSeconds));
        return res;
      }
      throw err;
    }
  };
  app.all("/run/:workspace/:fn", handler);
  app.all("/run/:workspace/:fn/*", handler);
}
