import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const workspaces = sqliteTable(
  "workspaces",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    /** Calls and their logs older than this are deleted by the sweeper. */
    callRetentionDays: integer("call_retention_days").notNull().default(14),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("workspaces_name_idx").on(t.name)],
);

export type WorkspaceRow = typeof workspaces.$inferSelect;
