import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { describeSession, principalOfUser } from "../../domain/accounts/principal";
import { verifyPassword } from "../../domain/accounts/users";
import { principalOfKeyHash } from "../../domain/keys/authenticate";
import {
  closeSession,
  openSession,
  type SessionOwner,
  secureCookieFor,
  sessionCookie,
  sessionToken,
} from "../../domain/sessions/index";
import type { AppEnv, Principal } from "../../env";
import { sha256Hex } from "../../lib/crypto";
import { ApiError, badRequest } from "../../lib/errors";
import { ROLES, type UserRow } from "../../storage/schema";
import { clientAddress } from "../auth";
import { body, errors, json, SuccessSchema } from "../openapi";
import type { App } from "../router";

const SessionUserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    platformAdmin: z.boolean().openapi({ description: "An admin of every workspace" }),
  })
  .openapi("SessionUser");

export const SessionSchema = z
  .object({
    csrfToken: z.string().openapi({ description: "Send it back in the `x-edgefn-csrf` header with every request" }),
    expiresAt: z.string().openapi({ description: "When the session ends (ISO 8601)" }),
    kind: z.enum(["key", "user"]).openapi({ description: "Opened with an API key, or by a user with a password" }),
    role: z.enum(ROLES).openapi({
      description: "A key's role; a user's: admin for a platform admin, else their highest membership role",
    }),
    workspaceId: z.string().nullable().openapi({ description: "A key's workspace (null: every one, or a user)" }),
    keyId: z.string().nullable().openapi({ description: "The key a key's session acts as; null for a user" }),
    user: SessionUserSchema.nullable().openapi({ description: "The user a user's session belongs to" }),
  })
  .openapi("Session");

const signIn = createRoute({
  method: "post",
  path: "/api/session",
  tags: ["platform"],
  summary: "Sign a browser in: as a user with email and password, or with an API key (the web console)",
  description:
    "Answers with an HttpOnly, SameSite=Strict session cookie (`__Host-edgefn_session` and Secure except on plain " +
    "http to localhost) and a CSRF token. Requests then carry the cookie and the token in `x-edgefn-csrf`; page " +
    "script never holds a credential. A wrong email and a wrong password get the same 401; attempts are limited " +
    "per email and per client address (429 with Retry-After past the limit).",
  security: [],
  request: {
    body: body(
      z
        .object({
          email: z.string().min(1).max(320).optional().openapi({ description: "A user's email (with password)" }),
          password: z.string().min(1).max(1024).optional(),
          key: z
            .string()
            .min(1)
            .max(512)
            .optional()
            .openapi({ description: "An API key (instead of email and password)" }),
          remember: z.boolean().optional().openapi({ description: "30 days instead of 12 hours" }),
        })
        .strict()
        .openapi("SignIn"),
    ),
  },
  responses: { 200: json(SessionSchema, "Signed in"), ...errors("bad_request", "rate_limited") },
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

const secure = (c: Context<AppEnv>) => secureCookieFor(new URL(c.req.url));

/** The answer about a session: who it acts as, never a credential but its CSRF token. */
export function sessionAnswer(csrf: string, expiresAt: number, p: Principal, user: UserRow | null) {
  return {
    csrfToken: csrf,
    expiresAt: new Date(expiresAt).toISOString(),
    kind: user ? ("user" as const) : ("key" as const),
    role: p.role,
    workspaceId: user ? null : p.workspaceId,
    keyId: user ? null : p.keyId,
    user: user ? { id: user.id, email: user.email, name: user.name, platformAdmin: user.platformAdmin } : null,
  };
}

/** Opens a session for a checked owner and sets its cookie; the answer's body. */
export async function startSession(
  c: Context<AppEnv>,
  owner: SessionOwner,
  principal: Principal,
  user: UserRow | null,
  remember: boolean,
) {
  const s = await openSession(c.env, owner, { remember, userAgent: c.req.header("user-agent") });
  c.header("set-cookie", sessionCookie(s.token, remember ? s.expiresAt : null, secure(c)));
  c.header("cache-control", "no-store");
  return sessionAnswer(s.csrf, s.expiresAt, principal, user);
}

/** The one answer to a failed sign-in, whichever part was wrong. */
export const WRONG_CREDENTIALS = "Wrong email or password";

export function registerSessionRoutes(app: App) {
  app.openapi(signIn, async (c) => {
    const { key, email, password, remember } = c.req.valid("json");
    if (key !== undefined) {
      if (email !== undefined || password !== undefined) throw badRequest("Send either key, or email and password");
      const keyHash = await sha256Hex(key);
      const principal = await principalOfKeyHash(c.env, keyHash);
      return c.json(await startSession(c, { keyHash }, principal, null, remember === true), 200);
    }
    if (email === undefined || password === undefined) {
      throw badRequest("Send email and password (or an API key as key)");
    }
    const user = await verifyPassword(c.env, email, password, { clientAddress: clientAddress(c) });
    if (!user) throw new ApiError("unauthorized", WRONG_CREDENTIALS);
    const principal = await principalOfUser(c.env, user.id);
    if (!principal) throw new ApiError("unauthorized", WRONG_CREDENTIALS);
    return c.json(await startSession(c, { userId: user.id }, principal, user, remember === true), 200);
  });

  app.openapi(current, async (c) => {
    const token = sessionToken(c.req.header("cookie"));
    if (!token) throw new ApiError("unauthorized", "Not signed in");
    const { session, principal, user } = await describeSession(c.env, token);
    c.header("cache-control", "no-store");
    return c.json(sessionAnswer(session.csrf, session.expiresAt, principal, user), 200);
  });

  app.openapi(signOut, async (c) => {
    const token = sessionToken(c.req.header("cookie"));
    if (token) await closeSession(c.env, token);
    c.header("set-cookie", sessionCookie("", 0, secure(c)));
    return c.json({ success: true as const }, 200);
  });
}
