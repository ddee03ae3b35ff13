import { and, asc, count, eq, gt, isNotNull, type SQL, sql } from "drizzle-orm";
import { ApiError } from "../../lib/errors";
import { currentKeyId, reencryptSecret } from "../../lib/secrets";
import { functions } from "../../storage/schema";
import { forgetFunction } from "../calls/cache";
import { requireGlobalAdmin, type ServiceContext } from "../context";
import { lifecycle } from "./index";

/** Functions one re-encryption request looks at, at most (the CLI repeats it until nothing remains). */
export const REENCRYPT_LIMIT = { default: 100, max: 500 };
const PAGE = 25;

export interface ReencryptResult {
  /** Functions whose secrets were sealed anew. */
  functions: number;
  /** Secrets sealed anew. */
  secrets: number;
  /** Functions still holding a secret under an older key (those listed in `unreadable` included). */
  remaining: number;
  /** Functions this request found with a secret no configured key opens. */
  unreadable: string[];
}

/** Rows holding a secret that is not under the newest key (an older key id, or the v1 format). */
function stale(prefix: string): SQL {
  return sql`EXISTS (SELECT 1 FROM json_each(${functions.secrets}) WHERE substr(value, 1, ${prefix.length}) != ${prefix})`;
}

/**
 * After a rotation of EDGEFN_SECRETS_KEY: seals every secret still under an older key with the newest one, so the
 * older keys can be dropped. Walks the functions holding such secrets (deleted ones included: a restore brings them
 * back) in pages by id, at most `limit` per request; writes go through each function's FunctionObject, like every
 * change of its secrets, and only if the secrets did not change meanwhile.
 */
export async function reencryptSecrets(ctx: ServiceContext, options: { limit?: number } = {}) {
  requireGlobalAdmin(ctx, "re-encrypt secrets");
  const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? REENCRYPT_LIMIT.default)), REENCRYPT_LIMIT.max);
  const prefix = `v2.${await currentKeyId(ctx.env)}.`;
  const result: ReencryptResult = { functions: 0, secrets: 0, remaining: 0, unreadable: [] };
  let after = "";
  let seen = 0;
  while (seen < limit) {
    const size = Math.min(PAGE, limit - seen);
    const page = await ctx.db
      .select({ id: functions.id, secrets: functions.secrets })
      .from(functions)
      .where(and(gt(functions.id, after), isNotNull(functions.secrets), stale(prefix)))
      .orderBy(asc(functions.id))
      .limit(size);
    for (const row of page) {
      after = row.id;
      seen++;
      const { sealed, unreadable } = await reencryptFunction(ctx, row.id, row.secrets ?? {});
      if (unreadable) result.unreadable.push(row.id);
      if (sealed > 0) {
        result.functions++;
        result.secrets += sealed;
      }
    }
    if (page.length < size) break;
  }
  const [left] = await ctx.db
    .select({ n: count() })
    .from(functions)
    .where(and(isNotNull(functions.secrets), stale(prefix)));
  result.remaining = left?.n ?? 0;
  return result;
}

/**
 * Seals one function's stale secrets anew: how many, and whether one of them opens with no configured key (it is
 * kept as it is, and the function is reported).
 */
async function reencryptFunction(ctx: ServiceContext, functionId: string, held: Record<string, string>) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const next: Record<string, string> = {};
    let sealed = 0;
    let unreadable = false;
    for (const [name, value] of Object.entries(held)) {
      let fresh: string | null = null;
      try {
        fresh = await reencryptSecret(ctx.env, functionId, name, value);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        unreadable = true;
      }
      next[name] = fresh ?? value;
      if (fresh !== null) sealed++;
    }
    if (sealed === 0) return { sealed, unreadable };
    const stored = await lifecycle(ctx, functionId).replaceSecrets(functionId, held, next);
    if (!stored.ok) return { sealed: 0, unreadable: false }; // purged meanwhile
    if (stored.value) {
      forgetFunction(functionId);
      return { sealed, unreadable };
    }
    // Changed meanwhile (a change seals with the newest key): seal what it holds now.
    const row = await ctx.db
      .select({ secrets: functions.secrets })
      .from(functions)
      .where(eq(functions.id, functionId))
      .get();
    if (!row) return { sealed: 0, unreadable: false };
    held = row.secrets ?? {};
  }
  return { sealed: 0, unreadable: false }; // still changing: left for the next request (counted in remaining)
}
