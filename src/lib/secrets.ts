import { base64url, fromBase64url } from "./crypto";
import { ApiError } from "./errors";

/**
 * Function secrets are AES-256-GCM encrypted at rest with a key derived from the EDGEFN_SECRETS_KEY Worker
 * secret. The function id and secret name are bound in as additional data, so a ciphertext cannot be moved
 * to another function or name. Stored form: `v1.<iv>.<ciphertext>` (base64url).
 */
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function keyFor(secret: string | undefined): Promise<CryptoKey> {
  if (!secret)
    throw new ApiError("unavailable", "Secrets are not configured on this platform (EDGEFN_SECRETS_KEY is not set)");
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle
      .digest("SHA-256", encoder.encode(secret))
      .then((raw) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
    keys.set(secret, key);
  }
  return key;
}

export async function encryptSecret(master: string | undefined, functionId: string, name: string, value: string) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = encoder.encode(`${functionId}/${name}`);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: data },
    await keyFor(master),
    encoder.encode(value),
  );
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`;
}

export async function decryptSecret(master: string | undefined, functionId: string, name: string, stored: string) {
  const [version, iv, body] = stored.split(".");
  if (version !== "v1" || !iv || !body) throw new Error(`Secret ${name} of ${functionId} is not in a known format`);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64url(iv), additionalData: encoder.encode(`${functionId}/${name}`) },
    await keyFor(master),
    fromBase64url(body),
  );
  return new TextDecoder().decode(plain);
}

export async function decryptAll(
  master: string | undefined,
  functionId: string,
  stored: Record<string, string> | null,
) {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(stored ?? {}))
    out[name] = await decryptSecret(master, functionId, name, value);
  return out;
}

/** Secrets as the API shows them: names only, every value masked. */
export function maskSecrets(stored: Record<string, string> | null): Record<string, string> | null {
  return stored === null ? null : Object.fromEntries(Object.keys(stored).map((k) => [k, "***"]));
}
