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

/** Runs a handler that answers with a function's response; a rate limit is a 429 with Retry-After. */
export async function withRetryAfter(c: Context, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ApiError && err.code === "rate_limited") {
      const res = renderError(c, err);
      res.headers.set("retry-after", String((err.details as { retryAfterSeconds: number }).retryAfterSeconds));
      return res;
    }
    throw err;
  }
}
