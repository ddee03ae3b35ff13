import { sql } from "drizzle-orm";
import type { Env } from "../../env";
import type { Db } from "../../storage/db";
import { snapshotsPrefixOf } from "../../storage/objects";
import { versions } from "../../storage/schema";

/**
 * Content-addressed code (`sources/<sha256>`, `bundles/<sha256>`) is shared by every version with equal content,
 * across functions, so deleting an object must never race a new version of the same content. Writers and
 * releasers follow one protocol:
 *
 * - a writer puts the object, then writes the version row that refers to it, then `confirmCode`: puts it again
 *   if it is gone (a release deleted it meanwhile);
 * - a release (`releaseCode`) deletes only objects no version row refers to, then looks again and puts back those
 *   a row has started to refer to meanwhile.
 *
 * A release's delete is followed either by its own second look finding the writer's row (it puts the object back)
 * or, when that look came before the row, by the writer's confirmation (which comes after the row). So a version
 * row never ends up naming a missing object, and an object nothing refers to does not stay behind.
 */
export async function confirmCode(env: Env, key: string, body: string, options?: R2PutOptions): Promise<void> {
  if (!(await env.CODE.head(key))) await env.CODE.put(key, body, options);
}

/** The keys among `keys` that a version row refers to. */
async function referenced(db: Db, keys: string[]): Promise<Set<string>> {
  const list = JSON.stringify(keys);
  const rows = await db
    .select({ sourceKey: versions.sourceKey, bundleKey: versions.bundleKey })
    .from(versions)
    .where(
      sql`${versions.sourceKey} IN (SELECT value FROM json_each(${list})) OR ${versions.bundleKey} IN (SELECT value FROM json_each(${list}))`,
    );
  return new Set(rows.flatMap((r) => [r.sourceKey, r.bundleKey]).filter((k): k is string => k !== null));
}

/** Objects held in memory at once while released (a put-back needs their bytes). */
const RELEASE_CHUNK_BYTES = 32 * 1024 * 1024;

/** Deletes the code objects among `keys` that no version row refers to (see the protocol above). */
export async function releaseCode(db: Db, env: Env, keys: (string | null | undefined)[]): Promise<void> {
  const unique = [...new Set(keys.filter((k): k is string => !!k))];
  if (unique.length === 0) return;
  const used = await referenced(db, unique);
  const candidates = unique.filter((k) => !used.has(k));
  let held = new Map<string, { body: ArrayBuffer; httpMetadata?: R2HTTPMetadata }>();
  let bytes = 0;
  const flush = async () => {
    if (held.size === 0) return;
    const chunk = held;
    held = new Map();
    bytes = 0;
    await env.CODE.delete([...chunk.keys()]);
    for (const key of await referenced(db, [...chunk.keys()])) {
      const object = chunk.get(key);
      if (object) await env.CODE.put(key, object.body, { httpMetadata: object.httpMetadata });
    }
  };
  for (const key of candidates) {
    const object = await env.CODE.get(key);
    if (!object) continue;
    held.set(key, { body: await object.arrayBuffer(), httpMetadata: object.httpMetadata });
    bytes += object.size;
    if (bytes >= RELEASE_CHUNK_BYTES || held.size >= 500) await flush();
  }
  await flush();
}

/** Deletes a purged function's Python memory snapshots (they belong to its versions alone). */
export async function releaseSnapshots(env: Env, functionId: string): Promise<void> {
  const prefix = snapshotsPrefixOf(functionId);
  let cursor: string | undefined;
  do {
    const page = await env.CODE.list({ prefix, cursor });
    if (page.objects.length > 0) await env.CODE.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
