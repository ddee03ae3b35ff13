import { createRoute, z } from "@hono/zod-openapi";
import { REENCRYPT_LIMIT, reencryptSecrets } from "../../domain/functions/secrets";
import { serviceContext } from "../context";
import { errors, json } from "../openapi";
import type { App } from "../router";

const ReencryptQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, "a whole number")
    .optional()
    .openapi({
      description: `Functions this request looks at, at most (1-${REENCRYPT_LIMIT.max}, default ${REENCRYPT_LIMIT.default})`,
    }),
});

const ReencryptSchema = z
  .object({
    functions: z.number().int().openapi({ description: "Functions whose secrets were sealed with the newest key" }),
    secrets: z.number().int().openapi({ description: "Secrets sealed with the newest key" }),
    remaining: z.number().int().openapi({
      description: "Functions still holding a secret under an older key: repeat the request until this is 0",
    }),
    unreadable: z.array(z.string()).openapi({
      description:
        "Functions this request found with a secret that no configured key opens (add that key to EDGEFN_SECRETS_KEY_PREVIOUS)",
    }),
  })
  .openapi("SecretsReencryption");

const reencrypt = createRoute({
  method: "post",
  path: "/api/admin/secrets/reencrypt",
  tags: ["admin"],
  summary: "Re-encrypt function secrets with the newest EDGEFN_SECRETS_KEY (after a rotation)",
  description:
    "Seals every function secret still under an older key (EDGEFN_SECRETS_KEY_PREVIOUS, or the key-id-less v1 " +
    "format) with the key of EDGEFN_SECRETS_KEY, a page of functions per request. The values do not change. " +
    "Only an admin key for every workspace.",
  request: { query: ReencryptQuerySchema },
  responses: {
    200: json(ReencryptSchema, "What this request re-encrypted and what remains"),
    ...errors("bad_request", "forbidden", "unavailable"),
  },
});

export function registerAdminRoutes(app: App) {
  app.openapi(reencrypt, async (c) => {
    const { limit } = c.req.valid("query");
    const result = await reencryptSecrets(serviceContext(c), {
      limit: limit === undefined ? undefined : Number(limit),
    });
    return c.json(result, 200);
  });
}
