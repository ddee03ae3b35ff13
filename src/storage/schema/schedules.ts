import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const CATCH_UP = ["none", "last"] as const;
export type CatchUp = (typeof CATCH_UP)[number];

/** A function's cron schedule, in a time zone, with the input its calls get. */
export const schedules = sqliteTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    functionId: text("function_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    cron: text("cron").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    /** The calls' input as JSON text when small; larger data is in R2 under dataKey. */
    data: text("data"),
    dataKey: text("data_key"),
    dataSize: integer("data_size").notNull().default(0),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    catchUp: text("catch_up", { enum: CATCH_UP }).notNull().default("last"),
    /** The next due time; the dispatcher claims a due time by moving this forward. */
    nextRunAt: integer("next_run_at").notNull(),
    lastCallId: text("last_call_id"),
    lastRunAt: integer("last_run_at"),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("schedules_due_idx").on(t.nextRunAt).where(sql`${t.enabled} = 1`),
    index("schedules_function_id_idx").on(t.functionId),
    index("schedules_workspace_id_created_at_idx").on(t.workspaceId, t.createdAt, t.id),
  ],
);

export type ScheduleRow = typeof schedules.$inferSelect;
