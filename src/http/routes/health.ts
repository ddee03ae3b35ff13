import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app";
import { json } from "../openapi";

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
    await c.env.DB.prepare("SELECT 1").first();
    return c.json({ ok: true as const, db: "ok" as const }, 200);
  });
}
