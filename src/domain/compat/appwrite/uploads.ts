/**
 * Appwrite's chunked deployment uploads: parts wait in R2 until every byte is there, whatever the order they came
 * in; the request that completes the set claims it with a create-only write (so parts that arrive together still
 * make one version) and assembles it. The every-minute cron deletes the parts of an upload abandoned halfway.
 */
import type { Env } from "../../../env";
import { ApiError, badRequest } from "../../../lib/errors";
import { newId } from "../../../lib/ids";
import { LIMITS } from "../../../lib/limits";
import { CHUNKS_PREFIX, chunkClaimKey, chunkPartKey, chunkPartsPrefix } from "../../../storage/objects";
import type { FunctionRow } from "../../../storage/schema";
import type { ServiceContext } from "../../context";

/** An upload with no new part for this long was abandoned. */
const ABANDONED_MS = 24 * 60 * 60 * 1000;
/** R2 list pages per cron tick: bounded, so one tick never runs long; the next tick goes on. */
const MAX_PAGES = 5;

/** What one part (or a whole upload) comes to. */
export type Upload =
  /** More parts are to come. */
  | { state: "partial"; uploadId: string; total: number; uploaded: number }
  /** Every byte is here: make the version, then say which (null: it failed) with `done`. */
  | { state: "whole"; bytes: Uint8Array; total: number; done: (versionId: string | null) => Promise<void> }
  /** Another request completed the set at the same moment and made this version. */
  | { state: "taken"; versionId: string; total: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A whole upload in one request. */
export const wholeUpload = (bytes: Uint8Array): Upload => ({ state: "whole", bytes, total: 1, done: async () => {} });

/**
 * One part of a chunked upload: `range` is its content-range, `given` the upload's id (x-appwrite-id), which every
 * part after the first must name.
 */
export async function receivePart(
  ctx: ServiceContext,
  fn: FunctionRow,
  part: Uint8Array,
  range: string,
  given: string | undefined,
): Promise<Upload> {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range.trim());
  if (!m) throw badRequest("content-range: expected bytes <start>-<end>/<size>");
  const [start, end, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (end < start || end >= size || end - start + 1 !== part.byteLength) {
    throw badRequest("content-range does not match the chunk's size");
  }
  const maxBytes = LIMITS.codeBytes * 2;
  if (size > maxBytes) throw new ApiError("payload_too_large", `The upload is larger than ${maxBytes} bytes`);
  if (start === 0 && end + 1 === size) return wholeUpload(part);
  if (start !== 0 && !given) throw badRequest("x-appwrite-id: every chunk after the first must name its upload");
  if (given && !/^upl_[0-9a-z]{26}$/.test(given)) throw badRequest("x-appwrite-id: not an upload id of this server");
  const uploadId = given ?? `upl_${newId("ver").slice(4)}`;
  const prefix = chunkPartsPrefix(fn.id, uploadId);
  const claimKey = chunkClaimKey(fn.id, uploadId);
  const bucket = ctx.env.CODE;
  await bucket.put(chunkPartKey(fn.id, uploadId, start), part);
  const listed = await bucket.list({ prefix });
  let have = 0;
  let largest = 1;
  for (const o of listed.objects) {
    have += o.size;
    largest = Math.max(largest, o.size);
  }
  const total = Math.ceil(size / largest);
  if (have < size) return { state: "partial", uploadId, total, uploaded: listed.objects.length };

  if (!(await bucket.put(claimKey, "", { onlyIf: { etagDoesNotMatch: "*" } }))) {
    // Another request completed the set at the same moment and builds it: answer with its version.
    for (let i = 0; i < 300; i++) {
      const claim = await bucket.head(claimKey);
      const versionId = claim?.customMetadata?.versionId;
      if (versionId) return { state: "taken", versionId, total };
      if (!claim) break;
      await sleep(100);
    }
    throw new ApiError("conflict", "This upload was finished by another request that failed: upload it again");
  }
  const keys = listed.objects.map((o) => o.key).sort();
  const out = new Uint8Array(size);
  let at = 0;
  for (const key of keys) {
    const stored = await bucket.get(key);
    if (!stored) throw new ApiError("conflict", "A chunk of this upload is gone: upload it again");
    const bytes = new Uint8Array(await stored.arrayBuffer());
    const offset = Number(key.slice(prefix.length));
    if (offset + bytes.byteLength > size) throw badRequest("A chunk of this upload overlaps the end: upload it again");
    out.set(bytes, offset);
    at += bytes.byteLength;
  }
  await bucket.delete(keys);
  if (at !== size) {
    await bucket.delete(claimKey);
    throw badRequest("The chunks of this upload overlap: upload it again");
  }
  return {
    state: "whole",
    bytes: out,
    total: keys.length,
    done: async (versionId) => {
      if (versionId === null) return bucket.delete(claimKey); // failed: waiting requests give up at once
      // Tells any request waiting on the claim; the claim is removed once they have had time to read it.
      await bucket.put(claimKey, "", { customMetadata: { versionId } });
      ctx.defer(sleep(10_000).then(() => bucket.delete(claimKey)));
    },
  };
}

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
