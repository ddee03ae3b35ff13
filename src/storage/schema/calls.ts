import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const CALL_STATUSES = ["queued", "running", "completed", "failed", "timeout", "canceled"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
export const CALL_TRIGGERS = ["api", "http", "schedule", "retry", "event"] as const;
export type CallTrigger = (typeof CALL_TRIGGERS)[number];

export interface CallError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

export interface CallLogLine {
  timestamp: number;
  level: string;
  message: string;
}

/** One invocation of a function: its lifecycle, outcome and where its result and logs are. */
export const calls = sqliteTable(
  "calls",
  {
    id: text("id").primaryKey(),
    functionId: text("function_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    versionId: text("version_id"),
    status: text("status", { enum: CALL_STATUSES }).notNull(),
    trigger: text("trigger", { enum: CALL_TRIGGERS }).notNull(),
    /** 1 for the first try; a retry of the same call counts up. */
    attempt: integer("attempt").notNull().default(1),
    maxRetries: integer("max_retries").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    /** When an async call is due (Appwrite's scheduledAt); null: at once. */
    scheduledAt: integer("scheduled_at"),
    startedAt: integer("started_at"),
    endedAt: integer("ended_at"),
    durationMs: integer("duration_ms"),
    /** A running call not ended by then was lost (the runtime restarted): the sweeper fails it. */
    deadlineAt: integer("deadline_at"),
    scheduleId: text("schedule_id"),
    scheduledTime: integer("scheduled_time"),
    error: text("error", { mode: "json" }).$type<CallError>(),
    /** The result as JSON text when small; larger results are in R2 under resultKey. */
    result: text("result"),
    resultKey: text("result_key"),
    resultSize: integer("result_size"),
    argsSize: integer("args_size").notNull().default(0),
    /** Args of an async call until it runs (JSON text, or in R2 under argsKey when large). */
    args: text("args"),
    argsKey: text("args_key"),
    idempotencyKey: text("idempotency_key"),
    /** What an idempotent request asked for (a hash of its args and options): a reuse of the key must match. */
    requestHash: text("request_hash"),
    /**
     * An HTTP call (trigger http), or a call made with a described request (an Appwrite execution): the request's
     * method and path (with its query), the status the function answered, and the request's and the answer's
     * headers (JSON; a header that carries a credential is never kept).
     */
    httpMethod: text("http_method"),
    httpPath: text("http_path"),
    httpStatus: integer("http_status"),
    requestHeaders: text("request_headers", { mode: "json" }).$type<Record<string, string>>(),
    responseHeaders: text("response_headers", { mode: "json" }).$type<Record<string, string>>(),
    createdBy: text("created_by"),
  },
  (t) => [
    index("calls_function_id_created_at_idx").on(t.functionId, t.createdAt, t.id),
    // The calls list filtered by status (failed calls of a function, say) without visiting other functions' calls.
    index("calls_function_id_status_created_at_idx").on(t.functionId, t.status, t.createdAt, t.id),
    index("calls_workspace_id_created_at_idx").on(t.workspaceId, t.createdAt),
    index("calls_status_deadline_at_idx").on(t.status, t.deadlineAt),
    uniqueIndex("calls_function_id_idempotency_key_idx")
      .on(t.functionId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} IS NOT NULL`),
    // A schedule's due time makes one call, however often the dispatcher is run for it.
    uniqueIndex("calls_schedule_id_scheduled_time_idx")
      .on(t.scheduleId, t.scheduledTime)
      .where(sql`${t.scheduleId} IS NOT NULL`),
  ],
);

export type CallRow = typeof calls.$inferSelect;

/** A call's logs, written in one batch with its record. */
export const callLogs = sqliteTable("call_logs", {
  callId: text("call_id").primaryKey(),
  items: text("items", { mode: "json" }).$type<CallLogLine[]>().notNull(),
  truncated: integer("truncated", { mode: "boolean" }).notNull().default(false),
});
