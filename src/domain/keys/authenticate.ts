import { eq } from "drizzle-orm";
import type { Env, Principal } from "../../env";
import { digestsEqual, sha256Hex } from "../../lib/crypto";
import { ApiError } from "../../lib/errors";
import { getDb } from "../../storage/db";
import { apiKeys } from "../../storage/schema";

export const ADMIN_KEY_ID = "key_admin";
const CACHE_TTL_MS = 30_000;

interface Cached {
  principal: Principal;
  expiresAt: number | null;
  cachedAt: number;
}

/**
 * Key hash -> principal, per isolate, so the hot path does not read D1 for every request. A revoked key is
 * dropped at once in the isolate that revoked it and within CACHE_TTL_MS everywhere else.
 */
const cache = new Map<string, Cached>();
let adminHash: { secret: string; hash: string } | undefined;

export function forgetKey(hash: string): void {
  cache.delete(hash);
}

async function adminKeyHash(env: Env): Promise<string | undefined> {
  const secret = env.EDGEFN_ADMIN_KEY;
  if (!secret) return undefined;
  if (adminHash?.secret !== secret) adminHash = { secret, hash: await sha256Hex(secret) };
  return adminHash.hash;
}

/**
 * Key -> its SHA-256, for the keys this isolate saw lately, so a key sent with every request is not hashed again
 * for each (whether the key is still valid is the principal cache's to say, by its hash).
 */
const hashes = new Map<string, string>();
/** Longer than any key the platform issues: not kept (a caller cannot fill the isolate's memory with long tokens). */
const KEPT_KEY_CHARS = 128;

async function hashOfKey(key: string): Promise<string> {
  let hash = hashes.get(key);
  if (hash === undefined) {
    hash = await sha256Hex(key);
    if (key.length <= KEPT_KEY_CHARS) {
      if (hashes.size >= 1_000) hashes.clear();
      hashes.set(key, hash);
    }
  }
  return hash;
}

export async function authenticate(env: Env, header: string | undefined, now = Date.now()): Promise<Principal> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) throw new ApiError("unauthorized", "Missing API key: send Authorization: Bearer <key>");
  return principalOfKeyHash(env, await hashOfKey(match[1] as string), now);
}

/** The principal of the API key with this SHA-256 (a console session keeps the hash of the key it was opened with). */
export async function principalOfKeyHash(env: Env, hash: string, now = Date.now()): Promise<Principal> {
  // The cache holds keys of the database only: a hit is such a key (the admin key's hash is never in it).
  let entry = cache.get(hash);
  if (!entry || now - entry.cachedAt > CACHE_TTL_MS) {
    const admin = await adminKeyHash(env);
    if (admin && digestsEqual(hash, admin)) return { keyId: ADMIN_KEY_ID, role: "admin", workspaceId: null };
    const row = await getDb(env.DB).select().from(apiKeys).where(eq(apiKeys.hash, hash)).get();
    if (!row || !digestsEqual(row.hash, hash)) {
      cache.delete(hash);
      throw new ApiError("unauthorized", "Invalid API key");
    }
    entry = {
      principal: { keyId: row.id, role: row.role, workspaceId: row.workspaceId, functionIds: row.functionIds },
      expiresAt: row.expiresAt,
      cachedAt: now,
    };
    if (cache.size >= 10_000) cache.clear();
    cache.set(hash, entry);
  }
  if (entry.expiresAt !== null && entry.expiresAt <= now) throw new ApiError("unauthorized", "API key has expired");
  return entry.principal;
}
