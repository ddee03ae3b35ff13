import type { Env } from "../../env";
import { ApiError } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";

/**
 * Budgets the host counts itself, whatever an isolate says: how deep calls nest through ctx.client, how many
 * calls one root call makes in all, and how many calls of a workspace run at once. A call past a budget is
 * refused with 429 (and recorded by its caller).
 */

/** The calls made under one root call (shared by every call of the tree, in the host). */
export interface CallTree {
  calls: number;
}

export type BudgetReason = "call_depth" | "call_tree" | "concurrency";

export class BudgetExceeded extends ApiError {
  constructor(
    readonly reason: BudgetReason,
    message: string,
  ) {
    super("rate_limited", message, { reason, retryAfterSeconds: reason === "concurrency" ? 1 : 60 });
  }
}

export const newTree = (): CallTree => ({ calls: 1 });

/** Charges one more call at this depth to its tree; throws BudgetExceeded past either budget. */
export function chargeTree(tree: CallTree, depth: number): void {
  if (depth > LIMITS.callDepth) {
    throw new BudgetExceeded("call_depth", `Calls may nest at most ${LIMITS.callDepth} deep through ctx.client`);
  }
  if (tree.calls >= LIMITS.callTreeCalls) {
    throw new BudgetExceeded(
      "call_tree",
      `One call may make at most ${LIMITS.callTreeCalls - 1} further calls through ctx.client (with theirs)`,
    );
  }
  tree.calls++;
}

const running = new Map<string, number>();

function concurrencyCap(env: Pick<Env, "EDGEFN_WORKSPACE_CONCURRENCY">): number {
  const n = Number(env.EDGEFN_WORKSPACE_CONCURRENCY);
  return Number.isInteger(n) && n > 0 ? n : LIMITS.workspaceConcurrency;
}

/**
 * Takes one of the workspace's concurrent-call places (counted per host isolate); returns the function that gives
 * it back. Throws BudgetExceeded when the workspace has as many calls running as it may.
 */
export function admit(env: Pick<Env, "EDGEFN_WORKSPACE_CONCURRENCY">, workspaceId: string): () => void {
  const cap = concurrencyCap(env);
  const now = running.get(workspaceId) ?? 0;
  if (now >= cap) {
    throw new BudgetExceeded("concurrency", `The workspace already has ${cap} calls running; retry shortly`);
  }
  running.set(workspaceId, now + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (running.get(workspaceId) ?? 1) - 1;
    if (left <= 0) running.delete(workspaceId);
    else running.set(workspaceId, left);
  };
}
