/** Cognite's integer ids of edgefn's functions, calls and schedules (table cognite_ids, see src/storage). */
import { type CogniteFacts, type CogniteNumber, numbersOf, refsOf } from "../../../storage/cognite-ids";
import type { CogniteKind } from "../../../storage/schema";
import type { ServiceContext } from "../../context";
import { cogniteError, type Identifier } from "./project";

/** The integer id of each edgefn id, given on first sight (one D1 batch); also each function's owner and fileId. */
export const numbersFor = (
  ctx: Pick<ServiceContext, "env">,
  kind: CogniteKind,
  refs: string[],
  facts?: Map<string, CogniteFacts>,
): Promise<Map<string, CogniteNumber>> => numbersOf(ctx.env.DB, kind, refs, facts);

/** The integer id of one edgefn id. */
export const numberOf = async (ctx: Pick<ServiceContext, "env">, kind: CogniteKind, ref: string): Promise<number> =>
  ((await numbersFor(ctx, kind, [ref])).get(ref) as CogniteNumber).id;

/** The edgefn ids of integer ids that exist (of any workspace: callers check what the key may see). */
export const refsFor = (ctx: Pick<ServiceContext, "env">, kind: CogniteKind, ids: number[]) =>
  refsOf(ctx.env.DB, kind, ids);

/** The identifiers a request names more than once. */
export function duplicatesOf(items: Identifier[]): Identifier[] {
  const seen = new Set<string>();
  const dups: Identifier[] = [];
  for (const item of items) {
    const key = JSON.stringify(item);
    if (seen.has(key) && !dups.some((d) => JSON.stringify(d) === key)) dups.push(item);
    seen.add(key);
  }
  return dups;
}

/** 400 with `duplicated` when the request names an identifier twice. */
export function rejectDuplicates(items: Identifier[]): void {
  const dups = duplicatesOf(items);
  if (dups.length > 0) throw cogniteError(400, "Duplicate identifiers in the request", undefined, dups);
}
