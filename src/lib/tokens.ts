import { sign, verify } from "hono/jwt";
import type { Env } from "../env";
import { ApiError } from "./errors";

/**
 * Short-lived signed tokens the platform hands out and checks itself, without storing them (the key an Appwrite
 * execution gets in `x-appwrite-key`). A token is a JWT (HS256) whose HMAC key is derived with HKDF-SHA-256 from
 * the `EDGEFN_SECRETS_KEY` Worker secret under a label of its own, so it is independent of the keys that encrypt
 * secrets (neither can be computed from the other) and checking a token reads nothing from storage. Every token
 * expires; one without `exp` is refused.
 */

const encoder = new TextEncoder();
const SALT = encoder.encode("edgefn tokens");
const INFO = encoder.encode("edgefn tokens v1 hmac-sha-256");

const derived = new Map<string, Promise<CryptoKey>>();

function signingKey(keys: Pick<Env, "EDGEFN_SECRETS_KEY">): Promise<CryptoKey> {
  const secret = keys.EDGEFN_SECRETS_KEY?.trim();
  if (!secret) {
    throw new ApiError("unavailable", "Signed keys are not available on this platform (EDGEFN_SECRETS_KEY is not set)");
  }
  let key = derived.get(secret);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"])
      .then((ikm) =>
        crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: SALT, info: INFO }, ikm, HMAC, false, [
          "sign",
          "verify",
        ]),
      );
    derived.set(secret, key);
  }
  return key;
}

const HMAC = { name: "HMAC", hash: "SHA-256", length: 256 } as const;

/** A token for `claims`, valid until `expiresAt` (epoch ms; rounded up to the second). */
export async function signToken(
  keys: Pick<Env, "EDGEFN_SECRETS_KEY">,
  claims: Record<string, unknown>,
  expiresAt: number,
): Promise<string> {
  return sign({ ...claims, exp: Math.ceil(expiresAt / 1000) }, await signingKey(keys), "HS256");
}

export type Verified = { ok: true; claims: Record<string, unknown> } | { ok: false; expired: boolean };

/** The claims of a token this platform signed, unless it has expired (or is anything else). */
export async function verifyToken(keys: Pick<Env, "EDGEFN_SECRETS_KEY">, token: string): Promise<Verified> {
  if (token.length > 8192) return { ok: false, expired: false };
  const key = await signingKey(keys);
  try {
    const claims = (await verify(token, key, "HS256")) as Record<string, unknown>;
    return typeof claims.exp === "number" ? { ok: true, claims } : { ok: false, expired: false };
  } catch (err) {
    return { ok: false, expired: err instanceof Error && err.name === "JwtTokenExpired" };
  }
}
