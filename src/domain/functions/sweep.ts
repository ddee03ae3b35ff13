import { and, eq, isNotNull, lt, or } from "drizzle-orm";
import type { Env } from "../../env";
import { LIMITS } from "../../lib/limits";
import type { Db } from "../../storage/db";
import { functions } from "../../storage/schema";
import { lifecycle } from "./index";

const DAY = 86_400_000;
const BATCH = 100;

/**
 * Purges soft-deleted functions whose retention tier has run out (standard 30 days, extended 90,
 * permanent never), a bounded batch per tick, each through its FunctionObject.
 */
export async function sweepDeletedFunctions(db: Db, env: Env, now: number): Promise<number> {
  const due = await db
    .select({ id: functions.id })
    .from(functions)
    .where(
      and(
        isNotNull(functions.deletedAt),
        or(
          and(
            eq(functions.retentionTier, "standard"),
            lt(functions.deletedAt, now - LIMITS.retentionDays.standard * DAY),
          ),
          and(
            eq(functions.retentionTier, "extended"),
            lt(functions.deletedAt, now - LIMITS.retentionDays.extended * DAY),
          ),
        ),
      ),
    )
    .limit(BATCH);
  const outcomes = await Promise.all(due.map(({ id }) => lifecycle({ env }, id).purge(id)));
  return outcomes.filter((o) => o.ok).length;
}
