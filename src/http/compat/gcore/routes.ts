import type { Context } from "hono";
import {
  createGcoreFunction,
  deleteGcoreFunction,
  findFunction,
  gcoreFunctionView,
  listGcoreFunctions,
  updateGcoreFunction,
} from "../../../domain/compat/gcore/functions";
import {
  createNamespace,
  deleteNamespace,
  findNamespace,
  listNamespaces,
  namespaceView,
} from "../../../domain/compat/gcore/namespaces";
import { ApiError } from "../../../lib/errors";
import type { App } from "../../router";
import { type CompatEnv, compatRouter, readJson } from "../kit";
import { FunctionCreate, FunctionPatch, NamespaceCreate } from "./bodies";
import { gcoreError } from "./errors";
import { functionModel, namespaceModel } from "./mapping";

type C = Context<CompatEnv>;

/**
 * The Gcore FaaS surface (see docs/compat.md): `/cloud/v1/faas/namespaces/{project_id}/{region_id}/...`.
 * Namespaces are workspaces, functions are found by name; `project_id` and `region_id` are accepted and ignored.
 * Auth is `Authorization: apikey <edgefn key>`; every error is `{"message": "..."}` with its status.
 */
export function registerGcoreRoutes(app: App): void {
  const g = compatRouter({
    // `apikey <key>` (Gcore's scheme, any case) or `Bearer <key>`: the edgefn key either way.
    credential: (req) => {
      const match = req.header("authorization")?.match(/^(?:apikey|bearer)\s+(\S+)\s*$/i);
      return match ? `Bearer ${match[1]}` : undefined;
    },
    missingKey: "Missing API key: send Authorization: apikey <key>",
    toBody: gcoreError,
    keylessNotFound: true,
  });

  const origin = (c: C) => new URL(c.req.url).origin;
  const namespace = (c: C) => findNamespace(c.var.ctx, c.req.param("namespace") as string);
  const base = "/namespaces/:project_id/:region_id";

  g.get(base, async (c) => {
    const results = (await listNamespaces(c.var.ctx)).map(namespaceModel);
    return c.json({ count: results.length, results });
  });
  g.post(base, async (c) => {
    const ctx = c.var.ctx;
    const ws = await createNamespace(ctx, await readJson(c, NamespaceCreate, { required: true }));
    return c.json(namespaceModel(await namespaceView(ctx, ws)), 201);
  });
  g.get(`${base}/:namespace`, async (c) => c.json(namespaceModel(await namespaceView(c.var.ctx, await namespace(c)))));
  g.delete(`${base}/:namespace`, async (c) => {
    await deleteNamespace(c.var.ctx, c.req.param("namespace"));
    return c.body(null, 204);
  });

  g.get(`${base}/:namespace/functions`, async (c) => {
    const ws = await namespace(c);
    const rows = await listGcoreFunctions(c.var.ctx, ws);
    const views = await Promise.all(rows.map((fn) => gcoreFunctionView(c.var.ctx, fn)));
    const results = views.map((view) => functionModel(ws, view, origin(c)));
    return c.json({ count: results.length, results });
  });
  g.post(`${base}/:namespace/functions`, async (c) => {
    const ws = await namespace(c);
    const input = await readJson(c, FunctionCreate, { required: true });
    const fn = await createGcoreFunction(c.var.ctx, ws, input);
    return c.json(functionModel(ws, await gcoreFunctionView(c.var.ctx, fn), origin(c)), 201);
  });
  g.get(`${base}/:namespace/functions/:function`, async (c) => {
    const ws = await namespace(c);
    const fn = await findFunction(c.var.ctx, ws, c.req.param("function"));
    return c.json(functionModel(ws, await gcoreFunctionView(c.var.ctx, fn), origin(c)));
  });
  g.patch(`${base}/:namespace/functions/:function`, async (c) => {
    const ws = await namespace(c);
    const input = await readJson(c, FunctionPatch, { required: true });
    const fn = await updateGcoreFunction(c.var.ctx, ws, c.req.param("function"), input);
    return c.json(functionModel(ws, await gcoreFunctionView(c.var.ctx, fn), origin(c)));
  });
  g.delete(`${base}/:namespace/functions/:function`, async (c) => {
    const ws = await namespace(c);
    await deleteGcoreFunction(c.var.ctx, ws, c.req.param("function"));
    return c.body(null, 204);
  });
  // Anything else under the surface (an unknown path, a method a path does not have) is a 404 in Gcore's shape.
  g.all("*", (c) => {
    throw new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  });

  app.route("/cloud/v1/faas", g as unknown as App);
}
