/**
 * People's accounts: users with passwords, their sessions, memberships and invites. What another surface needs to
 * sign a person in (an SDK's email-and-password session) is here:
 *
 * - `verifyPassword(env, email, password, { clientAddress })`: the user or null (the same null for an unknown email
 *   and a wrong password), after the per-email and per-address attempt limits (a 429 ApiError past them).
 * - `openUserSession(env, userId, { remember, userAgent })`: a new session `{ id, token, csrf, expiresAt }`; put
 *   the token in the surface's own cookie.
 * - `principalOfUserSession(env, token)`: who the session's token acts as (401 once it ended, or its user is gone).
 * - `closeSession(env, token)`: signs it out.
 */
import type { Env } from "../../env";
import { type OpenedSession, openSession } from "../sessions/index";

export { closeSession } from "../sessions/index";
export { normalizeEmail } from "./emails";
export { describeSession, principalOfSession, principalOfUser, principalOfUserSession } from "./principal";
export { verifyPassword } from "./users";

export function openUserSession(
  env: Env,
  userId: string,
  options: { remember?: boolean; userAgent?: string | null } = {},
  now = Date.now(),
): Promise<OpenedSession> {
  return openSession(env, { userId }, options, now);
}
