/**
 * Rotating EDGEFN_SECRETS_KEY: values carry the id of the key that sealed them (never the key), the newest key
 * seals, every configured key opens what it sealed, and a re-encryption moves everything to the newest key, after
 * which the older ones can be dropped. Old v1 values still open; a value moved to another function or name does not.
 * A rotation here is a copy of the test runtime's env with other keys, handed to the service verbs and to the
 * Worker's fetch handler.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/domain/context";
import { createFunction, deleteFunction, lifecycle, updateFunction } from "../src/domain/functions";
import { reencryptSecrets } from "../src/domain/functions/secrets";
import type { Env } from "../src/env";
import worker from "../src/index";
import { base64url } from "../src/lib/crypto";
import { currentKeyId, decryptAll, decryptSecret, encryptSecret, storedKeyId } from "../src/lib/secrets";
import { getDb } from "../src/storage/db";
import type { FunctionRow } from "../src/storage/schema";
import { ADMIN_KEY, api, expectError, expectStatus, newWorkspace, tenant, unique, type Workspace } from "./support/api";
import { deploy, invoke } from "./support/deploy";

const A = "rotation-test-key-A-the-older-one";
/** The test runtime's own key: the platform behind `api()` knows only this one, as after A is dropped. */
const B = env.EDGEFN_SECRETS_KEY as string;

const withKeys = (current: string, previous?: string): Env => ({
  ...env,
  EDGEFN_SECRETS_KEY: current,
  EDGEFN_SECRETS_KEY_PREVIOUS: previous,
});
const onlyA = withKeys(A);
const rotated = withKeys(B, ` some-other-retired-key , ${A} `);
const onlyB = withKeys(B);

const serviceCtx = (keys: Env, later = 0): ServiceContext => ({
  db: getDb(env.DB),
  env: keys,
  principal: { keyId: "key_rotation_test", role: "admin", workspaceId: null },
  now: Date.now() + later,
  defer: (promise) => void promise,
});

/** The functions row as D1 holds it. */
const rowOf = (id: string) =>
  env.DB.prepare("SELECT secrets, config_revision, updated_at FROM functions WHERE id = ?")
    .bind(id)
    .first<{ secrets: string | null; config_revision: number; updated_at: number }>();
const keyIdsOf = async (id: string) =>
  Object.values(JSON.parse((await rowOf(id))?.secrets ?? "{}") as Record<string, string>).map(storedKeyId);
const storedOf = async (id: string) => JSON.parse((await rowOf(id))?.secrets ?? "null") as Record<string, string>;

/** Re-encrypts until nothing that the keys open remains. */
async function reencryptAll(keys: Env) {
  const total = { functions: 0, secrets: 0, remaining: 0 };
  for (;;) {
    const step = await reencryptSecrets(serviceCtx(keys), { limit: 2 });
    total.functions += step.functions;
    total.secrets += step.secrets;
    total.remaining = step.remaining;
    if (step.remaining === 0 || step.functions === 0) return total;
  }
}

/** One request to the Worker's fetch handler under other keys (the platform after a redeploy with them). */
async function apiWith(keys: Env, method: string, path: string, body?: unknown, key = ADMIN_KEY) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://edgefn.test${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    keys,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A value sealed the way the platform sealed them before key ids: AES key = SHA-256 of the secret. */
async function sealV1(secret: string, functionId: string, name: string, value: string) {
  const enc = new TextEncoder();
  const raw = await crypto.subtle.digest("SHA-256", enc.encode(secret));
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const body = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: enc.encode(`${functionId}/${name}`) },
    key,
    enc.encode(value),
  );
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(body))}`;
}

let ws: Workspace;
let kidA: string;
let kidB: string;
beforeAll(async () => {
  ws = await newWorkspace();
  kidA = await currentKeyId(onlyA);
  kidB = await currentKeyId(onlyB);
});

describe("the stored form", () => {
  it("names the sealing key by a short id derived from it, never the key itself", async () => {
    const sealed = await encryptSecret(onlyA, "fun_x", "token", "hunter2");
    const [version, kid, iv, body] = sealed.split(".");
    expect(version).toBe("v2");
    expect(kid).toBe(kidA);
    expect(kid).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(iv).toBeTruthy();
    expect(body).toBeTruthy();
    expect(sealed).not.toContain(A);
    expect(kidA).not.toBe(kidB);
    // The same key, the same id; a fresh IV every time.
    expect(await currentKeyId(withKeys(A))).toBe(kidA);
    expect(await encryptSecret(onlyA, "fun_x", "token", "hunter2")).not.toBe(sealed);
    expect(await decryptSecret(onlyA, "fun_x", "token", sealed)).toBe("hunter2");
  });

  it("does not open a value moved to another function or name, tampered with, or under an unknown key", async () => {
    const sealed = await encryptSecret(rotated, "fun_one", "token", "hunter2");
    await expect(decryptSecret(rotated, "fun_two", "token", sealed)).rejects.toThrow(/does not decrypt/);
    await expect(decryptSecret(rotated, "fun_one", "other", sealed)).rejects.toThrow(/does not decrypt/);
    const parts = sealed.split(".");
    const flipped = `${parts.slice(0, 3).join(".")}.${parts[3]?.startsWith("A") ? "B" : "A"}${parts[3]?.slice(1)}`;
    await expect(decryptSecret(rotated, "fun_one", "token", flipped)).rejects.toThrow(/does not decrypt/);
    // B's value once B is gone: the message names the key id, not the key.
    const err = await decryptSecret(onlyA, "fun_one", "token", sealed).catch((e: Error) => e);
    expect(String(err)).toMatch(new RegExp(`key ${kidB}.*EDGEFN_SECRETS_KEY_PREVIOUS`));
    expect(String(err)).not.toContain(B);
    // v1 values are bound the same way.
    const v1 = await sealV1(A, "fun_one", "token", "hunter2");
    await expect(decryptSecret(rotated, "fun_two", "token", v1)).rejects.toThrow(/does not decrypt/);
    await expect(decryptSecret(rotated, "fun_one", "other", v1)).rejects.toThrow(/does not decrypt/);
    await expect(decryptSecret(rotated, "fun_one", "token", "v3.x.y.z")).rejects.toThrow(/not in a known format/);
  });

  it("still opens v1 values (from before key ids) under the current or a previous secret", async () => {
    const v1 = await sealV1(A, "fun_old", "token", "from-v1");
    expect(storedKeyId(v1)).toBe("v1");
    expect(await decryptSecret(onlyA, "fun_old", "token", v1)).toBe("from-v1");
    expect(await decryptSecret(rotated, "fun_old", "token", v1)).toBe("from-v1");
    await expect(decryptSecret(onlyB, "fun_old", "token", v1)).rejects.toThrow(/does not decrypt/);
  });

  it("refuses to seal or open anything when no key is configured", async () => {
    const none = { ...env, EDGEFN_SECRETS_KEY: undefined, EDGEFN_SECRETS_KEY_PREVIOUS: undefined };
    await expect(encryptSecret(none, "fun_x", "token", "v")).rejects.toThrow(/not configured/);
    await expect(encryptSecret({ ...none, EDGEFN_SECRETS_KEY_PREVIOUS: A }, "fun_x", "token", "v")).rejects.toThrow(
      /not configured/,
    );
  });
});

describe("a rotation from A to B", () => {
  it("keeps reading A's values, seals new ones with B, and re-encrypts everything to B, after which A can go", async () => {
    // Three functions under A, in this order of ids, one of them deleted later (a restore would bring its secrets back).
    const fns: FunctionRow[] = [];
    for (let i = 0; i < 3; i++) {
      fns.push(
        await createFunction(serviceCtx(onlyA, i), {
          workspaceId: ws.id,
          name: unique("rot"),
          secrets: { token: `token-${i}`, other: `other-${i}` },
        }),
      );
    }
    const [f0, f1, f2] = fns as [FunctionRow, FunctionRow, FunctionRow];
    for (const f of fns) expect(await keyIdsOf(f.id)).toEqual([kidA, kidA]);

    // Rotated: A's values still open.
    expect(await decryptAll(rotated, f0.id, await storedOf(f0.id))).toEqual({ token: "token-0", other: "other-0" });
    // A change seals with B; a kept value ("***") stays as it was until the re-encryption.
    await updateFunction(serviceCtx(rotated), f1.id, { secrets: { token: "***", added: "new-1" } });
    const s1 = await storedOf(f1.id);
    expect(storedKeyId(s1.token as string)).toBe(kidA);
    expect(storedKeyId(s1.added as string)).toBe(kidB);
    expect(await decryptAll(rotated, f1.id, s1)).toEqual({ token: "token-1", added: "new-1" });
    // Without A, A's values do not open.
    await expect(decryptAll(onlyB, f1.id, s1)).rejects.toThrow(new RegExp(`key ${kidA}`));
    // f2, deleted: a v1 value from before key ids, and a value of A's moved here from f1 (it opens with no key).
    await env.DB.prepare("UPDATE functions SET secrets = ? WHERE id = ?")
      .bind(JSON.stringify({ token: await sealV1(A, f2.id, "token", "token-2"), other: s1.token }), f2.id)
      .run();
    await deleteFunction(serviceCtx(rotated), f2.id);

    const before = await Promise.all(fns.map((f) => rowOf(f.id)));
    // Two functions per request: more than one request is needed.
    const first = await reencryptSecrets(serviceCtx(rotated), { limit: 2 });
    expect(first).toEqual({ functions: 2, secrets: 3, remaining: 1, unreadable: [] });
    const second = await reencryptSecrets(serviceCtx(rotated), { limit: 2 });
    expect(second).toEqual({ functions: 1, secrets: 1, remaining: 1, unreadable: [f2.id] });

    expect(await keyIdsOf(f0.id)).toEqual([kidB, kidB]);
    expect(await keyIdsOf(f1.id)).toEqual([kidB, kidB]);
    // What opens is sealed anew; the misplaced value is left as it was, reported, and counted as remaining.
    const s2 = await storedOf(f2.id);
    expect(storedKeyId(s2.token as string)).toBe(kidB);
    expect(s2.other).toBe(s1.token);
    const stuck = await reencryptSecrets(serviceCtx(rotated));
    expect(stuck).toEqual({ functions: 0, secrets: 0, remaining: 1, unreadable: [f2.id] });
    // Nothing else of the rows changed: same values, so no new configRevision (warm isolates stay valid).
    for (const [i, f] of fns.entries()) {
      const after = await rowOf(f.id);
      expect(after?.config_revision).toBe(before[i]?.config_revision);
      expect(after?.updated_at).toBe(before[i]?.updated_at);
    }

    // A dropped: everything still opens with B alone.
    expect(await decryptAll(onlyB, f0.id, await storedOf(f0.id))).toEqual({ token: "token-0", other: "other-0" });
    expect(await decryptAll(onlyB, f1.id, await storedOf(f1.id))).toEqual({ token: "token-1", added: "new-1" });
    expect(await decryptSecret(onlyB, f2.id, "token", s2.token as string)).toBe("token-2");
    await env.DB.prepare("UPDATE functions SET secrets = ? WHERE id = ?")
      .bind(JSON.stringify({ token: s2.token }), f2.id)
      .run();

    // Done: a further request finds nothing to do.
    expect(await reencryptSecrets(serviceCtx(onlyB))).toEqual({
      functions: 0,
      secrets: 0,
      remaining: 0,
      unreadable: [],
    });
    // The API still shows masked values.
    expect(expectStatus(await api("GET", `/api/functions/${f1.id}`), 200).secrets).toEqual({
      token: "***",
      added: "***",
    });
  });

  it("re-encrypts a value that was changed meanwhile from what the function holds then", async () => {
    const f = await createFunction(serviceCtx(onlyA), {
      workspaceId: ws.id,
      name: unique("race"),
      secrets: { k: "1" },
    });
    // The function's object writes only over what the re-encryption read: a changed value is not overwritten.
    const held = await storedOf(f.id);
    const object = lifecycle(serviceCtx(rotated), f.id);
    expect(await object.replaceSecrets(f.id, { k: "not what it holds" }, { k: "x" })).toEqual({
      ok: true,
      value: false,
    });
    expect(await object.replaceSecrets(f.id, held, { k: "x", extra: "y" })).toEqual({ ok: true, value: false });
    expect(await storedOf(f.id)).toEqual(held);
    // Both at once: the PATCH and the re-encryption go through the function's object one after the other.
    await Promise.all([updateFunction(serviceCtx(rotated), f.id, { secrets: { k: "2" } }), reencryptAll(rotated)]);
    expect(await keyIdsOf(f.id)).toEqual([kidB]);
    expect(await decryptAll(onlyB, f.id, await storedOf(f.id))).toEqual({ k: "2" });
  });
});

describe("POST /api/admin/secrets/reencrypt", () => {
  it("is for an admin key for every workspace only: 401 without a key, 403 for a workspace admin or developer", async () => {
    const t = await tenant();
    expectError(await api("POST", "/api/admin/secrets/reencrypt", { key: null }), 401, "unauthorized");
    expectError(await api("POST", "/api/admin/secrets/reencrypt", { key: "efn_not-a-real-key" }), 401, "unauthorized");
    for (const role of ["admin", "developer", "invoker", "viewer"] as const) {
      const err = expectError(
        await api("POST", "/api/admin/secrets/reencrypt", { key: t.keys[role] }),
        403,
        "forbidden",
      );
      expect(err.message, role).toMatch(/admin key for every workspace|needs the admin role/);
    }
    const ok = expectStatus(await api("POST", "/api/admin/secrets/reencrypt"), 200);
    expect(ok).toEqual({
      functions: expect.any(Number),
      secrets: expect.any(Number),
      remaining: expect.any(Number),
      unreadable: expect.any(Array),
    });
    expectError(await api("POST", "/api/admin/secrets/reencrypt?limit=lots"), 400, "bad_request");
  });

  it("after a rotation and a re-encryption, an invoke still sees the secret, with A dropped", async () => {
    // The platform under A: the function and its secret.
    const created = await apiWith(onlyA, "POST", "/api/functions", {
      workspaceId: ws.id,
      name: unique("inv"),
      secrets: { token: "open sesame" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await deploy(id, { "index.ts": "export async function handle(d, ctx) { return { token: ctx.secrets.token }; }" });
    const before = await apiWith(onlyA, "POST", `/api/functions/${id}/invoke`, {});
    expect(before.body).toMatchObject({ ok: true, result: { token: "open sesame" } });
    expect(await keyIdsOf(id)).toEqual([kidA]);

    // Redeployed with B and A as previous: the re-encryption, through the API.
    for (;;) {
      const step = await apiWith(rotated, "POST", "/api/admin/secrets/reencrypt");
      expect(step.status, JSON.stringify(step.body)).toBe(200);
      if (step.body.remaining === 0 || step.body.functions === 0) break;
    }
    expect(await keyIdsOf(id)).toEqual([kidB]);

    // Redeployed with B alone (the test runtime's platform): the call still sees its secret, in a warm isolate
    // and in a fresh one (a config change makes the platform decrypt again).
    expect(expectStatus(await invoke(id), 200)).toMatchObject({ ok: true, result: { token: "open sesame" } });
    expectStatus(await api("PATCH", `/api/functions/${id}`, { body: { timeoutMs: 20_000 } }), 200);
    expect(expectStatus(await invoke(id), 200)).toMatchObject({ ok: true, result: { token: "open sesame" } });
  });
});
