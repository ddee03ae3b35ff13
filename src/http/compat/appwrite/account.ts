/**
 * `/v1/account`: what Appwrite's CLI (`appwrite login`, `logout`, `whoami`) and client SDKs call to sign in with an
 * email and password, as edgefn's users. The session's token is an HttpOnly, SameSite=Strict cookie named
 * `a_session_<project>` (the CLI keeps `a_session_console` and sends it back as its Cookie header); a browser SDK
 * may send it in `X-Fallback-Cookies` instead. A session acts only with `X-Appwrite-Project`, a header no plain
 * cross-site form can send (and this server allows no cross-origin requests).
 */
import type { HonoRequest } from "hono";
import { z } from "zod";
import {
  accountModel,
  accountOfToken,
  CONSOLE_PROJECT,
  principalOfAppwriteSession,
  signInWithPassword,
  signOut,
} from "../../../domain/compat/appwrite/account";
import { secureCookieFor } from "../../../domain/sessions/index";
import type { Env, Principal } from "../../../env";
import { badRequest } from "../../../lib/errors";
import { readJson } from "../kit";
import type { AwRouter, C } from "./context";

const COOKIE_PREFIX = "a_session_";
/** A project id fit for a cookie's name (Appwrite's ids: letters, digits, `.`, `-`, `_`). */
const PROJECT_ID = /^[A-Za-z0-9._-]{1,64}$/;

const SignInBody = z.object({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
});

/** The `a_session_*` values a request carries: its Cookie header's, then its `X-Fallback-Cookies` (a JSON object). */
function sessionCookies(req: HonoRequest): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (req.header("cookie") ?? "").split(";")) {
    const at = part.indexOf("=");
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (at > 0 && name.startsWith(COOKIE_PREFIX) && value && !found.has(name)) found.set(name, value);
  }
  const fallback = req.header("x-fallback-cookies");
  if (fallback) {
    try {
      const parsed: unknown = JSON.parse(fallback);
      if (parsed && typeof parsed === "object") {
        for (const [name, value] of Object.entries(parsed)) {
          if (name.startsWith(COOKIE_PREFIX) && typeof value === "string" && value && !found.has(name)) {
            found.set(name, value);
          }
        }
      }
    } catch {
      // Not JSON: no cookies in it.
    }
  }
  return found;
}

/** The session token for this project: its own cookie, else the console's (which Appwrite's CLI uses everywhere). */
export function sessionTokenOf(req: HonoRequest): string | null {
  const project = req.header("x-appwrite-project");
  if (!project) return null;
  const cookies = sessionCookies(req);
  return cookies.get(`${COOKIE_PREFIX}${project}`) ?? cookies.get(`${COOKIE_PREFIX}${CONSOLE_PROJECT}`) ?? null;
}

/**
 * The principal of a request's Appwrite session, if it carries a live one with `X-Appwrite-Project`: the member in
 * the console or in admin mode, else a user of the project decided by the functions' roles.
 */
export async function appwriteSessionPrincipal(req: HonoRequest, env: Env): Promise<Principal | undefined> {
  const token = sessionTokenOf(req);
  if (!token) return undefined;
  const asMember = req.header("x-appwrite-project") === CONSOLE_PROJECT || req.header("x-appwrite-mode") === "admin";
  return principalOfAppwriteSession(env, token, asMember);
}

function cookieFor(c: C, project: string, token: string, maxAge: number): string {
  const parts = [`${COOKIE_PREFIX}${project}=${token}`, "Path=/", "HttpOnly", "SameSite=Strict", `Max-Age=${maxAge}`];
  if (secureCookieFor(new URL(c.req.url))) parts.push("Secure");
  return parts.join("; ");
}

/** The project a sign-in is for: it names the cookie. */
function signInProject(c: C): string {
  const project = c.req.header("x-appwrite-project");
  if (!project) throw badRequest("Missing the X-Appwrite-Project header: send `console` or an edgefn workspace");
  if (!PROJECT_ID.test(project)) throw badRequest("Invalid X-Appwrite-Project header");
  return project;
}

export function registerAccountRoutes(v1: AwRouter): void {
  const signIn = async (c: C) => {
    const project = signInProject(c);
    const body = await readJson(c, SignInBody, { required: true });
    const { token, session } = await signInWithPassword(c.env, {
      email: body.email,
      password: body.password,
      // The client's address as /api/session counts it (attempts are limited per address as well as per email).
      clientAddress: c.req.header("cf-connecting-ip")?.slice(0, 64) ?? null,
      userAgent: c.req.header("user-agent") ?? null,
    });
    const maxAge = Math.max(0, Math.floor((Date.parse(session.expire) - Date.now()) / 1000));
    c.header("set-cookie", cookieFor(c, project, token, maxAge));
    c.header("cache-control", "no-store");
    return c.json(session, 201);
  };
  v1.post("/account/sessions/email", signIn);
  // Appwrite before 1.4 (and its older CLIs) signed in here.
  v1.post("/account/sessions", signIn);

  v1.get("/account", async (c) => {
    const { user } = await accountOfToken(c.env, sessionTokenOf(c.req));
    c.header("cache-control", "no-store");
    return c.json(accountModel(user));
  });

  v1.delete("/account/sessions/:sessionId", async (c) => {
    const project = c.req.header("x-appwrite-project") ?? CONSOLE_PROJECT;
    await signOut(c.env, sessionTokenOf(c.req), c.req.param("sessionId"));
    if (PROJECT_ID.test(project)) c.header("set-cookie", cookieFor(c, project, "", 0));
    return c.body(null, 204);
  });
}
