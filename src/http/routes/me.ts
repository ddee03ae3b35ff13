import { createRoute, z } from "@hono/zod-openapi";
import { describeMe, endAllOwnSessions, endOwnSession, listOwnSessions } from "../../domain/accounts/me";
import { PASSWORD_MAX, PASSWORD_MIN } from "../../domain/accounts/passwords";
import { changeOwnPassword } from "../../domain/accounts/users";
import { secureCookieFor, sessionCookie } from "../../domain/sessions/index";
import { listQueryOf } from "../../lib/list/page";
import { ROLES, type SessionRow } from "../../storage/schema";
import { clientAddress } from "../auth";
import { serviceContext } from "../context";
import { body, errors, iso, json, ListQuerySchema, PageInfoSchema, SuccessSchema, TimestampSchema } from "../openapi";
import type { App } from "../router";

const MeSchema = z
  .object({
    kind: z.enum(["user", "key"]),
    id: z.string().openapi({ description: "The user's id (usr_...) or the key's (key_...)" }),
    user: z
      .object({
        email: z.string(),
        name: z.string().nullable(),
        platformAdmin: z.boolean(),
        createdAt: TimestampSchema,
      })
      .nullable(),
    role: z.enum(ROLES).openapi({
      description: "A key's role; a user's: admin for a platform admin, else their highest membership role",
    }),
    allWorkspaces: z
      .boolean()
      .openapi({ description: "Acts in every workspace (a key without one, a platform admin)" }),
    memberships: z.array(z.object({ workspaceId: z.string(), workspaceName: z.string(), role: z.enum(ROLES) })),
    sessionId: z.string().nullable().openapi({ description: "The session the request came with" }),
  })
  .openapi("Me");

const OwnSessionSchema = z
  .object({
    id: z.string(),
    createdAt: TimestampSchema,
    expiresAt: TimestampSchema,
    userAgent: z.string().nullable().openapi({ description: "The browser that signed in" }),
    current: z.boolean().openapi({ description: "The session of this request" }),
  })
  .openapi("OwnSession");

const tags = ["me"];

const me = createRoute({
  method: "get",
  path: "/api/me",
  tags,
  summary: "Who am I: a user (with their memberships) or an API key",
  responses: { 200: json(MeSchema, "Who the request acts as"), ...errors() },
});

const password = createRoute({
  method: "patch",
  path: "/api/me/password",
  tags,
  summary: "Change your password (a user); every other session of yours ends",
  request: {
    body: body(
      z
        .object({
          currentPassword: z.string().min(1).max(1024),
          newPassword: z
            .string()
            .max(1024)
            .openapi({ description: `At least ${PASSWORD_MIN} characters, at most ${PASSWORD_MAX}` }),
        })
        .strict()
        .openapi("ChangePassword"),
    ),
  },
  responses: {
    200: json(z.object({ endedSessions: z.number().int() }).openapi("PasswordChanged"), "Changed"),
    ...errors("bad_request", "forbidden", "rate_limited"),
  },
});

const sessions = createRoute({
  method: "get",
  path: "/api/me/sessions",
  tags,
  summary: "Your sessions (a user), newest first",
  request: { query: ListQuerySchema },
  responses: {
    200: json(z.object({ data: z.array(OwnSessionSchema), pageInfo: PageInfoSchema }), "A page of sessions"),
    ...errors("bad_request", "forbidden"),
  },
});

const signOutEverywhere = createRoute({
  method: "delete",
  path: "/api/me/sessions",
  tags,
  summary: "Sign out everywhere (a user): every session of yours ends, this one included",
  responses: {
    200: json(z.object({ endedSessions: z.number().int() }).openapi("SignedOut"), "Signed out"),
    ...errors("forbidden"),
  },
});

const endOne = createRoute({
  method: "delete",
  path: "/api/me/sessions/{id}",
  tags,
  summary: "End one of your sessions (a user)",
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: "id", in: "path" }, description: "The session's id (ses_...)" }),
    }),
  },
  responses: { 200: json(SuccessSchema, "Ended"), ...errors("forbidden", "not_found") },
});

const sessionToApi = (row: SessionRow, current: string | undefined) => ({
  id: row.id,
  createdAt: iso(row.createdAt) as string,
  expiresAt: iso(row.expiresAt) as string,
  userAgent: row.userAgent,
  current: row.id === current,
});

export function registerMeRoutes(app: App) {
  app.openapi(me, async (c) => {
    const who = await describeMe(serviceContext(c));
    c.header("cache-control", "no-store");
    return c.json({ ...who, user: who.user && { ...who.user, createdAt: iso(who.user.createdAt) as string } }, 200);
  });
  app.openapi(password, async (c) => {
    return c.json(await changeOwnPassword(serviceContext(c), c.req.valid("json"), clientAddress(c)), 200);
  });
  app.openapi(sessions, async (c) => {
    const ctx = serviceContext(c);
    const page = await listOwnSessions(ctx, listQueryOf(c.req.valid("query")));
    return c.json(
      { data: page.rows.map((r) => sessionToApi(r, ctx.principal.sessionId)), pageInfo: page.pageInfo },
      200,
    );
  });
  app.openapi(signOutEverywhere, async (c) => {
    const ended = await endAllOwnSessions(serviceContext(c));
    c.header("set-cookie", sessionCookie("", 0, secureCookieFor(new URL(c.req.url))));
    return c.json({ endedSessions: ended }, 200);
  });
  app.openapi(endOne, async (c) => {
    await endOwnSession(serviceContext(c), c.req.valid("param").id);
    return c.json({ success: true as const }, 200);
  });
}
