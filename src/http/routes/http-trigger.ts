import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { runHttp } from "../../domain/calls/http";
import type { AppEnv } from "../../env";
import { functionHost, runDomain } from "../../lib/origin";
import { requestContext } from "../context";
import { errors } from "../openapi";
import type { App } from "../router";

/**
 * `ANY /run/{workspace}/{function}/*`: the function as a web endpoint. The request goes to its `fetch` handler
 * as it came (method, the path after the function, query, headers, streamed body) and the answer streams back.
 */
export function registerRunRoutes(app: App) {
  const handler = async (c: Context<AppEnv>) => {
    const { workspace, fn } = c.req.param() as { workspace: string; fn: string };
    // "/run/{workspace}/{function}/a/b" -> "/a/b", kept as sent (still percent-encoded).
    const url = new URL(c.req.url);
    const path = `/${url.pathname.split("/").slice(4).join("/")}`;
    return runHttp(requestContext(c), c.req.raw, { workspace, fn, path, origin: "platform", url });
  };
  app.all("/run/:workspace/:fn", handler);
  app.all("/run/:workspace/:fn/*", handler);

  // Described for the reference; any method is forwarded, the common ones are listed.
  for (const method of ["get", "post", "put", "patch", "delete"] as const) {
    app.openAPIRegistry.registerPath({
      method,
      path: "/run/{workspace}/{function}/{path}",
      tags: ["functions"],
      summary: "Call a function's fetch handler as a web endpoint",
      description:
        "The request (method, the path after the function, query, headers, streamed body) goes to the function's `fetch` " +
        "handler and its answer streams back. Needs an invoker key of the workspace unless the function is public. " +
        "`?version=` or an `edgefn-version` header runs that version. Each request is recorded as a call with trigger `http`.",
      request: {
        params: z.object({
          workspace: z.string().openapi({ description: "The workspace's name or id" }),
          function: z.string().openapi({ description: "The function's name or id" }),
          path: z.string().openapi({ description: "The rest of the path, passed to the function" }),
        }),
      },
      responses: {
        200: { description: "Whatever the function answers" },
        ...errors("forbidden", "not_found", "conflict", "rate_limited", "function_failed"),
      },
    });
  }
}

/**
 * A request to a function's own origin (`{function}.{workspace}.<run domain>`, `*.localhost` locally) goes to the
 * function whole: its path, query and headers; nothing of the platform (API, console) answers on such a host.
 */
export const functionOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  const target = functionHost(host, runDomain(c.env.EDGEFN_RUN_DOMAIN));
  if (!target) return next();
  const url = new URL(c.req.url);
  return runHttp(requestContext(c), c.req.raw, { ...target, path: url.pathname, origin: "function", url });
};
