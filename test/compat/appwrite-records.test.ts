/**
 * What Appwrite executions keep, and how lists are queried: `logging: false` (no logs, errors or response bodies
 * kept; status, duration, method and path are), and Appwrite's queries on the documented attributes of functions,
 * deployments and executions, in both query forms, with Appwrite's errors.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { newKey, newWorkspace } from "../support/api";
import { type Aw, appwriteClient, appwriteFunction, queries, until } from "../support/appwrite";

let aw: Aw;

const NOISY = `export default async ({ req, res, log, error }) => {
  log("a secret-ish log line");
  error("an error line");
  if (req.path === "/explode") throw new Error("kaboom-detail");
  if (req.path === "/500") return res.text("server said no", 503);
  return res.json({ body: "answer " + req.bodyText });
};
`;

beforeAll(async () => {
  const ws = await newWorkspace();
  aw = appwriteClient({ project: ws.id, key: (await newKey("developer", ws.id)).key });
});

/** Every stored trace of a call: its row and its logs. */
async function stored(callId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT * FROM calls WHERE id = ?").bind(callId).first();
  const logs = await env.DB.prepare("SELECT * FROM call_logs WHERE call_id = ?").bind(callId).first();
  return JSON.stringify({ row, logs });
}

describe("logging", () => {
  it("keeps no logs, errors or response body when logging is off; status, duration, method and path it keeps", async () => {
    const quiet = await appwriteFunction(aw, { "index.js": NOISY }, { logging: false });
    const exec = await aw("POST", `/functions/${quiet.$id}/executions`, { method: "PUT", path: "/x?y=1", body: "hi" });
    // The request that made it sees the answer, as on Appwrite.
    expect(exec.body).toMatchObject({ status: "completed", responseStatusCode: 200 });
    expect(JSON.parse(exec.body.responseBody)).toEqual({ body: "answer hi" });
    const read = await aw("GET", `/functions/${quiet.$id}/executions/${exec.body.$id}`);
    expect(read.body).toMatchObject({
      status: "completed",
      logs: "",
      errors: "",
      responseBody: "",
      responseStatusCode: 200,
      requestMethod: "PUT",
      requestPath: "/x?y=1",
    });
    expect(read.body.duration).toBeGreaterThan(0);
    const trace = await stored(exec.body.$id);
    expect(trace).not.toContain("secret-ish");
    expect(trace).not.toContain("an error line");
    expect(trace).not.toContain("answer hi");

    const failed = await aw("POST", `/functions/${quiet.$id}/executions`, { path: "/explode" });
    expect(failed.body).toMatchObject({ status: "failed", responseStatusCode: 500 });
    const failedTrace = await stored(failed.body.$id);
    expect(failedTrace).not.toContain("kaboom-detail");
    expect(failedTrace).not.toContain("an error line");

    // Queued executions too.
    const queued = await aw("POST", `/functions/${quiet.$id}/executions`, { async: true, body: "later" });
    const done = await until(
      () => aw("GET", `/functions/${quiet.$id}/executions/${queued.body.$id}`),
      (e) => e.body.status === "completed",
      "the queued execution",
    );
    expect(done.body).toMatchObject({ logs: "", errors: "", responseBody: "", responseStatusCode: 200 });
    expect(await stored(queued.body.$id)).not.toContain("answer later");

    // Logging on again: the next execution keeps everything.
    await aw("PUT", `/functions/${quiet.$id}`, { name: quiet.name, logging: true });
    const loud = await aw("POST", `/functions/${quiet.$id}/executions`, { body: "now" });
    const back = await aw("GET", `/functions/${quiet.$id}/executions/${loud.body.$id}`);
    expect(back.body).toMatchObject({ logs: "a secret-ish log line", errors: "an error line" });
    expect(JSON.parse(back.body.responseBody)).toEqual({ body: "answer now" });
  });
});

describe("queries", () => {
  it("filters functions on Appwrite's attributes, pages by offset, and answers Appwrite's errors", async () => {
    // A workspace of its own: these are all its functions.
    const ws = await newWorkspace();
    const aw = appwriteClient({ project: ws.id, key: (await newKey("developer", ws.id)).key });
    const names = ["alpha", "beta", "gamma"].map((n) => `${n}-${crypto.randomUUID().slice(0, 6)}`);
    const made: string[] = [];
    for (const [i, name] of names.entries()) {
      const r = await aw("POST", "/functions", {
        functionId: "unique()",
        name,
        runtime: i === 0 ? "bun-1.1" : "node-22",
        timeout: 10 * (i + 1),
        enabled: i !== 2,
        schedule: i === 1 ? "0 * * * *" : "",
        entrypoint: "src/main.js",
      });
      expect(r.status).toBe(201);
      made.push(r.body.$id);
    }
    const ids = async (qs: unknown[], extra = "") =>
      ((await aw("GET", `/functions${queries(...qs)}${extra}`)).body.functions ?? []).map((f: any) => f.$id);
    const eq = (attribute: string, values: unknown[]) => ({ method: "equal", attribute, values });

    expect(await ids([eq("runtime", ["bun-1.1"])])).toEqual([made[0]]);
    expect((await ids([eq("enabled", [false])])).sort()).toEqual([made[2]]);
    expect((await ids([eq("enabled", [true]), eq("entrypoint", ["src/main.js"])])).sort()).toEqual(
      [made[0], made[1]].sort(),
    );
    expect(await ids([{ method: "greaterThan", attribute: "timeout", values: [25] }])).toEqual([made[2]]);
    expect(await ids([eq("schedule", ["0 * * * *"])])).toEqual([made[1]]);
    expect(await ids([{ method: "startsWith", attribute: "name", values: ["gam"] }])).toEqual([made[2]]);
    expect((await ids([{ method: "notEqual", attribute: "runtime", values: ["bun-1.1"] }])).sort()).toEqual(
      [made[1], made[2]].sort(),
    );
    const either = { method: "or", values: [eq("name", [names[0]]), eq("name", [names[2]])] };
    expect((await ids([either])).sort()).toEqual([made[0], made[2]].sort());
    expect(await ids([eq("$id", [made[1]])])).toEqual([made[1]]);
    // The older form, as typed on the CLI's command line.
    expect(await ids([`equal("runtime", ["bun-1.1"])`])).toEqual([made[0]]);

    // Pages by offset (the CLI's paginate), oldest first by $createdAt.
    const order = { method: "orderAsc", attribute: "$createdAt" };
    const page = (offset: number) =>
      ids([order, { method: "limit", values: [2] }, { method: "offset", values: [offset] }]);
    expect([...(await page(0)), ...(await page(2))]).toEqual(made);
    const total = await aw("GET", `/functions${queries({ method: "limit", values: [1] })}&total=false`);
    expect(total.body.total).toBe(0);

    const unknown = await aw("GET", `/functions${queries(eq("color", ["red"]))}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      type: "general_argument_invalid",
      message: "Invalid `queries` param: Invalid query: Attribute not found in schema: color",
    });
    const broken = await aw("GET", "/functions?queries[]=%7Bnot%20json");
    expect(broken.status).toBe(400);
    expect(broken.body.type).toBe("general_query_invalid");
    const method = await aw("GET", `/functions${queries({ method: "fuzzy", attribute: "name", values: ["a"] })}`);
    expect(method.status).toBe(400);
    expect(method.body.message).toMatch(/Invalid query method: fuzzy/);
    const badType = await aw(
      "GET",
      `/functions${queries({ method: "greaterThan", attribute: "timeout", values: ["ten"] })}`,
    );
    expect(badType.status).toBe(400);
  });

  it("filters executions on trigger, status, response code, duration, method and path", async () => {
    const fn = await appwriteFunction(aw, { "index.js": NOISY });
    const ok = await aw("POST", `/functions/${fn.$id}/executions`, { method: "GET", path: "/fine" });
    const unavailable = await aw("POST", `/functions/${fn.$id}/executions`, { path: "/500" });
    const thrown = await aw("POST", `/functions/${fn.$id}/executions`, { path: "/explode" });
    expect(unavailable.body).toMatchObject({ status: "failed", responseStatusCode: 503 });
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await aw("POST", `/functions/${fn.$id}/executions`, { async: true, scheduledAt: later });

    const list = async (...qs: unknown[]) =>
      ((await aw("GET", `/functions/${fn.$id}/executions${queries(...qs)}`)).body.executions ?? [])
        .map((e: any) => e.$id)
        .sort();
    const eq = (attribute: string, values: unknown[]) => ({ method: "equal", attribute, values });
    expect(await list(eq("status", ["failed"]))).toEqual([unavailable.body.$id, thrown.body.$id].sort());
    expect(await list(eq("status", ["completed"]))).toEqual([ok.body.$id]);
    expect(await list(eq("status", ["scheduled"]))).toEqual([scheduled.body.$id]);
    expect(await list(eq("trigger", ["schedule"]))).toEqual([scheduled.body.$id]);
    expect(await list(eq("trigger", ["http"]))).toEqual([ok.body.$id, unavailable.body.$id, thrown.body.$id].sort());
    expect(await list(eq("responseStatusCode", [503]))).toEqual([unavailable.body.$id]);
    expect(await list({ method: "greaterThanEqual", attribute: "responseStatusCode", values: [500] })).toEqual(
      [unavailable.body.$id, thrown.body.$id].sort(),
    );
    expect(await list(eq("requestMethod", ["GET"]))).toEqual([ok.body.$id]);
    expect(await list(eq("requestPath", ["/fine"]))).toEqual([ok.body.$id]);
    expect(await list(eq("deploymentId", [fn.deploymentId]), eq("status", ["completed"]))).toEqual([ok.body.$id]);
    expect(await list({ method: "greaterThan", attribute: "duration", values: [3600] })).toEqual([]);
    expect(
      await list({ method: "lessThan", attribute: "duration", values: [3600] }, eq("status", ["completed"])),
    ).toEqual([ok.body.$id]);
  });

  it("filters deployments on status, sizes and activation", async () => {
    const fn = await appwriteFunction(aw, { "index.js": NOISY });
    const list = async (...qs: unknown[]) =>
      ((await aw("GET", `/functions/${fn.$id}/deployments${queries(...qs)}`)).body.deployments ?? []).map(
        (d: any) => d.$id,
      );
    expect(await list({ method: "equal", attribute: "status", values: ["ready"] })).toEqual([fn.deploymentId]);
    expect(await list({ method: "equal", attribute: "activate", values: [false] })).toEqual([]);
    expect(await list({ method: "greaterThan", attribute: "totalSize", values: [0] })).toEqual([fn.deploymentId]);
    expect(await list({ method: "equal", attribute: "type", values: ["vcs"] })).toEqual([]);
    // The CLI's pull: the newest deployment.
    expect(await list({ method: "limit", values: [1] }, { method: "orderDesc", values: ["$id"] })).toEqual([
      fn.deploymentId,
    ]);
  });
});
