import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const COGNITE_KINDS = ["function", "call", "schedule"] as const;
export type CogniteKind = (typeof COGNITE_KINDS)[number];

/**
 * The Cognite surface's integer ids: Cognite ids are int64 numbers, edgefn's are strings. An object gets its number
 * the first time it is shown through /api/v1 and keeps it (AUTOINCREMENT: a number is never reused).
 */
export const cogniteIds = sqliteTable(
  "cognite_ids",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind", { enum: COGNITE_KINDS }).notNull(),
    /** The edgefn id (fun_..., call_..., sch_...). */
    ref: text("ref").notNull(),
    /** Cognite's `owner` of a function created through the surface (edgefn has no such field). */
    owner: text("owner"),
    /** The file (cognite_files.id) a function was created from through the surface. */
    fileId: integer("file_id"),
  },
  (t) => [uniqueIndex("cognite_ids_kind_ref_idx").on(t.kind, t.ref)],
);

export type CogniteIdRow = typeof cogniteIds.$inferSelect;
