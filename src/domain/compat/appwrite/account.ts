/**
 * Signing in the way Appwrite's SDKs and CLI do (`/v1/account/sessions/email`), with edgefn's own accounts: the
 * session is an edgefn user session whose token travels in Appwrite's cookie (`a_session_<project>`), and who it
 * acts as depends on how the request comes, as on Appwrite:
 *
 * - in the console (`X-Appwrite-Project: console`) or in admin mode (`X-Appwrite-Mode: admin`, what the CLI sends
 *   for a project): the member, with their role in each workspace they belong to (a workspace they do not belong to
 *   is not found);
 * - otherwise (a client SDK in a project): a user of the project, whose access the functions' `execute` roles
 *   decide, and who holds no management scope.
 */

import type { Env, Principal } from "../../../env";
import { ApiError } from "../../../lib/errors";
import type { SessionRow, UserRow } from "../../../storage/schema";
import {
  closeSession,
  describeSession,
  openUserSession,
  principalOfUserSession,
  verifyPassword,
} from "../../accounts/index";
import { appwriteFailure } from "./failures";
import { iso } from "./models";

/** The project Appwrite's console is (its own sessions are `a_session_console`). */
export const CONSOLE_PROJECT = "console";

const INVALID_CREDENTIALS = "Invalid credentials. Please check the email and password.";

/** Appwrite's User model (as GET /v1/account shows it) of an edgefn account. */
export function accountModel(user: UserRow) {
  return {
    $id: user.id,
    $createdAt: iso(user.createdAt),
    $updatedAt: iso(user.updatedAt),
    name: user.name ?? "",
    registration: iso(user.createdAt),
    status: true,
    labels: [],
    passwordUpdate: iso(user.passwordChangedAt),
    email: user.email,
    phone: "",
    emailVerification: false,
    phoneVerification: false,
    mfa: false,
    prefs: {},
    targets: [],
    accessedAt: iso(user.updatedAt),
  };
}

/** Appwrite's Session model of an edgefn user session (its secret is never shown: it lives in the cookie only). */
export function sessionModel(session: Pick<SessionRow, "id" | "createdAt" | "expiresAt">, user: UserRow) {
  return {
    $id: session.id,
    $createdAt: iso(session.createdAt),
    $updatedAt: iso(session.createdAt),
    userId: user.id,
    expire: iso(session.expiresAt),
    provider: "email",
    providerUid: user.email,
    providerAccessToken: "",
    providerAccessTokenExpiry: "",
    providerRefreshToken: "",
    ip: "",
    osCode: "",
    osName: "",
    osVersion: "",
    clientType: "",
    clientCode: "",
    clientName: "",
    clientVersion: "",
    clientEngine: "",
    clientEngineVersion: "",
    deviceName: "",
    deviceBrand: "",
    deviceModel: "",
    countryCode: "--",
    countryName: "Unknown",
    current: true,
    factors: ["password"],
    secret: "",
    mfaUpdatedAt: "",
  };
}

/**
 * Email and password for a new session (30 days, as the CLI keeps it): the token for the cookie and the Session
 * model. A wrong email or password is Appwrite's 401 `user_invalid_credentials`; too many attempts its 429.
 */
export async function signInWithPassword(
  env: Env,
  input: { email: string; password: string; clientAddress: string | null; userAgent: string | null },
) {
  let user: UserRow | null;
  try {
    user = await verifyPassword(env, input.email, input.password, { clientAddress: input.clientAddress });
  } catch (err) {
    if (err instanceof ApiError && err.code === "rate_limited") {
      const retry = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      throw new ApiError(
        "rate_limited",
        "Rate limit for the current endpoint has been exceeded. Please try again after some time.",
        { appwriteType: "general_rate_limit_exceeded", retryAfterSeconds: retry },
      );
    }
    throw err;
  }
  if (!user) throw appwriteFailure("unauthorized", "user_invalid_credentials", INVALID_CREDENTIALS);
  const opened = await openUserSession(env, user.id, { remember: true, userAgent: input.userAgent });
  return { token: opened.token, session: sessionModel({ ...opened, createdAt: Date.now() }, user) };
}

/** The guest's 401 for what needs a signed-in user (`account` scope). */
export const guestMissingAccount = () =>
  appwriteFailure("unauthorized", "general_unauthorized_scope", "User (role: guests) missing scope (account)");

/** The live user session of a token, and its user; a guest's 401 for anything else (ended, a key's, no user). */
export async function accountOfToken(env: Env, token: string | null) {
  if (!token) throw guestMissingAccount();
  try {
    const { session, principal, user } = await describeSession(env, token);
    if (session.userId === null || !user) throw guestMissingAccount();
    return { session, principal, user };
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthorized") throw guestMissingAccount();
    throw err;
  }
}

/** Signs the session of this token out (it must be a live user session). */
export async function signOut(env: Env, token: string | null, sessionId: string): Promise<void> {
  const { session } = await accountOfToken(env, token);
  if (sessionId !== "current" && sessionId !== session.id) {
    throw appwriteFailure("not_found", "user_session_not_found", "The current user session could not be found.");
  }
  await closeSession(env, token as string);
}

/**
 * Who a session's token acts as on the surface (see the top of this file): the member, or a user decided by
 * roles. undefined: the token is no live user session (the request is then a guest's).
 */
export async function principalOfAppwriteSession(
  env: Env,
  token: string,
  asMember: boolean,
): Promise<Principal | undefined> {
  let member: Principal;
  try {
    member = await principalOfUserSession(env, token);
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthorized") return undefined;
    throw err;
  }
  if (asMember) return member;
  const id = member.userId as string;
  // No userId and no memberships: nothing of edgefn's roles applies, only the function's `execute` roles.
  return { keyId: id, role: "viewer", workspaceId: "", functionIds: [], user: { id, verified: false } };
}
