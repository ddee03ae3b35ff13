import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const FUNCTION_SOURCES = ["custom", "system", "openapi-op"] as const;
export const RETENTION_TIERS = ["standard", "extended", "permanent"] as const;
export type RetentionTier = (typeof RETENTION_TIERS)[number];

export const functions = sqliteTable(
  "functions",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    externalId: text("external_id"),
    /** JSON object of string pairs (Cognite's metadata). */
    metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>(),
    source: text("source", { enum: FUNCTION_SOURCES }).notNull().default("custom"),
    system: integer("system", { mode: "boolean" }).notNull().default(false),
    createdBy: text("created_by"),
    runtimeUserId: text("runtime_user_id"),
    defaultVersionId: text("default_version_id"),
    inputSchemaId: text("input_schema_id"),
    outputSchemaId: text("output_schema_id"),
    retentionTier: text("retention_tier", { enum: RETENTION_TIERS }).notNull().default("standard"),
    /** Plain environment variables given to the isolate. */
    envVars: text("env_vars", { mode: "json" }).$type<Record<string, string>>(),
    /** Secrets, each value AES-GCM encrypted (see lib/secrets.ts). */
    secrets: text("secrets", { mode: "json" }).$type<Record<string, string>>(),
    timeoutMs: integer("timeout_ms"),
    cpuMs: integer("cpu_ms"),
    /** Hosts the function may fetch; null: no network at all. */
    allowedHosts: text("allowed_hosts", { mode: "json" }).$type<string[]>(),
    /** Whether /run accepts requests without an API key. */
    public: integer("public", { mode: "boolean" }).notNull().default(false),
    /** Requests per minute /run accepts for this function (null: no limit). */
    rateLimitPerMinute: integer("rate_limit_per_minute"),
    /** Origins whose browsers may call /run for this function ("*": any). */
    corsOrigins: text("cors_origins", { mode: "json" }).$type<string[]>(),
    /** How often a failed async call is tried again (null: the platform default). */
    maxRetries: integer("max_retries"),
    /** When the function was last called (Cognite's lastCalled). */
    lastCalledAt: integer("last_called_at"),
    /** Bumped whenever what the isolate sees changes; part of the loader id. */
    configRevision: integer("config_revision").notNull().default(1),
    deletedAt: integer("deleted_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // Names are unique among the live functions of a workspace; a deleted function frees its name.
    uniqueIndex("functions_workspace_id_name_idx").on(t.workspaceId, t.name).where(sql`${t.deletedAt} IS NULL`),
    uniqueIndex("functions_workspace_id_external_id_idx")
      .on(t.workspaceId, t.externalId)
      .where(sql`${t.externalId} IS NOT NULL`),
    index("functions_workspace_id_created_at_idx").on(t.workspaceId, t.createdAt, t.id),
    index("functions_created_at_idx").on(t.createdAt, t.id),
    index("functions_system_idx").on(t.system),
    index("functions_deleted_at_idx").on(t.deletedAt),
  ],
);

export type FunctionRow = typeof functions.$inferSelect;
