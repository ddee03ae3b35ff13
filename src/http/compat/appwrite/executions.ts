/** `/v1/functions/{id}/executions`: executions are calls; users and anonymous callers execute by the function's roles. */

import { deleteCall, listCalls } from "../../../domain/calls/history";
import { decidedByRoles, executionByRoles } from "../../../domain/compat/appwrite/access";
import { execute, executionRecord, findExecution } from "../../../domain/compat/appwrite/executions";
import { executionModel } from "../../../domain/compat/appwrite/models";
import { readJson } from "../kit";
import { ExecutionBody } from "./bodies";
import { type AwRouter, functionOf, scope, withTotal } from "./context";
import { EXECUTION_ATTRIBUTES, executionRequest } from "./mapping";
import { parseQueries, toListQuery, withCursor } from "./queries";

export function registerExecutionRoutes(aw: AwRouter): void {
  aw.post("/:functionId/executions", async (c) => {
    let ctx = c.var.ctx;
    let fn: Awaited<ReturnType<typeof functionOf>>;
    if (decidedByRoles(ctx.principal)) {
      // A user or an anonymous caller: the function's `execute` roles and `enabled` decide, not a key.
      const project = c.req.header("x-appwrite-project") ?? "";
      ({ ctx, fn } = await executionByRoles(ctx, project, c.req.param("functionId")));
    } else {
      scope(c, "execution.write");
      fn = await functionOf(c);
    }
    const body = await readJson(c, ExecutionBody);
    const request = executionRequest(body, c.env.EDGEFN_ADMIN_KEY);
    const { record, answer } = await execute(ctx, fn, {
      request,
      body: body.body ?? "",
      async: body.async,
      scheduledAt: body.scheduledAt ?? undefined,
    });
    const queued = record.row.status === "queued";
    return c.json(executionModel(fn, record, ctx.now, answer), queued ? 202 : 201);
  });

  aw.get("/:functionId/executions", async (c) => {
    scope(c, "execution.read");
    const fn = await functionOf(c);
    const { query, cursor } = toListQuery(parseQueries(c.req.url), EXECUTION_ATTRIBUTES);
    const page = await listCalls(c.var.ctx, fn.id, cursor ? withCursor(query, cursor) : query);
    const records = await Promise.all(page.rows.map((row) => executionRecord(c.var.ctx, row)));
    const executions = records.map((r) => executionModel(fn, r, c.var.ctx.now));
    return c.json({ total: withTotal(c, page.pageInfo.total), executions });
  });

  aw.get("/:functionId/executions/:executionId", async (c) => {
    scope(c, "execution.read");
    const fn = await functionOf(c);
    const row = await findExecution(c.var.ctx, fn, c.req.param("executionId"));
    return c.json(executionModel(fn, await executionRecord(c.var.ctx, row), c.var.ctx.now));
  });

  aw.delete("/:functionId/executions/:executionId", async (c) => {
    scope(c, "execution.write");
    const fn = await functionOf(c);
    await deleteCall(c.var.ctx, (await findExecution(c.var.ctx, fn, c.req.param("executionId"))).id);
    return c.body(null, 204);
  });
}
