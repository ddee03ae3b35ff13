/** Gcore namespaces are workspaces, found by name; a key sees its own workspace only. */
import { and, count, eq, isNull } from "drizzle-orm";
import { notFound } from "../../../lib/errors";
import { functions, type WorkspaceRow, workspaces } from "../../../storage/schema";
import { inVisibleWorkspaces, type ServiceContext, seesWorkspace } from "../../context";
import { createWorkspace, deleteWorkspace } from "../../workspaces";

/** A namespace with what its Gcore shape needs: how many live functions it holds. */
export interface NamespaceView {
  ws: WorkspaceRow;
  functionsCount: number;
}

/** The workspace named `name` if this key can see it; otherwise 404, as if it did not exist. */
export async function findNamespace(ctx: ServiceContext, name: string): Promise<WorkspaceRow> {
  const row = await ctx.db.select().from(workspaces).where(eq(workspaces.name, name)).get();
  if (!row || !seesWorkspace(ctx, row.id)) throw notFound("namespace", name);
  return row;
}

export async function namespaceView(ctx: ServiceContext, ws: WorkspaceRow): Promise<NamespaceView> {
  const [row] = await ctx.db
    .select({ n: count() })
    .from(functions)
    .where(and(eq(functions.workspaceId, ws.id), isNull(functions.deletedAt)));
  return { ws, functionsCount: row?.n ?? 0 };
}

/** The namespaces this key sees (at most 1000), oldest first. */
export async function listNamespaces(ctx: ServiceContext): Promise<NamespaceView[]> {
  const scope = inVisibleWorkspaces(ctx, workspaces.id);
  const rows = await ctx.db.select().from(workspaces).where(scope).orderBy(workspaces.createdAt).limit(1000);
  return Promise.all(rows.map((ws) => namespaceView(ctx, ws)));
}

export async function createNamespace(ctx: ServiceContext, input: { name: string; description?: string }) {
  return createWorkspace(ctx, { name: input.name, description: input.description || null });
}

export async function deleteNamespace(ctx: ServiceContext, name: string) {
  const ws = await findNamespace(ctx, name);
  await deleteWorkspace(ctx, ws.id);
}
