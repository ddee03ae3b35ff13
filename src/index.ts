import { newApp } from "./app";
import { getDb } from "./db/client";
import type { Env } from "./env";
import { sweepDeletedFunctions } from "./services/functions/sweep";

export { FunctionObject } from "./durable/function-object";

const app = newApp();

export default {
  fetch: app.fetch,

  /** The every-minute Cron Trigger: housekeeping now, schedules later. */
  async scheduled(controller, env, ctx) {
    const db = getDb(env.DB);
    ctx.waitUntil(
      sweepDeletedFunctions(db, env, controller.scheduledTime).then((purged) => {
        if (purged > 0) console.log(JSON.stringify({ event: "sweep", purgedFunctions: purged }));
      }),
    );
  },

  /** Jobs (async calls, builds) arrive here; the dead-letter queue records what exhausted its retries. */
  async queue(batch, _env) {
    for (const message of batch.messages) {
      console.warn(JSON.stringify({ event: "unknown_job", queue: batch.queue, id: message.id }));
      message.ack();
    }
  },
} satisfies ExportedHandler<Env>;
