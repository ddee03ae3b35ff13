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

/** Appwrite's error shape: `{message, code, type, version}` with the HTTP status as `code`. */
export function appwriteError(err: ApiError): Rendered {
  let type = appwriteTypeOf(err) ?? TYPES[err.code];
  if (!appwriteTypeOf(err)) {
    if (err.code === "not_found") {
      const what = /^(function|version|call|variable|workspace|project|template|route|rule)\b/.exec(err.message)?.[1];
      type = (what && NOT_FOUND[what]) || type;
    }
    if (err.code === "conflict" && /already|taken|exists|unique/i.test(err.message)) type = "function_already_exists";
  }
  return { status: err.status, body: { message: err.message, code: err.status, type, version: APPWRITE_VERSION } };
}
