import { Validator } from "@cfworker/json-schema";
import { and, eq, exists, or, type SQL, sql } from "drizzle-orm";
import { functions, type SchemaRow, schemas, workspaces } from "../../db/schema";
import { badRequest, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { EntityDef } from "../../lib/list/entity";
import { type ListParams, paginate, parseListParams } from "../../lib/list/page";
import { requireRole, type ServiceContext, seesWorkspace } from "../context";
import { describeErrors, schemaProblems } from "./meta";

export const schemaEntity: EntityDef = {
  name: "schema",
  id: schemas.id,
  fields: {
    id: { column: schemas.id, type: "string" },
    workspaceId: { column: schemas.workspaceId, type: "string" },
    name: { column: schemas.name, type: "string" },
    createdAt: { column: schemas.createdAt, type: "datetime" },
  },
  defaultOrder: [{ field: "createdAt", direction: "desc" }],
};

const MAX_SCHEMA_BYTES = 64 * 1024;
/** Compiled validators by schema id: schemas never change, so they are kept. */
const validators = new Map<string, Validator>();

function compile(schema: unknown): Validator {
  // @cfworker/json-schema interprets schemas without generating code, as Workers require.
  return new Validator(schema as object, "2020-12", false);
}

export async function createSchema(
  ctx: ServiceContext,
  input: { workspaceId: string; name: string; description?: string | null; schema: unknown },
): Promise<SchemaRow> {
  const ws = seesWorkspace(ctx, input.workspaceId)
    ? await ctx.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, input.workspaceId)).get()
    : undefined;
  if (!ws) throw notFound("workspace", input.workspaceId);
  requireRole(ctx, "developer", "create schemas");
  const { schema } = input;
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    throw badRequest("schema: a JSON Schema is an object or a boolean");
  }
  if (new TextEncoder().encode(JSON.stringify(schema)).byteLength > MAX_SCHEMA_BYTES)
    throw badRequest(`schema: larger than ${MAX_SCHEMA_BYTES} bytes`);
  let problems: string[] | null;
  try {
    // A copy: checking marks the objects it walks, and the stored schema must be the one that was sent.
    problems = schemaProblems(structuredClone(schema));
    compile(structuredClone(schema)).validate(null);
  } catch (err) {
    problems = [(err as Error).message.split("\n")[0] as string];
  }
  if (problems) {
    throw badRequest(`schema: not a usable JSON Schema: ${problems.join("; ")}`, { violations: problems });
  }
  const row: SchemaRow = {
    id: newId("scm", ctx.now),
    workspaceId: input.workspaceId,
    name: input.name,
    description: input.description ?? null,
    schema: schema as SchemaRow["schema"],
    createdBy: ctx.principal.keyId,
    createdAt: ctx.now,
  };
  await ctx.db.insert(schemas).values(row);
  return row;
}

export async function getSchema(ctx: ServiceContext, id: string): Promise<SchemaRow> {
  const row = await ctx.db.select().from(schemas).where(eq(schemas.id, id)).get();
  if (!row || !seesWorkspace(ctx, row.workspaceId)) throw notFound("schema", id);
  return row;
}

export async function listSchemas(ctx: ServiceContext, params: ListParams) {
  const { query, filter } = parseListParams(schemaEntity, params);
  const ws = ctx.principal.workspaceId;
  return paginate<SchemaRow>(
    ctx.db,
    schemas,
    schemaEntity,
    and(ws ? eq(schemas.workspaceId, ws) : undefined, filter),
    query,
  );
}

/** Functions (deleted ones too: they can be restored) whose input or output the schema validates. */
const usedBy = (id: string): SQL => or(eq(functions.inputSchemaId, id), eq(functions.outputSchemaId, id)) as SQL;

/**
 * Deletes a schema no function uses; a schema in use is a 409 naming the functions, since deleting it would
 * silently stop validating their calls. The check and the delete are one statement, so a function cannot
 * start using the schema between them.
 */
export async function deleteSchema(ctx: ServiceContext, id: string) {
  await getSchema(ctx, id);
  requireRole(ctx, "developer", "delete schemas");
  const deleted = await ctx.db
    .delete(schemas)
    .where(
      and(eq(schemas.id, id), sql`NOT ${exists(ctx.db.select({ one: sql`1` }).from(functions).where(usedBy(id)))}`),
    )
    .returning({ id: schemas.id });
  if (deleted.length === 0) {
    const users = await ctx.db.select({ id: functions.id }).from(functions).where(usedBy(id)).limit(11);
    if (users.length === 0) throw notFound("schema", id);
    const named = users.slice(0, 10).map((u) => u.id);
    throw conflict(
      `Schema ${id} is the inputSchemaId or outputSchemaId of ${named.join(", ")}${users.length > 10 ? " and more" : ""}; ` +
        "point those functions elsewhere (or purge them) first",
    );
  }
  validators.delete(id);
}

/** Checks that a schema id names a schema of the workspace, for a function's inputSchemaId/outputSchemaId. */
export async function assertSchemaUsable(ctx: ServiceContext, workspaceId: string, id: string, field: string) {
  const row = await ctx.db.select({ ws: schemas.workspaceId }).from(schemas).where(eq(schemas.id, id)).get();
  if (!row || row.ws !== workspaceId) throw badRequest(`${field}: no schema ${id} in this function's workspace`);
}

/** Validates a value against a stored schema; returns the violations (empty when valid). */
export async function violations(ctx: Pick<ServiceContext, "db">, schemaId: string, value: unknown): Promise<string[]> {
  let validator = validators.get(schemaId);
  if (!validator) {
    const row = await ctx.db.select().from(schemas).where(eq(schemas.id, schemaId)).get();
    // A schema in use cannot be deleted; this is only a schema that vanished some other way.
    if (!row) return [`(root): schema ${schemaId} no longer exists`];
    validator = compile(row.schema);
    if (validators.size > 1000) validators.clear();
    validators.set(schemaId, validator);
  }
  let result: ReturnType<Validator["validate"]>;
  try {
    result = validator.validate(value);
  } catch (err) {
    // Only a schema stored before schemas were checked on create can fail here: refuse with the reason, not a 500.
    return [`(root): schema ${schemaId} cannot be evaluated: ${(err as Error).message.split("\n")[0]}`];
  }
  return result.valid ? [] : describeErrors(result.errors);
}
