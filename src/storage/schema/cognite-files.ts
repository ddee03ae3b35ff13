import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The Cognite surface's files (its Files API, kept to what function code needs): metadata here, the bytes in R2
 * (`objectKey`, see storage/objects.ts). A file belongs to one workspace (Cognite's project). Its content arrives by a
 * PUT to the upload URL its create answered: a random token whose SHA-256 is kept until it is used or expires.
 */
export const cogniteFiles = sqliteTable(
  "cognite_files",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    externalId: text("external_id"),
    directory: text("directory"),
    source: text("source"),
    mimeType: text("mime_type"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>(),
    dataSetId: integer("data_set_id"),
    sourceCreatedTime: integer("source_created_time"),
    sourceModifiedTime: integer("source_modified_time"),
    /** The content's R2 key once uploaded; a new upload gets a new key and the old object is deleted. */
    objectKey: text("object_key"),
    size: integer("size"),
    uploadedAt: integer("uploaded_at"),
    /** SHA-256 (hex) of the pending upload URL's token; null once used. */
    uploadTokenHash: text("upload_token_hash"),
    uploadExpiresAt: integer("upload_expires_at"),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("cognite_files_workspace_id_external_id_idx").on(t.workspaceId, t.externalId),
    index("cognite_files_workspace_id_created_at_idx").on(t.workspaceId, t.createdAt, t.id),
    uniqueIndex("cognite_files_upload_token_hash_idx")
      .on(t.uploadTokenHash)
      .where(sql`${t.uploadTokenHash} IS NOT NULL`),
  ],
);

export type CogniteFileRow = typeof cogniteFiles.$inferSelect;
