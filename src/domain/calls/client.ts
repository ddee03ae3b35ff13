import { RpcTarget } from "cloudflare:workers";
import { and, eq, isNull, or } from "drizzle-orm";
import type { Env, Principal } from "../../env";
import { ApiError } from "../../lib/errors";
import { numbersOfEach } from "../../storage/cognite-ids";
import type { Db } from "../../storage/db";
import { apiKeys, functions } from "../../storage/schema";
import type { ServiceContext } from "../context";
import type { CallTree } from "./budget";
import { listCalls } from "./history";
import { type CallOutcome, invokeAnswer } from "./outcome";

/** What a call made through ctx.client needs of the invoke service (passed in: the service imports this module). */
export type NestedInvoke = (
  ctx: ServiceContext,
  functionId: string,
  input: { args: unknown; depth: number; tree: CallTree },
) => Promise<CallOutcome | { callId: string; queued: true }>;

interface ClientState {
  open: boolean;
  env: Env;
  db: Db;
  defer: ServiceContext["defer"];
  /** The calling function and call, and the workspace the call belongs to (the caller's, for a system function). */
  functionId: string;
  workspaceId: string;
  callId: string;
  /** More of the call: a scheduled call's scheduleId and scheduledTime (ISO). */
  call?: Record<string, string>;
  depth: number;
  tree: CallTree;
  invoke: NestedInvoke;
}

const states = new WeakMap<CallClient, ClientState>();

/**
 * `ctx.client` of one call: an object of the host's, handed to the isolate with the call (an RPC stub there). Its
 * state (who calls, how deep, the call tree's budget) never leaves the host, and it acts only until the call
 * ends. It acts as the function's runtime user when that names an API key of the call's workspace (that key's
 * role and function scope, checked at each use), else as an invoker of the call's workspace; never another one.
 */
export class CallClient extends RpcTarget {
  /** Invokes a function of the same workspace (by name or id) and answers as POST .../invoke does. */
  async invoke(target: unknown, args: unknown): Promise<unknown> {
    const s = states.get(this);
    if (!s?.open) return failure("ctx.client can act only while the call that uses it runs", "unauthorized");
    try {
      const ctx = await principalOf(s);
      const name = String(target).slice(0, 200);
      const row = await s.db
        .select({ id: functions.id })
        .from(functions)
        .where(
          and(
            eq(functions.workspaceId, s.workspaceId),
            or(eq(functions.id, name), eq(functions.name, name)),
            isNull(functions.deletedAt),
          ),
        )
        .get();
      if (!row) return failure(`No function '${name.slice(0, 140)}' in this workspace`, "not_found");
      const outcome = await s.invoke(ctx, row.id, { args, depth: s.depth + 1, tree: s.tree });
      // The function gets what POST .../invoke answers, never the call's logs.
      return "queued" in outcome ? outcome : invokeAnswer(outcome);
    } catch (err) {
      if (err instanceof ApiError) {
        const callId = (err.details as { callId?: string } | undefined)?.callId;
        return { ...failure(err.message, err.code), ...(callId ? { callId } : {}) };
      }
      throw err;
    }
  }

  /** The calling function's own recent calls (of the calling workspace), newest first. */
  async calls(limit: unknown = 20): Promise<unknown> {
    const s = states.get(this);
    if (!s?.open) return failure("ctx.client can act only while the call that uses it runs", "unauthorized");
    const ctx = await principalOf(s);
    const page = await listCalls(
      { ...ctx, principal: { ...ctx.principal, role: "viewer", functionIds: null } },
      s.functionId,
      { limit: Math.min(100, Math.max(1, Math.floor(Number(limit)) || 20)) },
    );
    return page.rows.map((c) => ({
      id: c.id,
      status: c.status,
      trigger: c.trigger,
      startTime: c.startedAt === null ? null : new Date(c.startedAt).toISOString(),
      durationMs: c.durationMs,
    }));
  }

  /**
   * Cognite's `function_call_info` of the call: its function's, its own and its schedule's ids as the Cognite surface
   * shows them (integers, each given on first sight and kept: table cognite_ids), and a scheduled call's
   * `scheduled_time` in epoch milliseconds (the `scheduledTime` of the surface's call object).
   */
  async cogniteCallInfo(): Promise<unknown> {
    const s = states.get(this);
    if (!s?.open) return failure("ctx.client can act only while the call that uses it runs", "unauthorized");
    const scheduleId = s.call?.scheduleId;
    const numbers = await numbersOfEach(s.env.DB, [
      { kind: "function", ref: s.functionId },
      { kind: "call", ref: s.callId },
      ...(scheduleId ? [{ kind: "schedule" as const, ref: scheduleId }] : []),
    ]);
    const info: Record<string, number | undefined> = {
      function_id: numbers.get(`function:${s.functionId}`),
      call_id: numbers.get(`call:${s.callId}`),
    };
    if (scheduleId) {
      const at = Date.parse(s.call?.scheduledTime ?? "");
      info.schedule_id = numbers.get(`schedule:${scheduleId}`);
      if (Number.isFinite(at)) info.scheduled_time = at;
    }
    return info;
  }
}

/** A client for one call; `closeClient` ends what it can do. */
export function openClient(state: Omit<ClientState, "open">): CallClient {
  const client = new CallClient();
  states.set(client, { ...state, open: true });
  return client;
}

export function closeClient(client: CallClient): void {
  const s = states.get(client);
  if (s) s.open = false;
}

/** Who the calling call acts as (checked at each use: a revoked or expired runtime user acts no more). */
async function principalOf(s: ClientState): Promise<ServiceContext> {
  const fn = await s.db
    .select({ runtimeUserId: functions.runtimeUserId })
    .from(functions)
    .where(eq(functions.id, s.functionId))
    .get();
  let role: Principal["role"] = "invoker";
  let functionIds: string[] | null = null;
  if (fn?.runtimeUserId?.startsWith("key_")) {
    const key = await s.db.select().from(apiKeys).where(eq(apiKeys.id, fn.runtimeUserId)).get();
    const usable =
      key &&
      (key.workspaceId === null || key.workspaceId === s.workspaceId) &&
      (key.expiresAt === null || key.expiresAt > Date.now());
    if (!usable) throw new ApiError("forbidden", `The function's runtime user ${fn.runtimeUserId} cannot act`);
    role = key.role;
    functionIds = key.functionIds;
  }
  return {
    db: s.db,
    env: s.env,
    principal: { keyId: `call:${s.callId}`, role, workspaceId: s.workspaceId, functionIds },
    now: Date.now(),
    defer: s.defer,
  };
}

function failure(message: string, code = "bad_request") {
  return { ok: false, error: `ClientError: ${message}`, errorDetail: { name: "ClientError", message, code } };
}
