import { and, desc, gte, isNull } from "drizzle-orm";
import type { Env } from "../../env";
import { isPythonEntry } from "../../runtime/python/bundle";
import type { Db } from "../../storage/db";
import { functions } from "../../storage/schema";
import { warmIsolate } from "./isolate";
import { liveFunction } from "./target";

/** Functions called within this long are warmed after a start of the local runtime. */
export const WARM_UP_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
/** At most this many, most recently called first: a start warms what is in use, not the whole store. */
export const WARM_UP_LIMIT = 16;
/** Of which at most this many Python ones: each boot holds the local thread for about half a second. */
export const WARM_UP_PYTHON_LIMIT = 4;

/**
 * After the local runtime (re)starts, every isolate is gone: the next call of each function would wait for a new
 * one (about 20-30 ms for a small function locally, half a second for Python from its memory snapshot). The
 * supervisor of `npm start` asks for this as soon as the platform answers: the isolates of the functions called
 * most recently are made again, one after the other (requests that come meanwhile are served between them), so
 * their next calls find them warm. Nothing of a function runs. One that cannot be warmed is skipped (warmIsolate
 * logs why); nothing here fails.
 */
export async function warmRecentFunctions(db: Db, env: Env, now = Date.now()) {
  const started = Date.now();
  const recent = await db
    .select({ id: functions.id })
    .from(functions)
    .where(and(isNull(functions.deletedAt), gte(functions.lastCalledAt, now - WARM_UP_WINDOW_MS)))
    .orderBy(desc(functions.lastCalledAt))
    .limit(WARM_UP_LIMIT);
  let warmed = 0;
  let python = 0;
  for (const { id } of recent) {
    const entry = await liveFunction(db, id, Date.now());
    if (entry?.version?.status !== "ready") continue;
    if (isPythonEntry(entry.version.entrypoint) && python++ >= WARM_UP_PYTHON_LIMIT) continue;
    if (await warmIsolate(env, entry.fn, entry.version)) warmed++;
  }
  return { functions: recent.length, warmed, ms: Date.now() - started };
}
