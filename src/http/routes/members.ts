import { createRoute, z } from "@hono/zod-openapi";
import { changeMember, listMembers, type Member, removeMember } from "../../domain/accounts/memberships";
import { listQueryOf } from "../../lib/list/page";
import { ROLES } from "../../storage/schema";
import { serviceContext } from "../context";
import { body, errors, iso, json, ListQuerySchema, PageInfoSchema, SuccessSchema, TimestampSchema } from "../openapi";
import type { App } from "../router";

const MemberSchema = z
  .object({
    id: z.string().openapi({ description: "The membership's id (mem_...)" }),
    workspaceId: z.string(),
    userId: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(ROLES),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi("Member");

const toApi = ({ membership: m, user }: Member) => ({
  id: m.id,
  workspaceId: m.workspaceId,
  userId: m.userId,
  email: user.email,
  name: user.name,
  role: m.role,
  createdAt: iso(m.createdAt) as string,
  updatedAt: iso(m.updatedAt) as string,
});

const workspaceParam = z
  .string()
  .min(1)
  .max(64)
  .openapi({ param: { name: "id", in: "path" }, description: "The workspace's id (ws_...)" });
const userParam = z
  .string()
  .min(1)
  .max(64)
  .openapi({ param: { name: "userId", in: "path" }, description: "The member's user id (usr_...)" });

const tags = ["members"];

const list = createRoute({
  method: "get",
  path: "/api/workspaces/{id}/members",
  tags,
  summary: "List a workspace's members with their roles (its admins)",
  description: 'Filter on the account too: `{"user": {"email": {"ilike": "%@example.com"}}}`.',
  request: { params: z.object({ id: workspaceParam }), query: ListQuerySchema },
  responses: {
    200: json(z.object({ data: z.array(MemberSchema), pageInfo: PageInfoSchema }), "A page of members"),
    ...errors("bad_request", "forbidden", "not_found"),
  },
});

const change = createRoute({
  method: "patch",
  path: "/api/workspaces/{id}/members/{userId}",
  tags,
  summary: "Change a member's role (its admins); the member's API keys above the new role are revoked",
  request: {
    params: z.object({ id: workspaceParam, userId: userParam }),
    body: body(
      z
        .object({ role: z.enum(ROLES) })
        .strict()
        .openapi("ChangeMember"),
    ),
  },
  responses: { 200: json(MemberSchema, "The member"), ...errors("bad_request", "forbidden", "not_found") },
});

const remove = createRoute({
  method: "delete",
  path: "/api/workspaces/{id}/members/{userId}",
  tags,
  summary: "Remove a member (its admins; a member may leave): access ends at once, their keys for it are revoked",
  request: { params: z.object({ id: workspaceParam, userId: userParam }) },
  responses: { 200: json(SuccessSchema, "Removed"), ...errors("forbidden", "not_found") },
});

export function registerMemberRoutes(app: App) {
  app.openapi(list, async (c) => {
    const { id } = c.req.valid("param");
    const page = await listMembers(serviceContext(c), id, listQueryOf(c.req.valid("query")));
    return c.json({ data: page.members.map(toApi), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(change, async (c) => {
    const { id, userId } = c.req.valid("param");
    return c.json(toApi(await changeMember(serviceContext(c), id, userId, c.req.valid("json").role)), 200);
  });
  app.openapi(remove, async (c) => {
    const { id, userId } = c.req.valid("param");
    await removeMember(serviceContext(c), id, userId);
    return c.json({ success: true as const }, 200);
  });
}
