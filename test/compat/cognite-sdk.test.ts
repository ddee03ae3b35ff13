/**
 * Cognite's Python SDK, replayed: the HTTP requests `client.functions.create(folder=...)`, `function.call(data)`,
 * `call.get_response()`, `call.get_logs()`, `client.functions.schedules.create(...)` and the deletes make (paths,
 * bodies gzip-compressed as the SDK sends them, its headers and bearer token; the upload PUT without them), in the
 * order the SDK makes them, against the real runtime: zips made here as the SDK makes them (`os.walk` of the folder
 * with its directory entries), Python handlers built and run on Pyodide.
 */
import { env, exports } from "cloudflare:workers";
import { gzipSync, strToU8, zipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { tinyWheel } from "../python/support";
import { newKey, newWorkspace, unique, type Workspace } from "../support/api";

/** Python builds (a memory snapshot each) take seconds, more on a busy machine. */
const T = 240_000;

/** The headers every SDK request to the API carries (BasicAsyncAPIClient._configure_headers). */
const sdkHeaders = (token: string) => ({
  "content-type": "application/json",
  accept: "application/json",
  "x-cdp-sdk": "CognitePythonSDK:8.13.0",
  "x-cdp-app": "edgefn-compat-test",
  "cdf-version": "20230101",
  "user-agent": "python-httpx/0.28.1 CognitePythonSDK/8.13.0 CPython/3.12.3 (main;GCC 13.2.0) Linux/6.8.0-x86_64-64bit",
  authorization: `Bearer ${token}`,
});

interface Answer {
  status: number;
  body: any;
}

const answerOf = async (res: Response): Promise<Answer> => {
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

/** An SDK request: a JSON body goes gzip-compressed with Content-Encoding: gzip (the SDK's default). */
class Sdk {
  constructor(
    private project: string,
    private token: string,
  ) {}

  async send(method: "GET" | "POST", path: string, json?: unknown, params = ""): Promise<Answer> {
    const headers: Record<string, string> = sdkHeaders(this.token);
    let body: Uint8Array | undefined;
    if (json !== undefined) {
      body = gzipSync(strToU8(JSON.stringify(json)));
      headers["content-encoding"] = "gzip";
    }
    const url = `http://edgefn.test/api/v1/projects/${this.project}${path}${params}`;
    return answerOf(await exports.default.fetch(url, { method, headers, body }));
  }

  async ok(method: "GET" | "POST", path: string, json?: unknown, params = ""): Promise<any> {
    const res = await this.send(method, path, json, params);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    return res.body;
  }

  /** files.upload_bytes: POST /files (metadata, ?overwrite=), then a PUT of the bytes to the uploadUrl. */
  async uploadBytes(content: Uint8Array, name: string, externalId?: string) {
    const meta = { name, ...(externalId ? { externalId } : {}) };
    const created = await this.ok("POST", "/files", meta, `?overwrite=${externalId ? "true" : "false"}`);
    // The PUT goes to the URL as given, with only these headers: no token, no SDK headers.
    const put = await exports.default.fetch(created.uploadUrl, {
      method: "PUT",
      headers: { accept: "*/*", "content-length": String(content.byteLength) },
      body: content,
    });
    expect(put.status, await put.clone().text()).toBe(200);
    return created as { id: number; uploadUrl: string };
  }

  /**
   * functions.create(name, folder=..., function_path=..., external_id=...): the zip uploaded as `<name>.zip`, the
   * file retrieved until it is `uploaded`, then POST /functions with its fileId.
   */
  async createFunction(name: string, zip: Uint8Array, functionPath = "handler.py", externalId?: string) {
    const file = await this.uploadBytes(zip, `${name}.zip`, externalId);
    for (;;) {
      const got = await this.ok("POST", "/files/byids", { items: [{ id: file.id }] });
      if (got.items[0].uploaded) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const item = { name, ...(externalId ? { externalId } : {}), fileId: file.id, functionPath };
    const created = await this.ok("POST", "/functions", { items: [item] });
    return { fn: created.items[0], fileId: file.id };
  }

  /** What a user does after create: function.update() (POST /functions/byids) until the status settles. */
  async untilReady(id: number) {
    const deadline = Date.now() + T - 20_000;
    for (;;) {
      const fn = (await this.ok("POST", "/functions/byids", { items: [{ id }] })).items[0];
      if (fn.status === "Ready" || fn.status === "Failed") return fn;
      expect(["Queued", "Deploying"]).toContain(fn.status);
      if (Date.now() > deadline) throw new Error(`function ${id} still ${fn.status}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** A session for its nonce (create_session_and_return_nonce with token credentials). */
  async nonce(): Promise<string> {
    return (await this.ok("POST", "/sessions", { items: [{ tokenExchange: true }] })).items[0].nonce;
  }

  /** function.call(data): a session, POST /call, then call.wait() (calls/byids while Running). */
  async call(fnId: number, data: unknown) {
    const nonce = await this.nonce();
    let call = await this.ok("POST", `/functions/${fnId}/call`, { data, nonce });
    while (call.status === "Running") {
      await new Promise((r) => setTimeout(r, 100));
      call = (await this.ok("POST", `/functions/${fnId}/calls/byids`, { items: [{ id: call.id }] })).items[0];
    }
    return call;
  }

  response = async (fnId: number, callId: number) =>
    (await this.ok("GET", `/functions/${fnId}/calls/${callId}/response`)).response;
  logs = async (fnId: number, callId: number) =>
    (await this.ok("GET", `/functions/${fnId}/calls/${callId}/logs`)).items as { timestamp: number; message: string }[];
}

const dir = new Uint8Array(0);
const text = (s: string) => strToU8(s.replace(/^\n/, ""));

/**
 * The zip `_zip_and_upload_folder` makes: `os.walk(".")` writes each folder ("./", "helpers/") and each file under
 * its path, the __pycache__ the SDK's folder validation leaves (it imports the handler) included.
 */
function folderZip(files: Record<string, Uint8Array>): Uint8Array {
  const entries: Record<string, Uint8Array> = { "./": dir };
  for (const [path, bytes] of Object.entries(files)) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) entries[`${parts.slice(0, i).join("/")}/`] = dir;
    entries[path] = bytes;
  }
  return zipSync(entries);
}

/** Bytes as a .pyc file holds them: not text, and not a module edgefn runs. */
const pyc = () => new Uint8Array([0xcb, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0xe3, 0xff, 0x00, 0x80, 0x01]);

const MAIN_HANDLER = `
import logging

from helpers.text import shout

logger = logging.getLogger(__name__)


def handle(client, data):
    print("called with", data)
    logger.warning("careful: %s", data.get("name"))
    if data.get("fail"):
        return fail(data)
    return {"greeting": shout("hello " + data["name"]), "client": hasattr(client, "invoke")}


def fail(data):
    raise ValueError("no good: " + data["name"])
`;

describe("Cognite's Python SDK, request by request", () => {
  let ws: Workspace;
  let sdk: Sdk;

  beforeAll(async () => {
    ws = await newWorkspace();
    sdk = new Sdk(ws.name, (await newKey("developer", ws.id)).key);
  });

  it(
    "creates a function from a folder (a helper package, a .pyc), calls it, reads response, logs and a traceback, and deletes it with its file",
    async () => {
      const externalId = unique("sdk-fn");
      const zip = folderZip({
        "handler.py": text(MAIN_HANDLER),
        "helpers/__init__.py": text(""),
        "helpers/text.py": text("def shout(s):\n    return s.upper() + '!'\n"),
        "__pycache__/handler.cpython-312.pyc": pyc(),
      });
      const { fn, fileId } = await sdk.createFunction("my function", zip, "handler.py", externalId);
      expect(fn).toMatchObject({ name: "my function", externalId, fileId, functionPath: "handler.py" });
      expect(["Queued", "Deploying", "Ready"]).toContain(fn.status);
      const ready = await sdk.untilReady(fn.id);
      expect(ready).toMatchObject({ status: "Ready", fileId, runtime: expect.stringMatching(/^py3\d+$/) });
      expect(ready.runtimeVersion).toMatch(/^Python 3\.\d+/);
      // The file is listed as the function's: functions.list(file_id=...).
      const listed = await sdk.ok("POST", "/functions/list", { filter: { fileId }, limit: 100 });
      expect(listed.items.map((f: { id: number }) => f.id)).toEqual([fn.id]);

      const call = await sdk.call(fn.id, { name: "ada" });
      expect(call).toMatchObject({ status: "Completed", functionId: fn.id, id: expect.any(Number) });
      expect(await sdk.response(fn.id, call.id)).toEqual({ greeting: "HELLO ADA!", client: true });
      const lines = (await sdk.logs(fn.id, call.id)).map((l) => l.message);
      expect(lines).toEqual(expect.arrayContaining(["called with {'name': 'ada'}", "careful: ada"]));

      const failed = await sdk.call(fn.id, { name: "bob", fail: true });
      expect(failed.status).toBe("Failed");
      expect(failed.error.message).toBe("ValueError: no good: bob");
      // The traceback is the user's: its own frames, none of the platform's.
      expect(failed.error.trace).toMatch(/Traceback \(most recent call last\)/);
      expect(failed.error.trace).toMatch(/handler\.py", line \d+, in handle/);
      expect(failed.error.trace).toMatch(/handler\.py", line \d+, in fail/);
      expect(failed.error.trace).toMatch(/ValueError: no good: bob/);
      expect(failed.error.trace).not.toMatch(/edgefn/);
      const again = (await sdk.ok("POST", `/functions/${fn.id}/calls/byids`, { items: [{ id: failed.id }] })).items[0];
      expect(again.error).toEqual(failed.error);

      // functions.delete(id=...), then files.delete(id=...): both gone, the zip's bytes too.
      await sdk.ok("POST", "/functions/delete", { items: [{ id: fn.id }] });
      expect((await sdk.send("POST", "/functions/byids", { items: [{ id: fn.id }] })).status).toBe(400);
      await sdk.ok("POST", "/files/delete", { items: [{ id: fileId }] });
      expect((await sdk.send("GET", `/files/${fileId}`)).status).toBe(404);
      expect((await env.CODE.list({ prefix: `cognite-files/${ws.id}/${fileId}/` })).objects).toEqual([]);
    },
    T,
  );

  it(
    "runs a handler in a subfolder with function_call_info: the ids the API shows, and a schedule's",
    async () => {
      // A folder whose only content is myfunction/: the zip's root is still the code's root.
      const zip = folderZip({
        "myfunction/handler.py": text(`
from myfunction.util import label


def handle(data, function_call_info):
    return {"info": function_call_info, "label": label(data)}
`),
        "myfunction/util.py": text("def label(data):\n    return 'for ' + str(data.get('who'))\n"),
      });
      const { fn } = await sdk.createFunction("subfolder", zip, "myfunction/handler.py");
      expect(fn.functionPath).toBe("myfunction/handler.py");
      expect((await sdk.untilReady(fn.id)).status).toBe("Ready");

      const call = await sdk.call(fn.id, { who: "me" });
      expect(call.status).toBe("Completed");
      expect(await sdk.response(fn.id, call.id)).toEqual({
        info: { function_id: fn.id, call_id: call.id },
        label: "for me",
      });

      // schedules.create(name, cron_expression, function_id, data): a session's nonce, then POST /schedules.
      const nonce = await sdk.nonce();
      const schedule = (
        await sdk.ok("POST", "/functions/schedules", {
          items: [
            { name: "every minute", cronExpression: "* * * * *", functionId: fn.id, data: { who: "cron" }, nonce },
          ],
        })
      ).items[0];
      expect(schedule).toMatchObject({ name: "every minute", functionId: fn.id, cronExpression: "* * * * *" });
      const due = (await env.DB.prepare(
        "SELECT s.next_run_at AS due FROM schedules s JOIN cognite_ids c ON c.ref = s.id AND c.kind = 'schedule' WHERE c.id = ?",
      )
        .bind(schedule.id)
        .first()) as { due: number };
      await tick(due.due);
      // schedule.get_calls(): calls/list filtered by the schedule.
      const deadline = Date.now() + 60_000;
      let calls: any[] = [];
      for (;;) {
        calls = (
          await sdk.ok("POST", `/functions/${fn.id}/calls/list`, { filter: { scheduleId: schedule.id }, limit: 25 })
        ).items;
        if (calls.length > 0 && calls[0].status !== "Running") break;
        if (Date.now() > deadline) throw new Error(`no scheduled call: ${JSON.stringify(calls)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const scheduled = calls[0];
      expect(scheduled).toMatchObject({ status: "Completed", scheduleId: schedule.id, scheduledTime: due.due });
      expect(await sdk.response(fn.id, scheduled.id)).toEqual({
        info: { function_id: fn.id, call_id: scheduled.id, schedule_id: schedule.id, scheduled_time: due.due },
        label: "for cron",
      });
      await sdk.ok("POST", "/functions/schedules/delete", { items: [{ id: schedule.id }] });
    },
    T,
  );

  it(
    "runs a handler made from a function handle (handler.py alone) that declares only data",
    async () => {
      // _zip_and_upload_handle: the handle's source as handler.py at the zip's root, nothing else.
      const zip = zipSync({ "handler.py": text("def handle(data):\n    return {'echo': data}\n") });
      const { fn } = await sdk.createFunction("from handle", zip);
      expect((await sdk.untilReady(fn.id)).status).toBe("Ready");
      const call = await sdk.call(fn.id, { x: [1, 2] });
      expect(await sdk.response(fn.id, call.id)).toEqual({ echo: { x: [1, 2] } });
      // function.call() with no data sends {}.
      const empty = await sdk.call(fn.id, {});
      expect(await sdk.response(fn.id, empty.id)).toEqual({ echo: {} });
    },
    T,
  );

  it(
    "reports a handler that fails to import as Failed, with the error",
    async () => {
      const zip = zipSync({ "handler.py": text("import not_installed_anywhere\n\ndef handle(data):\n    return 1\n") });
      const { fn } = await sdk.createFunction("broken", zip);
      const failed = await sdk.untilReady(fn.id);
      expect(failed.status).toBe("Failed");
      expect(failed.error.message).toMatch(/not_installed_anywhere/);
      const call = await sdk.send("POST", `/functions/${fn.id}/call`, { data: {}, nonce: await sdk.nonce() });
      expect(call.status).toBeGreaterThanOrEqual(400);
      expect(call.status).toBeLessThan(500);
    },
    T,
  );
});

/** One minute tick of the platform's cron at this time (as test/schedules.test.ts does). */
async function tick(scheduledTime: number) {
  const { default: worker } = await import("../../src/index");
  const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import("cloudflare:test");
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("Cognite's Python SDK: requirements.txt with a vendored wheel", () => {
  it(
    "installs the wheel the folder carries and imports it",
    async () => {
      const ws = await newWorkspace();
      const sdk = new Sdk(ws.name, (await newKey("developer", ws.id)).key);
      const zip = folderZip({
        "handler.py": text("import tinywheel\n\ndef handle(data):\n    return tinywheel.shout(data['text'])\n"),
        "requirements.txt": text("tinywheel==1.0.0\n"),
        "wheels/tinywheel-1.0.0-py3-none-any.whl": tinyWheel(),
      });
      const { fn } = await sdk.createFunction("wheel", zip);
      const ready = await sdk.untilReady(fn.id);
      expect(ready.error).toBeUndefined();
      expect(ready.status).toBe("Ready");
      const call = await sdk.call(fn.id, { text: "vendored" });
      expect(await sdk.response(fn.id, call.id)).toBe("VENDORED!");
    },
    T,
  );
});
