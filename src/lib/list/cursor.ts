import { base64url, fromBase64url } from "../crypto";
import { badRequest } from "../errors";
import type { SortKey } from "./order";

type Value = string | number | null;

/** Opaque cursors: the boundary row's sort values (id last) and the sort they belong to. */
export function encodeCursor(signature: string, values: Value[]): string {
  return base64url(new TextEncoder().encode(JSON.stringify({ s: signature, v: values })));
}

/** The boundary values of a cursor made for this sort; a 400 unless each value fits its sort key. */
export function decodeCursor(
  cursor: string,
  signature: string,
  keys: Pick<SortKey, "type" | "nullsFirst">[],
  name: string,
): Value[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder().decode(fromBase64url(cursor)));
  } catch {
    throw badRequest(`${name}: not a valid cursor`);
  }
  const c = decoded as { s?: unknown; v?: unknown };
  if (typeof c !== "object" || c === null || typeof c.s !== "string" || !Array.isArray(c.v)) {
    throw badRequest(`${name}: not a valid cursor`);
  }
  if (c.s !== signature) throw badRequest(`${name}: this cursor belongs to a different orderBy`);
  const values = c.v as unknown[];
  if (values.length !== keys.length || !values.every((v, i) => fits(keys[i] as SortKey, v))) {
    throw badRequest(`${name}: not a valid cursor`);
  }
  return values as Value[];
}

/** Whether a cursor value is one the sort key's column can hold (JSON.parse turns 1e400 into Infinity). */
function fits(key: Pick<SortKey, "type" | "nullsFirst">, v: unknown): boolean {
  if (v === null) return key.nullsFirst !== null;
  switch (key.type) {
    case "string":
      return typeof v === "string";
    case "boolean":
      return v === 0 || v === 1;
    case "number":
    case "datetime":
      return typeof v === "number" && Number.isFinite(v);
    case "map":
      return false; // never a sort key
  }
}
