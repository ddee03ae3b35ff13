/**
 * People's accounts, as a browser and an admin would drive them: users made with the admin key, signed in with email
 * and password (a session cookie plus its CSRF token), invited into workspaces and accepting with their password.
 */
import { exports } from "cloudflare:workers";
import { type ApiResponse, api, expectStatus, unique } from "./api";

export const PASSWORD = "correct horse battery";

/** A client address of its own per call unless given: attempts are counted per address. */
const someAddress = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

export interface Session {
  cookie: string;
  csrf: string;
  body: any;
  setCookie: string;
}

async function parse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

/** A raw request to the platform (any origin), with a JSON body. */
export async function send(
  method: string,
  url: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers = new Headers(options.headers);
  if (options.body !== undefined) headers.set("content-type", "application/json");
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", someAddress());
  const res = await exports.default.fetch(url.startsWith("http") ? url : `http://edgefn.test${url}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return parse(res);
}

/** `POST /api/session` with email and password; the raw answer. */
export function signInRaw(
  email: string,
  password: string,
  options: { origin?: string; address?: string; remember?: boolean } = {},
) {
  return send("POST", `${options.origin ?? "http://edgefn.test"}/api/session`, {
    body: { email, password, ...(options.remember === undefined ? {} : { remember: options.remember }) },
    headers: options.address ? { "cf-connecting-ip": options.address } : {},
  });
}

/** The session of an answer that must have set one. */
export function sessionOf(res: ApiResponse): Session {
  expectStatus(res, 200);
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { cookie: setCookie.split(";")[0] as string, csrf: res.body.csrfToken, body: res.body, setCookie };
}

export async function signIn(email: string, password = PASSWORD): Promise<Session> {
  return sessionOf(await signInRaw(email, password));
}

/** A request made with a session, as the console makes it (cookie and CSRF header). */
export function asSession(
  s: Session,
  method: string,
  path: string,
  options: { body?: unknown; csrf?: string | null; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { cookie: s.cookie, ...options.headers };
  const csrf = options.csrf === undefined ? s.csrf : options.csrf;
  if (csrf !== null) headers["x-edgefn-csrf"] = csrf;
  return send(method, path, { body: options.body, headers });
}

/** A user made by the admin key. */
export async function newUser(extra: { platformAdmin?: boolean; password?: string; email?: string } = {}) {
  const email = extra.email ?? `${unique("user")}@example.com`;
  const user = expectStatus(
    await api("POST", "/api/users", {
      body: { email, password: extra.password ?? PASSWORD, platformAdmin: extra.platformAdmin ?? false },
    }),
    201,
  );
  return { ...user, password: extra.password ?? PASSWORD } as { id: string; email: string; password: string };
}

/** An invite made with the admin key; its token. */
export async function invite(workspaceId: string, email: string, role: string): Promise<string> {
  return expectStatus(await api("POST", `/api/workspaces/${workspaceId}/invites`, { body: { email, role } }), 201)
    .token;
}

/** Makes an existing user a member (an invite accepted with their password). */
export async function join(user: { email: string; password: string }, workspaceId: string, role: string) {
  const token = await invite(workspaceId, user.email, role);
  expectStatus(await send("POST", `/api/invites/${token}/accept`, { body: { password: user.password } }), 200);
}

/** A user who is a member of these workspaces with these roles, signed in. */
export async function member(roles: Record<string, string>) {
  const user = await newUser();
  for (const [ws, role] of Object.entries(roles)) await join(user, ws, role);
  return { user, session: await signIn(user.email, user.password) };
}
