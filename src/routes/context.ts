import type { Context } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import type { ServiceContext } from "../services/context";

/** Builds the service context of an authenticated request. */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  return { db: getDb(c.env.DB), env: c.env, principal: c.get("principal"), now: Date.now() };
}
