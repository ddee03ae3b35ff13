import type { Env } from "../../env";
import { journalBegin, journalEnd, PYTHON_STALL_MS } from "../../runtime/journal";
import { functionIsolate, type IsolateEntrypoint } from "../../runtime/loader";
import { isPythonEntry } from "../../runtime/python/bundle";
import type { Db } from "../../storage/db";
import type { FunctionRow, VersionRow } from "../../storage/schema";
import { appwriteIsolate } from "../compat/appwrite/run";
import { liveFunction } from "./target";

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
 * True when the isolate was made (or was there already).
 */
export async function warmIsolate(env: Env, fn: FunctionRow, version: VersionRow): Promise<boolean> {
  // Booting Python holds the local thread a while: the supervisor is told, as for a build.
  const python = isPythonEntry(version.entrypoint);
  const id = `warm:${version.id}:${fn.configRevision}`;
  if (python) {
    journalBegin(env, {
      id,
      kind: "build",
      functionId: fn.id,
      workspaceId: fn.workspaceId,
      versionId: version.id,
      trigger: "build",
      async: true,
      startedAt: Date.now(),
      timeoutMs: PYTHON_STALL_MS.build,
      stallMs: PYTHON_STALL_MS.build,
    });
  }
  try {
    await isolateOf(env, fn, version).warm();
    return true;
  } catch (err) {
    console.error(JSON.stringify({ error: "could not warm an isolate", versionId: version.id, cause: String(err) }));
    return false;
  } finally {
    if (python) journalEnd(env, id);
  }
}

/**
 * After a change of what a function's isolate sees (env vars, secrets, limits: a new config revision), makes the
 * isolate its next call will need, as a deploy does.
 */
export async function warmLiveIsolate(env: Env, db: Db, functionId: string): Promise<void> {
  const entry = await liveFunction(db, functionId, Date.now());
  if (entry?.version?.status === "ready") await warmIsolate(env, entry.fn, entry.version);
}
