import type { Env } from "../env";
import { ping } from "../storage/bulk";

/** Whether the platform's storage answers (the health check): throws when D1 does not. */
export async function checkStorage(env: Pick<Env, "DB">): Promise<void> {
  await ping(env.DB);
}
