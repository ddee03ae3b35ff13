import { LIMITS } from "../lib/limits";
import type { InvokeOutcome, LogLine } from "./entry";

/**
 * The host's reading of what an isolate sent back. The isolate runs the user's code, so whatever arrives (a
 * missing field, a result that is not a string or not JSON, a million log lines, objects where strings belong)
 * is made into a well-formed outcome here, within the platform's limits, and never throws.
 */

const LEVELS = new Set(["debug", "info", "warn", "error"]);
const MAX_TEXT = 16 * 1024;
const MAX_NAME = 200;
/** JSON nested deeper than this is refused: the host re-serialises results, and recursion has a bound. */
export const MAX_RESULT_DEPTH = 512;

const encoder = new TextEncoder();
const utf8 = (text: string) => encoder.encode(text).byteLength;

function text(value: unknown, max = MAX_TEXT): string {
  const s = typeof value === "string" ? value : value === undefined || value === null ? "" : safeString(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function safeString(value: unknown): string {
  try {
    return typeof value === "object" ? (JSON.stringify(value) ?? "") : String(value);
  } catch {
    return "";
  }
}

function malformed(message: string): InvokeOutcome {
  return {
    ok: false,
    error: { name: "MalformedOutcome", message, code: "malformed_outcome" },
    logs: [],
    logsTruncated: false,
  };
}

/** The deepest nesting of arrays and objects in JSON text (outside strings); stops counting past the limit. */
export function jsonDepth(json: string, limit = MAX_RESULT_DEPTH): number {
  // Nesting needs two characters a level: short texts cannot be too deep.
  if (json.length < limit * 2) return 0;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/** A call's log lines, within the line and byte limits whatever the isolate sent; the rest becomes one marker. */
export function checkLogs(raw: unknown, wasTruncated: unknown, window: { from: number; to: number }) {
  const logs: LogLine[] = [];
  let truncated = wasTruncated === true;
  if (!Array.isArray(raw)) return { logs, logsTruncated: truncated || raw !== undefined };
  let bytes = 0;
  const count = raw.length;
  for (let i = 0; i < count; i++) {
    const line = raw[i] as Partial<LogLine> | null;
    const message = text(line && typeof line === "object" ? line.message : line);
    const size = utf8(message) + LIMITS.logLineOverhead;
    if (logs.length + 1 >= LIMITS.logLines || bytes + size > LIMITS.logBytes) {
      truncated = true;
      break;
    }
    bytes += size;
    const level = line && typeof line === "object" && typeof line.level === "string" ? line.level : "info";
    const at = line && typeof line === "object" ? Number(line.timestamp) : Number.NaN;
    logs.push({
      timestamp: Number.isFinite(at) ? Math.min(Math.max(at, window.from), window.to) : window.to,
      level: LEVELS.has(level) ? level : "info",
      message,
    });
  }
  if (truncated && !(logs.at(-1)?.message ?? "").startsWith("[edgefn] log output truncated")) {
    logs.push({
      timestamp: window.to,
      level: "warn",
      message: `[edgefn] log output truncated at ${LIMITS.logLines} lines or ${LIMITS.logBytes} bytes`,
    });
  }
  return { logs, logsTruncated: truncated };
}

/** An outcome the host has checked; a successful one carries its result parsed. */
export type CheckedOutcome = InvokeOutcome & { value?: unknown };

/** What an isolate's `invoke` answered, checked: an outcome the host can record and answer with as it is. */
export function checkOutcome(raw: unknown, window: { from: number; to: number }): CheckedOutcome {
  if (raw === null || typeof raw !== "object") return malformed("The isolate answered with no outcome");
  const o = raw as Record<string, unknown>;
  const { logs, logsTruncated } = checkLogs(o.logs, o.logsTruncated, window);
  if (o.ok === true) {
    const result = o.result;
    if (typeof result !== "string")
      return { ...malformed("The isolate's result is not JSON text"), logs, logsTruncated };
    if (result.length > LIMITS.resultBytes || utf8(result) > LIMITS.resultBytes) {
      return {
        ok: false,
        error: {
          name: "ResultError",
          message: `The result is larger than ${LIMITS.resultBytes} bytes`,
          code: "result_too_large",
        },
        logs,
        logsTruncated,
      };
    }
    if (jsonDepth(result) > MAX_RESULT_DEPTH) {
      return {
        ok: false,
        error: {
          name: "ResultError",
          message: `The result is nested deeper than ${MAX_RESULT_DEPTH} levels`,
          code: "invalid_result",
        },
        logs,
        logsTruncated,
      };
    }
    let value: unknown;
    try {
      value = JSON.parse(result);
    } catch {
      return { ...malformed("The isolate's result is not valid JSON"), logs, logsTruncated };
    }
    return { ok: true, result, value, logs, logsTruncated };
  }
  const e = o.error !== null && typeof o.error === "object" ? (o.error as Record<string, unknown>) : {};
  const error: NonNullable<InvokeOutcome["error"]> = {
    name: text(e.name, MAX_NAME) || "Error",
    message: text(e.message),
  };
  if (typeof e.stack === "string") error.stack = text(e.stack);
  if (typeof e.code === "string" || typeof e.code === "number") error.code = text(String(e.code), MAX_NAME);
  if (e.retryable === true) error.retryable = true;
  return { ok: false, error, logs, logsTruncated };
}
