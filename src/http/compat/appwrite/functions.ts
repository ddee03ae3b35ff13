/** `/v1/functions`: the functions themselves, runtimes and specifications. */
import { checkSchedule, deleteForGood, findFunction, syncSchedule } from "../../../domain/compat/appwrite/functions";
import { settingsOf } from "../../../domain/compat/appwrite/settings";
import { createFunction, listFunctions, updateFunction } from "../../../domain/functions";
import { badRequest } from "../../../lib/errors";
import { readJson } from "../kit";
import { APPWRITE_ID, FunctionBody, FunctionCreateBody, toFunctionInput } from "./bodies";
import { type AwRouter, fnModel, functionOf, projectOf, scope, withTotal } from "./context";
import { FUNCTION_ATTRIBUTES, functionPatch, runtimesList, specificationsList } from "./mapping";
import { parseQueries, toListQuery, withCursor } from "./queries";

export function registerFunctionRoutes(aw: AwRouter): void {
  // The project is checked as for every route of a project: a key that does not see it gets a 404.
  aw.get("/runtimes", async (c) => {
    scope(c, "functions.read");
    await projectOf(c);
    return c.json(runtimesList());
  });
  aw.get("/specifications", async (c) => {
    scope(c, "functions.read");
    await projectOf(c);
    return c.json(specificationsList());
  });

  aw.get("/", async (c) => {
    scope(c, "functions.read");
    const ctx = c.var.ctx;
    const ws = await projectOf(c);
    const { query, cursor } = toListQuery(parseQueries(c.req.url), FUNCTION_ATTRIBUTES);
    // A cursor names a function by its Appwrite id.
    const bounded = cursor
      ? withCursor(query, { ...cursor, id: (await findFunction(ctx, ws.id, cursor.id)).id })
      : query;
    const search = c.req.query("search");
    const page = await listFunctions(ctx, {
      ...bounded,
      workspaceId: ws.id,
      system: false,
      ...(search ? { name: search } : {}),
    });
    const items = await Promise.all(page.rows.map((fn) => fnModel(c, fn)));
    return c.json({ total: withTotal(c, page.pageInfo.total), functions: items });
  });

  aw.post("/", async (c) => {
    scope(c, "functions.write");
    const ws = await projectOf(c);
    const body = await readJson(c, FunctionCreateBody);
    const requested = body.functionId;
    const custom = requested !== "unique()" && requested !== "";
    if (custom && !APPWRITE_ID.test(requested)) {
      throw badRequest(
        'Invalid param "functionId": up to 36 characters a-z, A-Z, 0-9, period, hyphen and underscore, not starting with a special character',
      );
    }
    if (body.runtime === undefined) throw badRequest('Param "runtime" is not optional.');
    checkSchedule(body.schedule);
    const patch = functionPatch(toFunctionInput(body), null);
    const fn = await createFunction(c.var.ctx, {
      workspaceId: ws.id,
      name: body.name,
      metadata: patch.metadata,
      ...(patch.timeoutMs !== undefined ? { timeoutMs: patch.timeoutMs } : {}),
      ...(custom ? { externalId: requested } : {}),
    });
    if (body.schedule) await syncSchedule(c.var.ctx, fn, body.schedule, body.enabled ?? true);
    return c.json(await fnModel(c, fn), 201);
  });

  aw.get("/:functionId", async (c) => {
    scope(c, "functions.read");
    return c.json(await fnModel(c, await functionOf(c)));
  });

  aw.put("/:functionId", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    const body = await readJson(c, FunctionBody);
    checkSchedule(body.schedule);
    const patch = functionPatch(toFunctionInput(body), fn.metadata);
    const updated = await updateFunction(c.var.ctx, fn.id, patch);
    if (body.schedule !== undefined || body.enabled !== undefined) {
      const s = settingsOf(updated);
      await syncSchedule(c.var.ctx, updated, s.schedule, s.enabled);
    }
    return c.json(await fnModel(c, updated));
  });

  aw.delete("/:functionId", async (c) => {
    scope(c, "functions.write");
    await deleteForGood(c.var.ctx, await functionOf(c));
    return c.body(null, 204);
  });
}
