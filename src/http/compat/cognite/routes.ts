import { Hono } from "hono";
import {
  callFunction,
  callLogLines,
  callResponse,
  callViews,
  listCallViews,
  resolveCalls,
  scheduleRef,
} from "../../../domain/compat/cognite/calls";
import {
  createFunctions,
  deleteFunctions,
  functionNumber,
  functionViews,
  listFunctionViews,
  resolveFunction,
  resolveFunctions,
} from "../../../domain/compat/cognite/functions";
import {
  cogniteError as failure,
  type Identifier,
  openProject,
  type Project,
} from "../../../domain/compat/cognite/project";
import {
  createSchedules,
  deleteSchedules,
  listScheduleViews,
  resolveSchedules,
  scheduleFunction,
  scheduleInputData,
  scheduleViews,
} from "../../../domain/compat/cognite/schedules";
import type { App } from "../../router";
import { bearer, compatRouter } from "../kit";
import { Bodies } from "./bodies";
import { cogniteError } from "./errors";
import { registerFileRoutes } from "./files";
import {
  callFilter,
  callLogsModel,
  callModel,
  functionFilter,
  functionModel,
  limitsModel,
  runtimeOfName,
  scheduleFilter,
  scheduleModel,
} from "./mapping";
import { type C, type CEnv, limitOf, page, pathId, queryLimit, read } from "./request";

const fnOf = (c: C) => resolveFunction(c.var.project, { id: pathId(c, "functionId") } as Identifier);

async function oneCall(c: C) {
  const p = c.var.project;
  const fn = await fnOf(c);
  const [call] = await resolveCalls(p, fn, [pathId(c, "callId")], 404);
  return { p, fn, call: call as NonNullable<typeof call> };
}

async function listFunctionsOf(
  p: Project,
  filter: Parameters<typeof functionFilter>[0],
  limit: number,
  cursor?: string,
) {
  return page(await listFunctionViews(p, functionFilter(filter), limit, cursor), functionModel);
}

async function listSchedulesOf(
  p: Project,
  filter: Parameters<typeof scheduleFilter>[0],
  limit: number,
  cursor?: string,
) {
  const fn = await scheduleFunction(p, filter);
  if (fn === null) return { items: [] };
  return page(await listScheduleViews(p, scheduleFilter(filter, fn?.id), limit, cursor), scheduleModel);
}

/** The routes, relative to /api/v1/projects/{project}/functions. */
function functionRoutes(r: Hono<CEnv>) {
  // Project-wide first, so that the static paths win over /{functionId}.
  r.get("/limits", (c) => c.json(limitsModel()));
  r.get("/status", (c) => c.json({ status: "activated" }));
  r.post("/status", (c) => c.json({ status: "activated" }));

  // Schedules
  r.post("/schedules", async (c) => {
    const body = await read(c, Bodies.createSchedules);
    return c.json({ items: (await createSchedules(c.var.project, body.items)).map(scheduleModel) }, 201);
  });
  r.get("/schedules", async (c) => {
    const q = queryLimit(c);
    return c.json(await listSchedulesOf(c.var.project, {}, q.limit, q.cursor));
  });
  r.post("/schedules/list", async (c) => {
    const body = await read(c, Bodies.listSchedules, true);
    return c.json(
      await listSchedulesOf(c.var.project, body.filter ?? {}, limitOf(body.limit), body.cursor ?? undefined),
    );
  });
  r.post("/schedules/byids", async (c) => {
    const body = await read(c, Bodies.schedulesByIds);
    const p = c.var.project;
    const rows = await resolveSchedules(
      p,
      body.items.map((i) => i.id),
      body.ignoreUnknownIds,
    );
    return c.json({ items: (await scheduleViews(p, rows)).map(scheduleModel) });
  });
  r.post("/schedules/delete", async (c) => {
    const body = await read(c, Bodies.deleteSchedules);
    await deleteSchedules(
      c.var.project,
      body.items.map((i) => i.id),
    );
    return c.json({});
  });
  r.get("/schedules/:scheduleId/input_data", async (c) => {
    const id = pathId(c, "scheduleId");
    return c.json({ id, data: await scheduleInputData(c.var.project, id) });
  });
  r.get("/schedules/:scheduleId", async (c) => {
    const p = c.var.project;
    const rows = await resolveSchedules(p, [pathId(c, "scheduleId")], false, 404);
    return c.json((await scheduleViews(p, rows)).map(scheduleModel)[0]);
  });

  // Functions
  r.post("/", async (c) => {
    const body = await read(c, Bodies.createFunctions);
    const items = body.items.map((item) => ({ ...item, runtime: runtimeOfName(item.runtime) }));
    return c.json({ items: (await createFunctions(c.var.project, items)).map(functionModel) }, 201);
  });
  r.get("/", async (c) => {
    const q = queryLimit(c);
    return c.json(await listFunctionsOf(c.var.project, {}, q.limit, q.cursor));
  });
  r.post("/list", async (c) => {
    const body = await read(c, Bodies.listFunctions, true);
    return c.json(
      await listFunctionsOf(c.var.project, body.filter ?? {}, limitOf(body.limit), body.cursor ?? undefined),
    );
  });
  r.post("/byids", async (c) => {
    const body = await read(c, Bodies.byIds);
    const p = c.var.project;
    const rows = await resolveFunctions(p, body.items, body.ignoreUnknownIds);
    return c.json({ items: (await functionViews(p, rows)).map(functionModel) });
  });
  r.post("/delete", async (c) => {
    const body = await read(c, Bodies.deleteFunctions);
    await deleteFunctions(c.var.project, body.items);
    return c.json({});
  });
  r.get("/:functionId", async (c) => {
    const fn = await fnOf(c);
    return c.json((await functionViews(c.var.project, [fn])).map(functionModel)[0]);
  });

  // Calls
  r.post("/:functionId/call", async (c) => {
    const body = await read(c, Bodies.call, true);
    const fn = await fnOf(c);
    return c.json(callModel(await callFunction(c.var.project, fn, body.data), Date.now()), 201);
  });
  const listCallsOf = async (c: C, filter: Parameters<typeof callFilter>[0], limit: number, cursor?: string) => {
    const fn = await fnOf(c);
    const p = c.var.project;
    const ref = filter.scheduleId === undefined ? undefined : await scheduleRef(p, filter.scheduleId);
    const calls = await listCallViews(p, fn, callFilter(filter, ref), limit, cursor);
    return page(calls, (view) => callModel(view, Date.now()));
  };
  r.get("/:functionId/calls", async (c) => {
    const q = queryLimit(c);
    return c.json(await listCallsOf(c, {}, q.limit, q.cursor));
  });
  r.post("/:functionId/calls/list", async (c) => {
    const body = await read(c, Bodies.listCalls, true);
    return c.json(await listCallsOf(c, body.filter ?? {}, limitOf(body.limit), body.cursor ?? undefined));
  });
  r.post("/:functionId/calls/byids", async (c) => {
    const body = await read(c, Bodies.callsByIds);
    const p = c.var.project;
    const fn = await fnOf(c);
    const rows = await resolveCalls(
      p,
      fn,
      body.items.map((i) => i.id),
    );
    const views = await callViews(p, await functionNumber(p, fn), rows);
    return c.json({ items: views.map((view) => callModel(view, Date.now())) });
  });
  r.get("/:functionId/calls/:callId/response", async (c) => {
    const { p, call } = await oneCall(c);
    return c.json({ response: await callResponse(p, call) });
  });
  r.get("/:functionId/calls/:callId/logs", async (c) => {
    const { p, call } = await oneCall(c);
    return c.json(callLogsModel(await callLogLines(p, call)));
  });
  r.get("/:functionId/calls/:callId", async (c) => {
    const { p, fn, call } = await oneCall(c);
    const [view] = await callViews(p, await functionNumber(p, fn), [call]);
    return c.json(callModel(view as NonNullable<typeof view>, Date.now()));
  });
}

/**
 * The Cognite Functions API at /api/v1/projects/{project}/functions (see docs/compat.md): `{project}` is an
 * edgefn workspace (id or name) and the token an edgefn API key. Every answer, errors included, is in Cognite's shapes.
 */
export function registerCogniteRoutes(app: App): void {
  const v1 = compatRouter<{ project: Project }>({
    credential: bearer,
    toBody: cogniteError,
    authOn: "/projects/:project/*",
  });
  v1.use("/projects/:project/*", async (c, next) => {
    c.set("project", await openProject(c.var.ctx, c.req.param("project")));
    await next();
  });
  const fns = new Hono<CEnv>();
  functionRoutes(fns);
  v1.route("/projects/:project/functions", fns);
  registerFileRoutes(v1);
  // Cognite's SDKs open a session (for its nonce) before a call or a schedule: answer with a session that is never
  // checked, since calls and schedules here run with the edgefn key's rights, not a session's.
  v1.post("/projects/:project/sessions", async (c) => {
    const body = await read(c, Bodies.sessions);
    return c.json({
      items: body.items.map((item) => ({
        id: crypto.getRandomValues(new Uint32Array(1))[0] as number,
        type:
          "clientId" in item
            ? "CLIENT_CREDENTIALS"
            : "oneshotTokenExchange" in item
              ? "ONESHOT_TOKEN_EXCHANGE"
              : "TOKEN_EXCHANGE",
        status: "READY",
        nonce: crypto.randomUUID(),
        ...("clientId" in item ? { clientId: item.clientId } : {}),
      })),
    });
  });
  v1.all("*", (c) => {
    throw failure(404, `No Cognite route for ${c.req.method} ${c.req.path}`);
  });
  app.route("/api/v1", v1 as unknown as App);
}
