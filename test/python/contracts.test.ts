/**
 * The Python runtime's handler contracts, logs and errors, in real isolates of the Worker Loader: edgefn's
 * handle(data, ctx), Cognite's handle(data, client, secrets, function_call_info), Appwrite's main(context) and
 * Cloudflare's on_fetch(request). Each isolate boots Python plainly (1-4 s here).
 */
import { describe, expect, it } from "vitest";
import { FakeClient, infoOf, messages, pyIsolate, userLogs } from "./support";

const T = 60_000;

describe("a plain def handle(), run at once", () => {
  const py = pyIsolate({
    "main.py": `
import asyncio

async def _later(n):
    await asyncio.sleep(0)
    print("later", n)
    return {"later": n}

def handle(data):
    print("now", data["n"])
    if data.get("wait"):
        return _later(data["n"])
    return {"now": data["n"]}
`,
  });

  it(
    "answers and logs its own lines, and awaits what it returns to await, with calls made together kept apart",
    async () => {
      const outs = await Promise.all(
        [1, 2, 3, 4].map((n) => py.invoke({ n, wait: n % 2 === 0 }, infoOf(`call_${n}`) as any)),
      );
      for (const [i, out] of outs.entries()) {
        const n = i + 1;
        expect(out.error).toBeUndefined();
        expect(JSON.parse(out.result as string)).toEqual(n % 2 === 0 ? { later: n } : { now: n });
        expect(messages(out)).toEqual(n % 2 === 0 ? [`now ${n}`, `later ${n}`] : [`now ${n}`]);
      }
    },
    T,
  );
});

describe("handle(data, ctx)", () => {
  const py = pyIsolate(
    {
      "main.py": `
import asyncio, logging, os
from helpers import double

log = logging.getLogger("fn")
print("module loaded")

async def handle(data, ctx):
    print("got", data)
    ctx.log("via ctx.log", 1)
    log.info("via logging")
    log.warning("careful")
    child = await ctx.client.invoke("other", {"x": 1})
    calls = await ctx.client.calls(5)
    return {
        "double": double(data["n"]),
        "env": ctx.env,
        "secrets": ctx.secrets,
        "call": ctx.call,
        "environ": os.environ.get("REGION"),
        "child": child,
        "calls": calls,
    }
`,
      "helpers.py": "def double(n):\n    return n * 2\n",
    },
    { env: { REGION: "eu-west", "api-key": "s3cr3t" }, secretNames: ["api-key"] },
  );

  it(
    "gets data, env, secrets, call, os.environ, ctx.client; its print, ctx.log and logging are the call's logs",
    async () => {
      const out = await py.invoke({ n: 21 }, infoOf("call_1", { scheduleId: "sch_1" }, new FakeClient()) as any);
      expect(out.error).toBeUndefined();
      expect(JSON.parse(out.result as string)).toEqual({
        double: 42,
        env: { REGION: "eu-west", "api-key": "s3cr3t" },
        secrets: { "api-key": "s3cr3t" },
        call: { functionId: "fun_py", callId: "call_1", scheduleId: "sch_1" },
        environ: "eu-west",
        child: { ok: true, result: { target: "other", args: { x: 1 } }, callId: "call_child" },
        calls: [{ id: "call_earlier", status: "completed", limit: 5 }],
      });
      const lines = userLogs(out).map((l) => [l.level, l.message]);
      expect(lines).toEqual([
        ["info", "module loaded"],
        ["info", "got {'n': 21}"],
        ["info", "via ctx.log 1"],
        ["info", "via logging"],
        ["warn", "careful"],
      ]);
      // A warm call: the module's top level does not run again.
      const again = await py.invoke({ n: 1 }, infoOf("call_2", {}, new FakeClient()) as any);
      expect(messages(again)).toEqual(["got {'n': 1}", "via ctx.log 1", "via logging", "careful"]);
      // Without the host's client (never the case on the platform), ctx.client fails the call clearly.
      const alone = await py.invoke({ n: 1 }, infoOf("call_3") as any);
      expect(alone.error).toMatchObject({ message: expect.stringContaining("ctx.client is not available here") });
    },
    T,
  );

  it(
    "describes the module",
    async () => {
      expect(await py.describe()).toEqual({ handle: true, fetch: false });
    },
    T,
  );
});

describe("errors", () => {
  const py = pyIsolate({
    "main.py": `
import json

def parse(text):
    return json.loads(text)

def check(value):
    if value < 0:
        raise ValueError(f"negative: {value}")
    return value

def handle(data, ctx=None):
    if data == "json":
        return parse("{oops")
    if data == "nan":
        return float("nan")
    if data == "object":
        return object()
    if data == "exit":
        raise SystemExit(3)
    return check(data)
`,
  });

  it(
    "turns a raised exception into name, message and a traceback of the function's frames only",
    async () => {
      const out = await py.invoke(-5, infoOf("call_e1") as any);
      expect(out.ok).toBe(false);
      expect(out.error).toMatchObject({ name: "ValueError", message: "negative: -5" });
      const stack = out.error!.stack!;
      expect(stack).toMatch(
        /^Traceback \(most recent call last\):\n {2}File "\/function\/main\.py", line \d+, in handle\n/,
      );
      expect(stack).toContain('File "/function/main.py", line 9, in check');
      expect(stack).toContain('raise ValueError(f"negative: {value}")');
      expect(stack.trimEnd().split("\n").at(-1)).toBe("ValueError: negative: -5");
      expect(stack).not.toMatch(/<edgefn>|_edgefn_glue|_pyodide|webloop/);
      expect((await py.invoke(7, infoOf("call_e2") as any)).result).toBe("7");
    },
    T,
  );

  it(
    "keeps the library frames the function called into, and reports bad results and exits",
    async () => {
      const json = await py.invoke("json", infoOf("call_e3") as any);
      expect(json.error).toMatchObject({ name: "JSONDecodeError" });
      expect(json.error!.stack).toContain("in parse");
      expect(json.error!.stack).toMatch(/json\/decoder\.py/);
      for (const bad of ["nan", "object"]) {
        const out = await py.invoke(bad, infoOf(`call_${bad}`) as any);
        expect(out.error).toMatchObject({ name: "ResultError", code: "invalid_result" });
      }
      const exit = await py.invoke("exit", infoOf("call_exit") as any);
      expect(exit.error).toMatchObject({ name: "SystemExit", message: "3" });
    },
    T,
  );

  it(
    "fails every call with the import error of a module that does not load, with its logs",
    async () => {
      const broken = pyIsolate({ "main.py": 'print("before")\nimport not_there\ndef handle(data):\n    return 1\n' });
      for (const id of ["call_i1", "call_i2"]) {
        const out = await broken.invoke(null, infoOf(id) as any);
        expect(out.error).toMatchObject({ name: "ModuleNotFoundError", message: "No module named 'not_there'" });
        expect(out.error!.stack).toContain('File "/function/main.py", line 2, in <module>');
      }
      expect(await broken.describe()).toMatchObject({
        handle: false,
        fetch: false,
        error: { name: "ModuleNotFoundError" },
      });
    },
    T,
  );
});

describe("logs of concurrent calls", () => {
  it(
    "keeps six concurrent calls' print and logging output apart",
    async () => {
      const py = pyIsolate({
        "main.py": `
import asyncio, logging, random

async def handle(data, ctx):
    me = data["me"]
    for i in range(5):
        print(f"{me} print {i}")
        logging.getLogger("x").info(f"{me} log {i}")
        await asyncio.sleep(random.random() / 50)
    return me
`,
      });
      await py.invoke({ me: "warm" }, infoOf("call_warm") as any);
      const outs = await Promise.all(
        Array.from({ length: 6 }, (_, i) => py.invoke({ me: `c${i}` }, infoOf(`call_c${i}`) as any)),
      );
      outs.forEach((out, i) => {
        expect(out.result).toBe(JSON.stringify(`c${i}`));
        const lines = messages(out);
        expect(lines).toHaveLength(10);
        expect(lines.every((m) => m.startsWith(`c${i} `))).toBe(true);
      });
    },
    T,
  );
});

describe("Cognite's handle(data, client, secrets, function_call_info)", () => {
  it(
    "passes exactly the parameters the handler declares, by name",
    async () => {
      const py = pyIsolate(
        {
          "main.py": `
async def handle(function_call_info, data, secrets, client):
    child = await client.invoke("other", data)
    return {"info": function_call_info, "data": data, "secrets": secrets, "child": child["result"]}
`,
        },
        { env: { token: "t0k", PLAIN: "p" }, secretNames: ["token"] },
      );
      const out = await py.invoke(
        { a: 1 },
        infoOf("call_cog", { scheduleId: "sch_9", scheduledTime: "2026-01-01T00:00:00.000Z" }, new FakeClient()) as any,
      );
      // function_call_info comes from the host: the ids the Cognite surface shows (integers).
      expect(JSON.parse(out.result as string)).toEqual({
        info: { function_id: 7, call_id: 8, schedule_id: 9, scheduled_time: 1767225600000 },
        data: { a: 1 },
        secrets: { token: "t0k" },
        child: { target: "other", args: { a: 1 } },
      });
    },
    T,
  );

  it(
    "calls a handler that declares only function_call_info; without the host's client it has the call's own ids",
    async () => {
      const py = pyIsolate({
        "main.py": "def handle(function_call_info):\n    return function_call_info\n",
      });
      const alone = await py.invoke(null, infoOf("call_only", { scheduleId: "sch_1", scheduledTime: "x" }) as any);
      expect(JSON.parse(alone.result as string)).toEqual({
        function_id: "fun_py",
        call_id: "call_only",
        schedule_id: "sch_1",
        scheduled_time: "x",
      });
      const hosted = await py.invoke(null, infoOf("call_2", {}, new FakeClient()) as any);
      expect(JSON.parse(hosted.result as string)).toMatchObject({ function_id: 7, call_id: 8 });
    },
    T,
  );
});

describe("Appwrite's main(context)", () => {
  const py = pyIsolate(
    {
      "main.py": `
import os

def main(context):
    req = context.req
    context.log("path", req.path)
    if req.path == "/redirect":
        return context.res.redirect("https://example.com/", 302)
    if req.path == "/empty":
        return context.res.empty()
    if req.path == "/text":
        context.error("text asked")
        return context.res.text("plain", 201, {"x-kind": "text"})
    return context.res.json({
        "method": req.method,
        "query": req.query,
        "body": req.body,
        "bodyText": req.body_text,
        "header": req.headers.get("x-test"),
        "env": os.environ.get("MODE"),
    })
`,
    },
    { env: { MODE: "appwrite" } },
  );

  it(
    "answers a $appwrite execution with the whole response, and a plain invoke with its body",
    async () => {
      const out = await py.invoke(
        {
          $appwrite: {
            method: "POST",
            path: "/run?x=1",
            headers: { "x-test": "yes", "content-type": "application/json" },
            body: '{"k": 2}',
          },
        },
        infoOf("call_aw1") as any,
      );
      expect(out.ok, JSON.stringify(out.error)).toBe(true);
      const answer = JSON.parse(out.result as string).$appwrite;
      expect(answer.statusCode).toBe(200);
      expect(answer.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(answer.body)).toEqual({
        method: "POST",
        query: { x: "1" },
        body: { k: 2 },
        bodyText: '{"k": 2}',
        header: "yes",
        env: "appwrite",
      });
      expect(messages(out)).toEqual(["path /run"]);

      const text = JSON.parse(
        (await py.invoke({ $appwrite: { method: "GET", path: "/text" } }, infoOf("call_aw2") as any)).result as string,
      ).$appwrite;
      expect(text).toMatchObject({ statusCode: 201, body: "plain", headers: { "x-kind": "text" } });
      const redirect = JSON.parse(
        (await py.invoke({ $appwrite: { method: "GET", path: "/redirect" } }, infoOf("call_aw3") as any))
          .result as string,
      ).$appwrite;
      expect(redirect).toMatchObject({ statusCode: 302, headers: { location: "https://example.com/" } });
      const empty = JSON.parse(
        (await py.invoke({ $appwrite: { method: "GET", path: "/empty" } }, infoOf("call_aw4") as any)).result as string,
      ).$appwrite;
      expect(empty).toMatchObject({ statusCode: 204, body: "" });

      const plain = await py.invoke({ k: 3 }, infoOf("call_aw5") as any);
      expect(JSON.parse(plain.result as string)).toMatchObject({ method: "POST", body: { k: 3 } });
      expect(await py.describe()).toEqual({ handle: false, fetch: true });
    },
    T,
  );

  it(
    "serves HTTP requests through fetch()",
    async () => {
      const res = await py.fetch(new Request("https://fn.example/text", { headers: { "edgefn-call-id": "call_aw6" } }));
      expect(res.status).toBe(201);
      expect(await res.text()).toBe("plain");
      expect(messages(await py.takeLogs("call_aw6"))).toEqual(["path /text", "text asked"]);
    },
    T,
  );
});

describe("on_fetch(request)", () => {
  const py = pyIsolate({
    "main.py": `
from workers import Response

async def on_fetch(request):
    if request.url.endswith("/missing"):
        return Response("nope", status=404)
    body = await request.json() if request.method == "POST" else None
    print("serving", request.method)
    return Response.json({"method": request.method, "url": request.url, "body": body,
                          "agent": request.headers.get("User-Agent")}, headers={"x-py": "1"})
`,
  });

  it(
    "answers a fetch() with the Response it returns",
    async () => {
      const res = await py.fetch(
        new Request("https://fn.example/hello?q=1", {
          method: "POST",
          body: JSON.stringify({ n: 1 }),
          headers: { "user-agent": "tester", "edgefn-call-id": "call_f1" },
        }),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get("x-py")).toBe("1");
      expect(await res.json()).toEqual({
        method: "POST",
        url: "https://fn.example/hello?q=1",
        body: { n: 1 },
        agent: "tester",
      });
      expect(messages(await py.takeLogs("call_f1"))).toEqual(["serving POST"]);
    },
    T,
  );

  it(
    "on invoke, gets the args as a JSON POST and its body is the result; a non-2xx answer fails the call",
    async () => {
      const out = await py.invoke({ n: 2 }, infoOf("call_f2") as any);
      expect(JSON.parse(out.result as string)).toMatchObject({ method: "POST", body: { n: 2 } });
      const missing = await py.fetch(new Request("https://fn.example/missing"));
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe("nope");
      expect(await py.describe()).toEqual({ handle: false, fetch: true });
    },
    T,
  );
});
