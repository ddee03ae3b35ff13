import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * A signed-in browser (the web console): an HttpOnly cookie holds a random token whose SHA-256 is kept here, so
 * page script never holds a credential. A session belongs either to the API key it was opened with (`key_hash`),
 * checked at each use (a revoked or expired key, or a changed admin key, ends it), or to a user (`user_id`), whose
 * memberships are read at each use.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    /** SHA-256 of the cookie's token, hex. */
    hash: text("hash").notNull(),
    /** SHA-256 of the API key the session was opened with (the admin key has no row of its own); null for a user's. */
    keyHash: text("key_hash"),
    /** The user who signed in; null for a key's session. */
    userId: text("user_id"),
    /** The browser's User-Agent when it signed in (clipped), so that a user can tell their sessions apart. */
    userAgent: text("user_agent"),
    /** Sent back by the console in a header with every request: a cookie alone never authorizes one. */
    csrf: text("csrf").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    uniqueIndex("sessions_hash_idx").on(t.hash),
    index("sessions_expires_at_idx").on(t.expiresAt),
    index("sessions_user_id_created_at_idx").on(t.userId, t.createdAt),
  ],
);

export type SessionRow = typeof sessions.$inferSelect;
