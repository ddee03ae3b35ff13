import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** JSON Schemas that validate a function's args (input) or result (output). */
export const schemas = sqliteTable(
  "schemas",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    schema: text("schema", { mode: "json" }).$type<Record<string, unknown> | boolean>().notNull(),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("schemas_workspace_id_created_at_idx").on(t.workspaceId, t.createdAt, t.id)],
);

export type SchemaRow = typeof schemas.$inferSelect;
