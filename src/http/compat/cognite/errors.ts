import type { ApiError } from "../../../lib/errors";
import type { Rendered } from "../kit";

/**
 * Cognite's error shape: `{"error": {"code": <status>, "message", "missing"?, "duplicated"?}}`; `missing` and
 * `duplicated` are the identifiers an error of the Cognite verbs is about (its details).
 */
export function cogniteError(err: ApiError): Rendered {
  const details = (err.details ?? {}) as { missing?: unknown; duplicated?: unknown };
  const error: Record<string, unknown> = { code: err.status, message: err.message };
  if (Array.isArray(details.missing)) error.missing = details.missing;
  if (Array.isArray(details.duplicated)) error.duplicated = details.duplicated;
  return { status: err.status, body: { error } };
}
