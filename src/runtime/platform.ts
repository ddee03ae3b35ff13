import { WorkerEntrypoint } from "cloudflare:workers";
import { and, eq, isNull, or } from "drizzle-orm";
import { getDb } from "../db/client";
import { apiKeys, functions } from "../db/schema";
import type { Env, Principal } from "../env";
import { verifyCallToken } from "../lib/call-token";
import { ApiError } from "../lib/errors";
import { listCalls } from "../services/calls";
import type { ServiceContext } from "../services/context";
import { invokeFunction, tokenSecret } from "../services/invoke";

export interface PlatformProps {
  functionId: string;
  workspaceId: string;
}

/** How deep functions may call functions through ctx.client (a call chain longer than this is refused). */
export const MAX_CALL_DEPTH = 5;

/**
 * What a function reaches the platform through (`ctx.client`): an entrypoint of the host worker handed to its
 * isolate as a binding, not a URL. It acts as the function's identity: an invoker of the function's own
 * workspace, whatever key started the call; calls it makes are attributed to the calling call.
 */
export class PlatformGateway extends WorkerEntrypoint<Env, PlatformProps> {
  /**
   * Who the calling call acts as: the function's runtime user when runtimeUserId names an API key of its workspace
   * (that key's role and function scope, checked now: a revoked or expired key acts no more), else an invoker of
   * the function's workspace. Never another workspace.
   */
  private async context(token: unknown, callerCallId: string): Promise<ServiceContext> {
    const { functionId, workspaceId } = this.ctx.props;
    const callId = String(callerCallId).slice(0, 64);
    if (!(await verifyCallToken(tokenSecret(this.env), functionId, callId, token))) {
      throw new ApiError("unauthorized", "ctx.client can act only while the call that uses it runs");
    }
    const db = getDb(this.env.DB);
    const fn = await db
      .select({ runtimeUserId: functions.runtimeUserId })
      .from(functions)
      .where(eq(functions.id, functionId))
      .get();
    let role: Principal["role"] = "invoker";
    let functionIds: string[] | null = null;
    if (fn?.runtimeUserId?.startsWith("key_")) {
      const key = await db.select().from(apiKeys).where(eq(apiKeys.id, fn.runtimeUserId)).get();
      const usable =
        key &&
        (key.workspaceId === null || key.workspaceId === workspaceId) &&
        (key.expiresAt === null || key.expiresAt > Date.now());
      if (!usable) throw new ApiError("forbidden", `The function's runtime user ${fn.runtimeUserId} cannot act`);
      role = key.role;
      functionIds = key.functionIds;
    }
    return {
      db,
      env: this.env,
      principal: { keyId: `call:${callId}`, role, workspaceId, functionIds },
      now: Date.now(),
    };
  }

  /** Invokes a function of the same workspace (by name or id) and answers as POST .../invoke does. */
  async invoke(token: string, callerCallId: string, depth: number, target: string, args: unknown) {
    if (!(depth < MAX_CALL_DEPTH)) {
      return failure(`Calls may nest at most ${MAX_CALL_DEPTH} deep through ctx.client`);
    }
    try {
      const ctx = await this.context(token, callerCallId);
      const row = await ctx.db
        .select({ id: functions.id })
        .from(functions)
        .where(
          and(
            eq(functions.workspaceId, this.ctx.props.workspaceId),
            or(eq(functions.id, String(target)), eq(functions.name, String(target))),
            isNull(functions.deletedAt),
          ),
        )
        .get();
      if (!row) return failure(`No function '${String(target).slice(0, 140)}' in this workspace`);
      return await invokeFunction(ctx, row.id, { args, depth: depth + 1 }, (p) => this.ctx.waitUntil(p));
    } catch (err) {
      if (err instanceof ApiError) return failure(err.message, err.code);
      throw err;
    }
  }

  /** The calling function's own recent calls, newest first. */
  async calls(token: string, callerCallId: string, limit = 20) {
    const ctx = await this.context(token, callerCallId);
    const page = await listCalls(
      { ...ctx, principal: { ...ctx.principal, role: "viewer", functionIds: null } },
      this.ctx.props.functionId,
      {
        limit: String(Math.min(100, Math.max(1, Number(limit) || 20))),
      },
    );
    return page.rows.map((c) => ({
      id: c.id,
      status: c.status,
      trigger: c.trigger,
      startTime: c.startedAt === null ? null : new Date(c.startedAt).toISOString(),
      durationMs: c.durationMs,
    }));
  }
}

function failure(message: string, code = "bad_request") {
  return { ok: false, error: `ClientError: ${message}`, errorDetail: { name: "ClientError", message, code } };
}
