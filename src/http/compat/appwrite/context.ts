/** What the Appwrite surface's routes share: the router type, the project and function of a request, scopes. */
import type { Context, Hono } from "hono";
import { requireScope } from "../../../domain/compat/appwrite/access";
import { activeVersion, findFunction, latestVersion, resolveProject } from "../../../domain/compat/appwrite/functions";
import { functionModel } from "../../../domain/compat/appwrite/models";
import type { FunctionRow, WorkspaceRow } from "../../../storage/schema";
import type { CompatEnv } from "../kit";

export type AwEnv = CompatEnv<{ project?: WorkspaceRow }>;
export type AwRouter = Hono<AwEnv>;
export type C = Context<AwEnv>;

/**
 * 401 `general_unauthorized_scope` unless the request's principal holds this Appwrite scope (an edgefn key holds
 * them all; its role is checked by the domain; an anonymous request holds none).
 */
export const scope = (c: C, name: string) => requireScope(c.var.ctx.principal, name);

/** The workspace X-Appwrite-Project names, if the key sees it (404 `project_not_found` otherwise). */
export async function projectOf(c: C): Promise<WorkspaceRow> {
  const known = c.get("project");
  if (known) return known;
  const ws = await resolveProject(c.var.ctx, c.req.header("x-appwrite-project"));
  c.set("project", ws);
  return ws;
}

/** The function the path names, in the request's project. */
export async function functionOf(c: C): Promise<FunctionRow> {
  const ws = await projectOf(c);
  return findFunction(c.var.ctx, ws.id, c.req.param("functionId") as string);
}

/** Appwrite's Function model, with its newest and active deployments. */
export async function fnModel(c: C, fn: FunctionRow) {
  const [latest, active] = await Promise.all([latestVersion(c.var.ctx, fn), activeVersion(c.var.ctx, fn)]);
  return functionModel(fn, latest, active);
}

/** A multipart flag ("true" / "1" / "false" / "0"). */
export const flag = (v: unknown) => (typeof v === "string" ? v === "true" || v === "1" : undefined);

/** Appwrite's `total=false`: the list's total is not counted (shown as 0). */
export const withTotal = (c: C, total: number) => (c.req.query("total") === "false" ? 0 : total);
