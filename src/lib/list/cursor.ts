import { base64url, fromBase64url } from "../crypto";
import { badRequest } from "../errors";

type Value = string | number | null;

/** Opaque cursors: the boundary row's sort values (id last) and the sort they belong to. */
export function encodeCursor(signature: string, values: Value[]): string {
  return base64url(new TextEncoder().encode(JSON.stringify({ s: signature, v: values })));
}

export function decodeCursor(cursor: string, signature: string, length: number, name: string): Value[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder().decode(fromBase64url(cursor)));
  } catch {
    throw badRequest(`${name}: not a valid cursor`);
  }
  const c = decoded as { s?: unknown; v?: unknown };
  if (typeof c !== "object" || c === null || !Array.isArray(c.v) || c.v.length !== length) {
    throw badRequest(`${name}: not a valid cursor`);
  }
  if (c.s !== signature) throw badRequest(`${name}: this cursor belongs to a different orderBy`);
  for (const v of c.v) {
    if (v !== null && typeof v !== "string" && typeof v !== "number") throw badRequest(`${name}: not a valid cursor`);
  }
  return c.v as Value[];
}
