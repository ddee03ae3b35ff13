/**
 * Prefixed, time-sortable identifiers: `<prefix>_<10 chars of time><16 random chars>`, Crockford base32.
 * Ids made later sort after ids made earlier (to the millisecond), which keeps keyset pagination and
 * index locality cheap.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export const ID_PREFIXES = ["ws", "key", "fun", "ver", "scm", "call", "sch", "ses", "usr", "mem", "inv"] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

function encodeTime(ms: number): string {
  let out = "";
  let n = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

function randomPart(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % 32];
  return out;
}

export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${encodeTime(now)}${randomPart(16)}`;
}

const ID_SHAPE = /^[a-z]{2,4}_[0-9a-z]{26}$/;

/** True when `value` looks like an id of the given kind; used to answer 404 early without a query. */
export function isId(prefix: IdPrefix, value: string): boolean {
  return value.startsWith(`${prefix}_`) && ID_SHAPE.test(value);
}
