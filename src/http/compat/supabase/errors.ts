import { type ApiError, errorBody } from "../../../lib/errors";
import type { Rendered } from "../kit";

/** The Supabase surface answers errors in the native shape, `{error: {code, message, requestId}}`, as /run does. */
export function supabaseError(err: ApiError, requestId: string): Rendered {
  const retryAfter = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return {
    status: err.status,
    body: errorBody(err.code, err.message, requestId, err.details),
    ...(err.code === "rate_limited" && typeof retryAfter === "number"
      ? { headers: { "retry-after": String(retryAfter) } }
      : {}),
  };
}
