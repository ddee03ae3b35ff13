CREATE TABLE `call_logs` (
	`call_id` text PRIMARY KEY NOT NULL,
	`items` text NOT NULL,
	`truncated` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE `calls` (
	`id` text PRIMARY KEY NOT NULL,
	`function_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`version_id` text,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`attempt` integer DEFAULT 1 NOT NULL,
	`max_retries` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`scheduled_at` integer,
	`started_at` integer,
	`ended_at` integer,
	`duration_ms` integer,
	`deadline_at` integer,
	`schedule_id` text,
	`scheduled_time` integer,
	`error` text,
	`result` text,
	`result_key` text,
	`result_size` integer,
	`args_size` integer DEFAULT 0 NOT NULL,
	`args` text,
	`args_key` text,
	`idempotency_key` text,
	`created_by` text
);
--> statement-breakpoint
CREATE INDEX `calls_function_id_created_at_idx` ON `calls` (`function_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `calls_workspace_id_created_at_idx` ON `calls` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `calls_status_deadline_at_idx` ON `calls` (`status`,`deadline_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `calls_function_id_idempotency_key_idx` ON `calls` (`function_id`,`idempotency_key`) WHERE "calls"."idempotency_key" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `functions` ADD `max_retries` integer;--> statement-breakpoint
ALTER TABLE `functions` ADD `last_called_at` integer;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `call_retention_days` integer DEFAULT 14 NOT NULL;