import { env, exports } from "cloudflare:workers";
import { gzipSync } from "fflate";
import { createTar } from "nanotar";
import { beforeAll, describe, expect, it } from "vitest";
import { api, expectStatus, newKey, newWorkspace, unique } from "../support/api";
import { type Aw, appwriteClient } from "../support/appwrite";
import { invoke } from "../support/deploy";

let ws: { id: string; name: string };
let key: string;

/** Appwrite's API as the SDKs call it, with this file's workspace as the project and its admin key. */
const aw = (...args: Parameters<Aw>) => appwriteClient({ project: ws.id, key })(...args);

const q = (...queries: unknown[]) =>
  `?${queries.map((x, i) => `queries[${i}]=${encodeURIComponent(JSON.stringify(x))}`).join("&")}`;

function tgz(files: Record<string, string>): Uint8Array {
  return gzipSync(createTar(Object.entries(files).map(([name, data]) => ({ name, data }))));
}

function form(code: Uint8Array, extra: Record<string, string> = {}) {
  const f = new FormData();
  f.set("code", new File([code], "code.tar.gz", { type: "application/gzip" }));
  for (const [k, v] of Object.entries(extra)) f.set(k, v);
  return f;
}

async function waitDeployment(fnId: string, depId: string) {
  for (let i = 0; i < 400; i++) {
    const d = expectStatus(await aw("GET", `/functions/${fnId}/deployments/${depId}`), 200);
    if (!["waiting", "building", "processing"].includes(d.status)) return d;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("deployment never finished");
}

const APPWRITE_HANDLER = `export default async ({ req, res, log, error }) => {
  log("method", req.method);
  error("an error line");
  if (req.path === "/text") return res.text("plain " + req.query.x, 201, { "x-extra": "1" });
  if (req.path === "/redirect") return res.redirect("https://example.com/");
  if (req.path === "/empty") return res.empty();
  if (req.path === "/throw") throw new Error("boom");
  return res.json({ method: req.method, path: req.path, query: req.query, queryString: req.queryString,
    bodyText: req.bodyText, bodyJson: req.bodyJson, body: req.body, header: req.headers["x-test"] ?? null,
    host: req.host, scheme: req.scheme, env: process.env.GREETING ?? null });
};
`;

beforeAll(async () => {
  ws = await newWorkspace();
  key = (await newKey("developer", ws.id)).key;
});

describe("Appwrite: auth and errors", () => {
  it("needs a key that sees the project, and answers in Appwrite's error shape", async () => {
    const none = await aw("GET", "/functions", undefined, { key: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: 401, type: expect.any(String), message: expect.any(String) });
    expect(none.body.version).toEqual(expect.any(String));

    const bad = await aw("GET", "/functions", undefined, { key: "efn_nope" });
    expect(bad.status).toBe(401);

    const other = await newWorkspace();
    const foreign = await aw("GET", "/functions", undefined, { project: other.id });
    expect(foreign.status).toBe(404);
    expect(foreign.body.type).toBe("project_not_found");

    const byName = await aw("GET", "/functions", undefined, { project: ws.name });
    expect(byName.status).toBe(200);

    const missing = await aw("GET", "/functions/nope");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 404, type: "function_not_found" });
  });
});

describe("Appwrite: functions", () => {
  it("creates, gets, lists, updates and deletes", async () => {
    const id = unique("awfn");
    const created = expectStatus(
      await aw("POST", "/functions", {
        functionId: id,
        name: "Hello",
        runtime: "node-22",
        execute: ["any"],
        events: ["users.*.create"],
        schedule: "*/5 * * * *",
        timeout: 20,
        entrypoint: "index.js",
        commands: "npm install",
        scopes: ["users.read"],
        logging: false,
      }),
      201,
    );
    expect(created).toMatchObject({
      $id: id,
      name: "Hello",
      runtime: "node-22",
      execute: ["any"],
      events: ["users.*.create"],
      schedule: "*/5 * * * *",
      timeout: 20,
      enabled: true,
      logging: false,
      entrypoint: "index.js",
      commands: "npm install",
      scopes: ["users.read"],
      deploymentId: "",
    });
    expect(new Date(created.$createdAt).toISOString()).toBe(created.$createdAt);

    const dup = await aw("POST", "/functions", { functionId: id, name: "Other", runtime: "node-22" });
    expect(dup.status).toBe(409);

    const generated = expectStatus(
      await aw("POST", "/functions", { functionId: "unique()", name: "Second", runtime: "bun-1.1" }),
      201,
    );
    expect(generated.$id).toMatch(/^fun_/);

    const badRuntime = await aw("POST", "/functions", { functionId: "unique()", name: "X", runtime: "go-1.23" });
    expect(badRuntime.status).toBe(400);
    expect(badRuntime.body.type).toBe("general_argument_invalid");

    expect(expectStatus(await aw("GET", `/functions/${id}`), 200).name).toBe("Hello");

    const all = expectStatus(await aw("GET", "/functions"), 200);
    expect(all.total).toBe(2);
    expect(all.functions.map((f: any) => f.$id).sort()).toEqual([id, generated.$id].sort());

    const limited = expectStatus(await aw("GET", `/functions${q({ method: "limit", values: [1] })}`), 200);
    expect(limited.functions).toHaveLength(1);
    expect(limited.total).toBe(2);

    const byName = expectStatus(
      await aw("GET", `/functions${q({ method: "equal", attribute: "name", values: ["Second"] })}`),
      200,
    );
    expect(byName.functions.map((f: any) => f.$id)).toEqual([generated.$id]);

    const searched = expectStatus(await aw("GET", "/functions?search=hel"), 200);
    expect(searched.functions.map((f: any) => f.$id)).toEqual([id]);

    const ordered = expectStatus(
      await aw("GET", `/functions${q({ method: "orderAsc", attribute: "$createdAt", values: [] })}`),
      200,
    );
    expect(ordered.functions.map((f: any) => f.$id)).toEqual([id, generated.$id]);

    const page2 = expectStatus(
      await aw(
        "GET",
        `/functions${q({ method: "limit", values: [1] }, { method: "cursorAfter", values: [generated.$id] })}`,
      ),
      200,
    );
    expect(page2.functions.map((f: any) => f.$id)).toEqual([id]);

    // Appwrite's settings are queryable too: the runtime lives in the function's metadata.
    const byRuntime = expectStatus(
      await aw("GET", `/functions${q({ method: "equal", attribute: "runtime", values: ["node-22"] })}`),
      200,
    );
    expect(byRuntime.functions.map((f: any) => f.$id)).toEqual([id]);
    const unknown = await aw("GET", `/functions${q({ method: "equal", attribute: "color", values: ["red"] })}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      type: "general_argument_invalid",
      message: "Invalid `queries` param: Invalid query: Attribute not found in schema: color",
    });
    // The older string form of a query is understood as well.
    const oldStyle = expectStatus(
      await aw("GET", `/functions?queries[]=${encodeURIComponent('equal("name", ["Second"])')}`),
      200,
    );
    expect(oldStyle.functions.map((f: any) => f.$id)).toEqual([generated.$id]);

    const updated = expectStatus(
      await aw("PUT", `/functions/${id}`, { name: "Hello2", runtime: "node-20.0", enabled: false, timeout: 5 }),
      200,
    );
    expect(updated).toMatchObject({
      name: "Hello2",
      runtime: "node-20.0",
      enabled: false,
      timeout: 5,
      events: ["users.*.create"],
    });

    // The schedule is an edgefn schedule named "appwrite", paused while the function is disabled.
    const schedules = expectStatus(await api("GET", `/api/schedules?name=appwrite`, { key }), 200);
    const mine = (schedules.items ?? schedules.data).filter((s: any) => s.cron === "*/5 * * * *");
    expect(mine).toHaveLength(1);
    expect(mine[0].enabled).toBe(false);
    const badCron = await aw("PUT", `/functions/${id}`, { name: "Hello2", schedule: "nope" });
    expect(badCron.status).toBe(400);
    expectStatus(await aw("PUT", `/functions/${id}`, { name: "Hello2", schedule: "" }), 200);
    const none = expectStatus(await api("GET", `/api/schedules?name=appwrite`, { key }), 200);
    expect((none.items ?? none.data).filter((s: any) => s.cron === "*/5 * * * *")).toHaveLength(0);

    expect((await aw("DELETE", `/functions/${id}`)).status).toBe(204);
    expect((await aw("GET", `/functions/${id}`)).status).toBe(404);
    // The id is free again.
    expectStatus(await aw("POST", "/functions", { functionId: id, name: "Hello", runtime: "node-22" }), 201);
  });

  it("lists runtimes and specifications", async () => {
    const runtimes = expectStatus(await aw("GET", "/functions/runtimes"), 200);
    expect(runtimes.runtimes.map((r: any) => r.$id)).toContain("node-22");
    const specs = expectStatus(await aw("GET", "/functions/specifications"), 200);
    expect(specs.total).toBe(1);
  });
});

describe("Appwrite: deployments, executions, variables", () => {
  it("deploys a tar.gz, activates, executes an Appwrite handler, reads executions", async () => {
    const id = unique("run");
    expectStatus(await aw("POST", "/functions", { functionId: id, name: id, runtime: "node-22" }), 201);

    const dep = expectStatus(
      await aw(
        "POST",
        `/functions/${id}/deployments`,
        form(tgz({ "src/main.js": APPWRITE_HANDLER }), {
          entrypoint: "src/main.js",
          activate: "true",
        }),
      ),
      202,
    );
    expect(dep.status).toBe("waiting");
    const built = await waitDeployment(id, dep.$id);
    expect(built.status, built.buildLogs).toBe("ready");
    const fn = expectStatus(await aw("GET", `/functions/${id}`), 200);
    expect(fn.deploymentId).toBe(dep.$id);
    expect(fn.latestDeploymentStatus).toBe("ready");

    const list = expectStatus(await aw("GET", `/functions/${id}/deployments`), 200);
    expect(list.deployments.map((d: any) => d.$id)).toEqual([dep.$id]);
    const readyOnly = expectStatus(
      await aw("GET", `/functions/${id}/deployments${q({ method: "equal", attribute: "status", values: ["failed"] })}`),
      200,
    );
    expect(readyOnly.total).toBe(0);

    // Variables (a plain one shows in process.env).
    const v = expectStatus(
      await aw("POST", `/functions/${id}/variables`, { key: "GREETING", value: "hi", secret: false }),
      201,
    );
    expect(v).toMatchObject({ $id: "GREETING", key: "GREETING", value: "hi", secret: false });

    const exec = expectStatus(
      await aw("POST", `/functions/${id}/executions`, {
        body: JSON.stringify({ a: 1 }),
        path: "/hello?x=1&y=2",
        method: "PUT",
        headers: { "x-test": "yes", "content-type": "application/json" },
      }),
      201,
    );
    expect(exec).toMatchObject({
      functionId: id,
      deploymentId: dep.$id,
      trigger: "http",
      status: "completed",
      requestMethod: "PUT",
      requestPath: "/hello?x=1&y=2",
      responseStatusCode: 200,
    });
    expect(JSON.parse(exec.responseBody)).toEqual({
      method: "PUT",
      path: "/hello",
      query: { x: "1", y: "2" },
      queryString: "x=1&y=2",
      bodyText: '{"a":1}',
      bodyJson: { a: 1 },
      body: { a: 1 },
      header: "yes",
      host: "function.invalid",
      scheme: "https",
      env: "hi",
    });
    expect(exec.logs).toBe("method PUT");
    expect(exec.errors).toBe("an error line");
    expect(exec.duration).toBeGreaterThanOrEqual(0);
    expect(exec.responseHeaders).toContainEqual({ name: "content-type", value: "application/json" });

    const text = expectStatus(
      await aw("POST", `/functions/${id}/executions`, { path: "/text?x=7", method: "GET" }),
      201,
    );
    expect(text).toMatchObject({ responseStatusCode: 201, responseBody: "plain 7" });
    expect(text.responseHeaders).toContainEqual({ name: "x-extra", value: "1" });

    const redirect = expectStatus(await aw("POST", `/functions/${id}/executions`, { path: "/redirect" }), 201);
    expect(redirect.responseStatusCode).toBe(301);
    expect(redirect.responseHeaders).toContainEqual({ name: "location", value: "https://example.com/" });

    const got = expectStatus(await aw("GET", `/functions/${id}/executions/${exec.$id}`), 200);
    expect(got).toMatchObject({ $id: exec.$id, status: "completed", responseStatusCode: 200, logs: "method PUT" });

    const execs = expectStatus(
      await aw("GET", `/functions/${id}/executions${q({ method: "limit", values: [2] })}`),
      200,
    );
    expect(execs.executions).toHaveLength(2);
    expect(execs.total).toBe(3);

    const queued = expectStatus(
      await aw("POST", `/functions/${id}/executions`, { async: true, path: "/text?x=async", method: "GET" }),
      202,
    );
    expect(["waiting", "processing", "completed"]).toContain(queued.status);
    let done = queued;
    for (let i = 0; i < 200 && done.status !== "completed"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      done = expectStatus(await aw("GET", `/functions/${id}/executions/${queued.$id}`), 200);
    }
    expect(done).toMatchObject({ status: "completed", responseBody: "plain async", responseStatusCode: 201 });

    const later = new Date(Date.now() + 3_600_000).toISOString();
    // As on Appwrite, a scheduled execution must be async.
    const notAsync = await aw("POST", `/functions/${id}/executions`, { scheduledAt: later });
    expect(notAsync.status).toBe(400);
    expect(notAsync.body.message).toMatch(/must run asynchronously/);
    const scheduled = expectStatus(
      await aw("POST", `/functions/${id}/executions`, { async: true, scheduledAt: later }),
      202,
    );
    expect(scheduled).toMatchObject({ status: "scheduled", trigger: "schedule" });

    expect((await aw("DELETE", `/functions/${id}/executions/${exec.$id}`)).status).toBe(204);
    expect((await aw("GET", `/functions/${id}/executions/${exec.$id}`)).body.type).toBe("execution_not_found");

    // Download gives the sources back as a tar.gz.
    const dl = await exports.default.fetch(`http://edgefn.test/v1/functions/${id}/deployments/${dep.$id}/download`, {
      headers: { "x-appwrite-project": ws.id, "x-appwrite-key": key },
    });
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-disposition")).toMatch(/attachment/);
    expect((await dl.arrayBuffer()).byteLength).toBeGreaterThan(20);
  });

  it("runs an Appwrite handler through /run and through a plain invoke", async () => {
    const id = unique("web");
    const fn = expectStatus(await aw("POST", "/functions", { functionId: id, name: id, runtime: "node-22" }), 201);
    const dep = expectStatus(
      await aw(
        "POST",
        `/functions/${id}/deployments`,
        form(tgz({ "index.js": APPWRITE_HANDLER }), { activate: "true" }),
      ),
      202,
    );
    expect((await waitDeployment(id, dep.$id)).status).toBe("ready");
    const native = expectStatus(await api("GET", `/api/functions?workspaceId=${ws.id}&name=${id}`), 200);
    const nativeId = native.items?.[0]?.id ?? native.functions?.[0]?.id ?? native.data?.[0]?.id;
    expect(nativeId).toMatch(/^fun_/);
    const r = expectStatus(await invoke(nativeId, { z: 1 }), 200);
    expect(r.ok).toBe(true);
    expect(r.result).toMatchObject({ method: "POST", path: "/", bodyJson: { z: 1 } });

    const web = await exports.default.fetch(`http://edgefn.test/run/${ws.name}/${fn.name}/text?x=web`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(web.status).toBe(201);
    expect(web.headers.get("x-extra")).toBe("1");
    expect(await web.text()).toBe("plain web");

    const thrown = await exports.default.fetch(`http://edgefn.test/run/${ws.name}/${fn.name}/throw`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(thrown.status).toBe(502);
    expect(await thrown.json()).toMatchObject({ error: { code: "function_failed" } });

    const failed = expectStatus(await aw("POST", `/functions/${id}/executions`, { path: "/throw" }), 201);
    expect(failed).toMatchObject({ status: "failed", responseStatusCode: 500 });
    expect(failed.errors).toContain("Error: boom");
    const empty = expectStatus(await aw("POST", `/functions/${id}/executions`, { path: "/empty" }), 201);
    expect(empty).toMatchObject({ status: "completed", responseStatusCode: 204, responseBody: "" });
  });

  it("executes handle(data) and fetch functions", async () => {
    const id = unique("handle");
    expectStatus(await aw("POST", "/functions", { functionId: id, name: id, runtime: "node-22" }), 201);
    const code = "export async function handle(data) { return { got: data }; }";
    const dep = expectStatus(
      await aw("POST", `/functions/${id}/deployments`, form(tgz({ "index.js": code }), { activate: "true" })),
      202,
    );
    expect((await waitDeployment(id, dep.$id)).status).toBe("ready");
    const exec = expectStatus(await aw("POST", `/functions/${id}/executions`, { body: '{"n":2}' }), 201);
    expect(exec).toMatchObject({ status: "completed", responseStatusCode: 200 });
    expect(JSON.parse(exec.responseBody)).toEqual({ got: { n: 2 } });

    const fid = unique("fetch");
    expectStatus(await aw("POST", "/functions", { functionId: fid, name: fid, runtime: "node-22" }), 201);
    const fetchCode =
      "export default { async fetch(req) { return new Response(req.method + ' ' + new URL(req.url).pathname + ' ' + (await req.text()), { status: 202 }); } };";
    const fdep = expectStatus(
      await aw("POST", `/functions/${fid}/deployments`, form(tgz({ "index.js": fetchCode }), { activate: "true" })),
      202,
    );
    expect((await waitDeployment(fid, fdep.$id)).status).toBe("ready");
    const fexec = expectStatus(
      await aw("POST", `/functions/${fid}/executions`, { body: "abc", path: "/p", method: "PATCH" }),
      201,
    );
    expect(fexec).toMatchObject({ status: "completed", responseStatusCode: 202, responseBody: "PATCH /p abc" });
  });

  it("clears the parts of a chunked upload abandoned halfway, a day later, at the cron tick", async () => {
    const id = unique("abandoned");
    expectStatus(await aw("POST", "/functions", { functionId: id, name: id, runtime: "node-22" }), 201);
    const big = tgz({ "index.js": `export async function handle() { return 1; }\n// ${"y".repeat(3000)}` });
    const half = Math.floor(big.byteLength / 2);
    const first = expectStatus(
      await aw("POST", `/functions/${id}/deployments`, form(big.slice(0, half), { activate: "false" }), {
        headers: { "content-range": `bytes 0-${half - 1}/${big.byteLength}` },
      }),
      202,
    );
    expect(first.$id).toMatch(/^upl_/);
    const parts = async () => (await env.CODE.list({ prefix: "appwrite-chunks/" })).objects.length;
    expect(await parts()).toBeGreaterThan(0);

    const tick = async (scheduledTime: number) => {
      const { default: worker } = await import("../../src/index");
      const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import(
        "cloudflare:test"
      );
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
      await waitOnExecutionContext(ctx);
    };
    await tick(Date.now());
    expect(await parts(), "an upload in progress keeps its parts").toBeGreaterThan(0);
    await tick(Date.now() + 25 * 60 * 60 * 1000);
    expect(await parts()).toBe(0);
  });

  it("accepts chunked uploads in any order, activates and cancels", async () => {
    const id = unique("chunk");
    expectStatus(await aw("POST", "/functions", { functionId: id, name: id, runtime: "node-22" }), 201);
    const big = tgz({
      "index.js": `export async function handle() { return "v2"; }\n// ${"x".repeat(3000)}`,
    });
    const size = big.byteLength;
    const cuts = [0, Math.floor(size / 3), Math.floor((2 * size) / 3), size];
    const part = (i: number, uploadId?: string) => {
      const headers: Record<string, string> = {
        "content-range": `bytes ${cuts[i]}-${(cuts[i + 1] as number) - 1}/${size}`,
      };
      if (uploadId) headers["x-appwrite-id"] = uploadId;
      return aw("POST", `/functions/${id}/deployments`, form(big.slice(cuts[i], cuts[i + 1]), { activate: "false" }), {
        headers,
      });
    };
    const first = expectStatus(await part(0), 202);
    expect(first).toMatchObject({ chunksUploaded: 1 });
    expect(first.$id).toMatch(/^upl_/);
    const third = expectStatus(await part(2, first.$id), 202);
    expect(third.chunksUploaded).toBe(2);
    const last = expectStatus(await part(1, first.$id), 202);
    expect(last.$id).toMatch(/^ver_/);
    expect(last).toMatchObject({ chunksUploaded: 3, chunksTotal: 3 });
    const built = await waitDeployment(id, last.$id);
    expect(built.status).toBe("ready");
    // activate: false: not the default yet.
    expect(expectStatus(await aw("GET", `/functions/${id}`), 200).deploymentId).toBe("");
    const activated = expectStatus(await aw("PATCH", `/functions/${id}/deployment`, { deploymentId: last.$id }), 200);
    expect(activated.deploymentId).toBe(last.$id);
    const exec = expectStatus(await aw("POST", `/functions/${id}/executions`, {}), 201);
    expect(exec.responseBody).toBe('"v2"');

    const cancel = await aw("PATCH", `/functions/${id}/deployments/${last.$id}/status`);
    expect(cancel.status).toBe(409);
  });

  it("assembles chunks whose last parts arrive at the same time into one deployment", async () => {
    const id = unique("par");
    expectStatus(await aw("POST", "/functions", { functionId: id, name: id, runtime: "node-22" }), 201);
    const big = tgz({ "index.js": `export async function handle() { return "par"; }\n// ${"y".repeat(5000)}` });
    const n = 6;
    const step = Math.ceil(big.byteLength / n);
    const send = (i: number, uploadId?: string) => {
      const start = i * step;
      const end = Math.min(start + step, big.byteLength);
      const headers: Record<string, string> = { "content-range": `bytes ${start}-${end - 1}/${big.byteLength}` };
      if (uploadId) headers["x-appwrite-id"] = uploadId;
      return aw("POST", `/functions/${id}/deployments`, form(big.slice(start, end), { activate: "true" }), { headers });
    };
    const first = expectStatus(await send(0), 202);
    const rest = await Promise.all([5, 3, 1, 4, 2].map((i) => send(i, first.$id)));
    for (const r of rest) expect(r.status, JSON.stringify(r.body)).toBe(202);
    const versions = new Set(rest.map((r) => r.body.$id).filter((x: string) => x.startsWith("ver_")));
    expect(versions.size).toBe(1);
    const list = expectStatus(await aw("GET", `/functions/${id}/deployments`), 200);
    expect(list.total).toBe(1);
    const [ver] = [...versions] as string[];
    expect((await waitDeployment(id, ver as string)).status).toBe("ready");
  });

  it("manages variables and secrets", async () => {
    const id = unique("vars");
    expectStatus(await aw("POST", "/functions", { functionId: id, name: id, runtime: "node-22" }), 201);
    expectStatus(await aw("POST", `/functions/${id}/variables`, { key: "PLAIN", value: "p", secret: false }), 201);
    // Secret unless sent false, as on Appwrite; an Appwrite-style name is fine for a secret.
    const s = expectStatus(await aw("POST", `/functions/${id}/variables`, { key: "API_TOKEN", value: "s3" }), 201);
    expect(s).toMatchObject({ $id: "API_TOKEN", secret: true, value: "" });
    const again = await aw("POST", `/functions/${id}/variables`, { key: "PLAIN", value: "again" });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      type: "variable_already_exists",
      message: "Variable with the same ID already exists in this project. Try again with a different ID.",
    });
    const badKey = await aw("POST", `/functions/${id}/variables`, { key: "no-dashes", value: "x" });
    expect(badKey.status).toBe(400);
    expect(badKey.body.type).toBe("general_argument_invalid");
    const unset = await aw("PUT", `/functions/${id}/variables/API_TOKEN`, {
      key: "API_TOKEN",
      value: "x",
      secret: false,
    });
    expect(unset.status).toBe(400);
    expect(unset.body.type).toBe("variable_cannot_unset_secret");
    const list = expectStatus(await aw("GET", `/functions/${id}/variables`), 200);
    expect(list.total).toBe(2);
    const upd = expectStatus(await aw("PUT", `/functions/${id}/variables/PLAIN`, { key: "PLAIN", value: "q" }), 200);
    expect(upd.value).toBe("q");
    expect(expectStatus(await aw("GET", `/functions/${id}/variables/API_TOKEN`), 200).secret).toBe(true);
    expect((await aw("DELETE", `/functions/${id}/variables/API_TOKEN`)).status).toBe(204);
    const gone = await aw("GET", `/functions/${id}/variables/API_TOKEN`);
    expect(gone.status).toBe(404);
    expect(gone.body.type).toBe("variable_not_found");
    const after = expectStatus(await aw("GET", `/functions/${id}/variables`), 200);
    expect(after.variables.map((v: any) => v.key)).toEqual(["PLAIN"]);
  });
});
