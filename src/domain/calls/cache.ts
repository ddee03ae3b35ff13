import { eq } from "drizzle-orm";
import type { Db } from "../../storage/db";
import { type FunctionRow, functions, type VersionRow, versions } from "../../storage/schema";

/**
 * Per-isolate caches that keep D1 off the invoke hot path: a function with its default version (one D1
 * read on a miss, then reused for TTL_MS) and ready versions by id (immutable, so kept). A change made
 * through this isolate drops its entry at once; other isolates see it within TTL_MS.
 */
const TTL_MS = 2_000;
const MAX_ENTRIES = 5_000;

interface Entry {
  fn: FunctionRow;
  version: VersionRow | null;
  at: number;
}

const byFunction = new Map<string, Entry>();
const readyVersions = new Map<string, VersionRow>();

export function forgetFunction(functionId: string): void {
  byFunction.delete(functionId);
}

function remember<K, V>(map: Map<K, V>, key: K, value: V) {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, value);
}

export async function functionForInvoke(db: Db, functionId: string, now: number): Promise<Entry | null> {
  const cached = byFunction.get(functionId);
  if (cached && now - cached.at < TTL_MS) return cached;
  const row = await db
    .select({ fn: functions, version: versions })
    .from(functions)
    .leftJoin(versions, eq(versions.id, functions.defaultVersionId))
    .where(eq(functions.id, functionId))
    .get();
  if (!row) {
    byFunction.delete(functionId);
    return null;
  }
  const entry = { fn: row.fn, version: row.version, at: now };
  remember(byFunction, functionId, entry);
  return entry;
}

export async function versionForInvoke(db: Db, versionId: string): Promise<VersionRow | null> {
  const cached = readyVersions.get(versionId);
  if (cached) return cached;
  const row = await db.select().from(versions).where(eq(versions.id, versionId)).get();
  if (row?.status === "ready") remember(readyVersions, versionId, row);
  return row ?? null;
}
