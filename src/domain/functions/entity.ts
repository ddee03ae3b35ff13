import { sql } from "drizzle-orm";
import type { EntityDef } from "../../lib/list/entity";
import { functions, workspaces } from "../../storage/schema";

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
  relations: {
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
