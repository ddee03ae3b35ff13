import { WorkerEntrypoint } from "cloudflare:workers";
import { sweepInvites } from "./domain/accounts/invites";
import { sweepSignInAttempts } from "./domain/accounts/throttle";
import { deadLetterCall, runQueuedCall } from "./domain/calls/consumer";
import { sweepLostCalls, sweepOldCalls } from "./domain/calls/sweep";
import { sweepAbandonedUploads } from "./domain/compat/appwrite/uploads";
import { sweepDeletedFunctions } from "./domain/functions/sweep";
import { dispatchSchedules, requeueStaleCalls } from "./domain/schedules/dispatch";
import { sweepSessions } from "./domain/sessions/index";
import { failBuild, runBuild, sweepStaleBuilds } from "./domain/versions/build";
import type { Env } from "./env";
import { type App, newApp } from "./http/app";
import { bodyLimit, capBody } from "./lib/body-cap";
import { functionHost, runDomain } from "./lib/origin";
import { getDb } from "./storage/db";

export { FunctionObject } from "./durable/function-object";
export { EgressGateway } from "./runtime/egress";

type Worker = ReturnType<typeof createWorker>;

/**
 * The Worker: fetch (the app), scheduled (the every-minute cron) and queue (builds and async calls). Made by a
 * function so that another entry can serve the same platform with an app of its own (the benchmarks' worker adds
 * its baseline routes; the production bundle holds none).
 */
export function createWorker(app: App = newApp()) {
  return {
    /** Every request's body is capped for its route before the app sees it. */
    fetch(request, env, ctx) {
      const url = new URL(request.url);
      const fnOrigin = functionHost(request.headers.get("host") ?? url.host, runDomain(env.EDGEFN_RUN_DOMAIN)) !== null;
      return app.fetch(capBody(request, bodyLimit(url.pathname, fnOrigin)), env, ctx);
    },

    /** The every-minute Cron Trigger: fires due schedules first, then does the housekeeping. */
    async scheduled(controller, env, ctx) {
      const db = getDb(env.DB);
      const now = controller.scheduledTime;
      const schedules = await dispatchSchedules(db, env, now);
      // Spent attempt counters and invites harm nothing while they wait (reads check windows and expiry): their
      // sweep runs every 15 minutes, not every minute.
      const accountsSweep = Math.floor(now / 60_000) % 15 === 0;
      ctx.waitUntil(
        Promise.all([
          sweepDeletedFunctions(db, env, now),
          sweepLostCalls(db, now),
          sweepOldCalls(db, env, now),
          requeueStaleCalls(db, env, now),
          sweepStaleBuilds(db, env, now),
          sweepAbandonedUploads(env, now),
          sweepSessions(env, now),
          accountsSweep ? sweepSignInAttempts(db, now) : 0,
          accountsSweep ? sweepInvites(env, now) : 0,
        ]).then(
          ([
            purgedFunctions,
            lostCalls,
            deletedCalls,
            requeuedCalls,
            builds,
            abandonedUploadParts,
            sessions,
            signInCounters,
            invites,
          ]) => {
            console.log(
              JSON.stringify({
                event: "cron",
                cron: controller.cron,
                scheduledTime: new Date(now).toISOString(),
                dueSchedules: schedules.due,
                firedCalls: schedules.fired,
                purgedFunctions,
                lostCalls,
                deletedCalls,
                requeuedCalls,
                requeuedBuilds: builds.requeued,
                interruptedBuilds: builds.failed,
                abandonedUploadParts,
                endedSessions: sessions,
                expiredSignInCounters: signInCounters,
                oldInvites: invites,
              }),
            );
          },
        ),
      );
    },

    /**
     * Jobs arrive here: builds and async calls, each message on its own (a slow call does not hold up the
     * others). The dead-letter queue records what exhausted its retries.
     */
    async queue(batch, env, ctx) {
      const db = getDb(env.DB);
      const calls = { db, env, defer: (promise: Promise<unknown>) => ctx.waitUntil(promise) };
      const dead = batch.queue.endsWith("-dlq");
      await Promise.all(
        batch.messages.map(async (message) => {
          const job = message.body as { type?: string; versionId?: string; callId?: string; reason?: string };
          try {
            if (dead) {
              console.error(JSON.stringify({ event: "dead_letter", job }));
              if (job.type === "build" && job.versionId)
                await failBuild(db, job.versionId, "The build could not be run");
              if (job.type === "call" && job.callId) await deadLetterCall(db, job.callId, job.reason);
            } else if (job.type === "build" && job.versionId) await runBuild(db, env, job.versionId);
            else if (job.type === "call" && job.callId) await runQueuedCall(calls, job.callId);
            else console.warn(JSON.stringify({ event: "unknown_job", id: message.id }));
            message.ack();
          } catch (err) {
            console.error(JSON.stringify({ event: "job_failed", job, error: String(err) }));
            message.retry();
          }
        }),
      );
    },
  } satisfies ExportedHandler<Env>;
}

/** Miniflare's route that fires the cron trigger (`?cron=` and `?time=`, epoch ms), kept on the runtime's port. */
const SCHEDULED_ROUTE = "/cdn-cgi/local/scheduled";

/**
 * A Worker's fetch as an entrypoint of its own, which the local runtime (scripts/lib/runtime.mjs) serves on its
 * port with nothing in front: Miniflare would otherwise route every request through its entry worker and, for a
 * Worker with assets, the assets router and its proxy. Miniflare's scheduled route answers here as it does
 * there ("ok", or "error" with a 500 when the handler threw). On Cloudflare nothing addresses it.
 */
export function localEntrypoint(worker: Worker) {
  return class extends WorkerEntrypoint<Env> {
    override async fetch(request: Request<unknown, IncomingRequestCfProperties>) {
      if (request.url.includes(SCHEDULED_ROUTE)) {
        const url = new URL(request.url);
        if (url.pathname === SCHEDULED_ROUTE) return this.scheduledNow(url.searchParams);
      }
      return worker.fetch(request, this.env, this.ctx);
    }

    private async scheduledNow(params: URLSearchParams): Promise<Response> {
      const time = Number(params.get("time") ?? Number.NaN);
      const controller = {
        cron: params.get("cron") ?? "",
        scheduledTime: Number.isFinite(time) ? time : Date.now(),
        noRetry() {},
      };
      try {
        await worker.scheduled(controller, this.env, this.ctx);
        return new Response("ok");
      } catch (err) {
        console.error(JSON.stringify({ event: "cron_failed", error: String(err) }));
        return new Response("error", { status: 500 });
      }
    }
  };
}

const worker = createWorker();
export default worker;
export const LocalHttp = localEntrypoint(worker);
