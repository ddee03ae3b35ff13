import type { Env } from "../../env";
import { LIMITS } from "../../lib/limits";

/** Cloudflare Queues delay a message by at most 12 hours; a later call is re-queued until it is due. */
const MAX_DELAY_S = 12 * 60 * 60;

export interface CallJob {
  type: "call";
  callId: string;
}

/** Queues an async call, delayed until scheduledAt (epoch ms) when that is in the future. */
export async function enqueueCall(env: Env, callId: string, scheduledAt?: number | null): Promise<void> {
  const delayMs = scheduledAt ? scheduledAt - Date.now() : 0;
  const delaySeconds = Math.min(MAX_DELAY_S, Math.max(0, Math.ceil(delayMs / 1000)));
  await env.JOBS.send({ type: "call", callId } satisfies CallJob, delaySeconds > 0 ? { delaySeconds } : undefined);
}

/** Seconds before retry number `attempt` (1, 2, ...): doubling from EDGEFN_RETRY_BACKOFF_S, at most 5 minutes. */
export function backoffSeconds(env: Env, attempt: number): number {
  const base = Number(env.EDGEFN_RETRY_BACKOFF_S ?? LIMITS.retryBackoffSeconds);
  const safe = Number.isFinite(base) && base >= 0 ? base : LIMITS.retryBackoffSeconds;
  return Math.min(300, safe * 2 ** (attempt - 1));
}
