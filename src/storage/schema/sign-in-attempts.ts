import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Counters of password attempts per email and per client address, in fixed windows: what limits guessing. The
 * key is a SHA-256 (of "email:<address>" or "addr:<ip>"), so the table keeps no address in the clear.
 */
export const signInAttempts = sqliteTable("sign_in_attempts", {
  key: text("key").primaryKey(),
  count: integer("count").notNull(),
  windowStart: integer("window_start").notNull(),
});

export type SignInAttemptRow = typeof signInAttempts.$inferSelect;
