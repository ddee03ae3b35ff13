import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { principalOfKeyHash } from "../../domain/keys/authenticate";
import {
  closeSession,
  describeSessionToken,
  openSession,
  sessionCookie,
  sessionToken,
} from "../../domain/sessions/index";
import type { AppEnv, Principal } from "../../env";
import { sha256Hex } from "../../lib/crypto";
import { ApiError } from "../../lib/errors";
import { body, errors, json, SuccessSchema } from "../openapi";
import type { App } from "../router";

const SessionSchema = z
  .object({
    csrfToken: z.string().openapi({ description: "Send it back in the `x-edgefn-csrf` header with every request" }),
    expiresAt: z.string().openapi({ description: "When the session ends (ISO 8601)" }),
    role: z.enum(["viewer", "invoker", "developer", "admin"]),
    workspaceId: z.string().nullable(),
    keyId: z.string(),
  })
  .openapi("Session");

const signIn = createRoute({
  method: "post",
  path: "/api/session",
  tags: ["platform"],
  summary: "Sign a browser in with an API key (the web console)",
  description:
    "Answers with an HttpOnly, SameSite=Strict session cookie (`__Host-edgefn_session` on https) and a CSRF token. " +
    "Requests then carry the cookie and the token in `x-edgefn-csrf`; page script never holds the key.",
  security: [],
  request: {
    body: body(
      z
        .object({
          key: z.string().min(1).max(512),
          remember: z.boolean().optional().openapi({ description: "30 days instead of 12 hours" }),
        })
        .strict()
        .openapi("SignIn"),
    ),
  },
  responses: { 200: json(SessionSchema, "Signed in"), ...errors("bad_request") },
});

const current = createRoute({
  method: "get",
  path: "/api/session",
  tags: ["platform"],
  summary: "The browser's session (its CSRF token), from its cookie",
  security: [],
  responses: { 200: json(SessionSchema, "The session"), ...errors() },
});

const signOut = createRoute({
  method: "delete",
  path: "/api/session",
  tags: ["platform"],
  summary: "Sign the browser out",
  security: [],
  responses: { 200: json(SuccessSchema, "Signed out") },
});

const secure = (c: Context<AppEnv>) => new URL(c.req.url).protocol === "https:";

const toApi = (csrf: string, expiresAt: number, p: Principal) => ({
  csrfToken: csrf,
  expiresAt: new Date(expiresAt).toISOString(),
  role: p.role,
  workspaceId: p.workspaceId,
  keyId: p.keyId,
});

export function registerSessionRoutes(app: App) {
  app.openapi(signIn, async (c) => {
    const { key, remember } = c.req.valid("json");
    const keyHash = await sha256Hex(key);
    const principal = await principalOfKeyHash(c.env, keyHash);
    const s = await openSession(c.env, keyHash, remember === true);
    c.header("set-cookie", sessionCookie(s.token, remember ? s.expiresAt : null, secure(c)));
    c.header("cache-control", "no-store");
    return c.json(toApi(s.csrf, s.expiresAt, principal), 200);
  });

  app.openapi(current, async (c) => {
    const token = sessionToken(c.req.header("cookie"));
    if (!token) throw new ApiError("unauthorized", "Not signed in");
    const s = await describeSessionToken(c.env, token);
    c.header("cache-control", "no-store");
    return c.json(toApi(s.csrf, s.expiresAt, await principalOfKeyHash(c.env, s.keyHash)), 200);
  });

  app.openapi(signOut, async (c) => {
    const token = sessionToken(c.req.header("cookie"));
    if (token) await closeSession(c.env, token);
    c.header("set-cookie", sessionCookie("", 0, secure(c)));
    return c.json({ success: true as const }, 200);
  });
}
