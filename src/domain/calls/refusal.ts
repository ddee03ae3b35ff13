import { ApiError } from "../../lib/errors";
import type { BudgetExceeded } from "./budget";
import { type CallOutcome, platformFailure } from "./outcome";

/** The outcome of a call refused for a budget before it ran: failed, `LimitError` with the budget as its code. */
export function refusedOutcome(
  p: { version: { id: string } },
  callId: string,
  err: BudgetExceeded,
  now = Date.now(),
): CallOutcome {
  return platformFailure(
    callId,
    p.version.id,
    { name: "LimitError", message: err.message, code: err.reason },
    { startedAt: now },
    { retryable: err.reason === "concurrency" },
  );
}

/** The 429 a refused call is answered with: its reason, when to retry, and the id of its record. */
export function refusal(err: BudgetExceeded, callId: string): ApiError {
  return new ApiError("rate_limited", err.message, { ...(err.details as object), callId });
}
