/**
 * Python functions through the platform's API: a `.py` upload is built into a Python version (its memory snapshot
 * stored in R2, its time and size in the build logs), invoked, served over HTTP, and falls back to a plain boot when
 * its snapshot is gone. Runtimes list Python.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, expectError, expectStatus, newFunction, newWorkspace } from "../support/api";
import { logsOf, waitForCall } from "../support/calls";
import { invoke, waitForBuild } from "../support/deploy";

const T = 120_000;
const BUILD_MS = 90_000;

const HANDLER = `
import os, logging

print("loaded")

def check(data):
    if data.get("fail"):
        raise ValueError("bad input: " + data["fail"])

def handle(data, ctx):
    logging.getLogger("fn").warning("called with %s", data)
    check(data)
    return {"sum": data["a"] + data["b"], "region": os.environ.get("REGION"), "fn": ctx.call["functionId"]}
`;

async function pyFunction(files: Record<string, string>, extra: Record<string, unknown> = {}) {
  const ws = await newWorkspace();
  const fn = await newFunction(ws.id, extra);
  const queued = expectStatus(await api("POST", `/api/functions/${fn.id}/versions`, { body: { files } }), 201);
  const version = await waitForBuild(fn.id, queued.id, undefined, BUILD_MS);
  return { ws, fn, version };
}

describe("Python versions", () => {
  it(
    "builds a handler.py with a snapshot, says so in the build logs, and answers invokes",
    async () => {
      const { fn, version } = await pyFunction({ "handler.py": HANDLER }, { envVars: { REGION: "eu" } });
      expect(version.status, JSON.stringify(version.error)).toBe("ready");
      expect(version.entrypoint).toBe("handler.py");
      expect(version.runtime).toBe("python");
      expect(version.handlers).toEqual(["handle"]);
      const logs = version.buildLogs.map((l: { message: string }) => l.message).join("\n");
      expect(logs).toMatch(/Python 3\.\d+\.\d+ \(Pyodide [\d.]+\)/);
      expect(logs).toMatch(/Snapshot \d+\.\d MB \(memory \d+\.\d MB, zero pages left out\) made in \d+ ms/);
      const listed = await env.CODE.list({ prefix: `snapshots/${fn.id}/${version.id}/` });
      expect(listed.objects).toHaveLength(1);

      const res = expectStatus(await invoke(fn.id, { a: 2, b: 40 }), 200);
      expect(res.result).toEqual({ sum: 42, region: "eu", fn: fn.id });
      expect((await waitForCall(res.callId)).status).toBe("completed");
      const first = (await logsOf(res.callId)).items.map((l: { message: string }) => l.message);
      expect(first).toContain("called with {'a': 2, 'b': 40}");
      expect(first.some((m: string) => /\[edgefn\] Python booted from its memory snapshot in \d+ ms/.test(m))).toBe(
        true,
      );
      // The module's top level ran when the snapshot was made, not again in the call.
      expect(first).not.toContain("loaded");

      // A raised exception is the call's error, with the traceback of the user's frames only.
      const failed = expectStatus(await invoke(fn.id, { a: 1, b: 2, fail: "no" }), 200);
      expect(failed).toMatchObject({ ok: false, status: "failed" });
      const record = await waitForCall(failed.callId);
      expect(record.error).toMatchObject({ name: "ValueError", message: "bad input: no" });
      expect(record.error.stack).toMatch(
        /File "\/function\/handler\.py", line \d+, in handle\n[\s\S]*File "\/function\/handler\.py", line \d+, in check/,
      );
      expect(record.error.stack).not.toMatch(/_edgefn|pyodide|\/lib\/python/);
    },
    T,
  );

  it(
    "boots plainly when the snapshot is gone, and says so in the call's logs",
    async () => {
      const { fn, version } = await pyFunction({ "main.py": HANDLER }, { envVars: { REGION: "us" } });
      expect(version.status, JSON.stringify(version.error)).toBe("ready");
      const listed = await env.CODE.list({ prefix: `snapshots/${fn.id}/` });
      await env.CODE.delete(listed.objects.map((o) => o.key));
      // The deploy booted the version's isolate already (from the snapshot): a config change needs a new one.
      expectStatus(await api("PATCH", `/api/functions/${fn.id}`, { body: { envVars: { REGION: "us", N: "2" } } }), 200);
      const call = expectStatus(await invoke(fn.id, { a: 1, b: 1 }), 200);
      expect(call.result).toEqual({ sum: 2, region: "us", fn: fn.id });
      await waitForCall(call.callId);
      const messages = (await logsOf(call.callId)).items.map((l: { message: string }) => l.message);
      expect(messages).toContain("[edgefn] this version's memory snapshot is missing: booting Python without it");
    },
    T,
  );

  it(
    "gives isolates restored from one snapshot fresh randomness, and the string hashing key of their version",
    async () => {
      const code = (n: number) =>
        `# ${n}\nimport random, sys\n\ndef handle(data):\n    return {"hash": hash("edgefn"), "random": random.random(), "randomized": sys.flags.hash_randomization}\n`;
      const { fn } = await pyFunction({ "handler.py": code(1) });
      const first = expectStatus(await invoke(fn.id, {}), 200).result;
      // A config change: a new isolate, restored from the same snapshot.
      expectStatus(await api("PATCH", `/api/functions/${fn.id}`, { body: { envVars: { N: "2" } } }), 200);
      const second = expectStatus(await invoke(fn.id, {}), 200).result;
      expect(second.random).not.toBe(first.random);
      expect(second.hash).toBe(first.hash);
      // Another version: another snapshot, made by an interpreter with a key of its own.
      const queued = expectStatus(
        await api("POST", `/api/functions/${fn.id}/versions`, { body: { files: { "handler.py": code(2) } } }),
        201,
      );
      expect((await waitForBuild(fn.id, queued.id, undefined, BUILD_MS)).status).toBe("ready");
      const other = expectStatus(await invoke(fn.id, {}), 200).result;
      expect(other.randomized).toBe(1);
      expect(other.hash).not.toBe(first.hash);
    },
    T,
  );

  it(
    "fails the build with the Python traceback of an import-time error, and without any handler",
    async () => {
      const broken = await pyFunction({
        "handler.py": "import json\n\nx = 1 / 0\n\ndef handle(data, ctx):\n    return 1\n",
      });
      expect(broken.version.status).toBe("failed");
      expect(broken.version.error.message).toMatch(/ZeroDivisionError/);
      expect(broken.version.error.trace).toMatch(/handler\.py", line 3/);
      const none = await pyFunction({ "handler.py": "def helper():\n    return 1\n" });
      expect(none.version.status).toBe("failed");
      expect(none.version.error.message).toMatch(/defines no handler/);
    },
    T,
  );

  it(
    "refuses a runtime that contradicts the entry file",
    async () => {
      const ws = await newWorkspace();
      const fn = await newFunction(ws.id);
      const res = await api("POST", `/api/functions/${fn.id}/versions`, {
        body: { files: { "index.ts": "export function handle() {}" }, runtime: "python" },
      });
      expectError(res, 400, "bad_request");
      const bad = await api("POST", `/api/functions/${fn.id}/versions`, {
        body: { files: { "handler.py": "def handle(d, c):\n    return 1\n" }, runtime: "cobol" },
      });
      expectError(bad, 400, "bad_request");
    },
    T,
  );

  it(
    "serves on_fetch over /run",
    async () => {
      const { ws, fn, version } = await pyFunction({
        "main.py": `
from workers import Response

async def on_fetch(request):
    body = await request.text()
    return Response.json({"method": request.method, "echo": body})
`,
      });
      expect(version.status, JSON.stringify(version.error)).toBe("ready");
      expect(version.handlers).toEqual(["fetch"]);
      const res = await exports.default.fetch(`http://edgefn.test/run/${ws.id}/${fn.id}`, {
        method: "POST",
        body: "hi",
        headers: { authorization: `Bearer ${env.EDGEFN_ADMIN_KEY}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ method: "POST", echo: "hi" });
    },
    T,
  );

  it("is listed among the runtimes", async () => {
    const runtimes = expectStatus(await api("GET", "/api/runtimes"), 200);
    const py = runtimes.data.find((r: { runtime: string }) => r.runtime === "python");
    expect(py).toMatchObject({ languages: ["python"], version: expect.stringMatching(/^3\.\d+\.\d+$/) });
  });
});
