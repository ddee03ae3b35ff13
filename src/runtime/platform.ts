import { WorkerEntrypoint } from "cloudflare:workers";
import { and, eq, isNull, or } from "drizzle-orm";
import { getDb } from "../db/client";
import { functions } from "../db/schema";
import type { Env, Principal } from "../env";
import { ApiError } from "../lib/errors";
import { listCalls } from "../services/calls";
import type { ServiceContext } from "../services/context";
import { invokeFunction } from "../services/invoke";

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
  private context(callerCallId: string, role: Principal["role"]): ServiceContext {
    const { workspaceId } = this.ctx.props;
    return {
      db: getDb(this.env.DB),
      env: this.env,
      principal: { keyId: `call:${String(callerCallId).slice(0, 64)}`, role, workspaceId },
      now: Date.now(),
    };
  }

  /** Invokes a function of the same workspace (by name or id) and answers as POST .../invoke does. */
  async invoke(callerCallId: string, depth: number, target: string, args: unknown) {
    if (!(depth < MAX_CALL_DEPTH)) {
      return failure(`Calls may nest at most ${MAX_CALL_DEPTH} deep through ctx.client`);
    }
    const ctx = this.context(callerCallId, "invoker");
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
    try {
      return await invokeFunction(ctx, row.id, { args, depth: depth + 1 }, (p) => this.ctx.waitUntil(p));
    } catch (err) {
      if (err instanceof ApiError) return failure(err.message, err.code);
      throw err;
    }
  }

  /** The calling function's own recent calls, newest first. */
  async calls(callerCallId: string, limit = 20) {
    const ctx = this.context(callerCallId, "viewer");
    const page = await listCalls(ctx, this.ctx.props.functionId, { limit: String(Math.min(100, Math.max(1, limit))) });
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
