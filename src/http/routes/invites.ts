import { createRoute, z } from "@hono/zod-openapi";
import { acceptInvite, createInvite, listInvites, revokeInvite } from "../../domain/accounts/invites";
import { PASSWORD_MAX, PASSWORD_MIN } from "../../domain/accounts/passwords";
import { principalOfUser } from "../../domain/accounts/principal";
import { ApiError } from "../../lib/errors";
import { listQueryOf } from "../../lib/list/page";
import { type InviteRow, ROLES } from "../../storage/schema";
import { clientAddress } from "../auth";
import { serviceContext } from "../context";
import { body, errors, iso, json, ListQuerySchema, PageInfoSchema, SuccessSchema, TimestampSchema } from "../openapi";
import type { App } from "../router";
import { SessionSchema, startSession } from "./session";

const InviteSchema = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    email: z.string(),
    role: z.enum(ROLES),
    status: z.enum(["pending", "accepted", "expired"]),
    createdBy: z.string().nullable(),
    createdAt: TimestampSchema,
    expiresAt: TimestampSchema,
    acceptedAt: TimestampSchema.nullable(),
    acceptedBy: z.string().nullable(),
  })
  .openapi("Invite");

const CreatedInviteSchema = InviteSchema.extend({
  token: z.string().openapi({ description: "The invite's secret: shown only in this response. Hand it to the person" }),
  link: z.string().openapi({ description: "The console's page that accepts it: `<this platform>/#/invite/<token>`" }),
}).openapi("CreatedInvite");

const toApi = (row: InviteRow, now = Date.now()) => ({
  id: row.id,
  workspaceId: row.workspaceId,
  email: row.email,
  role: row.role,
  status:
    row.acceptedAt !== null
      ? ("accepted" as const)
      : row.expiresAt <= now
        ? ("expired" as const)
        : ("pending" as const),
  createdBy: row.createdBy,
  createdAt: iso(row.createdAt) as string,
  expiresAt: iso(row.expiresAt) as string,
  acceptedAt: iso(row.acceptedAt),
  acceptedBy: row.acceptedBy,
});

const workspaceParam = z
  .string()
  .min(1)
  .max(64)
  .openapi({ param: { name: "id", in: "path" }, description: "The workspace's id (ws_...)" });

const tags = ["members"];

const create = createRoute({
  method: "post",
  path: "/api/workspaces/{id}/invites",
  tags,
  summary: "Invite someone to a workspace by email, with a role (its admins); a single-use token valid 7 days",
  request: {
    params: z.object({ id: workspaceParam }),
    body: body(
      z
        .object({ email: z.string().max(320), role: z.enum(ROLES) })
        .strict()
        .openapi("CreateInvite"),
    ),
  },
  responses: {
    201: json(CreatedInviteSchema, "The invite with its token"),
    ...errors("bad_request", "forbidden", "not_found", "conflict"),
  },
});

const list = createRoute({
  method: "get",
  path: "/api/workspaces/{id}/invites",
  tags,
  summary: "List a workspace's invites, never their tokens (its admins)",
  request: { params: z.object({ id: workspaceParam }), query: ListQuerySchema },
  responses: {
    200: json(z.object({ data: z.array(InviteSchema), pageInfo: PageInfoSchema }), "A page of invites"),
    ...errors("bad_request", "forbidden", "not_found"),
  },
});

const revoke = createRoute({
  method: "delete",
  path: "/api/workspaces/{id}/invites/{inviteId}",
  tags,
  summary: "Revoke an invite that has not been accepted (its admins)",
  request: {
    params: z.object({
      id: workspaceParam,
      inviteId: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: "inviteId", in: "path" }, description: "The invite's id (inv_...)" }),
    }),
  },
  responses: { 200: json(SuccessSchema, "Revoked"), ...errors("forbidden", "not_found", "conflict") },
});

const accept = createRoute({
  method: "post",
  path: "/api/invites/{token}/accept",
  tags,
  summary: "Accept an invite with its token: join the workspace and sign in",
  description:
    "No key: the token is the credential. With no account for the invite's email, one is made with this password " +
    `(at least ${PASSWORD_MIN} characters); an existing account must give its own password. Answers like ` +
    "`POST /api/session` (a session cookie and its CSRF token). An invite works once, for 7 days.",
  security: [],
  request: {
    params: z.object({
      token: z
        .string()
        .min(1)
        .max(128)
        .openapi({ param: { name: "token", in: "path" }, description: "The invite's token" }),
    }),
    body: body(
      z
        .object({
          password: z
            .string()
            .min(1)
            .max(1024)
            .openapi({ description: `At most ${PASSWORD_MAX} characters` }),
          name: z.string().max(128).nullish().openapi({ description: "For a new account: how the person is called" }),
          remember: z.boolean().optional().openapi({ description: "30 days instead of 12 hours" }),
        })
        .strict()
        .openapi("AcceptInvite"),
    ),
  },
  responses: {
    200: json(SessionSchema, "Joined and signed in"),
    ...errors("bad_request", "not_found", "conflict", "rate_limited"),
  },
});

export function registerInviteRoutes(app: App) {
  app.openapi(create, async (c) => {
    const { row, token } = await createInvite(serviceContext(c), c.req.valid("param").id, c.req.valid("json"));
    const link = `${new URL(c.req.url).origin}/#/invite/${token}`;
    c.header("cache-control", "no-store");
    return c.json({ ...toApi(row), token, link }, 201);
  });
  app.openapi(list, async (c) => {
    const page = await listInvites(serviceContext(c), c.req.valid("param").id, listQueryOf(c.req.valid("query")));
    const now = Date.now();
    return c.json({ data: page.rows.map((row) => toApi(row, now)), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(revoke, async (c) => {
    const { id, inviteId } = c.req.valid("param");
    await revokeInvite(serviceContext(c), id, inviteId);
    return c.json({ success: true as const }, 200);
  });
  app.openapi(accept, async (c) => {
    const { password, name, remember } = c.req.valid("json");
    const { user } = await acceptInvite(
      c.env,
      c.req.valid("param").token,
      { password, name },
      {
        clientAddress: clientAddress(c),
      },
    );
    const principal = await principalOfUser(c.env, user.id);
    if (!principal) throw new ApiError("unauthorized", "The account no longer exists");
    return c.json(await startSession(c, { userId: user.id }, principal, user, remember === true), 200);
  });
}
