import { createRoute, z } from "@hono/zod-openapi";
import { PASSWORD_MAX, PASSWORD_MIN } from "../../domain/accounts/passwords";
import { createUser, deleteUser, listUsers, updateUser } from "../../domain/accounts/users";
import { listQueryOf } from "../../lib/list/page";
import type { UserRow } from "../../storage/schema";
import { serviceContext } from "../context";
import {
  body,
  errors,
  idParam,
  iso,
  json,
  ListQuerySchema,
  PageInfoSchema,
  SuccessSchema,
  TimestampSchema,
} from "../openapi";
import type { App } from "../router";

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    platformAdmin: z.boolean().openapi({ description: "An admin of every workspace" }),
    createdBy: z.string().nullable(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .openapi("User");

const password = z
  .string()
  .max(1024)
  .openapi({ description: `At least ${PASSWORD_MIN} characters, at most ${PASSWORD_MAX}` });
const name = z.string().max(128).nullish().openapi({ description: "How the person is called (optional)" });

const CreateUserSchema = z
  .object({
    email: z.string().max(320).openapi({ description: "Trimmed and lower-cased; one account per address" }),
    password,
    name,
    platformAdmin: z.boolean().optional().openapi({ description: "An admin of every workspace (default false)" }),
  })
  .strict()
  .openapi("CreateUser");

const UpdateUserSchema = z
  .object({
    name,
    platformAdmin: z.boolean().optional(),
    password: password.optional().openapi({ description: "A new password (recovery): every session of the user ends" }),
  })
  .strict()
  .openapi("UpdateUser");

export const userToApi = (row: UserRow) => ({
  id: row.id,
  email: row.email,
  name: row.name,
  platformAdmin: row.platformAdmin,
  createdBy: row.createdBy,
  createdAt: iso(row.createdAt) as string,
  updatedAt: iso(row.updatedAt) as string,
});

const tags = ["users"];
const params = idParam("usr", "user");

const list = createRoute({
  method: "get",
  path: "/api/users",
  tags,
  summary: "List users (an admin of every workspace)",
  request: { query: ListQuerySchema },
  responses: {
    200: json(z.object({ data: z.array(UserSchema), pageInfo: PageInfoSchema }), "A page of users"),
    ...errors("bad_request", "forbidden"),
  },
});

const create = createRoute({
  method: "post",
  path: "/api/users",
  tags,
  summary: "Create a user with a password (an admin of every workspace)",
  description: "The first user of a platform is made with the admin key (`edgefn admin create-user`).",
  request: { body: body(CreateUserSchema) },
  responses: { 201: json(UserSchema, "The new user"), ...errors("bad_request", "forbidden", "conflict") },
});

const update = createRoute({
  method: "patch",
  path: "/api/users/{id}",
  tags,
  summary: "Change a user: name, platform admin, or a new password (an admin of every workspace)",
  request: { params, body: body(UpdateUserSchema) },
  responses: { 200: json(UserSchema, "The user"), ...errors("bad_request", "forbidden", "not_found") },
});

const remove = createRoute({
  method: "delete",
  path: "/api/users/{id}",
  tags,
  summary: "Remove a user: their memberships, sessions and the API keys they made go with them",
  request: { params },
  responses: { 200: json(SuccessSchema, "Removed"), ...errors("forbidden", "not_found") },
});

export function registerUserRoutes(app: App) {
  app.openapi(list, async (c) => {
    const page = await listUsers(serviceContext(c), listQueryOf(c.req.valid("query")));
    return c.json({ data: page.rows.map(userToApi), pageInfo: page.pageInfo }, 200);
  });
  app.openapi(create, async (c) => {
    return c.json(userToApi(await createUser(serviceContext(c), c.req.valid("json"))), 201);
  });
  app.openapi(update, async (c) => {
    const row = await updateUser(serviceContext(c), c.req.valid("param").id, c.req.valid("json"));
    return c.json(userToApi(row), 200);
  });
  app.openapi(remove, async (c) => {
    await deleteUser(serviceContext(c), c.req.valid("param").id);
    return c.json({ success: true as const }, 200);
  });
}
