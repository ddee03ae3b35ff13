CREATE TABLE `schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`function_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`cron` text NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`data` text,
	`data_key` text,
	`data_size` integer DEFAULT 0 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`catch_up` text DEFAULT 'last' NOT NULL,
	`next_run_at` integer NOT NULL,
	`last_call_id` text,
	`last_run_at` integer,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `schedules_due_idx` ON `schedules` (`next_run_at`) WHERE "schedules"."enabled" = 1;--> statement-breakpoint
CREATE INDEX `schedules_function_id_idx` ON `schedules` (`function_id`);--> statement-breakpoint
CREATE INDEX `schedules_workspace_id_created_at_idx` ON `schedules` (`workspace_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `calls_function_id_status_created_at_idx` ON `calls` (`function_id`,`status`,`created_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `calls_schedule_id_scheduled_time_idx` ON `calls` (`schedule_id`,`scheduled_time`) WHERE "calls"."schedule_id" IS NOT NULL;