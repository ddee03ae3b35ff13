import { createRoute, z } from "@hono/zod-openapi";
import { checkStorage } from "../../domain/health";
import { json } from "../openapi";
import type { App } from "../router";

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["platform"],
  summary: "Liveness and storage check",
  security: [],
  responses: {
    200: json(
      z.object({ ok: z.literal(true), db: z.literal("ok") }).openapi("Health"),
      "The platform answers and D1 is reachable",
    ),
  },
});

export function registerHealthRoutes(app: App) {
  app.openapi(health, async (c) => {
    await checkStorage(c.env);
    return c.json({ ok: true as const, db: "ok" as const }, 200);
  });
}
