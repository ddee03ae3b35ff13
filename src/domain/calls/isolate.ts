import type { Env } from "../../env";
import { functionIsolate, type IsolateEntrypoint } from "../../runtime/loader";
import type { FunctionRow, VersionRow } from "../../storage/schema";
import { appwriteIsolate } from "../compat/appwrite/run";

/**
 * The isolate of a function's version, with what a surface adds to it (Appwrite's variables and its way to the
 * platform's API): one place, so every caller (calls, HTTP requests) asks the loader for the same isolate.
 */
export function isolateOf(env: Env, fn: FunctionRow, version: VersionRow): IsolateEntrypoint {
  return functionIsolate(env, fn, version, appwriteIsolate(fn, version));
}
