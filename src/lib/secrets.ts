import type { Env } from "../env";
import { base64url, fromBase64url } from "./crypto";
import { ApiError } from "./errors";

/**
 * Function secrets are AES-256-GCM encrypted at rest. The function id and secret name are bound in as additional
 * data, so a ciphertext cannot be moved to another function or name.
 *
 * Keys rotate: values are encrypted with the key derived from EDGEFN_SECRETS_KEY (the newest) and decrypted with
 * whichever configured key their key id names, among EDGEFN_SECRETS_KEY and EDGEFN_SECRETS_KEY_PREVIOUS (a
 * comma-separated list of older secrets). Stored forms (base64url parts):
 *
 * - `v2.<kid>.<iv>.<ciphertext>`: the AES key is HKDF-SHA-256 of the configured secret; `kid` is the first
 *   8 characters of HMAC-SHA-256(secret, "edgefn secrets key id"), which names the key without revealing it.
 * - `v1.<iv>.<ciphertext>` (before key ids): the AES key is SHA-256 of the secret; every configured secret is
 *   tried. Still read; never written.
 */
export type SecretsKeys = Pick<Env, "EDGEFN_SECRETS_KEY" | "EDGEFN_SECRETS_KEY_PREVIOUS">;

interface DerivedKey {
  kid: string;
  v2: CryptoKey;
  v1: CryptoKey;
}

const encoder = new TextEncoder();
const derived = new Map<string, Promise<DerivedKey>>();
const HKDF_SALT = encoder.encode("edgefn secrets");
const HKDF_INFO = encoder.encode("edgefn secrets v2 aes-256-gcm");
const KID_LABEL = encoder.encode("edgefn secrets key id");

async function derive(secret: string): Promise<DerivedKey> {
  const raw = encoder.encode(secret);
  const hmac = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const kid = base64url(new Uint8Array(await crypto.subtle.sign("HMAC", hmac, KID_LABEL))).slice(0, 8);
  const ikm = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  const v2 = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: HKDF_INFO },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const v1 = await crypto.subtle.importKey("raw", await crypto.subtle.digest("SHA-256", raw), "AES-GCM", false, [
    "decrypt",
  ]);
  return { kid, v2, v1 };
}

function keyFor(secret: string): Promise<DerivedKey> {
  let key = derived.get(secret);
  if (!key) {
    key = derive(secret);
    derived.set(secret, key);
  }
  return key;
}

function unavailable(): ApiError {
  return new ApiError("unavailable", "Secrets are not configured on this platform (EDGEFN_SECRETS_KEY is not set)");
}

/** The configured secrets, newest first: EDGEFN_SECRETS_KEY, then each of EDGEFN_SECRETS_KEY_PREVIOUS. */
function configured(keys: SecretsKeys): string[] {
  const current = keys.EDGEFN_SECRETS_KEY?.trim();
  const previous = (keys.EDGEFN_SECRETS_KEY_PREVIOUS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return [...new Set([...(current ? [current] : []), ...previous])];
}

function newest(keys: SecretsKeys): Promise<DerivedKey> {
  const current = keys.EDGEFN_SECRETS_KEY?.trim();
  if (!current) throw unavailable();
  return keyFor(current);
}

/** The id of the key new values are encrypted with. */
export async function currentKeyId(keys: SecretsKeys): Promise<string> {
  return (await newest(keys)).kid;
}

/** The key id a stored value names ("v1" for values from before key ids), or null for an unknown format. */
export function storedKeyId(stored: string): string | null {
  const parts = stored.split(".");
  if (parts[0] === "v1" && parts.length === 3) return "v1";
  if (parts[0] === "v2" && parts.length === 4 && parts[1]) return parts[1];
  return null;
}

const additionalData = (functionId: string, name: string) => encoder.encode(`${functionId}/${name}`);

export async function encryptSecret(keys: SecretsKeys, functionId: string, name: string, value: string) {
  const key = await newest(keys);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(functionId, name) },
    key.v2,
    encoder.encode(value),
  );
  return `v2.${key.kid}.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`;
}

export async function decryptSecret(keys: SecretsKeys, functionId: string, name: string, stored: string) {
  const secrets = configured(keys);
  if (secrets.length === 0) throw unavailable();
  const parts = stored.split(".");
  const kid = storedKeyId(stored);
  if (kid === null) throw new Error(`Secret ${name} of ${functionId} is not in a known format`);
  const [iv, body] = kid === "v1" ? [parts[1], parts[2]] : [parts[2], parts[3]];
  const all = await Promise.all(secrets.map(keyFor));
  const candidates = kid === "v1" ? all.map((k) => k.v1) : all.filter((k) => k.kid === kid).map((k) => k.v2);
  if (candidates.length === 0) {
    throw new Error(
      `Secret ${name} of ${functionId} was encrypted with key ${kid}, which is neither EDGEFN_SECRETS_KEY nor in EDGEFN_SECRETS_KEY_PREVIOUS`,
    );
  }
  const params = { name: "AES-GCM", iv: fromBase64url(iv as string), additionalData: additionalData(functionId, name) };
  for (const key of candidates) {
    try {
      return new TextDecoder().decode(await crypto.subtle.decrypt(params, key, fromBase64url(body as string)));
    } catch {
      // the next candidate (v1 values name no key; two secrets may share a key id)
    }
  }
  throw new Error(
    `Secret ${name} of ${functionId} does not decrypt with the configured keys (or was not sealed for it)`,
  );
}

export async function decryptAll(keys: SecretsKeys, functionId: string, stored: Record<string, string> | null) {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(stored ?? {}))
    out[name] = await decryptSecret(keys, functionId, name, value);
  return out;
}

/** The value encrypted with the newest key, or null when it already is. */
export async function reencryptSecret(keys: SecretsKeys, functionId: string, name: string, stored: string) {
  if (storedKeyId(stored) === (await currentKeyId(keys))) return null;
  return encryptSecret(keys, functionId, name, await decryptSecret(keys, functionId, name, stored));
}

/** Secrets as the API shows them: names only, every value masked. */
export function maskSecrets(stored: Record<string, string> | null): Record<string, string> | null {
  return stored === null ? null : Object.fromEntries(Object.keys(stored).map((k) => [k, "***"]));
}
