import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, errorBody } from "./errors";

/** Renders any thrown value as the one error shape; unknown errors become a 500 that reveals nothing. */
export function renderError(c: Context, err: unknown): Response {
  const requestId = (c.get("requestId") as string | undefined) ?? crypto.randomUUID();
  if (err instanceof ApiError) {
    return c.json(errorBody(err.code, err.message, requestId, err.details), err.status as ContentfulStatusCode);
  }
  console.error(JSON.stringify({ requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
  return c.json(errorBody("internal_error", "Internal error", requestId), 500);
}
