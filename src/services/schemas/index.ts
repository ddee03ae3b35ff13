import { type OutputUnit, Validator } from "@cfworker/json-schema";
import { and, eq } from "drizzle-orm";
import { type SchemaRow, schemas, workspaces } from "../../db/schema";
import { badRequest, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { EntityDef } from "../../lib/list/entity";
import { type ListParams, paginate, parseListParams } from "../../lib/list/page";
import { requireRole, type ServiceContext, seesWorkspace } from "../context";

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
  if (JSON.stringify(schema).length > MAX_SCHEMA_BYTES)
    throw badRequest(`schema: larger than ${MAX_SCHEMA_BYTES} bytes`);
  try {
    compile(schema).validate(null);
  } catch (err) {
    throw badRequest(`schema: not a usable JSON Schema: ${(err as Error).message}`);
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

export async function deleteSchema(ctx: ServiceContext, id: string) {
  await getSchema(ctx, id);
  requireRole(ctx, "developer", "delete schemas");
  await ctx.db.delete(schemas).where(eq(schemas.id, id));
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
    // A schema deleted after it was attached no longer constrains anything.
    if (!row) return [];
    validator = compile(row.schema);
    if (validators.size > 1000) validators.clear();
    validators.set(schemaId, validator);
  }
  const result = validator.validate(value);
  if (result.valid) return [];
  return result.errors
    .filter(
      (e: OutputUnit) => !["properties", "allOf", "items", "$ref"].includes(e.keyword) || result.errors.length === 1,
    )
    .slice(0, 20)
    .map(
      (e: OutputUnit) => `${e.instanceLocation === "#" ? "(root)" : e.instanceLocation.replace(/^#/, "")}: ${e.error}`,
    );
}
