import { env as workersEnv } from "cloudflare:workers";
import { and, eq, exists, or, type SQL, sql } from "drizzle-orm";
import type { Env } from "../../env";
import { badRequest, conflict, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { EntityDef } from "../../lib/list/entity";
import { compileListQuery, type ListQuery, paginate } from "../../lib/list/page";
import { askValidator, unansweredReason } from "../../runtime/validator";
import { functions, type SchemaRow, schemas, workspaces } from "../../storage/schema";
import { inVisibleWorkspaces, requireRole, type ServiceContext, seesWorkspace } from "../context";

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

/**
 * The workspace of each schema by id (schemas never change), so that a warm call with a schema is one RPC to its
 * workspace's validator isolate, which keeps the schema compiled; a cold one reads the schema from D1 and sends it.
 */
const workspaceOf = new Map<string, string>();
const MAX_KNOWN = 5_000;

/** The platform's bindings: the service context's, else the Worker's (violations() is given only a db). */
function envOf(ctx: object): Env {
  return (ctx as Partial<ServiceContext>).env ?? (workersEnv as unknown as Env);
}

export async function createSchema(
  ctx: ServiceContext,
  input: { workspaceId: string; name: string; description?: string | null; schema: unknown },
): Promise<SchemaRow> {
  const ws = seesWorkspace(ctx, input.workspaceId)
    ? await ctx.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, input.workspaceId)).get()
    : undefined;
  if (!ws) throw notFound("workspace", input.workspaceId);
  requireRole(ctx, "developer", "create schemas", input.workspaceId);
  const { schema } = input;
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    throw badRequest("schema: a JSON Schema is an object or a boolean");
  }
  if (new TextEncoder().encode(JSON.stringify(schema)).byteLength > MAX_SCHEMA_BYTES)
    throw badRequest(`schema: larger than ${MAX_SCHEMA_BYTES} bytes`);
  // The check walks user data with the library, so it runs in the workspace's validator isolate too.
  const env = envOf(ctx);
  const answer = await askValidator(env, input.workspaceId, (v) => v.check(schema));
  const problems =
    "problems" in answer ? answer.problems : "error" in answer ? [answer.error] : [unansweredReason(answer, "checked")];
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

export async function listSchemas(ctx: ServiceContext, q: ListQuery) {
  const { query, filter } = compileListQuery(schemaEntity, q);
  return paginate<SchemaRow>(
    ctx.db,
    schemas,
    schemaEntity,
    and(inVisibleWorkspaces(ctx, schemas.workspaceId), filter),
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
  const row = await getSchema(ctx, id);
  requireRole(ctx, "developer", "delete schemas", row.workspaceId);
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
  workspaceOf.delete(id);
}

/** Checks that a schema id names a schema of the workspace, for a function's inputSchemaId/outputSchemaId. */
export async function assertSchemaUsable(ctx: ServiceContext, workspaceId: string, id: string, field: string) {
  const row = await ctx.db.select({ ws: schemas.workspaceId }).from(schemas).where(eq(schemas.id, id)).get();
  if (!row || row.ws !== workspaceId) throw badRequest(`${field}: no schema ${id} in this function's workspace`);
}

/**
 * Validates a value against a stored schema; returns the violations (empty when valid). The work runs in the
 * validator isolate of the schema's workspace (runtime/validator.ts), under a CPU limit, the loop guard and a
 * timeout; a value that cannot be validated in time gets one violation that says so.
 */
export async function violations(ctx: Pick<ServiceContext, "db">, schemaId: string, value: unknown): Promise<string[]> {
  const env = envOf(ctx);
  const read = async () => {
    const row = await ctx.db
      .select({ workspaceId: schemas.workspaceId, schema: schemas.schema })
      .from(schemas)
      .where(eq(schemas.id, schemaId))
      .get();
    if (row) {
      if (workspaceOf.size >= MAX_KNOWN) workspaceOf.delete(workspaceOf.keys().next().value as string);
      workspaceOf.set(schemaId, row.workspaceId);
    }
    return row;
  };
  const gone = [`(root): schema ${schemaId} no longer exists`];
  let workspaceId = workspaceOf.get(schemaId);
  let schema: unknown;
  if (workspaceId === undefined) {
    const row = await read();
    // A schema in use cannot be deleted; this is only a schema that vanished some other way.
    if (!row) return gone;
    ({ workspaceId, schema } = row);
  }
  const ws = workspaceId;
  let answer = await askValidator(env, ws, (v) => v.validate(schemaId, value, schema));
  if ("missing" in answer) {
    // A new validator isolate (or one that dropped the schema): send the schema along.
    const row = await read();
    if (!row) return gone;
    answer = await askValidator(env, ws, (v) => v.validate(schemaId, value, row.schema));
  }
  if ("violations" in answer) return answer.violations;
  // Only a schema stored before schemas were checked on create can fail here: refuse with the reason, not a 500.
  if ("error" in answer) return [`(root): schema ${schemaId} cannot be evaluated: ${answer.error}`];
  if ("missing" in answer) return ["(root): could not be validated: the validator lost the schema"];
  return [`(root): ${unansweredReason(answer, "validated")}`];
}
