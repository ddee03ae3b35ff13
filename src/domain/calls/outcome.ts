import type { LogLine } from "../../runtime/entry";

/**
 * The one outcome type of a call, whatever started it (invoke, the queue, a schedule, /run, a compatibility
 * surface): what its run produced, and what its record keeps. Surfaces shape their answers from it once.
 */

export type FinishedStatus = "completed" | "failed" | "timeout";

export interface ErrorDetail {
  name: string;
  message: string;
  /** The user's frames only; never present for errors raised by the platform. */
  stack?: string;
  code?: string;
}

export interface CallOutcome {
  callId: string;
  ok: boolean;
  /** The result (parsed) when ok. */
  result?: unknown;
  /** The result as JSON text (the record stores it as is); null when the call failed or has no result to keep. */
  resultJson: string | null;
  /** "Name: message", as seed 004's invoke answers. */
  error: string | null;
  errorDetail: ErrorDetail | null;
  status: FinishedStatus;
  versionId: string;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  logs: LogLine[];
  logsTruncated: boolean;
  /** The function marked the error retryable, or the platform caused the failure. */
  retryable: boolean;
}

/** The answer of a synchronous invoke (the API's, and ctx.client's), from a call's outcome. */
export interface InvokeAnswer {
  callId: string;
  ok: boolean;
  result?: unknown;
  error: string | null;
  errorDetail: ErrorDetail | null;
  status: FinishedStatus;
  durationMs: number;
  versionId: string;
}

export const invokeAnswer = (o: CallOutcome): InvokeAnswer => ({
  callId: o.callId,
  ok: o.ok,
  ...(o.ok ? { result: o.result } : {}),
  error: o.error,
  errorDetail: o.errorDetail,
  status: o.status,
  durationMs: o.durationMs,
  versionId: o.versionId,
});

/** A failed outcome the platform decides on (a refusal, an error of its own), with no logs. */
export function platformFailure(
  callId: string,
  versionId: string,
  error: ErrorDetail,
  times: { startedAt: number; endedAt?: number },
  extra: { status?: FinishedStatus; retryable?: boolean } = {},
): CallOutcome {
  const endedAt = times.endedAt ?? times.startedAt;
  return {
    callId,
    ok: false,
    resultJson: null,
    error: `${error.name}: ${error.message}`,
    errorDetail: error,
    status: extra.status ?? "failed",
    versionId,
    startedAt: times.startedAt,
    endedAt,
    durationMs: endedAt - times.startedAt,
    logs: [],
    logsTruncated: false,
    retryable: extra.retryable ?? false,
  };
}
