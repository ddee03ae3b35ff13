/**
 * Appwrite's Python runtimes: a `python-3.x` function whose deployment carries `src/main.py` with Appwrite's
 * `def main(context)` runs it, with context.req, context.res (json, text, send, redirect, empty), context.log and
 * context.error, and its executions show the response and the logs.
 */
import { exports } from "cloudflare:workers";
import { gunzipSync } from "fflate";
import { parseTar } from "nanotar";
import { beforeAll, describe, expect, it } from "vitest";
import { expectStatus, newKey, newWorkspace, unique } from "../support/api";
import { deploymentForm, send, tgz } from "../support/http";

const MAIN = `
import json
import os

def main(context):
    context.log("path " + context.req.path)
    if context.req.path == "/text":
        return context.res.text("plain " + context.req.query.get("x", ""))
    if context.req.path == "/redirect":
        return context.res.redirect("https://example.com/next", 302)
    if context.req.path == "/empty":
        return context.res.empty()
    if context.req.path == "/send":
        return context.res.send("sent", 201, {"x-sent": "yes"})
    if context.req.path == "/throw":
        context.error("about to fail")
        raise ValueError("broken on purpose")
    return context.res.json({
        "method": context.req.method,
        "body": context.req.body_json if context.req.body_text else None,
        "greeting": os.environ.get("GREETING"),
        "header": context.req.headers.get("x-test"),
        "function": os.environ.get("APPWRITE_FUNCTION_ID"),
        "runtime": os.environ.get("APPWRITE_FUNCTION_RUNTIME_NAME") + " " + os.environ.get("APPWRITE_FUNCTION_RUNTIME_VERSION"),
        "trigger": context.req.headers.get("x-appwrite-trigger"),
        "key": context.req.headers.get("x-appwrite-key", "")[:8],
    })
`;

let ws: { id: string };
let key: string;

const aw = (method: string, path: string, body?: unknown) =>
  send(`/v1${path}`, {
    method,
    headers: {
      "x-appwrite-project": ws.id,
      "x-appwrite-key": key,
      ...(body === undefined || body instanceof FormData ? {} : { "content-type": "application/json" }),
    },
    body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  ws = await newWorkspace();
  key = (await newKey("developer", ws.id)).key;
});

async function ready(fnId: string, depId: string) {
  for (let i = 0; i < 2000; i++) {
    const d = expectStatus(await aw("GET", `/functions/${fnId}/deployments/${depId}`), 200);
    if (!["waiting", "building", "processing"].includes(d.status)) return d;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("deployment did not finish");
}

describe("Appwrite: Python runtimes", () => {
  it("lists python-3.x runtimes", async () => {
    const list = expectStatus(await aw("GET", "/functions/runtimes"), 200);
    expect(list.runtimes.map((r: { $id: string }) => r.$id)).toEqual(expect.arrayContaining(["python-3.12"]));
  });

  it("deploys src/main.py and executes main(context) with each kind of response", async () => {
    const id = unique("py");
    expectStatus(
      await aw("POST", "/functions", { functionId: id, name: id, runtime: "python-3.12", entrypoint: "src/main.py" }),
      201,
    );
    expectStatus(
      await aw("POST", `/functions/${id}/variables`, { key: "GREETING", value: "hallo", secret: false }),
      201,
    );
    const dep = expectStatus(
      await aw(
        "POST",
        `/functions/${id}/deployments`,
        deploymentForm(tgz({ "src/main.py": MAIN }), { activate: "true" }),
      ),
      202,
    );
    const built = await ready(id, dep.$id);
    expect(built.status, built.buildLogs).toBe("ready");
    // Its build output: the Python files the isolate loads.
    const output = await exports.default.fetch(
      `http://edgefn.test/v1/functions/${id}/deployments/${dep.$id}/download?type=output`,
      { headers: { "x-appwrite-project": ws.id, "x-appwrite-key": key } },
    );
    expect(output.status).toBe(200);
    const files = parseTar(gunzipSync(new Uint8Array(await output.arrayBuffer())));
    expect(files.find((f) => f.text === MAIN)?.name).toMatch(/main\.py$/);

    const exec = expectStatus(
      await aw("POST", `/functions/${id}/executions`, {
        body: '{"n":1}',
        path: "/",
        method: "POST",
        headers: { "x-test": "yes", "content-type": "application/json" },
      }),
      201,
    );
    expect(exec).toMatchObject({ status: "completed", responseStatusCode: 200 });
    expect(JSON.parse(exec.responseBody)).toEqual({
      method: "POST",
      body: { n: 1 },
      greeting: "hallo",
      header: "yes",
      // Appwrite's variables and headers, as a JavaScript function gets them; the execution's key among them.
      function: id,
      runtime: "Python 3.12",
      trigger: "http",
      key: "dynamic_",
    });
    expect(exec.logs).toContain("path /");

    const text = expectStatus(
      await aw("POST", `/functions/${id}/executions`, { path: "/text?x=7", method: "GET" }),
      201,
    );
    expect(text).toMatchObject({ responseStatusCode: 200, responseBody: "plain 7" });
    const redirect = expectStatus(await aw("POST", `/functions/${id}/executions`, { path: "/redirect" }), 201);
    expect(redirect.responseStatusCode).toBe(302);
    const empty = expectStatus(await aw("POST", `/functions/${id}/executions`, { path: "/empty" }), 201);
    expect(empty).toMatchObject({ responseStatusCode: 204, responseBody: "" });
    const sent = expectStatus(await aw("POST", `/functions/${id}/executions`, { path: "/send" }), 201);
    expect(sent).toMatchObject({ responseStatusCode: 201, responseBody: "sent" });

    const failed = expectStatus(await aw("POST", `/functions/${id}/executions`, { path: "/throw" }), 201);
    expect(failed.status).toBe("failed");
    expect(failed.errors).toContain("about to fail");
    expect(failed.errors).toMatch(/ValueError: broken on purpose/);
    expect(failed.errors).toMatch(/main\.py", line \d+, in main/);
  }, 120_000);

  it("refuses a runtime Appwrite does not have", async () => {
    const res = await aw("POST", "/functions", { functionId: unique("x"), name: "x", runtime: "cobol-1" });
    expect(res.status).toBe(400);
  });
});
