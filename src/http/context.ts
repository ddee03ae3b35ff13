import type { Context } from "hono";
import type { ServiceContext } from "../domain/context";
import type { AppEnv } from "../env";
import { getDb } from "../storage/db";

/** The context of a request no key has authenticated yet: storage, bindings and its waitUntil. */
export function requestContext<E extends { Bindings: AppEnv["Bindings"] }>(
  c: Context<E>,
): Omit<ServiceContext, "principal"> {
  return {
    db: getDb(c.env.DB),
    env: c.env,
    now: Date.now(),
    defer: (promise) => c.executionCtx.waitUntil(promise),
  };
}

/** Builds the service context of an authenticated request. */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  return {
    db: getDb(c.env.DB),
    env: c.env,
    principal: c.get("principal"),
    now: Date.now(),
    defer: (promise) => c.executionCtx.waitUntil(promise),
  };
}
