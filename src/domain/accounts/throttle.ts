import { eq, sql } from "drizzle-orm";
import { sha256Hex } from "../../lib/crypto";
import { ApiError } from "../../lib/errors";
import type { Db } from "../../storage/db";
import { signInAttempts } from "../../storage/schema";

/**
 * How fast passwords can be guessed: attempts are counted per email and per client address in fixed 15-minute
 * windows, in D1 (one upsert per counter, atomic in SQLite, so that attempts racing each other are each counted).
 * Past a limit every attempt of the window is refused with 429, right password or not, without looking at the
 * account: the answer is the same whether the email has one. A successful attempt clears its email's counter and
 * takes itself off its address's, so the address counter counts failures.
 */
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;
export const SIGN_IN_LIMITS = { email: 10, address: 50 } as const;

export interface Attempt {
  emailKey: string;
  addressKey: string;
}

const keyOf = (kind: string, value: string) => sha256Hex(`${kind}:${value}`);

/**
 * Counts an attempt for `email` from `address` (null: unknown, one shared counter) and refuses it with 429 when
 * either counter is past its limit.
 */
export async function countAttempt(db: Db, email: string, address: string | null, now: number): Promise<Attempt> {
  const attempt = { emailKey: await keyOf("email", email), addressKey: await keyOf("addr", address ?? "unknown") };
  const stale = now - SIGN_IN_WINDOW_MS;
  const bump = (key: string) =>
    db
      .insert(signInAttempts)
      .values({ key, count: 1, windowStart: now })
      .onConflictDoUpdate({
        target: signInAttempts.key,
        // Every right-hand side reads the row as it was: a window that is over starts again at this attempt.
        set: {
          count: sql`CASE WHEN ${signInAttempts.windowStart} <= ${stale} THEN 1 ELSE ${signInAttempts.count} + 1 END`,
          windowStart: sql`CASE WHEN ${signInAttempts.windowStart} <= ${stale} THEN ${now} ELSE ${signInAttempts.windowStart} END`,
        },
      })
      .returning();
  const [[byEmail], [byAddress]] = await db.batch([bump(attempt.emailKey), bump(attempt.addressKey)]);
  const over = [
    byEmail && byEmail.count > SIGN_IN_LIMITS.email ? byEmail : null,
    byAddress && byAddress.count > SIGN_IN_LIMITS.address ? byAddress : null,
  ].filter((row) => row !== null);
  if (over.length > 0) {
    const until = Math.max(...over.map((row) => row.windowStart + SIGN_IN_WINDOW_MS));
    const retryAfterSeconds = Math.max(1, Math.ceil((until - now) / 1000));
    throw new ApiError(
      "rate_limited",
      `Too many sign-in attempts: try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s)`,
      { retryAfterSeconds },
    );
  }
  return attempt;
}

/** A right password: its email starts afresh, and the attempt no longer counts against its address. */
export async function forgiveAttempt(db: Db, attempt: Attempt): Promise<void> {
  await db.batch([
    db.delete(signInAttempts).where(eq(signInAttempts.key, attempt.emailKey)),
    db
      .update(signInAttempts)
      .set({ count: sql`MAX(${signInAttempts.count} - 1, 0)` })
      .where(eq(signInAttempts.key, attempt.addressKey)),
  ]);
}

/** Deletes counters whose window is over (the cron's housekeeping). */
export async function sweepSignInAttempts(db: Db, now: number): Promise<number> {
  const gone = await db
    .delete(signInAttempts)
    .where(sql`${signInAttempts.windowStart} <= ${now - SIGN_IN_WINDOW_MS}`)
    .returning({ key: signInAttempts.key });
  return gone.length;
}
