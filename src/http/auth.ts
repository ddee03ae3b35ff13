import type { MiddlewareHandler } from "hono";
import { authenticate, principalOfKeyHash } from "../domain/keys/authenticate";
import { sessionKeyHash, sessionToken } from "../domain/sessions/index";
import type { AppEnv } from "../env";

/**
 * An API key in `Authorization: Bearer`, or a console session: its HttpOnly cookie plus the session's CSRF token in
 * the `x-edgefn-csrf` header (a cookie alone authorizes nothing).
 */
export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  const token = header === undefined ? sessionToken(c.req.header("cookie")) : null;
  c.set(
    "principal",
    token
      ? await principalOfKeyHash(c.env, await sessionKeyHash(c.env, token, c.req.header("x-edgefn-csrf")))
      : await authenticate(c.env, header),
  );
  await next();
};
