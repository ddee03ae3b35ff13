import { createRoute, z } from "@hono/zod-openapi";
import { ping } from "../../storage/bulk";
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
    await ping(c.env.DB);
    return c.json({ ok: true as const, db: "ok" as const }, 200);
  });
}
