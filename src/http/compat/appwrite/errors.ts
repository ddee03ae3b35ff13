import { appwriteTypeOf } from "../../../domain/compat/appwrite/failures";
import { APPWRITE_VERSION } from "../../../domain/compat/appwrite/settings";
import type { ApiError, ErrorCode } from "../../../lib/errors";
import type { Rendered } from "../kit";

export { APPWRITE_VERSION };

const TYPES: Record<ErrorCode, string> = {
  bad_request: "general_argument_invalid",
  unauthorized: "general_unauthorized_scope",
  forbidden: "general_unauthorized_scope",
  not_found: "general_not_found",
  method_not_allowed: "general_not_implemented",
  conflict: "general_conflict",
  payload_too_large: "storage_file_size_exceeded",
  unsupported_media_type: "storage_file_type_unsupported",
  unprocessable: "general_argument_invalid",
  rate_limited: "general_rate_limit_exceeded",
  internal_error: "general_server_error",
  function_failed: "general_server_error",
  unavailable: "general_service_disabled",
};

/** What a 404 is about, from the message the services give it ("function fun_... not found"). */
const NOT_FOUND: Record<string, string> = {
  function: "function_not_found",
  version: "deployment_not_found",
  call: "execution_not_found",
  variable: "variable_not_found",
  workspace: "project_not_found",
  project: "project_not_found",
  template: "function_template_not_found",
  route: "general_route_not_found",
  rule: "rule_not_found",
};

/** The messages Appwrite's server gives with those types. */
const NOT_FOUND_MESSAGES: Record<string, string> = {
  function_not_found: "Function with the requested ID could not be found.",
  deployment_not_found: "Deployment with the requested ID could not be found.",
  execution_not_found: "Execution with the requested ID could not be found.",
  variable_not_found: "Variable with the requested ID could not be found.",
  project_not_found:
    "Project with the requested ID could not be found. Please check the value of the X-Appwrite-Project header to ensure the correct project ID is being used.",
  rule_not_found:
    "Rule with the requested ID could not be found. Please check if the ID provided is correct or if the rule actually exists.",
};

/** Appwrite's error shape: `{message, code, type, version}` with the HTTP status as `code`. */
export function appwriteError(err: ApiError): Rendered {
  let type = appwriteTypeOf(err) ?? TYPES[err.code];
  let message = err.message;
  if (!appwriteTypeOf(err)) {
    if (err.code === "not_found") {
      const what = /^(function|version|call|variable|workspace|project|template|route|rule)\b/.exec(err.message)?.[1];
      type = (what && NOT_FOUND[what]) || type;
      message = NOT_FOUND_MESSAGES[type] ?? message;
    }
    if (err.code === "conflict" && /already|taken|exists|unique/i.test(err.message)) type = "function_already_exists";
  }
  const retry = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  const headers = typeof retry === "number" ? { "retry-after": String(retry) } : undefined;
  return { status: err.status, body: { message, code: err.status, type, version: APPWRITE_VERSION }, headers };
}
