import { base64url, fromBase64url } from "../../lib/crypto";
import { badRequest } from "../../lib/errors";
import type { PasswordAlgorithm, UserRow } from "../../storage/schema";

/**
 * Passwords: PBKDF2-HMAC-SHA256 from WebCrypto, a random 16-byte salt per password, a 32-byte derived key. The
 * algorithm, iterations and salt are stored beside the hash, so the work factor can be raised later (a sign-in
 * with an older hash stores a new one).
 *
 * Cloudflare's runtime refuses PBKDF2 above 100,000 iterations ("iteration counts above 100000 are not supported";
 * local workerd has no cap), so that is the count: the most production allows.
 */
export const PASSWORD_ALGORITHM: PasswordAlgorithm = "pbkdf2-sha256";
export const PASSWORD_ITERATIONS = 100_000;
/** Appwrite's rule: at least 8 characters (and at most 256). */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

const SALT_BYTES = 16;
const KEY_BITS = 256;
const encoder = new TextEncoder();

export type PasswordHash = Pick<UserRow, "passwordAlgorithm" | "passwordIterations" | "passwordSalt" | "passwordHash">;

/** 400 unless the password is one the platform takes, saying the rule. */
export function checkNewPassword(password: string, field = "password"): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw badRequest(`${field}: a password has at least ${PASSWORD_MIN} characters`);
  if (length > PASSWORD_MAX) throw badRequest(`${field}: a password has at most ${PASSWORD_MAX} characters`);
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, KEY_BITS);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, PASSWORD_ITERATIONS);
  return {
    passwordAlgorithm: PASSWORD_ALGORITHM,
    passwordIterations: PASSWORD_ITERATIONS,
    passwordSalt: base64url(salt),
    passwordHash: base64url(hash),
  };
}

/**
 * Stands in for an account that does not exist, so that an unknown email costs the same derivation as a wrong
 * password and the time of the answer does not tell them apart.
 */
const ABSENT: PasswordHash = {
  passwordAlgorithm: PASSWORD_ALGORITHM,
  passwordIterations: PASSWORD_ITERATIONS,
  passwordSalt: base64url(new Uint8Array(SALT_BYTES)),
  passwordHash: base64url(new Uint8Array(KEY_BITS / 8)),
};

/** Whether `password` is the one `stored` was made from; compares in constant time. Null stands for no account. */
export async function passwordMatches(stored: PasswordHash | null, password: string): Promise<boolean> {
  const record = stored ?? ABSENT;
  if (record.passwordAlgorithm !== PASSWORD_ALGORITHM) return false;
  const expected = fromBase64url(record.passwordHash);
  const actual = await derive(password, fromBase64url(record.passwordSalt), record.passwordIterations);
  const same = expected.byteLength === actual.byteLength && crypto.subtle.timingSafeEqual(expected, actual);
  return stored !== null && same;
}

/** Whether a stored hash was made with less work than a new one would be. */
export const needsRehash = (stored: PasswordHash) =>
  stored.passwordAlgorithm !== PASSWORD_ALGORITHM || stored.passwordIterations < PASSWORD_ITERATIONS;
