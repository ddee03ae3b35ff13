/**
 * Async calls as a user sees them: 202 with a call id once the call is recorded, the queue running it (now or at
 * scheduledAt), retries of retryable failures up to the function's maxRetries, giving up with a reason, cancel,
 * the dead-letter queue, and Idempotency-Key (one call per key, also under a burst of duplicates).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../src/lib/limits";
import { api, expectError, expectStatus, newFunction, newWorkspace, tenant, type Workspace } from "./support/api";
import { waitForCall } from "./support/calls";
import { deploy } from "./support/deploy";

/** Polls GET /api/calls/{id} until the call is over. */

const logsOf = async (callId: string) => expectStatus(await api("GET", `/api/calls/${callId}/logs`), 200);
const messages = async (callId: string) => (await logsOf(callId)).items.map((l: any) => l.message as string);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const invokePath = (fnId: string) => `/api/functions/${fnId}/invoke`;

/** An async invoke answering 202; returns the call id. */
async function queue(fnId: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await api("POST", invokePath(fnId), { body: { async: true, ...body }, headers });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.callId as string;
}

const WORKER = {
  "index.js": `
    export async function handle(d, ctx) {
      d = d ?? {};
      console.log("ran " + JSON.stringify(d.tag ?? null));
      if (d.ms) await new Promise((r) => setTimeout(r, d.ms));
      if (d.fail) {
        const e = new Error(d.fail);
        e.name = "FlakyError";
        if (d.retryable) e.retryable = true;
        throw e;
      }
      if (d.size !== undefined) return { size: JSON.stringify(d.blob).length };
      return { sum: (d.n ?? 0) + 1, id: crypto.randomUUID(), callId: ctx.call.callId };
    }`,
};

let ws: Workspace;
beforeAll(async () => {
  ws = await newWorkspace();
});

async function fnWith(extra: Record<string, unknown> = {}, files: Record<string, string> = WORKER) {
  const fn = await newFunction(ws.id, extra);
  const version = await deploy(fn.id, files);
  return { id: fn.id as string, versionId: version.id as string };
}

describe("async invoke", () => {
  it("answers 202 with the call id once recorded, and the queue runs the call", async () => {
    const fn = await fnWith();
    const res = await api("POST", invokePath(fn.id), { body: { args: { n: 41, tag: "async" }, async: true } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ callId: expect.stringMatching(/^call_/), status: "queued" });
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    const { callId } = res.body;
    // Recorded before the answer: readable at once.
    const first = expectStatus(await api("GET", `/api/calls/${callId}`), 200);
    expect(["queued", "running", "completed"]).toContain(first.status);

    const done = await waitForCall(callId);
    expect(done).toMatchObject({
      id: callId,
      functionId: fn.id,
      versionId: fn.versionId,
      status: "completed",
      trigger: "api",
      attempt: 1,
      maxRetries: LIMITS.maxRetries.default,
      error: null,
      argsSize: JSON.stringify({ n: 41, tag: "async" }).length,
    });
    expect(Date.parse(done.startTime)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
    expect(Date.parse(done.endTime) - Date.parse(done.startTime)).toBe(done.durationMs);
    const response = expectStatus(await api("GET", `/api/calls/${callId}/response`), 200);
    expect(response).toEqual({
      functionId: fn.id,
      callId,
      response: { sum: 42, id: expect.any(String), callId },
    });
    expect(await messages(callId)).toEqual(['ran "async"']);
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}`), 200).lastCalledAt).toBe(done.startTime);
  });

  it("queues on the header Prefer: respond-async, saying so in Preference-Applied", async () => {
    const fn = await fnWith();
    for (const prefer of ["respond-async", "wait=5, respond-async", "RESPOND-ASYNC;x=1"]) {
      const res = await api("POST", invokePath(fn.id), { body: { args: { n: 1 } }, headers: { prefer } });
      expect(res.status, prefer).toBe(202);
      expect(res.headers.get("preference-applied"), prefer).toBe("respond-async");
      expect((await waitForCall(res.body.callId)).status).toBe("completed");
    }
    // Another preference alone does not queue.
    const sync = await api("POST", invokePath(fn.id), {
      body: { args: { n: 1 } },
      headers: { prefer: "return=minimal" },
    });
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({ ok: true, result: { sum: 2 } });
  });

  it("keeps large args in R2 until the call has run", async () => {
    const fn = await fnWith();
    const blob = "y".repeat(100_000);
    const callId = await queue(fn.id, {
      args: { blob, size: true },
      scheduledAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect(await env.CODE.head(`args/${callId}`)).not.toBeNull();
    const done = await waitForCall(callId);
    expect(done).toMatchObject({ status: "completed", argsSize: JSON.stringify({ blob, size: true }).length });
    expect(expectStatus(await api("GET", `/api/calls/${callId}/response`), 200).response).toEqual({
      size: blob.length + 2,
    });
    expect(await env.CODE.head(`args/${callId}`)).toBeNull();
  });

  it("runs a call with scheduledAt no earlier than then, and refuses one more than 30 days ahead", async () => {
    const fn = await fnWith();
    const at = Date.now() + 2500;
    const callId = await queue(fn.id, { args: { tag: "later" }, scheduledAt: new Date(at).toISOString() });
    const queued = expectStatus(await api("GET", `/api/calls/${callId}`), 200);
    expect(queued).toMatchObject({ status: "queued", scheduledAt: new Date(at).toISOString(), startTime: null });
    await sleep(1000);
    expect(expectStatus(await api("GET", `/api/calls/${callId}`), 200).status).toBe("queued");
    const done = await waitForCall(callId);
    expect(done.status).toBe("completed");
    // The consumer runs a call due within the next second.
    expect(Date.parse(done.startTime)).toBeGreaterThanOrEqual(at - 1000);

    // scheduledAt alone makes the call async.
    const res = await api("POST", invokePath(fn.id), {
      body: { scheduledAt: new Date(Date.now() - 60_000).toISOString() },
    });
    expect(res.status).toBe(202);
    expect((await waitForCall(res.body.callId)).status).toBe("completed");

    const err = expectError(
      await api("POST", invokePath(fn.id), {
        body: { scheduledAt: new Date(Date.now() + 31 * 86_400_000).toISOString() },
      }),
      400,
      "bad_request",
    );
    expect(err.message).toBe("scheduledAt is more than 30 days ahead");
    expectError(await api("POST", invokePath(fn.id), { body: { scheduledAt: "tomorrow" } }), 400, "bad_request");
  });

  it("records a failed or timed-out async call without retrying it when it is not retryable", async () => {
    const fn = await fnWith({ timeoutMs: 300, maxRetries: 3 });
    const failed = await waitForCall(await queue(fn.id, { args: { fail: "bad data" } }));
    expect(failed).toMatchObject({
      status: "failed",
      attempt: 1,
      maxRetries: 3,
      error: { name: "FlakyError", message: "bad data" },
    });
    const timedOut = await waitForCall(await queue(fn.id, { args: { ms: 5000, tag: "slow" } }));
    expect(timedOut).toMatchObject({
      status: "timeout",
      attempt: 1,
      error: { name: "TimeoutError", message: "The call did not finish within 300 ms" },
    });
    expect(await messages(timedOut.id)).toEqual(['ran "slow"']);
  });
});

describe("async invoke: retries", () => {
  it("tries a retryable failure again up to maxRetries, then fails saying it gave up, with every attempt's logs", async () => {
    const fn = await fnWith({ maxRetries: 2 });
    const callId = await queue(fn.id, { args: { fail: "upstream unavailable", retryable: true, tag: "flaky" } });
    const done = await waitForCall(callId);
    expect(done).toMatchObject({
      status: "failed",
      attempt: 3,
      maxRetries: 2,
      error: { name: "FlakyError", message: "upstream unavailable (gave up after 3 attempts)" },
    });
    expect(done.error.stack).toMatch(/^FlakyError: upstream unavailable/);
    expect(await messages(callId)).toEqual([
      'ran "flaky"',
      "[edgefn] attempt 1 failed (FlakyError: upstream unavailable); retrying in 0 s",
      'ran "flaky"',
      "[edgefn] attempt 2 failed (FlakyError: upstream unavailable); retrying in 0 s",
      'ran "flaky"',
    ]);
    const levels = (await logsOf(callId)).items.map((l: any) => l.level);
    expect(levels).toEqual(["info", "warn", "info", "warn", "info"]);
    expect(expectStatus(await api("GET", `/api/calls/${callId}/response`), 200).response).toBeNull();
  });

  it("gives up after one attempt when maxRetries is 0, and the platform default is 2", async () => {
    const none = await fnWith({ maxRetries: 0 });
    const once = await waitForCall(await queue(none.id, { args: { fail: "nope", retryable: true } }));
    expect(once).toMatchObject({
      status: "failed",
      attempt: 1,
      maxRetries: 0,
      error: { message: "nope (gave up after 1 attempt)" },
    });
    const byDefault = await fnWith();
    expect(expectStatus(await api("GET", `/api/functions/${byDefault.id}`), 200).maxRetries).toBeNull();
    const thrice = await waitForCall(await queue(byDefault.id, { args: { fail: "nope", retryable: true } }));
    expect(thrice).toMatchObject({ attempt: 3, maxRetries: 2, error: { message: "nope (gave up after 3 attempts)" } });
  });

  it("takes maxRetries from 0 to 10 on the function, and the value at invoke time applies", async () => {
    const fn = await fnWith();
    for (const bad of [-1, 11, 1.5, "2"]) {
      expectError(await api("PATCH", `/api/functions/${fn.id}`, { body: { maxRetries: bad } }), 400, "bad_request");
    }
    expect(
      expectStatus(await api("PATCH", `/api/functions/${fn.id}`, { body: { maxRetries: 10 } }), 200),
    ).toMatchObject({ maxRetries: 10 });
    expect(
      expectStatus(await api("PATCH", `/api/functions/${fn.id}`, { body: { maxRetries: 1 } }), 200).maxRetries,
    ).toBe(1);
    const done = await waitForCall(await queue(fn.id, { args: { fail: "x", retryable: true } }));
    expect(done).toMatchObject({ attempt: 2, maxRetries: 1, error: { message: "x (gave up after 2 attempts)" } });
  });

  it("retries a failure the platform caused (the function's code could not be loaded)", async () => {
    // Unique code, so that its bundle is nobody else's.
    const marker = crypto.randomUUID();
    const fn = await fnWith(
      { maxRetries: 1 },
      { "index.js": `export function handle() { return ${JSON.stringify(marker)}; }` },
    );
    const version = await env.DB.prepare("SELECT bundle_key FROM versions WHERE id = ?")
      .bind(fn.versionId)
      .first<{ bundle_key: string }>();
    await env.CODE.delete(version!.bundle_key);
    // The deploy made the version's isolate already: a config change needs a new one, whose code is gone.
    expectStatus(await api("PATCH", `/api/functions/${fn.id}`, { body: { envVars: { N: "2" } } }), 200);
    const callId = await queue(fn.id);
    const done = await waitForCall(callId);
    expect(done).toMatchObject({ status: "failed", attempt: 2, error: { name: "PlatformError" } });
    expect(done.error.message).toBe(
      `The platform could not run this call (callId ${callId}) (gave up after 2 attempts)`,
    );
    expect(done.error).not.toHaveProperty("stack");
  });

  it("caps the logs of all attempts together at 256 KiB", async () => {
    const fn = await fnWith(
      { maxRetries: 2 },
      {
        "index.js": `
          export async function handle() {
            const line = "z".repeat(1024);
            for (let i = 0; i < 200; i++) console.log(line);
            const e = new Error("again");
            e.retryable = true;
            throw e;
          }`,
      },
    );
    const callId = await queue(fn.id);
    expect(await waitForCall(callId)).toMatchObject({ status: "failed", attempt: 3 });
    const logs = await logsOf(callId);
    expect(logs.truncated).toBe(true);
    const texts: string[] = logs.items.map((l: any) => l.message);
    const marker = "[edgefn] log output truncated at 2000 lines or 262144 bytes";
    expect(texts.filter((m) => m === marker)).toHaveLength(1);
    // Each line costs its text and 32 bytes more.
    const kept = texts.filter((m) => m !== marker);
    const logged = kept.reduce((n, m) => n + m.length + 32, 0);
    expect(logged).toBeLessThanOrEqual(256 * 1024);
    expect(logged).toBeGreaterThan(255 * 1024 - 1100);
    // Attempt 1's 200 lines, attempt 2's until the cap, none of attempt 3's.
    expect(texts.filter((m) => m.startsWith("zzz")).length).toBeLessThan(256);
    expect(texts.indexOf(marker)).toBeGreaterThan(200);
    // Why there were more attempts is still told.
    expect(texts.filter((m) => m.startsWith("[edgefn] attempt "))).toEqual([
      "[edgefn] attempt 1 failed (Error: again); retrying in 0 s",
      "[edgefn] attempt 2 failed (Error: again); retrying in 0 s",
    ]);
  });
});

describe("async invoke: cancel and the dead-letter queue", () => {
  it("cancels a queued call so that it never runs; a call that is over cannot be canceled", async () => {
    const { ws: own, keys } = await tenant();
    const fn = await newFunction(own.id);
    await deploy(fn.id, WORKER);
    const at = Date.now() + 1500;
    const callId = await queue(fn.id, { args: { tag: "never" }, scheduledAt: new Date(at).toISOString() });
    const canceled = expectStatus(await api("POST", `/api/calls/${callId}/cancel`, { key: keys.invoker }), 200);
    expect(canceled).toMatchObject({ id: callId, status: "canceled", startTime: null });
    expect(Date.parse(canceled.endTime)).toBeLessThanOrEqual(Date.now());
    const again = expectError(await api("POST", `/api/calls/${callId}/cancel`), 409, "conflict");
    expect(again.message).toBe(`Call ${callId} is canceled; only a queued call can be canceled`);

    // Past its time, it still has not run.
    await sleep(at - Date.now() + 1500);
    expect(expectStatus(await api("GET", `/api/calls/${callId}`), 200)).toMatchObject({
      status: "canceled",
      startTime: null,
      attempt: 1,
    });
    expect(await logsOf(callId)).toEqual({ items: [], truncated: false });
    expect(expectStatus(await api("GET", `/api/calls/${callId}/response`), 200).response).toBeNull();

    const done = await waitForCall(await queue(fn.id));
    expectError(await api("POST", `/api/calls/${done.id}/cancel`), 409, "conflict");
  });

  it("fails a queued call whose function was deleted before it ran", async () => {
    const fn = await fnWith();
    const callId = await queue(fn.id, { scheduledAt: new Date(Date.now() + 1500).toISOString() });
    expectStatus(await api("DELETE", `/api/functions/${fn.id}`), 200);
    expect(await waitForCall(callId)).toMatchObject({
      status: "failed",
      startTime: null,
      error: { name: "CallError", message: "The function was deleted before the call ran" },
    });
  });

  it("fails a queued call whose job reached the dead-letter queue, with the reason", async () => {
    const fn = await fnWith();
    const callId = await queue(fn.id, { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() });
    await env.DEAD_LETTERS.send({ type: "call", callId, reason: "the job failed 5 times" });
    expect(await waitForCall(callId)).toMatchObject({
      status: "failed",
      error: { name: "CallError", message: "the job failed 5 times" },
    });
    // A call already over is left as it was.
    const done = await waitForCall(await queue(fn.id));
    await env.DEAD_LETTERS.send({ type: "call", callId: done.id });
    await sleep(1500);
    expect(expectStatus(await api("GET", `/api/calls/${done.id}`), 200)).toEqual(done);
  });
});

describe("idempotency", () => {
  const keyed = (fnId: string, key: string, body: Record<string, unknown> = {}) =>
    api("POST", invokePath(fnId), { body, headers: { "idempotency-key": key } });
  const total = async (fnId: string) =>
    expectStatus(await api("GET", `/api/functions/${fnId}/calls`), 200).pageInfo.total as number;

  it("answers a repeated key with the same call and result, marked Idempotent-Replayed, running it once", async () => {
    const fn = await fnWith();
    const key = `order-${crypto.randomUUID()}`;
    const first = await keyed(fn.id, key, { args: { n: 1, tag: "once" } });
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(first.body).toMatchObject({ ok: true, status: "completed", result: { sum: 2 } });
    // Written before the answer.
    expect(expectStatus(await api("GET", `/api/calls/${first.body.callId}`), 200).status).toBe("completed");

    const again = await keyed(fn.id, key, { args: { n: 1, tag: "once" } });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(await total(fn.id)).toBe(1);

    // The key with other args (or other options) is a mistake, not a replay: 422, and nothing runs.
    const err = expectError(await keyed(fn.id, key, { args: { n: 100 } }), 422, "unprocessable");
    expect(err.message).toMatch(/Idempotency-Key was used with other args/);
    expectError(await keyed(fn.id, key, { args: { n: 1, tag: "once" }, async: true }), 422, "unprocessable");
    expect(await total(fn.id)).toBe(1);
    expect(await messages(first.body.callId)).toEqual(['ran "once"']);

    // Another key, or the same key on another function, is another call.
    const other = await keyed(fn.id, `${key}-2`, { args: { n: 1 } });
    expect(other.body.callId).not.toBe(first.body.callId);
    const fn2 = await fnWith();
    const elsewhere = await keyed(fn2.id, key, { args: { n: 1 } });
    expect(elsewhere.headers.get("idempotent-replayed")).toBeNull();
    expect(elsewhere.body.callId).not.toBe(first.body.callId);
  });

  it("replays a failed call as it failed", async () => {
    const fn = await fnWith();
    const key = crypto.randomUUID();
    const first = expectStatus(await keyed(fn.id, key, { args: { fail: "declined" } }), 200);
    expect(first).toMatchObject({ ok: false, status: "failed", error: "FlakyError: declined" });
    const again = await keyed(fn.id, key, { args: { fail: "declined" } });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first);
  });

  it("runs 20 simultaneous duplicates of a sync call once, and all get its answer", async () => {
    const fn = await fnWith();
    const key = crypto.randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => keyed(fn.id, key, { args: { ms: 300, tag: "burst" } })),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    const first = answers.find((a) => a.headers.get("idempotent-replayed") === null);
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
    // One execution: one call id, and the random id it returned is the same in every answer.
    for (const a of answers) expect(a.body).toEqual(first!.body);
    expect(first!.body).toMatchObject({ ok: true, status: "completed" });
    expect(await total(fn.id)).toBe(1);
    expect(await messages(first!.body.callId)).toEqual(['ran "burst"']);
  });

  it("queues 20 simultaneous duplicates of an async call once", async () => {
    const fn = await fnWith();
    const key = crypto.randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => keyed(fn.id, key, { args: { tag: "async burst" }, async: true })),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(202);
    const ids = new Set(answers.map((a) => a.body.callId));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
    const [callId] = [...ids] as string[];
    expect((await waitForCall(callId!)).status).toBe("completed");
    expect(await total(fn.id)).toBe(1);
    expect(await messages(callId!)).toEqual(['ran "async burst"']);

    // Asked again once it is over: the same call, in its current state.
    const later = await keyed(fn.id, key, { args: { tag: "async burst" }, async: true });
    expect(later.status).toBe(202);
    expect(later.headers.get("idempotent-replayed")).toBe("true");
    expect(later.body).toEqual({ callId, status: "completed" });
  });

  it("frees a key after 24 hours: the same key then makes a new call", async () => {
    const fn = await fnWith();
    const key = crypto.randomUUID();
    const first = expectStatus(await keyed(fn.id, key, { args: { n: 1 } }), 200);
    await env.DB.prepare("UPDATE calls SET created_at = ? WHERE id = ?")
      .bind(Date.now() - 25 * 3_600_000, first.callId)
      .run();
    const fresh = await keyed(fn.id, key, { args: { n: 2 } });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("idempotent-replayed")).toBeNull();
    expect(fresh.body.callId).not.toBe(first.callId);
    expect(fresh.body.result.sum).toBe(3);
    // The old call is still there.
    expectStatus(await api("GET", `/api/calls/${first.callId}`), 200);
    const replay = await keyed(fn.id, key, { args: { n: 2 } });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.callId).toBe(fresh.body.callId);
  });

  it("refuses a key that is too long or not visible ASCII", async () => {
    const fn = await fnWith();
    for (const key of ["x".repeat(256), "with space", "tab\tinside"]) {
      const err = expectError(await keyed(fn.id, key), 400, "bad_request");
      expect(err.message).toBe("Idempotency-Key must be 1 to 255 visible ASCII characters");
    }
    expect((await keyed(fn.id, "k".repeat(255))).status).toBe(200);
  });
});
