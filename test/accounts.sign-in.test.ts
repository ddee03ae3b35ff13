/**
 * Signing in with an account: email and password for a session cookie and a CSRF token; the same answer for an
 * unknown email and a wrong password; attempts limited per email and per client address; passwords kept only as
 * PBKDF2 hashes with their parameters; the cookie's flags on this machine and elsewhere; the admin key still signs
 * the console in.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { base64url } from "../src/lib/crypto";
import { asSession, newUser, PASSWORD, send, sessionOf, signIn, signInRaw } from "./support/accounts";
import { ADMIN_KEY, api, expectError, expectStatus, unique } from "./support/api";

const row = (email: string) => env.DB.prepare("SELECT * FROM users WHERE email = ?").bind(email).first<any>();

describe("signing in with email and password", () => {
  it("gives a session cookie and a CSRF token; the email is trimmed and lower-cased", async () => {
    const local = unique("ada");
    const created = expectStatus(
      await api("POST", "/api/users", { body: { email: ` ${local.toUpperCase()}@Example.COM `, password: PASSWORD } }),
      201,
    );
    expect(created.email).toBe(`${local}@example.com`);

    const s = sessionOf(await signInRaw(`  ${local}@EXAMPLE.com`, PASSWORD));
    expect(s.body).toMatchObject({
      kind: "user",
      keyId: null,
      workspaceId: null,
      user: { id: created.id, email: `${local}@example.com`, platformAdmin: false },
    });
    expect(s.setCookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect(JSON.stringify(s.body) + s.setCookie).not.toContain(PASSWORD);

    const me = expectStatus(await asSession(s, "GET", "/api/me"), 200);
    expect(me).toMatchObject({ kind: "user", id: created.id, user: { email: `${local}@example.com` } });
    expect(me.sessionId).toMatch(/^ses_/);
  });

  it("needs the CSRF token with the cookie: the cookie alone, or another session's token, is a 401", async () => {
    const user = await newUser();
    const a = await signIn(user.email);
    const b = await signIn(user.email);
    expectError(await asSession(a, "GET", "/api/me", { csrf: null }), 401, "unauthorized");
    expectError(await asSession(a, "GET", "/api/me", { csrf: "not-the-token" }), 401, "unauthorized");
    expectError(await asSession(a, "GET", "/api/me", { csrf: b.csrf }), 401, "unauthorized");
    // Nor does a write go through without it.
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(user.id).first();
    expectError(await asSession(a, "DELETE", "/api/me/sessions", { csrf: null }), 401, "unauthorized");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(user.id).first()).toEqual(
      before,
    );
    expectStatus(await asSession(a, "GET", "/api/me"), 200);
  });

  it("answers an unknown email and a wrong password alike, and sets no cookie", async () => {
    const user = await newUser();
    const wrong = await signInRaw(user.email, "not the password");
    const unknown = await signInRaw(`${unique("nobody")}@example.com`, "not the password");
    for (const res of [wrong, unknown]) {
      expectError(res, 401, "unauthorized");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    expect(wrong.body.error.message).toBe("Wrong email or password");
  });

  it("keeps the password only as PBKDF2-SHA256 with its iterations and salt", async () => {
    const a = await newUser();
    const b = await newUser();
    const [ra, rb] = [await row(a.email), await row(b.email)];
    for (const r of [ra, rb]) {
      expect(r).toMatchObject({ password_algorithm: "pbkdf2-sha256", password_iterations: 100_000 });
      expect(r.password_salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(r.password_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(r)).not.toContain(PASSWORD);
    }
    // The same password, two salts, two hashes.
    expect(ra.password_salt).not.toBe(rb.password_salt);
    expect(ra.password_hash).not.toBe(rb.password_hash);
  });

  it("hashes a password kept with fewer iterations again at its next sign-in", async () => {
    const user = await newUser();
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(PASSWORD), "PBKDF2", false, [
      "deriveBits",
    ]);
    const old = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 1000 }, key, 256);
    await env.DB.prepare(
      "UPDATE users SET password_iterations = 1000, password_salt = ?, password_hash = ? WHERE id = ?",
    )
      .bind(base64url(salt), base64url(new Uint8Array(old)), user.id)
      .run();
    await signIn(user.email);
    const after = await row(user.email);
    expect(after.password_iterations).toBe(100_000);
    expect(after.password_salt).not.toBe(base64url(salt));
    await signIn(user.email);
    expectError(await signInRaw(user.email, "not the password"), 401, "unauthorized");
  });

  it("refuses bad accounts and bad sign-in bodies with a 400 that says why, and changes nothing", async () => {
    const count = () => env.DB.prepare("SELECT COUNT(*) AS n FROM users").first("n");
    const before = await count();
    const short = expectError(
      await api("POST", "/api/users", { body: { email: `${unique("s")}@example.com`, password: "7 chars" } }),
      400,
      "bad_request",
    );
    expect(short.message).toMatch(/at least 8 characters/);
    for (const email of ["not-an-email", "a b@example.com", "@example.com", "a@b", ""]) {
      expectError(await api("POST", "/api/users", { body: { email, password: PASSWORD } }), 400, "bad_request");
    }
    const taken = await newUser();
    expectError(
      await api("POST", "/api/users", { body: { email: taken.email.toUpperCase(), password: PASSWORD } }),
      409,
      "conflict",
    );
    expect(await count()).toBe((before as number) + 1);

    for (const body of [
      {},
      { email: taken.email },
      { password: PASSWORD },
      { key: ADMIN_KEY, email: taken.email, password: PASSWORD },
      { email: taken.email, password: PASSWORD, admin: true },
    ]) {
      const res = await send("POST", "/api/session", { body });
      expectError(res, 400, "bad_request");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
  });

  it("limits attempts per email: past 10 in 15 minutes every attempt is a 429, right password or not", async () => {
    const user = await newUser();
    const nobody = `${unique("nobody")}@example.com`;
    for (let i = 0; i < 10; i++) {
      expectError(await signInRaw(user.email, `wrong ${i}`), 401, "unauthorized");
      expectError(await signInRaw(nobody, `wrong ${i}`), 401, "unauthorized");
    }
    const locked = await signInRaw(user.email, PASSWORD);
    const err = expectError(locked, 429, "rate_limited");
    const retry = Number(locked.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(15 * 60);
    expect(locked.headers.get("set-cookie")).toBeNull();
    // An unknown email is limited exactly alike: the answer does not tell them apart.
    const alike = expectError(await signInRaw(nobody, "wrong"), 429, "rate_limited");
    expect(alike.message).toBe(err.message);
    // Other accounts sign in as ever.
    await signIn((await newUser()).email);

    // Once the window is over, the right password works again, and clears the count.
    await env.DB.prepare("UPDATE sign_in_attempts SET window_start = window_start - ?")
      .bind(15 * 60_000)
      .run();
    await signIn(user.email);
    expectError(await signInRaw(user.email, "wrong again"), 401, "unauthorized");
  });

  it("limits failed attempts per client address, and a right password does not count against it", async () => {
    const address = "203.0.113.77";
    const user = await newUser();
    // Right passwords from one address, many times over the limit: they are not failures.
    for (let i = 0; i < 55; i++) expectStatus(await signInRaw(user.email, PASSWORD, { address }), 200);
    for (let i = 0; i < 50; i++) {
      expectError(await signInRaw(`${unique("guess")}@example.com`, "guess", { address }), 401, "unauthorized");
    }
    const fresh = await newUser();
    expectError(await signInRaw(fresh.email, PASSWORD, { address }), 429, "rate_limited");
    // The same account from another address.
    expectStatus(await signInRaw(fresh.email, PASSWORD, { address: "203.0.113.78" }), 200);
  });
});

describe("the session cookie's flags", () => {
  const flags = async (origin: string, body: unknown) => {
    const res = await send("POST", `${origin}/api/session`, { body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.headers.get("set-cookie") as string;
  };

  it("is plain on http to this machine, __Host- and Secure everywhere else", async () => {
    const user = await newUser();
    for (const body of [{ email: user.email, password: PASSWORD }, { key: ADMIN_KEY }]) {
      for (const origin of ["http://localhost:8787", "http://127.0.0.1:8787", "http://[::1]:8787"]) {
        expect(await flags(origin, body)).toMatch(
          /^edgefn_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/,
        );
      }
      for (const origin of ["https://edgefn.example.com", "http://edgefn.example.com", "https://localhost"]) {
        expect(await flags(origin, body)).toMatch(
          /^__Host-edgefn_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
        );
      }
    }
    // Signing out clears the cookie it set, with the same flags.
    const out = await send("DELETE", "https://edgefn.example.com/api/session");
    expect(out.headers.get("set-cookie")).toMatch(/^__Host-edgefn_session=; .*Secure; Max-Age=0$/);
  });
});

describe("the admin key", () => {
  it("still opens the console, for the first sign-in and for recovery", async () => {
    const s = sessionOf(await send("POST", "/api/session", { body: { key: ADMIN_KEY } }));
    expect(s.body).toMatchObject({ kind: "key", role: "admin", workspaceId: null, keyId: "key_admin", user: null });
    const me = expectStatus(await asSession(s, "GET", "/api/me"), 200);
    expect(me).toMatchObject({ kind: "key", id: "key_admin", allWorkspaces: true, user: null });
    // It makes the first user and resets a password.
    const email = `${unique("first")}@example.com`;
    const made = expectStatus(
      await asSession(s, "POST", "/api/users", { body: { email, password: PASSWORD, platformAdmin: true } }),
      201,
    );
    expectStatus(await asSession(s, "PATCH", `/api/users/${made.id}`, { body: { password: "a new password" } }), 200);
    expectError(await signInRaw(email, PASSWORD), 401, "unauthorized");
    expect((await signIn(email, "a new password")).body).toMatchObject({
      role: "admin",
      user: { platformAdmin: true },
    });
  });
});
