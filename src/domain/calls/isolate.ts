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

/**
 * Makes the isolate a function's next call will use before that call comes (after a deploy), so that its first
 * call does not wait for the isolate to be created (or for Python to boot). Where the host isolate that runs the
 * call is another one (on Cloudflare, often), this costs the warm-up and gains nothing; it never fails the caller.
 */
export async function warmIsolate(env: Env, fn: FunctionRow, version: VersionRow): Promise<void> {
  try {
    await isolateOf(env, fn, version).warm();
  } catch (err) {
    console.error(JSON.stringify({ error: "could not warm an isolate", versionId: version.id, cause: String(err) }));
  }
}
