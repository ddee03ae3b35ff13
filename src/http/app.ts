import { Scalar } from "@scalar/hono-api-reference";
import { HTTPException } from "hono/http-exception";
import { bodyCapError } from "../lib/body-cap";
import { ApiError } from "../lib/errors";
import { requireAuth } from "./auth";
import { registerCompatRoutes } from "./compat";
import { renderError } from "./respond";
import { type App, HTTP_CODES, newRouter } from "./router";
import { registerAdminRoutes } from "./routes/admin";
import { registerCallRoutes } from "./routes/calls";
import { registerFunctionRoutes } from "./routes/functions";
import { registerHealthRoutes } from "./routes/health";
import { functionOrigin, registerRunRoutes } from "./routes/http-trigger";
import { registerInviteRoutes } from "./routes/invites";
import { registerInvokeRoutes } from "./routes/invoke";
import { registerSchemaRoutes } from "./routes/json-schemas";
import { registerKeyRoutes } from "./routes/keys";
import { registerPlatformRoutes } from "./routes/limits";
import { registerMeRoutes } from "./routes/me";
import { registerMemberRoutes } from "./routes/members";
import { registerScheduleRoutes } from "./routes/schedules";
import { registerSessionRoutes } from "./routes/session";
import { registerSupervisorRoutes } from "./routes/supervisor";
import { registerUserRoutes } from "./routes/users";
import { registerVersionRoutes } from "./routes/versions";
import { registerWorkspaceRoutes } from "./routes/workspaces";

export type { App } from "./router";

export function newApp(): App {
  const app = newRouter();

  app.use("*", async (c, next) => {
    // Once per request: the router can match a path such as "/*" to this middleware twice.
    if (c.get("requestId")) return next();
    const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    // Set on the answer itself: Hono's c.header() would copy a finished answer into a new Response. An answer
    // whose headers cannot change (a fetched one) is copied after all.
    try {
      c.res.headers.set("x-request-id", requestId);
    } catch {
      c.header("x-request-id", requestId);
    }
  });
  // A function's own origin: the whole request is the function's, before any route of the platform.
  app.use("*", functionOrigin);

  app.onError((err, c) => {
    // A body past its cap makes every read of it fail: whatever the route made of that, the answer is 413.
    const capped = bodyCapError(c.req.raw);
    if (capped) return renderError(c, capped);
    if (err instanceof HTTPException) {
      // Hono's own rejections (e.g. a body that is not JSON) keep their status, in our shape.
      const code = HTTP_CODES[err.status] ?? "bad_request";
      const message =
        err.status === 400
          ? `Malformed request: ${err.message}`
          : err.status === 415
            ? "Send the body as JSON with Content-Type: application/json"
            : err.message;
      return renderError(c, new ApiError(code, message));
    }
    if (err instanceof SyntaxError) return renderError(c, new ApiError("bad_request", "Body is not valid JSON"));
    return renderError(c, err);
  });
  app.notFound(async (c) => {
    // The web console's static files (the Worker runs first, so that no function host ever serves them).
    if (c.env.ASSETS && (c.req.method === "GET" || c.req.method === "HEAD")) {
      const asset = await c.env.ASSETS.fetch(c.req.raw);
      if (asset.status !== 404) return asset;
    }
    return renderError(c, new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`));
  });

  // Everything under /api needs a key or a session, except the API description itself, signing in, accepting an
  // invite (its token is the credential) and the Cognite surface under /api/v1, which checks keys itself and
  // answers in Cognite's error shape.
  const PUBLIC = new Set(["/api/openapi.json", "/api/session"]);
  app.use("/api/*", (c, next) =>
    PUBLIC.has(c.req.path) || /^\/api\/(v1(\/|$)|invites\/[^/]+\/accept$)/.test(c.req.path)
      ? next()
      : requireAuth(c, next),
  );

  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description:
      "An edgefn API key: `Authorization: Bearer efn_...` (or the console's session: its cookie and `x-edgefn-csrf`)",
  });

  registerHealthRoutes(app);
  registerSessionRoutes(app);
  registerKeyRoutes(app);
  registerMeRoutes(app);
  registerUserRoutes(app);
  registerWorkspaceRoutes(app);
  registerMemberRoutes(app);
  registerInviteRoutes(app);
  registerFunctionRoutes(app);
  registerVersionRoutes(app);
  registerInvokeRoutes(app);
  registerCallRoutes(app);
  registerScheduleRoutes(app);
  registerSchemaRoutes(app);
  registerPlatformRoutes(app);
  registerAdminRoutes(app);
  registerRunRoutes(app);
  registerSupervisorRoutes(app);
  registerCompatRoutes(app);

  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "edgefn API",
      version: "0.1.0",
      description:
        "Upload JavaScript/TypeScript functions and run every call in its own dynamic isolate. " +
        "Every error has the shape `{error: {code, message, requestId}}`.",
    },
    security: [{ apiKey: [] }],
  });
  app.get("/docs", Scalar({ url: "/api/openapi.json", pageTitle: "edgefn API" }));
  return app;
}
