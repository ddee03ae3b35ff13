import { type SQL, sql } from "drizzle-orm";
import { LIMITS } from "../../lib/limits";
import type { EntityDef, FieldDef } from "../../lib/list/entity";
import { cogniteIds, functions, versions, workspaces } from "../../storage/schema";
import { DEFAULT_RUNTIME, META } from "../compat/appwrite/settings";

/** An Appwrite setting of the function (its metadata's `aw.<name>`), or `fallback` when it has none. */
const setting = (key: string, fallback: string): SQL =>
  sql`IFNULL(json_extract(${functions.metadata}, ${`$."${key}"`}), ${fallback})`;

/** The fields of a related version, under the alias its EXISTS subquery gives the versions table. */
function versionFields(alias: string): Record<string, FieldDef> {
  const col = (name: string) => sql.raw(`${alias}.${name}`);
  return {
    id: { column: col("id"), type: "string" },
    number: { column: col("number"), type: "number" },
    status: { column: col("status"), type: "string" },
    entrypoint: { column: col("entrypoint"), type: "string" },
    createdBy: { column: col("created_by"), type: "string", nullable: true },
    createdAt: { column: col("created_at"), type: "datetime" },
    updatedAt: { column: col("updated_at"), type: "datetime" },
  };
}

/** The function's newest version: the highest number (whatever its status). */
const latestNumber = (): SQL =>
  sql`(SELECT MAX(rel_lv_max.number) FROM ${versions} AS rel_lv_max WHERE rel_lv_max.function_id = ${functions.id})`;

/** The fields a function list can filter and sort on, and the relations it can traverse. */
export const functionEntity: EntityDef = {
  name: "function",
  id: functions.id,
  fields: {
    id: { column: functions.id, type: "string" },
    workspaceId: { column: functions.workspaceId, type: "string" },
    name: { column: functions.name, type: "string" },
    description: { column: functions.description, type: "string", nullable: true },
    externalId: { column: functions.externalId, type: "string", nullable: true },
    metadata: { column: functions.metadata, type: "map", nullable: true, sortable: false },
    defaultVersionId: { column: functions.defaultVersionId, type: "string", nullable: true },
    source: { column: functions.source, type: "string" },
    system: { column: functions.system, type: "boolean" },
    createdBy: { column: functions.createdBy, type: "string", nullable: true },
    runtimeUserId: { column: functions.runtimeUserId, type: "string", nullable: true },
    inputSchemaId: { column: functions.inputSchemaId, type: "string", nullable: true },
    outputSchemaId: { column: functions.outputSchemaId, type: "string", nullable: true },
    retentionTier: { column: functions.retentionTier, type: "string" },
    deletedAt: { column: functions.deletedAt, type: "datetime", nullable: true },
    createdAt: { column: functions.createdAt, type: "datetime" },
    updatedAt: { column: functions.updatedAt, type: "datetime" },
  },
  // Listed in this order in error messages: the workspace last.
  relations: {
    /** The active version (none: the relation matches nothing). */
    defaultVersion: {
      fields: versionFields("rel_dv"),
      exists: (condition) =>
        sql`EXISTS (SELECT 1 FROM ${versions} AS rel_dv WHERE rel_dv.id = ${functions.defaultVersionId} AND rel_dv.function_id = ${functions.id} AND ${condition})`,
    },
    /** The newest version, whatever its status (none: the relation matches nothing). */
    latestVersion: {
      fields: versionFields("rel_lv"),
      exists: (condition) =>
        sql`EXISTS (SELECT 1 FROM ${versions} AS rel_lv WHERE rel_lv.function_id = ${functions.id} AND rel_lv.number = ${latestNumber()} AND ${condition})`,
    },
    /**
     * What the Cognite surface keeps of the function: its integer id, Cognite's `owner` and the `fileId` its code came
     * from (table cognite_ids).
     */
    cognite: {
      fields: {
        id: { column: sql`rel_cg.id`, type: "number" },
        owner: { column: sql`rel_cg.owner`, type: "string", nullable: true },
        fileId: { column: sql`rel_cg.file_id`, type: "number", nullable: true },
      },
      exists: (condition) =>
        sql`EXISTS (SELECT 1 FROM ${cogniteIds} AS rel_cg WHERE rel_cg.kind = 'function' AND rel_cg.ref = ${functions.id} AND ${condition})`,
    },
    /**
     * The function's Appwrite settings (kept in its metadata, with Appwrite's defaults), as the Appwrite surface's
     * queries see them; a condition on the function's own row.
     */
    appwrite: {
      fields: {
        runtime: { column: setting(META.runtime, DEFAULT_RUNTIME), type: "string" },
        enabled: { column: sql`(${setting(META.enabled, "true")} = 'true')`, type: "boolean" },
        logging: { column: sql`(${setting(META.logging, "true")} = 'true')`, type: "boolean" },
        schedule: { column: setting(META.schedule, ""), type: "string" },
        entrypoint: { column: setting(META.entrypoint, ""), type: "string" },
        commands: { column: setting(META.commands, ""), type: "string" },
        timeout: {
          column: sql`CAST((IFNULL(${functions.timeoutMs}, ${LIMITS.timeoutMs.default}) + 500) / 1000 AS INTEGER)`,
          type: "number",
        },
        installationId: { column: sql`''`, type: "string" },
      },
      exists: (condition) => condition,
    },
    workspace: {
      fields: {
        id: { column: sql`rel_ws.id`, type: "string" },
        name: { column: sql`rel_ws.name`, type: "string" },
        description: { column: sql`rel_ws.description`, type: "string", nullable: true },
        createdAt: { column: sql`rel_ws.created_at`, type: "datetime" },
      },
      exists: (condition) =>
        sql`EXISTS (SELECT 1 FROM ${workspaces} AS rel_ws WHERE rel_ws.id = ${functions.workspaceId} AND ${condition})`,
    },
  },
  defaultOrder: [{ field: "createdAt", direction: "desc" }],
};
