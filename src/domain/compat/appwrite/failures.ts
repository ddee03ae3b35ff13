import { ApiError, type ErrorCode } from "../../../lib/errors";

/**
 * An error with the type Appwrite's server gives for it (`user_unauthorized`, `general_unauthorized_scope`, ...),
 * for the failures only the Appwrite surface has; the surface renders it as Appwrite does (see
 * src/http/compat/appwrite/errors.ts), the others answer by the error's code.
 */
export function appwriteFailure(code: ErrorCode, type: string, message: string): ApiError {
  return new ApiError(code, message, { appwriteType: type });
}

/** The Appwrite type an error was made with, if any. */
export function appwriteTypeOf(err: ApiError): string | undefined {
  const details = err.details as { appwriteType?: unknown } | undefined;
  return typeof details?.appwriteType === "string" ? details.appwriteType : undefined;
}
