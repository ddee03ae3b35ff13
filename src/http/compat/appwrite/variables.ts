/** `/v1/functions/{id}/variables`: a function's env vars (plain) and secrets (Appwrite's default). */
import { createVariable, deleteVariable, updateVariable } from "../../../domain/compat/appwrite/functions";
import { variableModel, variablesOf } from "../../../domain/compat/appwrite/models";
import { variableOf } from "../../../domain/compat/appwrite/settings";
import { readJson } from "../kit";
import { VariableBody, VariableCreateBody } from "./bodies";
import { type AwRouter, functionOf, scope } from "./context";

export function registerVariableRoutes(aw: AwRouter): void {
  aw.get("/:functionId/variables", async (c) => {
    scope(c, "functions.read");
    const variables = variablesOf(await functionOf(c));
    return c.json({ total: variables.length, variables });
  });

  aw.post("/:functionId/variables", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    const body = await readJson(c, VariableCreateBody);
    const updated = await createVariable(c.var.ctx, fn, body);
    return c.json(variableModel(updated, body.key), 201);
  });

  aw.get("/:functionId/variables/:variableId", async (c) => {
    scope(c, "functions.read");
    return c.json(variableModel(await functionOf(c), c.req.param("variableId")));
  });

  aw.put("/:functionId/variables/:variableId", async (c) => {
    scope(c, "functions.write");
    const fn = await functionOf(c);
    variableOf(fn, c.req.param("variableId")); // a 404 before the body is read
    const body = await readJson(c, VariableBody);
    const updated = await updateVariable(c.var.ctx, fn, c.req.param("variableId"), body);
    return c.json(variableModel(updated.fn, updated.key));
  });

  aw.delete("/:functionId/variables/:variableId", async (c) => {
    scope(c, "functions.write");
    await deleteVariable(c.var.ctx, await functionOf(c), c.req.param("variableId"));
    return c.body(null, 204);
  });
}
