CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`role` text NOT NULL,
	`workspace_id` text,
	`created_by` text,
	`expires_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_idx` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_workspace_id_idx` ON `api_keys` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `functions` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`external_id` text,
	`metadata` text,
	`source` text DEFAULT 'custom' NOT NULL,
	`system` integer DEFAULT false NOT NULL,
	`created_by` text,
	`runtime_user_id` text,
	`default_version_id` text,
	`input_schema_id` text,
	`output_schema_id` text,
	`retention_tier` text DEFAULT 'standard' NOT NULL,
	`deleted_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `functions_workspace_id_name_idx` ON `functions` (`workspace_id`,`name`) WHERE "functions"."deleted_at" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `functions_workspace_id_external_id_idx` ON `functions` (`workspace_id`,`external_id`) WHERE "functions"."external_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `functions_workspace_id_created_at_idx` ON `functions` (`workspace_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `functions_created_at_idx` ON `functions` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `functions_system_idx` ON `functions` (`system`);--> statement-breakpoint
CREATE INDEX `functions_deleted_at_idx` ON `functions` (`deleted_at`);--> statement-breakpoint
CREATE TABLE `workspaces` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workspaces_name_idx` ON `workspaces` (`name`);