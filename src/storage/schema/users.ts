import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** How a password hash was made; stored with it so that the work factor can be raised later. */
export const PASSWORD_ALGORITHMS = ["pbkdf2-sha256"] as const;
export type PasswordAlgorithm = (typeof PASSWORD_ALGORITHMS)[number];

/**
 * A person's account: signs in with email and password, acts in the workspaces it is a member of (memberships) with
 * the role of each, or everywhere as a platform admin.
 */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Trimmed and lower-cased, so that one address is one account. */
    email: text("email").notNull(),
    name: text("name"),
    /** Acts as an admin of every workspace (as the admin key does). */
    platformAdmin: integer("platform_admin", { mode: "boolean" }).notNull().default(false),
    passwordAlgorithm: text("password_algorithm", { enum: PASSWORD_ALGORITHMS }).notNull(),
    passwordIterations: integer("password_iterations").notNull(),
    /** Random salt, base64url. */
    passwordSalt: text("password_salt").notNull(),
    /** The derived key, base64url. */
    passwordHash: text("password_hash").notNull(),
    passwordChangedAt: integer("password_changed_at").notNull(),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("users_email_idx").on(t.email)],
);

export type UserRow = typeof users.$inferSelect;
