import type { Context } from "hono";
import type { ServiceContext } from "../domain/context";
import type { AppEnv } from "../env";
import { getDb } from "../storage/db";

/** Builds the service context of an authenticated request. */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  return { db: getDb(c.env.DB), env: c.env, principal: c.get("principal"), now: Date.now() };
}
