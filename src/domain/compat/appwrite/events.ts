/**
 * Events, named as Appwrite names them, and the functions they fire (an Appwrite function's `events`). edgefn
 * raises the events of its own objects: a function, a deployment (a version) and an execution (a call) created,
 * updated or deleted. A function listening to one of the names an event goes by gets an async execution (trigger
 * `event`) whose request is `POST /` with the event's object, in Appwrite's model, as its JSON body.
 *
 * Appwrite refuses `functions.*` events for functions altogether; edgefn, whose only events are those, allows them
 * and breaks the loops they could make instead:
 * - a function is never fired by the events of its own executions;
 * - an execution fired by an event, and a call made through ctx.client, raise no execution events;
 * - nothing done with an execution's own key (`x-appwrite-key`) raises events.
 * So no chain of events goes deeper than one execution. Disabled functions are not fired.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Principal } from "../../../env";
import { newId } from "../../../lib/ids";
import { LIMITS } from "../../../lib/limits";
import type { Db } from "../../../storage/db";
import { argsKeyOf } from "../../../storage/objects";
import { type CallRow, callLogs, calls, type FunctionRow, functions, type VersionRow } from "../../../storage/schema";
import { enqueueCall } from "../../calls/enqueue";
import { byteLength, INLINE_BYTES, readResult, recordsWritten } from "../../calls/record";
import type { ServiceContext } from "../../context";
import { deploymentModel, executionModel, functionModel } from "./models";
import { appwriteId, envelope } from "./run";
import { APPWRITE_VERSION, META, settingsOf } from "./settings";

export type EventSubject =
  | { kind: "function"; fn: FunctionRow }
  | { kind: "deployment"; fn: FunctionRow; version: VersionRow }
  | {
      kind: "execution";
      fn: FunctionRow;
      call: Pick<CallRow, "id" | "trigger" | "createdBy">;
      /** The call's row as it was, for an event raised when it is gone (deleted). */
      gone?: CallRow;
    };

export type EventAction = "create" | "update" | "delete";

/** What raising an event needs: storage, the queue, waitUntil, and who made the change (when a request did). */
export type EventContext = Pick<ServiceContext, "db" | "env" | "defer"> & { principal?: Principal };

/**
 * The names an event goes by, as Appwrite generates them: the full name, then each placeholder as `*` (one at a
 * time and all together), for the name with its action, without it, and for the resource alone. The first is the
 * most specific one (`functions.<id>.executions.<id>.create`), which an execution it fires sees in
 * `x-appwrite-event`.
 */
export function eventNames(pattern: string, params: Record<string, string>): string[] {
  const parts = pattern.split(".");
  const patterns = [pattern];
  // Without the action (when the pattern has a sub-resource), and the top resource alone.
  if (parts.length === 5) patterns.push(parts.slice(0, 4).join("."));
  patterns.push(parts.slice(0, 2).join("."));
  const keys = Object.keys(params);
  const fill = (p: string, star: (k: string) => boolean) =>
    keys.reduce((out, k) => out.replaceAll(`[${k}]`, star(k) ? "*" : (params[k] as string)), p);
  const names: string[] = [];
  for (const p of patterns) {
    names.push(
      fill(p, () => false),
      fill(p, () => true),
    );
    for (const k of keys) names.push(fill(p, (x) => x === k));
  }
  return [...new Set(names)];
}

function nameOf(subject: EventSubject, action: EventAction): { pattern: string; params: Record<string, string> } {
  const functionId = appwriteId(subject.fn);
  if (subject.kind === "function") return { pattern: `functions.[functionId].${action}`, params: { functionId } };
  if (subject.kind === "deployment") {
    return {
      pattern: `functions.[functionId].deployments.[deploymentId].${action}`,
      params: { functionId, deploymentId: subject.version.id },
    };
  }
  return {
    pattern: `functions.[functionId].executions.[executionId].${action}`,
    params: { functionId, executionId: subject.call.id },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Listeners, cached per isolate: most workspaces have none, and executions raise events on the hot path.

interface Listener {
  fn: FunctionRow;
  events: string[];
}

const LISTENERS_TTL_MS = 5_000;
const listeners = new Map<string, { at: number; list: Listener[] }>();

async function listenersOf(db: Db, workspaceId: string, now: number): Promise<Listener[]> {
  const hit = listeners.get(workspaceId);
  if (hit && now - hit.at < LISTENERS_TTL_MS) return hit.list;
  const rows = await db
    .select()
    .from(functions)
    .where(
      and(
        eq(functions.workspaceId, workspaceId),
        isNull(functions.deletedAt),
        sql`json_extract(${functions.metadata}, ${`$."${META.events}"`}) NOT IN ('[]', '')`,
      ),
    )
    .all();
  const list = rows.map((fn) => ({ fn, events: settingsOf(fn).events })).filter((l) => l.events.length > 0);
  if (listeners.size >= 1_000) listeners.clear();
  listeners.set(workspaceId, { at: now, list });
  return list;
}

/** Whether the workspace's listeners, as cached, are none. */
function knownQuiet(workspaceId: string, now: number): boolean {
  const hit = listeners.get(workspaceId);
  return hit !== undefined && now - hit.at < LISTENERS_TTL_MS && hit.list.length === 0;
}

/** Forgets the listeners of a workspace (a function of it changed here), so the next event reads them again. */
export const forgetListeners = (workspaceId: string) => listeners.delete(workspaceId);

// ---------------------------------------------------------------------------------------------------------------

/** Whether this change may raise events at all (see the loop rules above). */
function raises(ctx: Pick<EventContext, "principal">, subject: EventSubject): boolean {
  if (ctx.principal?.scopes) return false;
  if (subject.kind !== "execution") return true;
  const { trigger, createdBy } = subject.call;
  return trigger !== "event" && !createdBy?.startsWith("call_");
}

/**
 * Raises an event: the functions of the subject's workspace that listen to one of its names get an execution.
 * The work is deferred (never on the answer's path); its failure is logged, never the caller's.
 */
export function raiseEvent(ctx: EventContext, subject: EventSubject, action: EventAction): void {
  // A workspace known to have no listeners costs a call nothing more (a function's change still forgets them).
  if (subject.kind !== "function" && knownQuiet(subject.fn.workspaceId, Date.now())) return;
  ctx.defer(raiseEventNow(ctx, subject, action));
}

/** The same, done before it resolves (for a queue job, which has no request to keep the work alive). */
export async function raiseEventNow(
  ctx: Omit<EventContext, "defer">,
  subject: EventSubject,
  action: EventAction,
): Promise<void> {
  if (subject.kind === "function") forgetListeners(subject.fn.workspaceId);
  if (!raises(ctx, subject)) return;
  await fire(ctx, subject, action).catch((err: unknown) =>
    console.error(JSON.stringify({ error: "could not fire event listeners", cause: String(err) })),
  );
}

async function fire(ctx: Omit<EventContext, "defer">, subject: EventSubject, action: EventAction): Promise<void> {
  const all = await listenersOf(ctx.db, subject.fn.workspaceId, Date.now());
  if (all.length === 0) return;
  const { pattern, params } = nameOf(subject, action);
  const names = eventNames(pattern, params);
  const matched = all.filter(
    (l) =>
      l.events.some((e) => names.includes(e)) &&
      // A function is never fired by its own executions.
      !(subject.kind === "execution" && l.fn.id === subject.fn.id),
  );
  if (matched.length === 0) return;
  // The cache says who listens; whether each is enabled, and the deployment it runs, are read as they are now.
  const current = await ctx.db
    .select()
    .from(functions)
    .where(
      and(
        inArray(
          functions.id,
          matched.map((l) => l.fn.id),
        ),
        isNull(functions.deletedAt),
      ),
    )
    .all();
  const fired = current.filter((fn) => settingsOf(fn).enabled && fn.defaultVersionId !== null);
  if (fired.length === 0) return;
  const body = JSON.stringify(await payloadOf(ctx, subject));
  for (const fn of fired) await enqueueEventCall(ctx, fn, names[0] as string, body);
}

/** The event's object, in Appwrite's model. */
async function payloadOf(ctx: Omit<EventContext, "defer">, subject: EventSubject): Promise<unknown> {
  if (subject.kind === "function") return functionModel(subject.fn);
  if (subject.kind === "deployment") return deploymentModel(subject.fn, subject.version);
  // Kept alive by this work's own request (raiseEvent defers it; a queue job awaits it).
  if (!subject.gone) await recordsWritten(ctx.env, () => {});
  const row = subject.gone ?? (await ctx.db.select().from(calls).where(eq(calls.id, subject.call.id)).get());
  if (!row) return { $id: subject.call.id, functionId: appwriteId(subject.fn) };
  const over = !subject.gone && row.status !== "queued" && row.status !== "running";
  const logs = over ? await ctx.db.select().from(callLogs).where(eq(callLogs.callId, row.id)).get() : undefined;
  const result = over && row.status === "completed" ? await readResult(ctx.env, row) : undefined;
  // As Appwrite's: the execution without its response body (the answer went to whoever made it).
  return { ...executionModel(subject.fn, { row, result, logs: logs?.items ?? [] }, Date.now()), responseBody: "" };
}

/** Queues the execution an event fires: async, trigger `event`, the event's object as its JSON body. */
async function enqueueEventCall(
  ctx: Omit<EventContext, "defer">,
  fn: FunctionRow,
  name: string,
  body: string,
): Promise<void> {
  const now = Date.now();
  const headers = {
    "content-type": "application/json",
    "user-agent": `Appwrite/${APPWRITE_VERSION}`,
    "x-appwrite-trigger": "event",
    "x-appwrite-event": name,
  };
  const args = JSON.stringify(envelope({ method: "POST", path: "/", headers, body }));
  const id = newId("call", now);
  const size = byteLength(args);
  const argsKey = size > INLINE_BYTES ? argsKeyOf(id) : null;
  if (argsKey) await ctx.env.CODE.put(argsKey, args);
  await ctx.db.insert(calls).values({
    id,
    functionId: fn.id,
    workspaceId: fn.workspaceId,
    versionId: fn.defaultVersionId,
    status: "queued",
    trigger: "event",
    maxRetries: fn.maxRetries ?? LIMITS.maxRetries.default,
    createdAt: now,
    argsSize: size,
    args: argsKey ? null : args,
    argsKey,
    httpMethod: "POST",
    httpPath: "/",
    requestHeaders: headers,
    createdBy: "event",
  });
  await enqueueCall(ctx.env, id);
}
