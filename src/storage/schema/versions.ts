import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const VERSION_STATUSES = ["queued", "building", "ready", "failed", "canceled"] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export interface BuildLogLine {
  at: number;
  level: "info" | "warn" | "error";
  message: string;
}

export const versions = sqliteTable(
  "versions",
  {
    id: text("id").primaryKey(),
    functionId: text("function_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    /** 1, 2, 3... per function, handed out by its FunctionObject. */
    number: integer("number").notNull(),
    status: text("status", { enum: VERSION_STATUSES }).notNull(),
    entrypoint: text("entrypoint").notNull(),
    /** R2 key of the uploaded sources (content-addressed). */
    sourceKey: text("source_key").notNull(),
    sourceSize: integer("source_size").notNull(),
    /** R2 key of the built bundle (content-addressed), once ready. */
    bundleKey: text("bundle_key"),
    bundleSize: integer("bundle_size"),
    /** Which handlers the built module exports. */
    handlers: text("handlers", { mode: "json" }).$type<string[]>(),
    /** Make it the function's default version once ready. */
    activate: integer("activate", { mode: "boolean" }).notNull().default(true),
    error: text("error", { mode: "json" }).$type<{ message: string; trace: string }>(),
    buildLogs: text("build_logs", { mode: "json" }).$type<BuildLogLine[]>(),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    buildStartedAt: integer("build_started_at"),
    buildFinishedAt: integer("build_finished_at"),
  },
  (t) => [
    uniqueIndex("versions_function_id_number_idx").on(t.functionId, t.number),
    index("versions_function_id_created_at_idx").on(t.functionId, t.createdAt, t.id),
    // The cron's sweep for builds a stopped runtime left behind reads only the few unfinished versions.
    index("versions_status_updated_at_idx").on(t.status, t.updatedAt).where(sql`${t.status} IN ('queued', 'building')`),
  ],
);

export type VersionRow = typeof versions.$inferSelect;
