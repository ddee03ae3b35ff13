import { and, eq, inArray } from "drizzle-orm";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import type { JournalEntry } from "../runtime/journal";
import type { Db } from "../storage/db";
import { type CallError, calls, versions } from "../storage/schema";
import { enqueueCall } from "./calls/enqueue";

/**
 * What the local supervisor hands back after it restarted a frozen (or crashed) runtime: the journal's open
 * entries. The entry that began last when the process froze is the call that froze it: it ends `timeout` with
 * its record (a build: failed). The others were cut short by the restart: a synchronous call is recorded as a
 * failed call with a retryable platform error (its caller saw the connection drop), an async call and a build
 * are queued again. Nothing that already has its ending is changed.
 */
export interface Recovery {
  reason: "stall" | "crash";
  stalled: JournalEntry | null;
  interrupted: JournalEntry[];
  stalledAt: number;
  restartedAt: number;
}

export async function recoverAfterRestart(db: Db, env: Env, r: Recovery) {
  const seconds = Math.max(1, Math.round((r.restartedAt - r.stalledAt) / 1000));
  const done = { stalled: 0, failed: 0, requeued: 0 };
  if (r.stalled) {
    const message =
      r.reason === "stall"
        ? `The call ran native code that never yielded (a catastrophic regular expression, a WebAssembly loop, ...): the local runtime stopped answering and was restarted after ${seconds} s`
        : "The local runtime crashed while this call ran (it ran out of memory?) and was restarted";
    if (r.stalled.kind === "build") {
      await failBuild(db, r.stalled.versionId, `The module's top-level code never finished loading: ${message}`);
    } else {
      await end(db, r.stalled, "timeout", { name: "TimeoutError", message, code: "native_stall" }, r.stalledAt);
    }
    done.stalled++;
  }
  for (const entry of r.interrupted.slice(0, 10_000)) {
    if (entry.kind === "build") {
      const [again] = await db
        .update(versions)
        .set({ status: "queued", updatedAt: Date.now() })
        .where(and(eq(versions.id, entry.versionId), eq(versions.status, "building")))
        .returning({ id: versions.id });
      if (again) await env.JOBS.send({ type: "build", versionId: entry.versionId });
      done.requeued++;
    } else if (entry.async) {
      const [again] = await db
        .update(calls)
        .set({ status: "queued", startedAt: null, deadlineAt: null })
        .where(and(eq(calls.id, entry.id), eq(calls.status, "running")))
        .returning({ id: calls.id });
      if (again) await enqueueCall(env, entry.id);
      done.requeued++;
    } else {
      const message =
        "The local runtime was restarted while this call ran (another call had frozen it): the call was cut short; retry it";
      await end(db, entry, "failed", { name: "PlatformError", message, code: "runtime_restarted" }, r.stalledAt);
      done.failed++;
    }
  }
  console.warn(JSON.stringify({ event: "recovered", reason: r.reason, ...done }));
  return done;
}

/** Ends a call the journal names: its row if it has one (async), else a new record (a synchronous call). */
async function end(db: Db, entry: JournalEntry, status: "timeout" | "failed", error: CallError, at: number) {
  const endedAt = Math.max(at, entry.startedAt);
  const outcome = { status, error, endedAt, durationMs: endedAt - entry.startedAt, deadlineAt: null };
  if (entry.async) {
    await db
      .update(calls)
      .set(outcome)
      .where(and(eq(calls.id, entry.id), inArray(calls.status, ["queued", "running"])));
    return;
  }
  await db
    .insert(calls)
    .values({
      id: entry.id,
      functionId: entry.functionId,
      workspaceId: entry.workspaceId,
      versionId: entry.versionId,
      trigger: entry.trigger === "http" ? "http" : "api",
      createdAt: entry.startedAt,
      startedAt: entry.startedAt,
      ...outcome,
    })
    .onConflictDoNothing();
}

async function failBuild(db: Db, versionId: string, message: string) {
  await db
    .update(versions)
    .set({ status: "failed", error: { message, trace: "" }, buildFinishedAt: Date.now(), updatedAt: Date.now() })
    .where(and(eq(versions.id, versionId), eq(versions.status, "building")));
}

/** A recovery body as the supervisor sends it, checked (it comes over HTTP). */
export function parseRecovery(raw: unknown): Recovery | null {
  if (raw === null || typeof raw !== "object") return null;
  const o = raw as Record<string, unknown>;
  const entry = (e: unknown): JournalEntry | null => {
    if (e === null || typeof e !== "object") return null;
    const x = e as Record<string, unknown>;
    const str = (k: string) => (typeof x[k] === "string" ? (x[k] as string).slice(0, 200) : "");
    if (!str("id") || !["call", "http", "build"].includes(str("kind"))) return null;
    return {
      id: str("id"),
      kind: str("kind") as JournalEntry["kind"],
      functionId: str("functionId"),
      workspaceId: str("workspaceId"),
      versionId: str("versionId"),
      trigger: str("trigger"),
      async: x.async === true,
      startedAt: Number.isFinite(x.startedAt) ? Number(x.startedAt) : Date.now(),
      timeoutMs: Number.isFinite(x.timeoutMs) ? Number(x.timeoutMs) : LIMITS.timeoutMs.default,
    };
  };
  const interrupted = Array.isArray(o.interrupted)
    ? o.interrupted.map(entry).filter((e): e is JournalEntry => e !== null)
    : [];
  return {
    reason: o.reason === "crash" ? "crash" : "stall",
    stalled: entry(o.stalled),
    interrupted,
    stalledAt: Number.isFinite(o.stalledAt) ? Number(o.stalledAt) : Date.now(),
    restartedAt: Number.isFinite(o.restartedAt) ? Number(o.restartedAt) : Date.now(),
  };
}
