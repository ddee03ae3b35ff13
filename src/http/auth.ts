import type { Context, MiddlewareHandler } from "hono";
import { principalOfSession } from "../domain/accounts/principal";
import { authenticate } from "../domain/keys/authenticate";
import { sessionToken } from "../domain/sessions/index";
import type { AppEnv } from "../env";

/**
 * An API key in `Authorization: Bearer`, or a console session (a key's or a user's): its HttpOnly cookie plus the
 * session's CSRF token in the `x-edgefn-csrf` header (a cookie alone authorizes nothing).
 */
export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  const token = header === undefined ? sessionToken(c.req.header("cookie")) : null;
  c.set(
    "principal",
    token ? await principalOfSession(c.env, token, c.req.header("x-edgefn-csrf")) : await authenticate(c.env, header),
  );
  await next();
};

/**
 * The client's address, which sign-in attempts are counted by: `CF-Connecting-IP`, which Cloudflare sets on every
 * request whatever the client sent (the local runtime sets it from the connection when the request has none);
 * null when absent.
 */
export function clientAddress(c: Context<AppEnv>): string | null {
  return c.req.header("cf-connecting-ip")?.slice(0, 64) ?? null;
}
