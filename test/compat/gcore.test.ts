/**
 * The Gcore FaaS surface: /cloud/v1/faas/namespaces/{project_id}/{region_id}/... with `Authorization: apikey <key>`,
 * namespaces as workspaces, functions by name, code_text + main_method built into a function whose endpoint
 * answers through /run.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, newWorkspace, tenant, unique } from "../support/api";

type Tenant = Awaited<ReturnType<typeof tenant>>;

const BASE = "/cloud/v1/faas/namespaces/1/76";

async function gcore(
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown; raw?: string } = {},
) {
  const headers = new Headers();
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key !== null) headers.set("authorization", `apikey ${key}`);
  let payload = options.raw;
  if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers.set("content-type", "application/json");
  const res = await exports.default.fetch(`http://edgefn.test${BASE}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

function expectMessage(res: { status: number; body: any }, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toEqual({ message: expect.any(String) });
  return res.body.message as string;
}

/** Polls the function until its build is over. */
async function built(ns: string, name: string, key = ADMIN_KEY, polls = 400) {
  for (let i = 0; i < polls; i++) {
    const res = await gcore("GET", `/${ns}/functions/${name}`, { key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (res.body.build_status !== "Building") return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("build did not finish");
}

const ESM = `export async function run(data, ctx) {
  return { hello: data?.name ?? "world", env: ctx.env.GREETING ?? null };
}`;
const CJS = `exports.main = async (data) => "sum=" + (Number(data.a) + Number(data.b));`;

let t: Tenant;
beforeAll(async () => {
  t = await tenant();
});

describe("gcore: auth", () => {
  it("needs a key: 401 without one or with a wrong one, in Gcore's error shape", async () => {
    expectMessage(await gcore("GET", "", { key: null }), 401);
    expectMessage(await gcore("GET", `/${t.ws.name}/functions`, { key: "efn_nope" }), 401);
  });

  it("accepts the apikey scheme in any case, and Bearer", async () => {
    for (const scheme of ["APIKey", "APIKEY", "Bearer"]) {
      const res = await exports.default.fetch(`http://edgefn.test${BASE}/${t.ws.name}`, {
        headers: { authorization: `${scheme} ${t.keys.viewer}` },
      });
      expect(res.status).toBe(200);
    }
  });
});

describe("gcore: namespaces", () => {
  it("lists only the key's workspaces and gets one by name; project and region are ignored", async () => {
    const list = await gcore("GET", "", { key: t.keys.admin });
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(1);
    expect(list.body.results[0]).toMatchObject({ name: t.ws.name, status: "active", functions_count: 0 });
    const other = await exports.default.fetch(`http://edgefn.test/cloud/v1/faas/namespaces/999/1/${t.ws.name}`, {
      headers: { authorization: `apikey ${t.keys.viewer}` },
    });
    expect(other.status).toBe(200);
  });

  it("creates and deletes a namespace (an admin key for every workspace)", async () => {
    const name = unique("gns");
    const created = await gcore("POST", "", { body: { name, description: "from gcore" } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name, description: "from gcore", status: "active" });
    expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expectMessage(await gcore("POST", "", { body: { name } }), 409);
    expectMessage(await gcore("POST", "", { key: t.keys.admin, body: { name: unique("gns") } }), 403);
    expect((await gcore("DELETE", `/${name}`)).status).toBe(204);
    expectMessage(await gcore("GET", `/${name}`), 404);
  });

  it("answers 404 for a foreign workspace's namespace, as if it did not exist", async () => {
    const foreign = await newWorkspace();
    expectMessage(await gcore("GET", `/${foreign.name}`, { key: t.keys.admin }), 404);
    expectMessage(await gcore("GET", `/${foreign.name}/functions`, { key: t.keys.admin }), 404);
    expectMessage(
      await gcore("POST", `/${foreign.name}/functions`, {
        key: t.keys.developer,
        body: { name: "x", code_text: ESM, main_method: "run", runtime: "node18" },
      }),
      404,
    );
  });

  it("rejects bad namespace bodies", async () => {
    expectMessage(await gcore("POST", "", { body: { name: "Not A Name" } }), 400);
    expectMessage(await gcore("POST", "", { body: { name: unique("g"), envs: { A: "1" } } }), 400);
    expectMessage(await gcore("POST", "", { raw: "{not json" }), 400);
  });
});

describe("gcore: functions", () => {
  it("create -> build -> get shows build_status Success -> the endpoint answers through /run", async () => {
    const name = unique("hello");
    const created = await gcore("POST", `/${t.ws.name}/functions`, {
      key: t.keys.developer,
      body: {
        name,
        description: "says hello",
        code_text: ESM,
        main_method: "run",
        runtime: "node18.20.2",
        envs: { GREETING: "hi" },
        timeout: 5,
        flavor: "64m-64MB",
        autoscaling: { min_instances: 1, max_instances: 2 },
        enable_api_key: false,
        dependencies: "",
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name, status: "Deploying", build_status: "Building" });

    const fn = await built(t.ws.name, name, t.keys.viewer);
    expect(fn).toMatchObject({
      name,
      description: "says hello",
      status: "Running",
      build_status: "Success",
      deploy_status: { deployed: 1 },
      code_text: ESM,
      main_method: "run",
      runtime: "node18.20.2",
      envs: { GREETING: "hi" },
      timeout: 5,
      flavor: "64m-64MB",
      autoscaling: { min_instances: 1, max_instances: 2 },
      enable_api_key: false,
      endpoint: `http://edgefn.test/run/${t.ws.name}/${name}`,
    });
    expect(fn.id).toMatch(/^fun_/);
    expect(fn.created_at).toMatch(/Z$/);

    // enable_api_key false: the endpoint is public.
    const post = await exports.default.fetch(fn.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "gcore" }),
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toEqual({ hello: "gcore", env: "hi" });

    const again = await gcore("POST", `/${t.ws.name}/functions`, {
      key: t.keys.developer,
      body: { name, code_text: ESM, main_method: "run", runtime: "node18" },
    });
    expectMessage(again, 409);

    const listed = await gcore("GET", `/${t.ws.name}/functions`, { key: t.keys.viewer });
    expect(listed.body.results.map((f: { name: string }) => f.name)).toContain(name);
  });

  it("runs CommonJS code, needs a key when enable_api_key is true, and patches code and settings", async () => {
    const name = unique("sum");
    const created = await gcore("POST", `/${t.ws.name}/functions`, {
      key: t.keys.developer,
      body: { name, code_text: CJS, main_method: "main", runtime: "node20", enable_api_key: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const fn = await built(t.ws.name, name);
    expect(fn).toMatchObject({ build_status: "Success", enable_api_key: true, code_text: CJS });

    expect((await exports.default.fetch(`${fn.endpoint}?a=1&b=2`)).status).toBe(401);
    const res = await exports.default.fetch(`${fn.endpoint}?a=1&b=2`, {
      headers: { authorization: `Bearer ${t.keys.invoker}` },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("sum=3");

    const patched = await gcore("PATCH", `/${t.ws.name}/functions/${name}`, {
      key: t.keys.developer,
      body: { code_text: CJS.replace("sum=", "total="), enable_api_key: false, description: "adds" },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const after = await built(t.ws.name, name);
    expect(after).toMatchObject({ description: "adds", enable_api_key: false, build_status: "Success" });
    const again = await exports.default.fetch(`${fn.endpoint}?a=2&b=2`);
    expect(await again.text()).toBe("total=4");

    expect((await gcore("DELETE", `/${t.ws.name}/functions/${name}`, { key: t.keys.developer })).status).toBe(204);
    expectMessage(await gcore("GET", `/${t.ws.name}/functions/${name}`), 404);
  });

  it("runs Python code_text on a python3 runtime, over HTTP, with its dependencies checked", async () => {
    const name = unique("py");
    const code = [
      "import os",
      "",
      "def run(data, ctx):",
      '    return {"hello": (data or {}).get("name", "world"), "greeting": os.environ.get("GREETING")}',
      "",
      "def plain():",
      '    return "Hello World"',
      "",
    ].join("\n");
    const created = await gcore("POST", `/${t.ws.name}/functions`, {
      key: t.keys.developer,
      body: { name, code_text: code, main_method: "run", runtime: "python3.7.12", envs: { GREETING: "hi" } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const fn = await built(t.ws.name, name, ADMIN_KEY, 2000);
    expect(fn).toMatchObject({ build_status: "Success", runtime: "python3.7.12", code_text: code, main_method: "run" });
    const get = await exports.default.fetch(`${fn.endpoint}?name=gcore`);
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ hello: "gcore", greeting: "hi" });
    const post = await exports.default.fetch(fn.endpoint, { method: "POST", body: JSON.stringify({ name: "post" }) });
    expect(await post.json()).toEqual({ hello: "post", greeting: "hi" });

    // A main_method without parameters answers text; a dependency with no vendored wheel fails the build, named.
    await gcore("PATCH", `/${t.ws.name}/functions/${name}`, { key: t.keys.developer, body: { main_method: "plain" } });
    expect(await built(t.ws.name, name, ADMIN_KEY, 2000)).toMatchObject({ build_status: "Success" });
    const plain = await exports.default.fetch(fn.endpoint);
    const plainText = await plain.text();
    expect(plainText).toBe("Hello World");
    expect(plain.headers.get("content-type")).toMatch(/^text\/plain/);

    await gcore("PATCH", `/${t.ws.name}/functions/${name}`, {
      key: t.keys.developer,
      body: { dependencies: "numpy==1.21.0\n" },
    });
    const failed = await built(t.ws.name, name, ADMIN_KEY, 2000);
    expect(failed.build_status).toBe("Error");
    expect(failed.build_message).toMatch(/numpy==1\.21\.0.*no wheel/);
    const missing = unique("py");
    await gcore("POST", `/${t.ws.name}/functions`, {
      key: t.keys.developer,
      body: { name: missing, code_text: code, main_method: "nope", runtime: "python3.11" },
    });
    const broken = await built(t.ws.name, missing, ADMIN_KEY, 2000);
    expect(broken.build_status).toBe("Error");
    expect(broken.build_message).toMatch(/main_method 'nope' is not a function/);
  }, 120_000);

  it("reports a main_method the code does not export as a failed build", async () => {
    const name = unique("broken");
    await gcore("POST", `/${t.ws.name}/functions`, {
      key: t.keys.developer,
      body: { name, code_text: ESM, main_method: "nope", runtime: "node18" },
    });
    const fn = await built(t.ws.name, name);
    expect(fn.status).toBe("Error");
    expect(fn.build_status).toBe("Error");
    expect(fn.build_message).toMatch(/main_method "nope"/);
  });

  it("answers 400 to bad bodies and 403 to a viewer", async () => {
    const good = { name: unique("f"), code_text: ESM, main_method: "run", runtime: "node18" };
    const path = `/${t.ws.name}/functions`;
    const key = t.keys.developer;
    expectMessage(await gcore("POST", path, { key, body: { ...good, runtime: "go1.20" } }), 400);
    const py = { ...good, runtime: "python3.11", main_method: "$run" };
    expect(expectMessage(await gcore("POST", path, { key, body: py }), 400)).toMatch(/Python identifier/);
    expectMessage(await gcore("POST", path, { key, body: { ...good, code_text: "" } }), 400);
    expectMessage(await gcore("POST", path, { key, body: { ...good, main_method: "1x" } }), 400);
    expectMessage(await gcore("POST", path, { key, body: { ...good, timeout: 999 } }), 400);
    expectMessage(await gcore("POST", path, { key, body: { ...good, envs: { "bad-name": "x" } } }), 400);
    expectMessage(await gcore("POST", path, { key, body: { ...good, autoscaling: { min_instances: 99 } } }), 400);
    expectMessage(await gcore("POST", path, { key, body: { ...good, disabled: true } }), 400);
    const { name: _n, ...nameless } = good;
    expectMessage(await gcore("POST", path, { key, body: nameless }), 400);
    expectMessage(await gcore("POST", path, { key, raw: "nope" }), 400);
    expectMessage(await gcore("PATCH", `${path}/${good.name}`, { key, body: {} }), 400);
    expectMessage(await gcore("POST", path, { key: t.keys.viewer, body: good }), 403);
    expectMessage(await gcore("GET", `${path}/does-not-exist`), 404);
  });
});
