ALTER TABLE `api_keys` ADD `function_ids` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `http_method` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `http_path` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `http_status` integer;--> statement-breakpoint
ALTER TABLE `functions` ADD `public` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `functions` ADD `rate_limit_per_minute` integer;--> statement-breakpoint
ALTER TABLE `functions` ADD `cors_origins` text;