import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const ROLES = ["viewer", "invoker", "developer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** SHA-256 of the secret, hex. The secret itself is never stored. */
    hash: text("hash").notNull(),
    /** The first characters of the secret, so a user can tell keys apart. */
    prefix: text("prefix").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    /** null: every workspace. */
    workspaceId: text("workspace_id"),
    /** null: every function the key's workspace scope allows; else only these functions (viewer or invoker keys). */
    functionIds: text("function_ids", { mode: "json" }).$type<string[]>(),
    createdBy: text("created_by"),
    expiresAt: integer("expires_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("api_keys_hash_idx").on(t.hash),
    index("api_keys_workspace_id_idx").on(t.workspaceId, t.createdAt),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
