import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ROLES } from "./api-keys";

/**
 * An invitation to a workspace: whoever holds its token (shown once to the admin who made it) may accept it once,
 * before it expires, as the account of its email (made then, with a password of their choice, if there is none).
 */
export const invites = sqliteTable(
  "invites",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    /** Trimmed and lower-cased. */
    email: text("email").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    /** SHA-256 of the token, hex. The token itself is never stored. */
    hash: text("hash").notNull(),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    acceptedAt: integer("accepted_at"),
    acceptedBy: text("accepted_by"),
  },
  (t) => [
    uniqueIndex("invites_hash_idx").on(t.hash),
    index("invites_workspace_id_created_at_idx").on(t.workspaceId, t.createdAt),
    index("invites_expires_at_idx").on(t.expiresAt),
  ],
);

export type InviteRow = typeof invites.$inferSelect;
