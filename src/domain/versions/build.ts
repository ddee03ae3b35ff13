import { and, eq, inArray, lt } from "drizzle-orm";
import type { Env } from "../../env";
import { sha256Hex } from "../../lib/crypto";
import { LIMITS } from "../../lib/limits";
import { type Exports, needsAppwriteAdapter, withAppwriteAdapter } from "../../runtime/adapters/appwrite";
import { BuildError, buildBundle, type SourceBundle } from "../../runtime/bundle";
import { ISOLATE_COMPAT } from "../../runtime/compat";
import { ENTRY_MODULE } from "../../runtime/entry";
import { journalBegin, journalEnd, PYTHON_STALL_MS } from "../../runtime/journal";
import { type IsolateEntrypoint, isolateModules } from "../../runtime/loader";
import { isPythonEntry } from "../../runtime/python/bundle";
import type { Db } from "../../storage/db";
import { bundleKeyOf } from "../../storage/objects";
import { type BuildLogLine, functions, type VersionRow, versions } from "../../storage/schema";
import { forgetFunction } from "../calls/cache";
import { warmIsolate } from "../calls/isolate";
import { raiseEventNow } from "../compat/appwrite/events";
import { lifecycle } from "../functions";
import { buildPython, type PythonBuild } from "./build-python";
import { confirmCode, releaseCode } from "./code";

/**
 * Runs one build, from the queue: claims the queued version, builds its sources (JavaScript and TypeScript here,
 * Python in ./build-python.ts), stores the bundle in R2 by its hash (and a Python version's memory snapshot), after
 * loading it once in an isolate to check that it imports and defines a handler, and records ready or failed. A canceled version, or a second delivery of the same job, is left alone.
 */
export async function runBuild(db: Db, env: Env, versionId: string, now = Date.now): Promise<void> {
  const [version] = await db
    .update(versions)
    .set({ status: "building", buildStartedAt: now(), updatedAt: now() })
    .where(and(eq(versions.id, versionId), eq(versions.status, "queued")))
    .returning();
  if (!version) return;

  const logs: BuildLogLine[] = [];
  const log = (message: string, level: BuildLogLine["level"] = "info") => logs.push({ at: now(), level, message });
  const finish = (fields: Partial<typeof versions.$inferInsert>) =>
    db
      .update(versions)
      .set({ ...fields, buildLogs: logs, buildFinishedAt: now(), updatedAt: now() })
      .where(and(eq(versions.id, versionId), eq(versions.status, "building")))
      .returning();

  try {
    const object = await env.CODE.get(version.sourceKey);
    if (!object) throw new BuildError(`The sources (${version.sourceKey}) are missing`);
    const source = await object.json<SourceBundle>();
    log(`Building ${Object.keys(source.files).length} file(s), entrypoint ${source.entrypoint}`);
    // Loading the code runs the user's top-level code: under the limits of one of the function's calls.
    const fn = await db
      .select({ timeoutMs: functions.timeoutMs, cpuMs: functions.cpuMs })
      .from(functions)
      .where(eq(functions.id, version.functionId))
      .get();
    const limits = { timeoutMs: fn?.timeoutMs ?? LIMITS.timeoutMs.default, cpuMs: fn?.cpuMs ?? LIMITS.cpuMs.default };
    const journalId = `build:${versionId}`;
    // What the supervisor of a local runtime is told of work that holds the thread (see runtime/journal).
    const journalEntryOf = (id: string) => ({
      id,
      kind: "build" as const,
      functionId: version.functionId,
      workspaceId: "",
      versionId,
      trigger: "build",
      async: true,
      startedAt: now(),
      timeoutMs: limits.timeoutMs,
    });
    journalBegin(env, {
      ...journalEntryOf(journalId),
      ...(isPythonEntry(source.entrypoint) ? { stallMs: PYTHON_STALL_MS.build } : {}),
    });
    let built: Built;
    try {
      built = isPythonEntry(source.entrypoint)
        ? await buildPython(env, version, source, limits, log)
        : await buildJavaScript(env, source, limits, log);
    } finally {
      journalEnd(env, journalId);
    }
    const { body, bundleKey, handlers, snapshot } = built;
    // Always written, even when the object exists; confirmed once the row refers to it (see ./code).
    await env.CODE.put(bundleKey, body);
    if (snapshot) await env.CODE.put(snapshot.key, snapshot.bytes);
    log(`Bundle ${bundleKey} (${body.length} bytes)`);
    const [ready] = await finish({ status: "ready", bundleKey, bundleSize: body.length, handlers, error: null });
    // Canceled meanwhile, or its function purged: the object goes unless another version uses it.
    if (!ready) {
      if (snapshot) await env.CODE.delete(snapshot.key);
      return await releaseCode(db, env, [bundleKey]);
    }
    await confirmCode(env, bundleKey, body);
    const made = await lifecycle({ env }, version.functionId).versionReady(version.functionId, versionId, now());
    forgetFunction(version.functionId);
    await buildEvent(db, env, ready);
    // The function's new default version: its isolate made now, so the first call finds it made.
    if (made.ok && made.value) await warmIsolate(env, made.value, ready);
  } catch (err) {
    const e = err as Error;
    const message = err instanceof BuildError ? e.message : `${e.name}: ${e.message}`;
    log(message, "error");
    // The trace is the user's code's stack (an import-time throw), never the platform's own.
    const trace = err instanceof BuildError && err.trace ? err.trace : message;
    const [failed] = await finish({ status: "failed", error: { message, trace } });
    if (failed) await buildEvent(db, env, failed);
  }
}

type Built = { body: string; bundleKey: string; handlers: string[]; snapshot?: PythonBuild["snapshot"] };

/**
 * Builds JavaScript or TypeScript: the bundle of the modules reachable from the entrypoint, checked in an isolate
 * (checked before it is stored, so a module that fails to load leaves no object behind).
 */
async function buildJavaScript(
  env: Env,
  source: SourceBundle,
  limits: { timeoutMs: number; cpuMs: number },
  log: (message: string) => void,
): Promise<Built> {
  const bundle = buildBundle(source, log);
  let body = JSON.stringify(bundle);
  let bundleKey = bundleKeyOf(await sha256Hex(body));
  const found = await checkInIsolate(env, bundleKey, bundle, limits);
  // A module without handle(data, ctx) gets the Appwrite adapter (an Appwrite handler is served as fetch).
  const adapted = needsAppwriteAdapter(found);
  const handlers = [found.handle && "handle", (found.fetch || adapted) && "fetch"].filter((h): h is string => !!h);
  if (handlers.length === 0) {
    throw new BuildError(
      "The module exports no handler: export async function handle(data, ctx), or export default { fetch }",
    );
  }
  if (adapted) {
    body = JSON.stringify(withAppwriteAdapter(bundle));
    bundleKey = bundleKeyOf(await sha256Hex(body));
  }
  log(`Loaded in an isolate; exports ${handlers.join(" and ")}`);
  return { body, bundleKey, handlers };
}

/** A build is over: its deployment's update event. */
async function buildEvent(db: Db, env: Env, version: VersionRow): Promise<void> {
  const fn = await db.select().from(functions).where(eq(functions.id, version.functionId)).get();
  if (fn) await raiseEventNow({ db, env }, { kind: "deployment", fn, version }, "update");
}

/**
 * Imports the built module in a fresh isolate with no network and no env, with the limits of a call (the loop
 * guard, the function's cpuMs and its timeout): import-time throws, runaway top-level code and a module that never
 * finishes loading fail here.
 */
async function checkInIsolate(
  env: Env,
  bundleKey: string,
  bundle: ReturnType<typeof buildBundle>,
  limits: { timeoutMs: number; cpuMs: number },
): Promise<Exports> {
  const worker = env.LOADER.get(`build:${bundleKey}:${limits.cpuMs}`, () => ({
    ...ISOLATE_COMPAT,
    mainModule: ENTRY_MODULE,
    modules: isolateModules(env, bundle, []),
    env: {},
    globalOutbound: null,
    limits: { cpuMs: limits.cpuMs },
  }));
  let found: Awaited<ReturnType<IsolateEntrypoint["describe"]>>;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const described = (worker.getEntrypoint() as unknown as IsolateEntrypoint).describe();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BuildError(`The module did not finish loading within ${limits.timeoutMs} ms`)),
        limits.timeoutMs,
      );
    });
    found = await Promise.race([described, late]);
  } catch (err) {
    if (err instanceof BuildError) throw err;
    const e = err as Error;
    // workerd reports "Failed to start Worker:\nUncaught Name: message\n  at file:line:col in fn"; keep the
    // user's error and the frames in the uploaded modules, never the platform's own frames.
    const uncaught = /Uncaught (.+)/.exec(e.message)?.[1];
    const what = uncaught ?? `${e.name}: ${e.message.split("\n")[0]}`;
    const userModules = Object.keys(bundle.modules);
    const frames = (e.stack ?? "")
      .split("\n")
      .filter((line) => /^\s*at /.test(line) && userModules.some((m) => line.includes(`${m}:`)))
      .map((line) => `  ${line.trim()}`);
    throw new BuildError(`The module failed to load: ${what}`, [what, ...frames].join("\n"));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  if (found.error) {
    // Thrown by the module's top-level code (reported by the entry module, which loaded it).
    const e = found.error;
    const what = `${String(e.name).slice(0, 200)}: ${String(e.message).slice(0, 2000)}`;
    const userModules = Object.keys(bundle.modules);
    const frames = String(e.stack ?? "")
      .split("\n")
      .filter((line) => /^\s*at /.test(line) && userModules.some((m) => line.includes(`${m}:`)))
      .slice(0, 50)
      // As workerd reports a module that fails to start: "at file:line:col in fn".
      .map((line) => `  ${line.trim().replace(/^at (.+) \((.+)\)$/, "at $2 in $1")}`);
    throw new BuildError(`The module failed to load: ${what}`, [what, ...frames].join("\n"));
  }
  return found;
}

/** Marks a build that could not run at all (its job went to the dead-letter queue) as failed. */
export async function failBuild(db: Db, versionId: string, message: string, now = Date.now()) {
  await db
    .update(versions)
    .set({ status: "failed", error: { message, trace: "" }, buildFinishedAt: now, updatedAt: now })
    .where(and(eq(versions.id, versionId), inArray(versions.status, ["queued", "building"])));
}

/** A build not finished this long after it started or was queued was interrupted (or its job was lost). */
const STALE_BUILD_MS = 5 * 60_000;

/**
 * Builds a stopped runtime left behind: a queued version whose job never arrived is queued again (a second
 * delivery is harmless: runBuild claims the version once); a version still building long after its build
 * started was interrupted, and fails saying so rather than staying "building" forever.
 */
export async function sweepStaleBuilds(
  db: Db,
  env: Env,
  now = Date.now(),
): Promise<{ requeued: number; failed: number }> {
  const requeue = await db
    .update(versions)
    .set({ updatedAt: now })
    .where(and(eq(versions.status, "queued"), lt(versions.updatedAt, now - STALE_BUILD_MS)))
    .returning({ id: versions.id });
  if (requeue.length > 0) {
    await env.JOBS.sendBatch(requeue.map(({ id }) => ({ body: { type: "build", versionId: id } })));
  }
  const interrupted = await db
    .update(versions)
    .set({
      status: "failed",
      error: {
        message: "The build was interrupted (the runtime stopped while it ran): upload the code again",
        trace: "",
      },
      buildFinishedAt: now,
      updatedAt: now,
    })
    .where(and(eq(versions.status, "building"), lt(versions.buildStartedAt, now - STALE_BUILD_MS)))
    .returning({ id: versions.id });
  return { requeued: requeue.length, failed: interrupted.length };
}
