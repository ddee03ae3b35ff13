CREATE TABLE `schemas` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`schema` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `schemas_workspace_id_created_at_idx` ON `schemas` (`workspace_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `versions` (
	`id` text PRIMARY KEY NOT NULL,
	`function_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`number` integer NOT NULL,
	`status` text NOT NULL,
	`entrypoint` text NOT NULL,
	`source_key` text NOT NULL,
	`source_size` integer NOT NULL,
	`bundle_key` text,
	`bundle_size` integer,
	`handlers` text,
	`activate` integer DEFAULT true NOT NULL,
	`error` text,
	`build_logs` text,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`build_started_at` integer,
	`build_finished_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `versions_function_id_number_idx` ON `versions` (`function_id`,`number`);--> statement-breakpoint
CREATE INDEX `versions_function_id_created_at_idx` ON `versions` (`function_id`,`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `functions` ADD `env_vars` text;--> statement-breakpoint
ALTER TABLE `functions` ADD `secrets` text;--> statement-breakpoint
ALTER TABLE `functions` ADD `timeout_ms` integer;--> statement-breakpoint
ALTER TABLE `functions` ADD `cpu_ms` integer;--> statement-breakpoint
ALTER TABLE `functions` ADD `allowed_hosts` text;--> statement-breakpoint
ALTER TABLE `functions` ADD `config_revision` integer DEFAULT 1 NOT NULL;