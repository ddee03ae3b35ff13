/**
 * Appwrite settings that decide access, in the real runtime: `enabled` and `execute` (anonymous executions, the
 * roles of users), `scopes` (the execution's own key in `x-appwrite-key`, good for `/v1` of its own workspace,
 * for its scopes, until the execution's time is up, and never stored), the variables and headers an execution
 * gets, and the function's way to the platform's API from inside an isolate without egress.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { mayExecute, rolesOf } from "../../src/domain/compat/appwrite/access";
import { api, newKey, newWorkspace } from "../support/api";
import { type Aw, appwriteClient, appwriteFunction, queries, until } from "../support/appwrite";

let ws: { id: string; name: string };
let aw: Aw;

const PROBE = `export default async ({ req, res, log }) => {
  const env = {};
  for (const k of Object.keys(process.env)) if (k.startsWith("APPWRITE_")) env[k] = process.env[k];
  log("probed");
  return res.json({
    trigger: req.headers["x-appwrite-trigger"],
    executionId: req.headers["x-appwrite-execution-id"],
    hasKey: (req.headers["x-appwrite-key"] ?? "").startsWith("dynamic_"),
    userId: req.headers["x-appwrite-user-id"],
    forged: req.headers["x-appwrite-user-id"] === "admin",
    env,
  });
};
`;

/** Calls /v1 of its own project with its own key: its executions, and the functions (a scope it may lack). */
const CALLER = `export default async ({ req, res }) => {
  const key = req.headers["x-appwrite-key"];
  const call = async (path) => {
    const r = await fetch(process.env.APPWRITE_FUNCTION_API_ENDPOINT + path, {
      headers: { "x-appwrite-project": process.env.APPWRITE_FUNCTION_PROJECT_ID, "x-appwrite-key": key },
    });
    return { status: r.status, body: await r.json() };
  };
  const own = await call("/functions/" + process.env.APPWRITE_FUNCTION_ID + "/executions");
  const functions = await call("/functions");
  const outside = await fetch("https://example.com/").then((r) => r.status, () => "threw");
  return res.json({ own, functions, outside, key });
};
`;

beforeAll(async () => {
  ws = await newWorkspace();
  aw = appwriteClient({ project: ws.id, key: (await newKey("developer", ws.id)).key });
});

describe("execute roles and enabled", () => {
  it("lets anonymous callers execute what `any` or `guests` may, and nothing else", async () => {
    const open = await appwriteFunction(aw, { "index.js": PROBE }, { execute: ["any"] });
    const guests = await appwriteFunction(aw, { "index.js": PROBE }, { execute: ["guests"] });
    const closed = await appwriteFunction(aw, { "index.js": PROBE }, { execute: [] });
    const usersOnly = await appwriteFunction(aw, { "index.js": PROBE }, { execute: ["users"] });

    // Appwrite's client SDK sends only the project.
    const ran = await aw("POST", `/functions/${open.$id}/executions`, { path: "/hi" }, { key: null });
    expect(ran.status, JSON.stringify(ran.body)).toBe(201);
    expect(ran.body).toMatchObject({ status: "completed", responseStatusCode: 200, requestPath: "/hi" });
    // The platform's headers, not the caller's, even when the caller sends them.
    const forged = await aw(
      "POST",
      `/functions/${open.$id}/executions`,
      { headers: { "x-appwrite-user-id": "admin" } },
      { key: null },
    );
    expect(JSON.parse(forged.body.responseBody)).toMatchObject({ userId: "", forged: false, trigger: "http" });
    expect((await aw("POST", `/functions/${guests.$id}/executions`, {}, { key: null })).status).toBe(201);

    for (const fn of [closed, usersOnly]) {
      const refused = await aw("POST", `/functions/${fn.$id}/executions`, {}, { key: null });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({
        type: "user_unauthorized",
        message: "The current user is not authorized to perform the requested action.",
      });
    }
    // Neither a function nor a project that does not exist tells more than that.
    const missing = await aw("POST", "/functions/nope/executions", {}, { key: null });
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe("function_not_found");
    const elsewhere = await aw("POST", `/functions/${open.$id}/executions`, {}, { key: null, project: "no-such-ws" });
    expect(elsewhere.body.type).toBe("function_not_found");

    // An anonymous caller executes; it reads nothing and changes nothing.
    const list = await aw("GET", `/functions/${open.$id}/executions`, undefined, { key: null });
    expect(list.status).toBe(401);
    expect(list.body.type).toBe("general_unauthorized_scope");
    expect((await aw("GET", `/functions/${open.$id}`, undefined, { key: null })).status).toBe(401);
    expect((await aw("DELETE", `/functions/${open.$id}`, undefined, { key: null })).status).toBe(401);

    // Its executions are recorded (read back with a key), made by nobody in particular.
    const mine = await aw("GET", `/functions/${open.$id}/executions`);
    expect(mine.body.total).toBe(2);
    const made = await env.DB.prepare(
      "SELECT DISTINCT created_by FROM calls WHERE function_id = (SELECT id FROM functions WHERE external_id = ?)",
    )
      .bind(open.$id)
      .all();
    expect(made.results).toEqual([{ created_by: "anonymous" }]);
  });

  it("refuses executions of a disabled function to callers without a key, as Appwrite does, but not to keys", async () => {
    const fn = await appwriteFunction(aw, { "index.js": PROBE }, { execute: ["any"], enabled: false });
    const refused = await aw("POST", `/functions/${fn.$id}/executions`, {}, { key: null });
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({
      type: "function_not_found",
      message: "Function with the requested ID could not be found.",
    });
    // "Server SDKs with an API key can still access the function."
    expect((await aw("POST", `/functions/${fn.$id}/executions`, {})).status).toBe(201);

    const enabled = await aw("PUT", `/functions/${fn.$id}`, { name: fn.name, enabled: true, execute: ["any"] });
    expect(enabled.body.enabled).toBe(true);
    expect((await aw("POST", `/functions/${fn.$id}/executions`, {}, { key: null })).status).toBe(201);
  });

  it("gives users the roles Appwrite does (one function decides: mayExecute)", () => {
    const user = { keyId: "ses_1", role: "viewer" as const, workspaceId: "", user: { id: "u1", teams: ["t1"] } };
    const anonymous = { keyId: "anonymous", role: "viewer" as const, workspaceId: "", anonymous: true as const };
    const key = { keyId: "key_1", role: "invoker" as const, workspaceId: "ws_1" };
    expect([...rolesOf(user)].sort()).toEqual(
      ["any", "team:t1", "user:u1", "user:u1/unverified", "users", "users/unverified"].sort(),
    );
    expect(mayExecute(user, ["user:u1"])).toBe(true);
    expect(mayExecute(user, ["team:t1"])).toBe(true);
    expect(mayExecute(user, ["users/verified"])).toBe(false);
    expect(mayExecute(user, ["guests"])).toBe(false);
    expect(mayExecute(anonymous, ["users"])).toBe(false);
    expect(mayExecute(anonymous, ["guests"])).toBe(true);
    expect(mayExecute(key, [])).toBe(true);
  });
});

describe("an execution's key, variables and headers", () => {
  it("gives Appwrite's variables and headers, and a key for /v1 that works only as the function's scopes say", async () => {
    const probe = await appwriteFunction(aw, { "src/main.js": PROBE }, {}, "src/main.js");
    const exec = await aw("POST", `/functions/${probe.$id}/executions`, { path: "/" });
    const seen = JSON.parse(exec.body.responseBody);
    expect(seen).toMatchObject({ trigger: "http", executionId: exec.body.$id, hasKey: true, userId: "" });
    expect(seen.env).toMatchObject({
      APPWRITE_FUNCTION_API_ENDPOINT: "https://api.edgefn.internal/v1",
      APPWRITE_FUNCTION_ID: probe.$id,
      APPWRITE_FUNCTION_NAME: probe.name,
      APPWRITE_FUNCTION_DEPLOYMENT: probe.deploymentId,
      APPWRITE_FUNCTION_PROJECT_ID: ws.id,
      APPWRITE_FUNCTION_RUNTIME_NAME: "Node.js",
      APPWRITE_FUNCTION_RUNTIME_VERSION: "22",
      APPWRITE_FUNCTION_CPUS: "0.5",
      APPWRITE_FUNCTION_MEMORY: "512",
    });
    // The key reached the function; nothing of the call's record holds it.
    const rows = await env.DB.prepare(
      "SELECT * FROM calls WHERE function_id = (SELECT id FROM functions WHERE external_id = ?)",
    )
      .bind(probe.$id)
      .all();
    expect(rows.results.length).toBe(1);
    expect(JSON.stringify(rows.results)).not.toContain("dynamic_");

    const caller = await appwriteFunction(aw, { "index.js": CALLER }, { scopes: ["execution.read"], timeout: 1 });
    const first = await aw("POST", `/functions/${caller.$id}/executions`, {});
    expect(first.status).toBe(201);
    const second = await aw("POST", `/functions/${caller.$id}/executions`, {});
    const out = JSON.parse(second.body.responseBody);
    // It listed its own executions (the first one, recorded) with its key, and nothing its scopes do not give.
    expect(out.own.status).toBe(200);
    expect(out.own.body.executions.map((e: any) => e.$id)).toContain(first.body.$id);
    expect(out.functions.status).toBe(401);
    expect(out.functions.body.type).toBe("general_unauthorized_scope");
    // The platform's endpoint is reachable; the internet is not (the function has no egress): the gateway refuses.
    expect(out.outside).toBe(403);

    const key = out.key as string;
    expect(key).toMatch(/^dynamic_/);
    // Never outside its workspace, never on the native API.
    const other = await newWorkspace();
    const elsewhere = await aw("GET", `/functions/${caller.$id}/executions`, undefined, { key, project: other.id });
    expect(elsewhere.status).toBe(404);
    expect((await api("GET", "/api/functions", { key })).status).toBe(401);
    // Never after the execution's time is up (its timeout: 1 s).
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await aw("GET", `/functions/${caller.$id}/executions`, undefined, { key });
    expect(expired.status).toBe(401);
    expect(expired.body.type).toBe("project_key_expired");
    // A key that is not the platform's is refused.
    const forged = await aw("GET", `/functions/${caller.$id}/executions`, undefined, {
      key: `${key.slice(0, -4)}AAAA`,
    });
    expect(forged.status).toBe(401);
  });

  it("keeps an execution's request (without credentials) and the answer's status and headers", async () => {
    const fn = await appwriteFunction(aw, { "index.js": PROBE });
    const exec = await aw("POST", `/functions/${fn.$id}/executions`, {
      method: "PATCH",
      path: "/items/7?view=full",
      headers: {
        "content-type": "application/json",
        "x-trace": "t-1",
        authorization: "Bearer sk_live_123",
        cookie: "session=abc",
        "x-api-key": "k",
      },
    });
    const read = await aw("GET", `/functions/${fn.$id}/executions/${exec.body.$id}`);
    expect(read.body).toMatchObject({
      requestMethod: "PATCH",
      requestPath: "/items/7?view=full",
      responseStatusCode: 200,
      trigger: "http",
      status: "completed",
    });
    const headers = Object.fromEntries(read.body.requestHeaders.map((h: any) => [h.name, h.value]));
    expect(headers).toEqual({ "content-type": "application/json", "x-trace": "t-1" });
    expect(read.body.responseHeaders).toContainEqual({ name: "content-type", value: "application/json" });

    const byMethod = await aw(
      "GET",
      `/functions/${fn.$id}/executions${queries({ method: "equal", attribute: "requestMethod", values: ["PATCH"] })}`,
    );
    expect(byMethod.body.executions.map((e: any) => e.$id)).toEqual([exec.body.$id]);
  });

  it("runs a scheduled execution with Appwrite's schedule trigger", async () => {
    const fn = await appwriteFunction(aw, { "index.js": PROBE });
    const at = new Date(Date.now() + 1500).toISOString();
    const queued = await aw("POST", `/functions/${fn.$id}/executions`, { async: true, scheduledAt: at });
    expect(queued.status).toBe(202);
    const done = await until(
      () => aw("GET", `/functions/${fn.$id}/executions/${queued.body.$id}`),
      (e) => e.body.status === "completed" || e.body.status === "failed",
      "the scheduled execution",
    );
    expect(done.body).toMatchObject({ status: "completed", trigger: "schedule" });
    expect(JSON.parse(done.body.responseBody)).toMatchObject({ trigger: "schedule", hasKey: true });
  });
});
