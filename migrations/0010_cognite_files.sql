CREATE TABLE `cognite_files` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`external_id` text,
	`directory` text,
	`source` text,
	`mime_type` text,
	`metadata` text,
	`data_set_id` integer,
	`source_created_time` integer,
	`source_modified_time` integer,
	`object_key` text,
	`size` integer,
	`uploaded_at` integer,
	`upload_token_hash` text,
	`upload_expires_at` integer,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cognite_files_workspace_id_external_id_idx` ON `cognite_files` (`workspace_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `cognite_files_workspace_id_created_at_idx` ON `cognite_files` (`workspace_id`,`created_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `cognite_files_upload_token_hash_idx` ON `cognite_files` (`upload_token_hash`) WHERE "cognite_files"."upload_token_hash" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `cognite_ids` ADD `file_id` integer;