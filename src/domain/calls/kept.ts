import { APPWRITE_ENVELOPE } from "../../runtime/adapters/appwrite";
import type { FunctionRow } from "../../storage/schema";
import { keepsOutput } from "../compat/appwrite/settings";
import type { CallOutcome } from "./outcome";

const NOT_KEPT = "Logging is off for this function: its logs and errors are not kept";

/** The HTTP status and headers an Appwrite-style result holds (`{"$appwrite": {statusCode, headers, body}}`). */
export function responseOfResult(result: unknown): { statusCode: number; headers: Record<string, string> } | null {
  if (!result || typeof result !== "object" || !Object.hasOwn(result, APPWRITE_ENVELOPE)) return null;
  const r = (result as Record<string, unknown>)[APPWRITE_ENVELOPE] as { statusCode?: unknown; headers?: unknown };
  if (!r || typeof r !== "object" || typeof r.statusCode !== "number") return null;
  const headers: Record<string, string> = {};
  if (r.headers && typeof r.headers === "object") {
    for (const [k, v] of Object.entries(r.headers)) if (typeof v === "string") headers[k] = v;
  }
  return { statusCode: r.statusCode, headers };
}

/**
 * What a call's record keeps of its outcome. A function whose logging is off (Appwrite's `logging: false`) keeps
 * no logs, no error text and no result: only the status, times, and the HTTP status and headers it answered.
 */
export function keptOutcome(fn: Pick<FunctionRow, "metadata">, run: CallOutcome): CallOutcome {
  if (keepsOutput(fn)) return run;
  const response = responseOfResult(run.result);
  const result = response ? { [APPWRITE_ENVELOPE]: { ...response, body: "" } } : undefined;
  const errorDetail = run.errorDetail ? { name: "Error", message: NOT_KEPT } : null;
  return {
    ...run,
    result,
    resultJson: result ? JSON.stringify(result) : null,
    errorDetail,
    error: errorDetail ? `Error: ${NOT_KEPT}` : null,
    logs: [],
    logsTruncated: false,
  };
}
