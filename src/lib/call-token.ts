import { base64url, digestsEqual } from "./crypto";

const encoder = new TextEncoder();
let cached: { secret: string; key: CryptoKey } | undefined;

async function hmacKey(secret: string): Promise<CryptoKey> {
  if (cached?.secret !== secret) {
    const key = await crypto.subtle.importKey(
      "raw",
      encoder.encode(`edgefn call token:${secret}`),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    cached = { secret, key };
  }
  return cached.key;
}

async function sign(secret: string, functionId: string, callId: string, expires: number): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    encoder.encode(`${functionId}|${callId}|${expires}`),
  );
  return base64url(new Uint8Array(mac));
}

/**
 * A short-lived token naming one call of one function: what ctx.client presents to the platform. It is good
 * until the call's timeout has passed, so code a call leaves running (a timer, say) cannot act for it later.
 */
export async function issueCallToken(secret: string, functionId: string, callId: string, expires: number) {
  return `${expires}.${await sign(secret, functionId, callId, expires)}`;
}

export async function verifyCallToken(
  secret: string,
  functionId: string,
  callId: string,
  token: unknown,
  now = Date.now(),
): Promise<boolean> {
  if (typeof token !== "string") return false;
  const [expiresText, mac] = token.split(".");
  const expires = Number(expiresText);
  if (!mac || !Number.isSafeInteger(expires) || expires < now) return false;
  return digestsEqual(mac, await sign(secret, functionId, callId, expires));
}
