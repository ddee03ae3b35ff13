ALTER TABLE `calls` ADD `request_headers` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `response_headers` text;