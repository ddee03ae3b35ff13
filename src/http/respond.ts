import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, errorBody } from "../lib/errors";

/** Renders any thrown value as the one error shape; unknown errors become a 500 that reveals nothing. */
export function renderError(c: Context, err: unknown): Response {
  const requestId = (c.get("requestId") as string | undefined) ?? crypto.randomUUID();
  if (err instanceof ApiError) {
    const res = c.json(errorBody(err.code, err.message, requestId, err.details), err.status as ContentfulStatusCode);
    const retryAfter = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (err.code === "rate_limited" && typeof retryAfter === "number")
      res.headers.set("retry-after", String(retryAfter));
    return res;
  }
  console.error(JSON.stringify({ requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
  return c.json(errorBody("internal_error", "Internal error", requestId), 500);
}
