import { newApp } from "./app";
import { getDb } from "./db/client";
import type { Env } from "./env";
import { sweepDeletedFunctions } from "./services/functions/sweep";
import { failBuild, runBuild } from "./services/versions/build";

export { FunctionObject } from "./durable/function-object";
export { EgressGateway } from "./runtime/egress";

const app = newApp();

export default {
  fetch: app.fetch,

  /** The every-minute Cron Trigger: housekeeping now, schedules later. */
  async scheduled(controller, env, ctx) {
    const db = getDb(env.DB);
    ctx.waitUntil(
      sweepDeletedFunctions(db, env, controller.scheduledTime).then((purged) => {
        console.log(JSON.stringify({ event: "cron", cron: controller.cron, purgedFunctions: purged }));
      }),
    );
  },

  /** Jobs (builds; async calls later) arrive here; the dead-letter queue records what exhausted its retries. */
  async queue(batch, env) {
    const db = getDb(env.DB);
    for (const message of batch.messages) {
      const job = message.body as { type?: string; versionId?: string };
      if (batch.queue.endsWith("-dlq")) {
        console.error(JSON.stringify({ event: "dead_letter", job }));
        if (job.type === "build" && job.versionId) await failBuild(db, job.versionId, "The build could not be run");
      } else if (job.type === "build" && job.versionId) {
        await runBuild(db, env, job.versionId);
      } else console.warn(JSON.stringify({ event: "unknown_job", id: message.id }));
      message.ack();
    }
  },
} satisfies ExportedHandler<Env>;
