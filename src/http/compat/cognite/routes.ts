import type { Context } from "hono";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import {
  CogniteError,
  callFunction,
  callLogs,
  callResponse,
  createFunctions,
  createSchedules,
  deleteFunctions,
  deleteSchedules,
  fnNumberOf,
  type Identifier,
  limits,
  listCogniteCalls,
  listCogniteFunctions,
  listCogniteSchedules,
  openProject,
  type Project,
  resolveCalls,
  resolveFunction,
  resolveFunctions,
  resolveSchedules,
  scheduleInputData,
  showCalls,
  showFunctions,
  showSchedules,
} from "../../../domain/compat/cognite";
import type { AppEnv } from "../../../env";
import { bodyCapError } from "../../../lib/body-cap";
import { ApiError } from "../../../lib/errors";
import { envVarsProblem, LIMITS, metadataProblem, secretsProblem } from "../../../lib/limits";
import type { App } from "../../app";
import { requestContext } from "../../context";

type CEnv = AppEnv & { Variables: { project: Project } };
type C = Context<CEnv>;

/** Renders any failure in Cognite's error shape, with the HTTP status as `code`. */
function renderCogniteError(c: Context, raw: unknown): Response {
  const err = bodyCapError(c.req.raw) ?? raw;
  let status = 500;
  let body: Record<string, unknown>;
  if (err instanceof CogniteError) {
    status = err.status;
    body = { code: status, message: err.message };
    if (err.missing) body.missing = err.missing;
    if (err.duplicated) body.duplicated = err.duplicated;
  } else if (err instanceof ApiError) {
    status = err.status;
    body = { code: status, message: err.message };
  } else {
    const requestId = c.get("requestId") as string | undefined;
    console.error(
      JSON.stringify({ requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
    body = { code: 500, message: "Internal error" };
  }
  return c.json({ error: body }, status as ContentfulStatusCode);
}

// ---------------------------------------------------------------------------------------------------------------
// Request bodies

const id = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const identifier = z.union([z.object({ id }).strict(), z.object({ externalId: z.string().min(1).max(255) }).strict()]);
const idItem = z.object({ id }).strict();
const range = z.object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).strict();
const limit = z.number().int().min(-1).max(10_000).nullish();
const cursor = z.string().max(2000).nullish();
const stringMap = (check: (m: Record<string, string>) => string | null) =>
  z.record(z.string(), z.string()).superRefine((m, ctx) => {
    const problem = check(m);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const FunctionItem = z
  .object({
    name: z
      .string()
      .min(LIMITS.functionName.min)
      .max(LIMITS.functionName.max)
      .refine((s) => s.trim().length > 0 && !/[\u0000-\u001f\u007f]/.test(s), "must be visible text"),
    externalId: z.string().min(1).max(LIMITS.externalId.max).optional(),
    description: z.string().max(LIMITS.description.max).optional(),
    owner: z.string().max(128).optional(),
    fileId: id.optional(),
    functionPath: z.string().max(500).optional(),
    secrets: stringMap(secretsProblem).optional(),
    envVars: stringMap(envVarsProblem).optional(),
    metadata: stringMap(metadataProblem).optional(),
    cpu: z.number().positive().optional(),
    memory: z.number().positive().optional(),
    runtime: z.string().max(32).optional(),
    indexUrl: z.string().optional(),
    extraIndexUrls: z.array(z.string()).optional(),
    code: z.string().optional(),
    files: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const Bodies = {
  createFunctions: z.object({ items: z.array(FunctionItem).min(1).max(10) }).strict(),
  listFunctions: z
    .object({
      filter: z
        .object({
          name: z.string().optional(),
          owner: z.string().optional(),
          fileId: id.optional(),
          status: z.enum(["Queued", "Deploying", "Ready", "Failed"]).optional(),
          externalIdPrefix: z.string().optional(),
          createdTime: range.optional(),
          metadata: z.record(z.string(), z.string()).optional(),
        })
        .strict()
        .optional(),
      limit,
      cursor,
    })
    .strict(),
  byIds: z.object({ items: z.array(identifier).min(1).max(100), ignoreUnknownIds: z.boolean().optional() }).strict(),
  deleteFunctions: z.object({ items: z.array(identifier).min(1).max(100) }).strict(),
  call: z.object({ data: z.unknown().optional(), nonce: z.string().optional() }).strict(),
  listCalls: z
    .object({
      filter: z
        .object({
          status: z.enum(["Running", "Completed", "Failed", "Timeout"]).optional(),
          scheduleId: id.optional(),
          startTime: range.optional(),
          endTime: range.optional(),
        })
        .strict()
        .optional(),
      limit,
      cursor,
    })
    .strict(),
  callsByIds: z.object({ items: z.array(idItem).min(1).max(100) }).strict(),
  createSchedules: z
    .object({
      items: z
        .array(
          z
            .object({
              name: z.string().min(1).max(140),
              cronExpression: z.string().min(1).max(1024),
              functionId: id.optional(),
              functionExternalId: z.string().min(1).max(255).optional(),
              description: z.string().max(500).optional(),
              data: z.unknown().optional(),
              nonce: z.string().optional(),
            })
            .strict()
            .refine(
              (s) => (s.functionId === undefined) !== (s.functionExternalId === undefined),
              "give exactly one of functionId and functionExternalId",
            ),
        )
        .min(1)
        .max(10),
    })
    .strict(),
  listSchedules: z
    .object({
      filter: z
        .object({
          name: z.string().optional(),
          functionId: id.optional(),
          functionExternalId: z.string().optional(),
          createdTime: range.optional(),
          cronExpression: z.string().optional(),
        })
        .strict()
        .optional(),
      limit,
      cursor,
    })
    .strict(),
  schedulesByIds: z
    .object({ items: z.array(idItem).min(1).max(100), ignoreUnknownIds: z.boolean().optional() })
    .strict(),
  deleteSchedules: z.object({ items: z.array(idItem).min(1).max(100) }).strict(),
  sessions: z
    .object({
      items: z
        .array(
          z.union([
            z.object({ tokenExchange: z.literal(true) }).strict(),
            z.object({ clientId: z.string().min(1).max(255), clientSecret: z.string().min(1).max(1000) }).strict(),
          ]),
        )
        .min(1)
        .max(10),
    })
    .strict(),
};

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

/** The JSON body checked against a schema; every problem is a 400 in Cognite's shape. */
async function read<T extends z.ZodType>(c: C, schema: T, optional = false): Promise<z.infer<T>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw new CogniteError(400, "The body is not valid JSON");
    }
  } else if (!optional) throw new CogniteError(400, "The request needs a JSON body");
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CogniteError(400, `Invalid body: ${issues(parsed.error)}`);
  return parsed.data;
}

/** A Cognite limit: -1 (all) becomes the most one answer holds; default 100. */
const limitOf = (n: number | null | undefined, fallback = 100) =>
  n === undefined || n === null ? fallback : n <= 0 ? 10_000 : n;

function queryLimit(c: C): { limit: number; cursor?: string } {
  const raw = c.req.query("limit");
  const n = raw === undefined ? undefined : Number(raw);
  if (n !== undefined && (!Number.isInteger(n) || n < -1 || n > 10_000)) {
    throw new CogniteError(400, "limit must be an integer from 1 to 10000 (or -1 for all)");
  }
  return { limit: limitOf(n), cursor: c.req.query("cursor") || undefined };
}

function pathId(c: C, name: string): number {
  const n = Number(c.req.param(name));
  if (!Number.isSafeInteger(n) || n < 1) throw new CogniteError(400, `${name} must be a positive integer`);
  return n;
}

const page = (r: { items: unknown[]; nextCursor?: string }) =>
  r.nextCursor ? { items: r.items, nextCursor: r.nextCursor } : { items: r.items };

const fnOf = (c: C) => resolveFunction(c.get("project"), { id: pathId(c, "functionId") } as Identifier);

async function oneCall(c: C) {
  const p = c.get("project");
  const fn = await fnOf(c);
  const [call] = await resolveCalls(p, fn, [pathId(c, "callId")], 404);
  return { p, fn, call: call as NonNullable<typeof call> };
}

/** The routes, relative to /api/v1/projects/{project}/functions. */
function functionRoutes(r: Hono<CEnv>) {
  // Project-wide first, so that the static paths win over /{functionId}.
  r.get("/limits", (c) => c.json(limits()));
  r.get("/status", (c) => c.json({ status: "activated" }));
  r.post("/status", (c) => c.json({ status: "activated" }));

  // Schedules
  r.post("/schedules", async (c) => {
    const body = await read(c, Bodies.createSchedules);
    return c.json({ items: await createSchedules(c.get("project"), body.items) }, 201);
  });
  r.get("/schedules", async (c) => {
    const q = queryLimit(c);
    return c.json(page(await listCogniteSchedules(c.get("project"), {}, q.limit, q.cursor)));
  });
  r.post("/schedules/list", async (c) => {
    const body = await read(c, Bodies.listSchedules, true);
    const p = c.get("project");
    return c.json(
      page(await listCogniteSchedules(p, body.filter ?? {}, limitOf(body.limit), body.cursor ?? undefined)),
    );
  });
  r.post("/schedules/byids", async (c) => {
    const body = await read(c, Bodies.schedulesByIds);
    const p = c.get("project");
    const rows = await resolveSchedules(
      p,
      body.items.map((i) => i.id),
      body.ignoreUnknownIds,
    );
    return c.json({ items: await showSchedules(p, rows) });
  });
  r.post("/schedules/delete", async (c) => {
    const body = await read(c, Bodies.deleteSchedules);
    await deleteSchedules(
      c.get("project"),
      body.items.map((i) => i.id),
    );
    return c.json({});
  });
  r.get("/schedules/:scheduleId/input_data", async (c) =>
    c.json(await scheduleInputData(c.get("project"), pathId(c, "scheduleId"))),
  );
  r.get("/schedules/:scheduleId", async (c) => {
    const p = c.get("project");
    const rows = await resolveSchedules(p, [pathId(c, "scheduleId")], false, 404);
    return c.json((await showSchedules(p, rows))[0]);
  });

  // Functions
  r.post("/", async (c) => {
    const body = await read(c, Bodies.createFunctions);
    return c.json({ items: await createFunctions(c.get("project"), body.items) }, 201);
  });
  r.get("/", async (c) => {
    const q = queryLimit(c);
    return c.json(page(await listCogniteFunctions(c.get("project"), {}, q.limit, q.cursor)));
  });
  r.post("/list", async (c) => {
    const body = await read(c, Bodies.listFunctions, true);
    const p = c.get("project");
    return c.json(
      page(await listCogniteFunctions(p, body.filter ?? {}, limitOf(body.limit), body.cursor ?? undefined)),
    );
  });
  r.post("/byids", async (c) => {
    const body = await read(c, Bodies.byIds);
    const p = c.get("project");
    return c.json({ items: await showFunctions(p, await resolveFunctions(p, body.items, body.ignoreUnknownIds)) });
  });
  r.post("/delete", async (c) => {
    const body = await read(c, Bodies.deleteFunctions);
    await deleteFunctions(c.get("project"), body.items);
    return c.json({});
  });
  r.get("/:functionId", async (c) => {
    const fn = await fnOf(c);
    return c.json((await showFunctions(c.get("project"), [fn]))[0]);
  });

  // Calls
  r.post("/:functionId/call", async (c) => {
    const body = await read(c, Bodies.call, true);
    const fn = await fnOf(c);
    return c.json(await callFunction(c.get("project"), fn, body.data), 201);
  });
  r.get("/:functionId/calls", async (c) => {
    const q = queryLimit(c);
    const fn = await fnOf(c);
    return c.json(page(await listCogniteCalls(c.get("project"), fn, {}, q.limit, q.cursor)));
  });
  r.post("/:functionId/calls/list", async (c) => {
    const body = await read(c, Bodies.listCalls, true);
    const fn = await fnOf(c);
    return c.json(
      page(
        await listCogniteCalls(c.get("project"), fn, body.filter ?? {}, limitOf(body.limit), body.cursor ?? undefined),
      ),
    );
  });
  r.post("/:functionId/calls/byids", async (c) => {
    const body = await read(c, Bodies.callsByIds);
    const p = c.get("project");
    const fn = await fnOf(c);
    const rows = await resolveCalls(
      p,
      fn,
      body.items.map((i) => i.id),
    );
    return c.json({ items: await showCalls(p, await fnNumberOf(p, fn), rows) });
  });
  r.get("/:functionId/calls/:callId/response", async (c) => {
    const { p, call } = await oneCall(c);
    return c.json(await callResponse(p, call));
  });
  r.get("/:functionId/calls/:callId/logs", async (c) => {
    const { p, call } = await oneCall(c);
    return c.json(await callLogs(p, call));
  });
  r.get("/:functionId/calls/:callId", async (c) => {
    const { p, fn, call } = await oneCall(c);
    return c.json((await showCalls(p, await fnNumberOf(p, fn), [call]))[0]);
  });
}

/**
 * The Cognite Functions API at /api/v1/projects/{project}/functions (see docs/compat.md): `{project}` is an
 * edgefn workspace (id or name) and the token an edgefn API key. Every answer, errors included, is in Cognite's shapes.
 */
export function registerCogniteRoutes(app: App): void {
  const fns = new Hono<CEnv>();
  functionRoutes(fns);

  const v1 = new Hono<CEnv>();
  v1.onError((err, c) => renderCogniteError(c, err));
  v1.use("/projects/:project/*", async (c, next) => {
    c.set("project", await openProject(requestContext(c), c.req.header("authorization"), c.req.param("project")));
    await next();
  });
  v1.route("/projects/:project/functions", fns);
  // Cognite's SDKs open a session (for its nonce) before a call or a schedule: answer with a session that is never
  // checked, since calls and schedules here run with the edgefn key's rights, not a session's.
  v1.post("/projects/:project/sessions", async (c) => {
    const body = await read(c, Bodies.sessions);
    return c.json({
      items: body.items.map((item) => ({
        id: crypto.getRandomValues(new Uint32Array(1))[0] as number,
        type: "clientId" in item ? "CLIENT_CREDENTIALS" : "TOKEN_EXCHANGE",
        status: "READY",
        nonce: crypto.randomUUID(),
        ...("clientId" in item ? { clientId: item.clientId } : {}),
      })),
    });
  });
  v1.all("*", (c) =>
    renderCogniteError(c, new CogniteError(404, `No Cognite route for ${c.req.method} ${c.req.path}`)),
  );
  app.route("/api/v1", v1);
}
