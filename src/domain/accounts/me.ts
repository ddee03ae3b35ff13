import { eq, inArray } from "drizzle-orm";
import { notFound } from "../../lib/errors";
import type { ListQuery } from "../../lib/list/page";
import { type UserRow, users, workspaces } from "../../storage/schema";
import { type Role, roleIn, type ServiceContext, visibleWorkspaceIds } from "../context";
import { closeUserSession, closeUserSessions, listUserSessions } from "../sessions/index";
import { requireUser } from "./users";

/** Who is asking (GET /api/me), and a user's own sessions. */

export interface Me {
  kind: "user" | "key";
  id: string;
  user: Pick<UserRow, "email" | "name" | "platformAdmin" | "createdAt"> | null;
  role: Role;
  /** Every workspace, as an admin key without a workspace or a platform admin. */
  allWorkspaces: boolean;
  /** The workspaces it acts in by membership (a key: its own workspace), with the role in each. */
  memberships: { workspaceId: string; workspaceName: string; role: Role }[];
  sessionId: string | null;
}

export async function describeMe(ctx: ServiceContext): Promise<Me> {
  const p = ctx.principal;
  const user = p.userId ? await ctx.db.select().from(users).where(eq(users.id, p.userId)).get() : undefined;
  if (p.userId && !user) throw notFound("user", p.userId);
  // A platform admin's own memberships still show; a key's is its one workspace.
  const ids = user ? Object.keys(p.memberships ?? {}) : (visibleWorkspaceIds(p) ?? []);
  const named =
    ids.length === 0
      ? []
      : await ctx.db
          .select({ id: workspaces.id, name: workspaces.name })
          .from(workspaces)
          .where(inArray(workspaces.id, ids))
          .orderBy(workspaces.name);
  return {
    kind: user ? "user" : "key",
    id: p.keyId,
    user: user
      ? { email: user.email, name: user.name, platformAdmin: user.platformAdmin, createdAt: user.createdAt }
      : null,
    role: p.role,
    allWorkspaces: visibleWorkspaceIds(p) === null,
    memberships: named.map((w) => ({
      workspaceId: w.id,
      workspaceName: w.name,
      role: (user ? p.memberships?.[w.id] : roleIn(p, w.id)) as Role,
    })),
    sessionId: p.sessionId ?? null,
  };
}

export async function listOwnSessions(ctx: ServiceContext, q: ListQuery) {
  const id = requireUser(ctx, "sessions to list");
  return listUserSessions(ctx.db, id, q);
}

export async function endOwnSession(ctx: ServiceContext, sessionId: string): Promise<void> {
  const id = requireUser(ctx, "sessions to end");
  if (!(await closeUserSession(ctx.db, id, sessionId))) throw notFound("session", sessionId);
}

/** Signs the user out everywhere, the session asking included; how many sessions ended. */
export async function endAllOwnSessions(ctx: ServiceContext): Promise<number> {
  return closeUserSessions(ctx.db, requireUser(ctx, "sessions to end"));
}
