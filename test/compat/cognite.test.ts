/**
 * The Cognite Functions surface (/api/v1/projects/{project}/functions...): the request bodies of the Cognite API
 * reference and SDK (seeds 000 and 001), answered in Cognite's shapes (items envelopes, integer ids, epoch-ms
 * times, Cognite statuses) and Cognite's error shape, over the same services as the native API.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, type ApiResponse, api, newKey, newWorkspace, unique, type Workspace } from "../support/api";

const HANDLER = `
export async function handle(data, ctx) {
  console.log("hello from", data?.name ?? "nobody");
  if (data?.fail) throw new TypeError("it failed on purpose");
  return { greeting: "Hello, " + (data?.name ?? "world") + "!", region: ctx.env.REGION, secret: ctx.secrets["my-secret"] };
}
`;

/** Cognite's error shape, and nothing else. */
function expectCogniteError(res: ApiResponse, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body)).toEqual(["error"]);
  expect(res.body.error).toMatchObject({ code: status, message: expect.any(String) });
  return res.body.error as { code: number; message: string; missing?: unknown[]; duplicated?: unknown[] };
}

function ok<T = any>(res: ApiResponse<T>, status = 200): T {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

/** One minute tick of the platform's cron at this time (as test/schedules.test.ts does). */
async function tick(scheduledTime: number) {
  const { default: worker } = await import("../../src/index");
  const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import("cloudflare:test");
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const isEpochMs = (t: unknown) => typeof t === "number" && Number.isInteger(t) && t > 1.6e12 && t < 4.1e12;

describe("Cognite Functions API", () => {
  let ws: Workspace;
  let base: string;
  let dev: string;
  let fnId: number;
  const externalId = unique("my.known.id");

  async function waitReady(id: number, key = dev) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const fn = ok(await api("GET", `${base}/functions/${id}`, { key }));
      if (fn.status === "Ready" || fn.status === "Failed") return fn;
      if (Date.now() > deadline) throw new Error(`function ${id} still ${fn.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    ws = await newWorkspace();
    base = `/api/v1/projects/${ws.name}`;
    dev = (await newKey("developer", ws.id)).key;
    // The create request of the API reference, with the code in `files` instead of a fileId.
    const created = ok(
      await api("POST", `${base}/functions`, {
        key: dev,
        body: {
          items: [
            {
              name: unique("myfunction"),
              externalId,
              description: "My fantastic function with advanced ML",
              owner: "user@cognite.com",
              functionPath: "myfunction/handler.js",
              secrets: { "my-secret": "s3cr3t" },
              envVars: { REGION: "eu-west" },
              metadata: { team: "ml" },
              files: { "myfunction/handler.js": HANDLER },
            },
          ],
        },
      }),
      201,
    );
    expect(created.items).toHaveLength(1);
    const fn = created.items[0];
    expect(fn).toMatchObject({
      id: expect.any(Number),
      externalId,
      description: "My fantastic function with advanced ML",
      owner: "user@cognite.com",
      functionPath: "myfunction/handler.js",
      secrets: { "my-secret": "***" },
      envVars: { REGION: "eu-west" },
      metadata: { team: "ml" },
      runtime: "js",
      // Not made from a file of the Files API.
      fileId: 0,
    });
    expect(["Queued", "Deploying", "Ready"]).toContain(fn.status);
    expect(Number.isSafeInteger(fn.id)).toBe(true);
    expect(isEpochMs(fn.createdTime)).toBe(true);
    expect(fn.lastCalled).toBeUndefined();
    fnId = fn.id;
    expect((await waitReady(fnId)).status).toBe("Ready");
  });

  describe("auth and errors", () => {
    it("answers 401 in Cognite's shape without a key or with a wrong one", async () => {
      expectCogniteError(await api("GET", `${base}/functions`, { key: null }), 401);
      expectCogniteError(await api("POST", `${base}/functions/list`, { key: "efn_nope", body: {} }), 401);
    });

    it("answers 403 for a project the key cannot see, or that does not exist", async () => {
      const other = await newWorkspace();
      const foreign = (await newKey("admin", other.id)).key;
      expectCogniteError(await api("GET", `${base}/functions`, { key: foreign }), 403);
      expectCogniteError(await api("GET", `/api/v1/projects/${unique("nope")}/functions`), 403);
    });

    it("takes the project by workspace id as well as by name", async () => {
      const list = ok(await api("GET", `/api/v1/projects/${ws.id}/functions`, { key: dev }));
      expect(list.items.map((f: { id: number }) => f.id)).toContain(fnId);
    });

    it("answers 400 in Cognite's shape for bad bodies", async () => {
      expectCogniteError(await api("POST", `${base}/functions`, { key: dev, raw: "{not json" }), 400);
      expectCogniteError(await api("POST", `${base}/functions`, { key: dev, body: { items: [] } }), 400);
      const e = expectCogniteError(
        await api("POST", `${base}/functions/byids`, { key: dev, body: { items: [{ id: "one" }] } }),
        400,
      );
      expect(e.message).toMatch(/items/);
      expectCogniteError(
        await api("POST", `${base}/functions/list`, { key: dev, body: { filter: { status: "Sleeping" } } }),
        400,
      );
      expectCogniteError(await api("GET", `${base}/functions/abc`, { key: dev }), 400);
    });

    it("refuses a fileId the project has no file for, a fileId beside files, and an item without code", async () => {
      const count = async () => ok(await api("POST", `${base}/functions/list`, { key: dev, body: {} })).items.length;
      const before = await count();
      const missing = expectCogniteError(
        await api("POST", `${base}/functions`, {
          key: dev,
          body: { items: [{ name: unique("myfunction"), fileId: 4503599627370496, functionPath: "handler.py" }] },
        }),
        400,
      );
      expect(missing.message).toMatch(/fileId 4503599627370496: no such file/);
      const both = expectCogniteError(
        await api("POST", `${base}/functions`, {
          key: dev,
          body: { items: [{ name: unique("both"), fileId: 1, files: { "index.js": HANDLER } }] },
        }),
        400,
      );
      expect(both.message).toMatch(/once/);
      const none = expectCogniteError(
        await api("POST", `${base}/functions`, { key: dev, body: { items: [{ name: unique("none") }] } }),
        400,
      );
      expect(none.message).toMatch(/fileId/);
      expect(await count()).toBe(before);
    });

    it("removes the function again when its code is refused", async () => {
      const name = unique("broken");
      expectCogniteError(
        await api("POST", `${base}/functions`, {
          key: dev,
          body: { items: [{ name, functionPath: "missing.js", files: { "index.js": HANDLER } }] },
        }),
        400,
      );
      const list = ok(await api("POST", `${base}/functions/list`, { key: dev, body: { filter: { name } } }));
      expect(list.items).toEqual([]);
    });

    it("answers 409 with duplicated for an externalId that is taken", async () => {
      const e = expectCogniteError(
        await api("POST", `${base}/functions`, {
          key: dev,
          body: { items: [{ name: unique("dup"), externalId, code: HANDLER }] },
        }),
        409,
      );
      expect(e.duplicated).toEqual([{ externalId }]);
    });

    it("needs a developer key to create", async () => {
      const viewer = (await newKey("viewer", ws.id)).key;
      expectCogniteError(
        await api("POST", `${base}/functions`, {
          key: viewer,
          body: { items: [{ name: unique("v"), code: HANDLER }] },
        }),
        403,
      );
    });

    it("answers unknown routes in Cognite's shape", async () => {
      expectCogniteError(await api("GET", `${base}/nothing-here`, { key: dev }), 404);
    });
  });

  describe("functions", () => {
    it("retrieves one function by id", async () => {
      const fn = ok(await api("GET", `${base}/functions/${fnId}`, { key: dev }));
      expect(fn).toMatchObject({ id: fnId, externalId, status: "Ready", cpu: 1, memory: 0.128 });
    });

    it("lists with GET and with POST /list filters", async () => {
      const all = ok(await api("GET", `${base}/functions?limit=10`, { key: dev }));
      expect(all.items.some((f: { id: number }) => f.id === fnId)).toBe(true);
      const filtered = ok(
        await api("POST", `${base}/functions/list`, {
          key: dev,
          body: {
            filter: {
              owner: "user@cognite.com",
              status: "Ready",
              externalIdPrefix: externalId.slice(0, 8),
              createdTime: { min: 0, max: Date.now() + 60_000 },
              metadata: { team: "ml" },
            },
            limit: 25,
          },
        }),
      );
      expect(filtered.items.map((f: { id: number }) => f.id)).toEqual([fnId]);
      const none = ok(
        await api("POST", `${base}/functions/list`, { key: dev, body: { filter: { owner: "someone@else" } } }),
      );
      expect(none.items).toEqual([]);
      // Clients send absent values as null.
      const nulls = ok(
        await api("POST", `${base}/functions/list`, { key: dev, body: { filter: {}, limit: null, cursor: null } }),
      );
      expect(nulls.items.some((f: { id: number }) => f.id === fnId)).toBe(true);
    });

    it("pages with nextCursor", async () => {
      const w = await newWorkspace();
      const b = `/api/v1/projects/${w.name}`;
      ok(
        await api("POST", `${b}/functions`, {
          body: { items: [1, 2, 3].map((i) => ({ name: `f${i}`, code: HANDLER })) },
        }),
        201,
      );
      const first = ok(await api("POST", `${b}/functions/list`, { body: { limit: 2 } }));
      expect(first.items).toHaveLength(2);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = ok(await api("POST", `${b}/functions/list`, { body: { limit: 2, cursor: first.nextCursor } }));
      expect(second.items).toHaveLength(1);
      expect(second.nextCursor).toBeUndefined();
      const names = [...first.items, ...second.items].map((f: { name: string }) => f.name).sort();
      expect(names).toEqual(["f1", "f2", "f3"]);
    });

    it("retrieves by ids and external ids; unknown ones are missing unless ignored", async () => {
      const both = ok(
        await api("POST", `${base}/functions/byids`, { key: dev, body: { items: [{ id: fnId }, { externalId }] } }),
      ).items;
      expect(both).toHaveLength(2);
      expect(both.every((f: { id: number }) => f.id === fnId)).toBe(true);
      const e = expectCogniteError(
        await api("POST", `${base}/functions/byids`, {
          key: dev,
          body: { items: [{ id: fnId }, { id: 9_007_199_254_740_991 }, { externalId: "nope" }] },
        }),
        400,
      );
      expect(e.missing).toEqual([{ id: 9_007_199_254_740_991 }, { externalId: "nope" }]);
      const ignored = ok(
        await api("POST", `${base}/functions/byids`, {
          key: dev,
          body: { items: [{ id: fnId }, { externalId: "nope" }], ignoreUnknownIds: true },
        }),
      );
      expect(ignored.items.map((f: { id: number }) => f.id)).toEqual([fnId]);
      const dup = expectCogniteError(
        await api("POST", `${base}/functions/byids`, { key: dev, body: { items: [{ id: fnId }, { id: fnId }] } }),
        400,
      );
      expect(dup.duplicated).toEqual([{ id: fnId }]);
    });

    it("hides another workspace's functions: 404 / missing, as if they did not exist", async () => {
      const other = await newWorkspace();
      const theirs = ok(
        await api("POST", `/api/v1/projects/${other.name}/functions`, {
          body: { items: [{ name: unique("theirs"), code: HANDLER }] },
        }),
        201,
      ).items[0];
      const e = expectCogniteError(await api("GET", `${base}/functions/${theirs.id}`, { key: dev }), 404);
      expect(e.missing).toEqual([{ id: theirs.id }]);
      // Even the admin key sees it only through its own project.
      expectCogniteError(await api("GET", `${base}/functions/${theirs.id}`, { key: ADMIN_KEY }), 404);
      const byIds = expectCogniteError(
        await api("POST", `${base}/functions/byids`, { key: dev, body: { items: [{ id: theirs.id }] } }),
        400,
      );
      expect(byIds.missing).toEqual([{ id: theirs.id }]);
      expectCogniteError(await api("POST", `${base}/functions/${theirs.id}/call`, { key: dev, body: {} }), 404);
    });

    it("keeps a function's integer id stable", async () => {
      const again = ok(await api("POST", `${base}/functions/byids`, { key: dev, body: { items: [{ externalId }] } }));
      expect(again.items[0].id).toBe(fnId);
    });

    it("shows a failed build as Failed with its error", async () => {
      const created = ok(
        await api("POST", `${base}/functions`, {
          key: dev,
          body: { items: [{ name: unique("bad"), code: "export const x = ;" }] },
        }),
        201,
      ).items[0];
      const fn = await waitReady(created.id);
      expect(fn.status).toBe("Failed");
      expect(fn.error).toMatchObject({ message: expect.any(String), trace: expect.any(String) });
    });
  });

  describe("calls", () => {
    let callId: number;

    it("calls and waits: the call object with status Completed and epoch-ms times", async () => {
      const before = Date.now();
      const call = ok(
        await api("POST", `${base}/functions/${fnId}/call`, { key: dev, body: { data: { name: "Ada" } } }),
        201,
      );
      expect(call).toMatchObject({ id: expect.any(Number), status: "Completed", functionId: fnId });
      expect(isEpochMs(call.startTime) && isEpochMs(call.endTime)).toBe(true);
      expect(call.startTime).toBeGreaterThanOrEqual(before - 1000);
      expect(call.endTime).toBeGreaterThanOrEqual(call.startTime);
      expect(call.error).toBeUndefined();
      callId = call.id;

      const fn = ok(await api("GET", `${base}/functions/${fnId}`, { key: dev }));
      expect(isEpochMs(fn.lastCalled)).toBe(true);
    });

    it("reads the call, its response and its logs", async () => {
      const call = ok(await api("GET", `${base}/functions/${fnId}/calls/${callId}`, { key: dev }));
      expect(call).toMatchObject({ id: callId, status: "Completed", functionId: fnId });
      const response = ok(await api("GET", `${base}/functions/${fnId}/calls/${callId}/response`, { key: dev }));
      expect(response).toEqual({ response: { greeting: "Hello, Ada!", region: "eu-west", secret: "s3cr3t" } });
      const logs = ok(await api("GET", `${base}/functions/${fnId}/calls/${callId}/logs`, { key: dev }));
      expect(logs.items).toHaveLength(1);
      expect(logs.items[0]).toEqual({ timestamp: expect.any(Number), message: "hello from Ada" });
      expect(isEpochMs(logs.items[0].timestamp)).toBe(true);
    });

    it("answers a failed call as Failed with its error", async () => {
      const call = ok(
        await api("POST", `${base}/functions/${fnId}/call`, { key: dev, body: { data: { fail: true } } }),
        201,
      );
      expect(call.status).toBe("Failed");
      expect(call.error.message).toBe("TypeError: it failed on purpose");
      const response = ok(await api("GET", `${base}/functions/${fnId}/calls/${call.id}/response`, { key: dev }));
      expect(response).toEqual({ response: null });
    });

    it("lists calls with GET and with POST filters, and retrieves them by ids", async () => {
      const all = ok(await api("GET", `${base}/functions/${fnId}/calls`, { key: dev }));
      expect(all.items.length).toBeGreaterThanOrEqual(2);
      const completed = ok(
        await api("POST", `${base}/functions/${fnId}/calls/list`, {
          key: dev,
          body: { filter: { status: "Completed", startTime: { min: 0 }, endTime: { max: Date.now() + 60_000 } } },
        }),
      );
      expect(completed.items.map((c: { id: number }) => c.id)).toEqual([callId]);
      const failed = ok(
        await api("POST", `${base}/functions/${fnId}/calls/list`, { key: dev, body: { filter: { status: "Failed" } } }),
      );
      expect(failed.items).toHaveLength(1);
      const byIds = ok(
        await api("POST", `${base}/functions/${fnId}/calls/byids`, { key: dev, body: { items: [{ id: callId }] } }),
      );
      expect(byIds.items.map((c: { id: number }) => c.id)).toEqual([callId]);
      const e = expectCogniteError(
        await api("POST", `${base}/functions/${fnId}/calls/byids`, { key: dev, body: { items: [{ id: 123456789 }] } }),
        400,
      );
      expect(e.missing).toEqual([{ id: 123456789 }]);
      expectCogniteError(await api("GET", `${base}/functions/${fnId}/calls/123456789`, { key: dev }), 404);
    });

    it("needs an invoker key to call", async () => {
      const viewer = (await newKey("viewer", ws.id)).key;
      expectCogniteError(await api("POST", `${base}/functions/${fnId}/call`, { key: viewer, body: {} }), 403);
    });
  });

  describe("schedules", () => {
    let scheduleId: number;

    it("creates a schedule by functionExternalId (the SDK's example)", async () => {
      const created = ok(
        await api("POST", `${base}/functions/schedules`, {
          key: dev,
          body: {
            items: [
              {
                name: "My schedule",
                functionExternalId: externalId,
                cronExpression: "*/5 * * * *",
                description: "This schedule does magic stuff.",
                data: { magic: "stuff" },
              },
            ],
          },
        }),
        201,
      );
      const s = created.items[0];
      expect(s).toMatchObject({
        id: expect.any(Number),
        name: "My schedule",
        functionId: fnId,
        functionExternalId: externalId,
        description: "This schedule does magic stuff.",
        cronExpression: "*/5 * * * *",
        when: expect.any(String),
      });
      expect(isEpochMs(s.createdTime)).toBe(true);
      scheduleId = s.id;
    });

    it("lists, retrieves and reads the input data", async () => {
      const listed = ok(
        await api("POST", `${base}/functions/schedules/list`, {
          key: dev,
          body: { filter: { functionId: fnId, cronExpression: "*/5 * * * *" }, limit: 25 },
        }),
      );
      expect(listed.items.map((s: { id: number }) => s.id)).toEqual([scheduleId]);
      const get = ok(await api("GET", `${base}/functions/schedules`, { key: dev }));
      expect(get.items.map((s: { id: number }) => s.id)).toContain(scheduleId);
      const one = ok(await api("GET", `${base}/functions/schedules/${scheduleId}`, { key: dev }));
      expect(one.id).toBe(scheduleId);
      const byIds = ok(
        await api("POST", `${base}/functions/schedules/byids`, {
          key: dev,
          body: { items: [{ id: scheduleId }, { id: 987654321 }], ignoreUnknownIds: true },
        }),
      );
      expect(byIds.items.map((s: { id: number }) => s.id)).toEqual([scheduleId]);
      const input = ok(await api("GET", `${base}/functions/schedules/${scheduleId}/input_data`, { key: dev }));
      expect(input).toEqual({ id: scheduleId, data: { magic: "stuff" } });
    });

    it("shows the schedule's calls with scheduleId and scheduledTime", async () => {
      const next = await env.DB.prepare(
        "SELECT s.next_run_at AS due FROM schedules s JOIN cognite_ids c ON c.ref = s.id AND c.kind = 'schedule' WHERE c.id = ?",
      )
        .bind(scheduleId)
        .first<{ due: number }>();
      const due = next?.due as number;
      await tick(due);
      const deadline = Date.now() + 15_000;
      let items: any[] = [];
      for (;;) {
        items = ok(
          await api("POST", `${base}/functions/${fnId}/calls/list`, { key: dev, body: { filter: { scheduleId } } }),
        ).items;
        if (items.length === 1 && items[0].status !== "Running") break;
        if (Date.now() > deadline) throw new Error(`scheduled call not done: ${JSON.stringify(items)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(items[0]).toMatchObject({ status: "Completed", scheduleId, scheduledTime: due, functionId: fnId });
      const response = ok(await api("GET", `${base}/functions/${fnId}/calls/${items[0].id}/response`, { key: dev }));
      expect(response.response.greeting).toBe("Hello, world!");
    });

    it("refuses a bad cron or an unknown function in Cognite's shape", async () => {
      expectCogniteError(
        await api("POST", `${base}/functions/schedules`, {
          key: dev,
          body: { items: [{ name: "x", functionId: fnId, cronExpression: "every day" }] },
        }),
        400,
      );
      const e = expectCogniteError(
        await api("POST", `${base}/functions/schedules`, {
          key: dev,
          body: { items: [{ name: "x", functionId: 987654321, cronExpression: "* * * * *" }] },
        }),
        400,
      );
      expect(e.missing).toEqual([{ id: 987654321 }]);
    });

    it("deletes a schedule", async () => {
      expect(
        ok(
          await api("POST", `${base}/functions/schedules/delete`, { key: dev, body: { items: [{ id: scheduleId }] } }),
        ),
      ).toEqual({});
      const e = expectCogniteError(await api("GET", `${base}/functions/schedules/${scheduleId}`, { key: dev }), 404);
      expect(e.missing).toEqual([{ id: scheduleId }]);
    });
  });

  describe("project-wide", () => {
    it("opens a session for the SDKs' nonce (a no-op) and passes the nonce along unchecked", async () => {
      const sessions = ok(
        await api("POST", `${base}/sessions`, {
          key: dev,
          body: { items: [{ tokenExchange: true }, { clientId: "my-client-id", clientSecret: "s" }] },
        }),
      );
      expect(sessions.items).toEqual([
        { id: expect.any(Number), type: "TOKEN_EXCHANGE", status: "READY", nonce: expect.any(String) },
        {
          id: expect.any(Number),
          type: "CLIENT_CREDENTIALS",
          status: "READY",
          nonce: expect.any(String),
          clientId: "my-client-id",
        },
      ]);
      const call = ok(
        await api("POST", `${base}/functions/${fnId}/call`, {
          key: dev,
          body: { data: { name: "Nonce" }, nonce: sessions.items[0].nonce },
        }),
        201,
      );
      expect(call.status).toBe("Completed");
      expectCogniteError(await api("POST", `${base}/sessions`, { key: null, body: { items: [] } }), 401);
      expectCogniteError(await api("POST", `${base}/sessions`, { key: dev, body: { items: [] } }), 400);
    });

    it("shows limits and the activation status", async () => {
      const limits = ok(await api("GET", `${base}/functions/limits`, { key: dev }));
      expect(limits).toMatchObject({
        timeoutMinutes: 15,
        cpuCores: { min: expect.any(Number), max: expect.any(Number), default: expect.any(Number) },
        memoryGb: { min: expect.any(Number), max: expect.any(Number), default: expect.any(Number) },
        runtimes: expect.arrayContaining(["py39", "py311", "py312", "js"]),
        responseSizeMb: 1,
      });
      expect(ok(await api("GET", `${base}/functions/status`, { key: dev }))).toEqual({ status: "activated" });
      expect(ok(await api("POST", `${base}/functions/status`, { key: dev }))).toEqual({ status: "activated" });
    });
  });

  describe("delete", () => {
    it("deletes functions by id or external id; they are then missing", async () => {
      const created = ok(
        await api("POST", `${base}/functions`, {
          key: dev,
          body: { items: [{ name: unique("gone"), externalId: unique("gone"), code: HANDLER }] },
        }),
        201,
      ).items[0];
      const e = expectCogniteError(
        await api("POST", `${base}/functions/delete`, { key: dev, body: { items: [{ id: 987654321 }] } }),
        400,
      );
      expect(e.missing).toEqual([{ id: 987654321 }]);
      expect(
        ok(
          await api("POST", `${base}/functions/delete`, {
            key: dev,
            body: { items: [{ externalId: created.externalId }] },
          }),
        ),
      ).toEqual({});
      expectCogniteError(await api("GET", `${base}/functions/${created.id}`, { key: dev }), 404);
    });
  });
});
