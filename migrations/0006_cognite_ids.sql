CREATE TABLE `cognite_ids` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`ref` text NOT NULL,
	`owner` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cognite_ids_kind_ref_idx` ON `cognite_ids` (`kind`,`ref`);