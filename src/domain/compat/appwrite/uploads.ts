import type { Env } from "../../../env";
import { CHUNKS_PREFIX } from "../../../storage/objects";

/** An upload with no new part for this long was abandoned. */
const ABANDONED_MS = 24 * 60 * 60 * 1000;
/** R2 list pages per cron tick: bounded, so one tick never runs long; the next tick goes on. */
const MAX_PAGES = 5;

/** Deletes the parts (and claims) of chunked uploads abandoned halfway; returns how many objects went. */
export async function sweepAbandonedUploads(env: Pick<Env, "CODE">, now = Date.now()): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed = await env.CODE.list({ prefix: CHUNKS_PREFIX, cursor });
    const stale = listed.objects.filter((o) => o.uploaded.getTime() < now - ABANDONED_MS).map((o) => o.key);
    if (stale.length > 0) await env.CODE.delete(stale);
    deleted += stale.length;
    if (!listed.truncated) break;
    cursor = listed.cursor;
  }
  return deleted;
}
