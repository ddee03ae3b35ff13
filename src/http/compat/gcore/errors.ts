import type { ApiError } from "../../../lib/errors";
import type { Rendered } from "../kit";

/** Gcore's error shape: `{"message": "..."}` with the HTTP status. */
export const gcoreError = (err: ApiError): Rendered => ({ status: err.status, body: { message: err.message } });
