import { z } from "@hono/zod-openapi";
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  createGcoreFunction,
  createNamespace,
  deleteGcoreFunction,
  deleteNamespace,
  findFunction,
  findNamespace,
  functionView,
  listGcoreFunctions,
  listNamespaces,
  namespaceView,
  updateGcoreFunction,
} from "../../../domain/compat/gcore";
import type { ServiceContext } from "../../../domain/context";
import { authenticate } from "../../../domain/keys/authenticate";
import type { AppEnv } from "../../../env";
import { bodyCapError } from "../../../lib/body-cap";
import { ApiError, badRequest } from "../../../lib/errors";
import { LIMITS } from "../../../lib/limits";
import type { App } from "../../app";
import { requestContext } from "../../context";

/**
 * The Gcore FaaS surface (see docs/compat.md): `/cloud/v1/faas/namespaces/{project_id}/{region_id}/...`.
 * Namespaces are workspaces, functions are found by name; `project_id` and `region_id` are accepted and ignored.
 * Auth is `Authorization: apikey <edgefn key>`; every error is `{"message": "..."}` with its status.
 */

/** `apikey <key>` (Gcore's scheme, any case) or `Bearer <key>`: the edgefn key either way. */
function bearerOf(header: string | undefined): string | undefined {
  const match = header?.match(/^(?:apikey|bearer)\s+(\S+)\s*$/i);
  return match ? `Bearer ${match[1]}` : undefined;
}

async function context(c: Context<AppEnv>): Promise<ServiceContext> {
  const header = bearerOf(c.req.header("authorization"));
  if (!header) throw new ApiError("unauthorized", "Missing API key: send Authorization: apikey <key>");
  const principal = await authenticate(c.env, header);
  return { ...requestContext(c), principal };
}

function zodMessage(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

async function body<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw badRequest("Body is not valid JSON");
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw badRequest(`Invalid body: ${zodMessage(result.error)}`);
  return result.data;
}

const dnsName = z
  .string()
  .min(1)
  .max(LIMITS.workspaceName.max)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and inner hyphens only");

const NamespaceCreate = z.object({
  name: dnsName,
  description: z.string().max(255).optional(),
  envs: z
    .record(z.string(), z.string())
    .optional()
    .refine((e) => !e || Object.keys(e).length === 0, "namespace envs are not supported; set envs on each function"),
});

const envs = z
  .record(z.string().regex(LIMITS.envVars.key, "letters, digits and underscores").max(255), z.string().max(255))
  .nullable();
const autoscaling = z
  .object({
    min_instances: z.number().int().min(0).max(50).optional(),
    max_instances: z.number().int().min(0).max(50).optional(),
  })
  .strict();
const runtime = z
  .string()
  .min(1)
  .max(64)
  .refine((r) => /^node/i.test(r), "only Node.js runtimes (node...) are supported: code_text is JavaScript");

const mutable = {
  description: z.string().max(255).optional(),
  code_text: z.string().min(1).max(100_000),
  main_method: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, "a JavaScript identifier"),
  runtime,
  envs: envs.optional(),
  timeout: z.number().int().min(0).max(180).optional(),
  flavor: z.string().max(64).optional(),
  autoscaling: autoscaling.optional(),
  enable_api_key: z.boolean().nullable().optional(),
  keys: z.array(z.string().min(1).max(40)).max(10).optional(),
  // Stopping a function is not supported: `disabled: true` would be a promise the platform does not keep.
  disabled: z
    .boolean()
    .optional()
    .refine((d) => d !== true, "disabling a function is not supported; delete it or set enable_api_key"),
  dependencies: z.string().max(100_000).optional(),
};

const FunctionCreate = z.object({ name: dnsName, ...mutable });
const FunctionPatch = z
  .object({
    name: dnsName.optional(),
    ...mutable,
    code_text: mutable.code_text.optional(),
    main_method: mutable.main_method.optional(),
    runtime: runtime.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, "send at least one field to change");

export function registerGcoreRoutes(app: App): void {
  const g = new Hono<AppEnv>();
  g.onError((raw, c) => {
    const err = bodyCapError(c.req.raw) ?? raw;
    let status = 500;
    let message = "Internal error";
    if (err instanceof ApiError) {
      status = err.status;
      message = err.message;
    } else if (err instanceof HTTPException) {
      status = err.status;
      message = err.message;
    } else {
      console.error(JSON.stringify({ requestId: c.get("requestId"), error: err instanceof Error ? err.stack : err }));
    }
    return c.json({ message }, status as ContentfulStatusCode);
  });

  const origin = (c: Context<AppEnv>) => new URL(c.req.url).origin;
  const base = "/namespaces/:project_id/:region_id";

  g.get(base, async (c) => c.json(await listNamespaces(await context(c))));
  g.post(base, async (c) => {
    const ctx = await context(c);
    const input = await body(c, NamespaceCreate);
    const ws = await createNamespace(ctx, input);
    return c.json(await namespaceView(ctx, ws), 201);
  });
  g.get(`${base}/:namespace`, async (c) => {
    const ctx = await context(c);
    return c.json(await namespaceView(ctx, await findNamespace(ctx, c.req.param("namespace"))));
  });
  g.delete(`${base}/:namespace`, async (c) => {
    await deleteNamespace(await context(c), c.req.param("namespace"));
    return c.body(null, 204);
  });

  g.get(`${base}/:namespace/functions`, async (c) => {
    const ctx = await context(c);
    const ws = await findNamespace(ctx, c.req.param("namespace"));
    const rows = await listGcoreFunctions(ctx, ws);
    const results = await Promise.all(rows.map((fn) => functionView(ctx, ws, fn, origin(c))));
    return c.json({ count: results.length, results });
  });
  g.post(`${base}/:namespace/functions`, async (c) => {
    const ctx = await context(c);
    const ws = await findNamespace(ctx, c.req.param("namespace"));
    const input = await body(c, FunctionCreate);
    const fn = await createGcoreFunction(ctx, ws, input);
    return c.json(await functionView(ctx, ws, fn, origin(c)), 201);
  });
  g.get(`${base}/:namespace/functions/:function`, async (c) => {
    const ctx = await context(c);
    const ws = await findNamespace(ctx, c.req.param("namespace"));
    const fn = await findFunction(ctx, ws, c.req.param("function"));
    return c.json(await functionView(ctx, ws, fn, origin(c)));
  });
  g.patch(`${base}/:namespace/functions/:function`, async (c) => {
    const ctx = await context(c);
    const ws = await findNamespace(ctx, c.req.param("namespace"));
    const input = await body(c, FunctionPatch);
    const fn = await updateGcoreFunction(ctx, ws, c.req.param("function"), input);
    return c.json(await functionView(ctx, ws, fn, origin(c)));
  });
  g.delete(`${base}/:namespace/functions/:function`, async (c) => {
    const ctx = await context(c);
    const ws = await findNamespace(ctx, c.req.param("namespace"));
    await deleteGcoreFunction(ctx, ws, c.req.param("function"));
    return c.body(null, 204);
  });
  // Anything else under the surface (an unknown path, a method a path does not have) is a 404 in Gcore's shape.
  g.all("*", (c) => c.json({ message: `No route for ${c.req.method} ${c.req.path}` }, 404));

  app.route("/cloud/v1/faas", g);
}
