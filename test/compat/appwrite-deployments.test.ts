/**
 * Appwrite deployments beyond the upload: delete, duplicate (and 1.6's build), download of the source and of the
 * build output; the platform's function templates and deployments made from them; and events: functions fired by
 * the function, deployment and execution events of their project, as Appwrite names them, without loops.
 */
import { exports } from "cloudflare:workers";
import { gunzipSync } from "fflate";
import { parseTar } from "nanotar";
import { beforeAll, describe, expect, it } from "vitest";
import { newKey, newWorkspace } from "../support/api";
import { type Aw, appwriteClient, appwriteFunction, queries, until } from "../support/appwrite";

let aw: Aw;
let key: string;
let project: string;

const HELLO = `export default async ({ res }) => res.text("hello v1");\n`;

beforeAll(async () => {
  const ws = await newWorkspace();
  project = ws.id;
  key = (await newKey("developer", ws.id)).key;
  aw = appwriteClient({ project, key });
});

const ready = (functionId: string, deploymentId: string) =>
  until(
    () => aw("GET", `/functions/${functionId}/deployments/${deploymentId}`),
    (d) => !["waiting", "processing", "building"].includes(d.body.status),
    "the build",
  );

async function download(functionId: string, deploymentId: string, type?: string) {
  const res = await aw(
    "GET",
    `/functions/${functionId}/deployments/${deploymentId}/download${type ? `?type=${type}` : ""}`,
  );
  return res;
}

/** The files of a downloaded tar.gz (the test client read it as text: fetch it as bytes). */
async function filesOf(functionId: string, deploymentId: string, type: string): Promise<Record<string, string>> {
  const res = await exports.default.fetch(
    `http://edgefn.test/v1/functions/${functionId}/deployments/${deploymentId}/download?type=${type}`,
    { headers: { "x-appwrite-project": project, "x-appwrite-key": key } },
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("content-disposition")).toContain(`${deploymentId}.tar.gz`);
  const entries = parseTar(gunzipSync(new Uint8Array(await res.arrayBuffer())));
  return Object.fromEntries(entries.map((e) => [e.name, e.text]));
}

describe("deployments", () => {
  it("duplicates a deployment (and rebuilds one, as 1.6 did), downloads its source and output, deletes it", async () => {
    const fn = await appwriteFunction(aw, { "index.js": HELLO });
    const first = fn.deploymentId;

    expect(await filesOf(fn.$id, first, "source")).toEqual({ "index.js": HELLO });
    const output = await filesOf(fn.$id, first, "output");
    // The built bundle: the user's module among the modules the isolate loads.
    expect(Object.values(output).some((text) => text.includes("hello v1"))).toBe(true);
    const badType = await download(fn.$id, first, "binary");
    expect(badType.status).toBe(400);
    expect(badType.body.type).toBe("general_argument_invalid");

    const dup = await aw("POST", `/functions/${fn.$id}/deployments/duplicate`, { deploymentId: first });
    expect(dup.status).toBe(202);
    expect(dup.body.$id).not.toBe(first);
    expect((await ready(fn.$id, dup.body.$id)).body.status).toBe("ready");
    expect(await filesOf(fn.$id, dup.body.$id, "source")).toEqual({ "index.js": HELLO });
    const rebuilt = await aw("POST", `/functions/${fn.$id}/deployments/${first}/build`);
    expect(rebuilt.status).toBe(204);
    const list = await aw("GET", `/functions/${fn.$id}/deployments`);
    expect(list.body.total).toBe(3);
    // The copies were of an activated deployment: the newest one built becomes the active one.
    const third = list.body.deployments
      .map((d: any) => d.$id)
      .find((id: string) => id !== first && id !== dup.body.$id);
    expect((await ready(fn.$id, third)).body.status).toBe("ready");
    await until(
      () => aw("GET", `/functions/${fn.$id}`),
      (f) => f.body.deploymentId === third,
      "the activation of the rebuild",
    );

    const missing = await aw("POST", `/functions/${fn.$id}/deployments/duplicate`, { deploymentId: "ver_nope" });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      type: "deployment_not_found",
      message: "Deployment with the requested ID could not be found.",
    });
    const noBody = await aw("POST", `/functions/${fn.$id}/deployments/duplicate`, {});
    expect(noBody.status).toBe(400);

    // Deployments that are not the active one go; their downloads with them.
    for (const id of [first, dup.body.$id]) {
      expect((await aw("DELETE", `/functions/${fn.$id}/deployments/${id}`)).status).toBe(204);
      expect((await aw("GET", `/functions/${fn.$id}/deployments/${id}`)).body.type).toBe("deployment_not_found");
      expect((await download(fn.$id, id)).status).toBe(404);
    }
    expect((await aw("GET", `/functions/${fn.$id}/deployments`)).body.total).toBe(1);

    // Deleting the active one leaves the function with none to run, as on Appwrite.
    const active = third;
    const executed = await aw("POST", `/functions/${fn.$id}/executions`, {});
    expect(executed.body.responseBody).toBe("hello v1");
    expect((await aw("DELETE", `/functions/${fn.$id}/deployments/${active}`)).status).toBe(204);
    expect((await aw("GET", `/functions/${fn.$id}`)).body.deploymentId).toBe("");
    const none = await aw("POST", `/functions/${fn.$id}/executions`, {});
    expect(none.status).toBe(404);
    expect(none.body.type).toBe("deployment_not_found");
    // The execution made with it is still there to read.
    expect((await aw("GET", `/functions/${fn.$id}/executions/${executed.body.$id}`)).body.deploymentId).toBe(active);
  });
});

describe("templates", () => {
  it("lists and gets the built-in templates, and deploys one", async () => {
    const all = await aw("GET", "/functions/templates");
    expect(all.status).toBe(200);
    expect(all.body.templates.map((t: any) => t.id).sort()).toEqual(["hello-http", "json-echo", "starter"]);
    expect(all.body.total).toBe(3);
    const second = await aw("GET", "/functions/templates?limit=1&offset=1");
    expect(second.body.templates.map((t: any) => t.id)).toEqual([all.body.templates[1].id]);
    expect((await aw("GET", "/functions/templates?offset=5001")).status).toBe(400);
    const filtered = await aw("GET", "/functions/templates?useCases[]=utilities&runtimes[]=node-22");
    expect(filtered.body.templates.map((t: any) => t.id)).toEqual(["json-echo"]);
    const hello = await aw("GET", "/functions/templates/hello-http");
    expect(hello.body).toMatchObject({ id: "hello-http", providerOwner: "edgefn", providerRepositoryId: "templates" });
    const runtime = hello.body.runtimes.find((r: any) => r.name === "node-22");
    expect(runtime).toMatchObject({ entrypoint: "src/main.js", providerRootDirectory: "node/hello-http" });
    const unknown = await aw("GET", "/functions/templates/nope");
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe("function_template_not_found");

    const functionId = `t${crypto.randomUUID().slice(0, 8)}`;
    await aw("POST", "/functions", {
      functionId,
      name: "from template",
      runtime: "node-22",
      entrypoint: "src/main.js",
    });
    const dep = await aw("POST", `/functions/${functionId}/deployments/template`, {
      repository: hello.body.providerRepositoryId,
      owner: hello.body.providerOwner,
      rootDirectory: runtime.providerRootDirectory,
      version: hello.body.providerVersion,
      activate: true,
    });
    expect(dep.status).toBe(202);
    expect((await ready(functionId, dep.body.$id)).body.status).toBe("ready");
    await until(
      () => aw("GET", `/functions/${functionId}`),
      (f) => f.body.deploymentId === dep.body.$id,
      "the activation",
    );
    const exec = await aw("POST", `/functions/${functionId}/executions`, { method: "GET", path: "/?name=Ada" });
    expect(exec.body).toMatchObject({ status: "completed", responseStatusCode: 200, responseBody: "Hello, Ada!" });

    const elsewhere = await aw("POST", `/functions/${functionId}/deployments/template`, {
      repository: "templates",
      owner: "appwrite",
      rootDirectory: "node/starter",
      version: "0.2.0",
    });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.type).toBe("function_template_not_found");
  });
});

/** Logs the event it was fired by and the id of the object it got. */
const LISTENER = `export default async ({ req, res, log }) => {
  log(req.headers["x-appwrite-trigger"] + " " + req.headers["x-appwrite-event"] + " " + req.bodyJson.$id);
  return res.empty();
};
`;

describe("events", () => {
  it("fires listening functions on function, deployment and execution events, never by their own", async () => {
    // A project of its own: its events are these alone.
    const ws = await newWorkspace();
    const aw = appwriteClient({ project: ws.id, key: (await newKey("developer", ws.id)).key });
    const listener = await appwriteFunction(
      aw,
      { "index.js": LISTENER },
      { events: ["functions.*.create", "functions.*.deployments.*.create", "functions.*.executions.*.create"] },
    );
    const quiet = await appwriteFunction(
      aw,
      { "index.js": LISTENER },
      { events: ["functions.*.executions.*.create"], enabled: false },
    );
    const seen = async () => {
      const list = await aw(
        "GET",
        `/functions/${listener.$id}/executions${queries({ method: "equal", attribute: "trigger", values: ["event"] })}`,
      );
      return (list.body.executions as any[]).filter((e) => e.status === "completed").map((e) => e.logs as string);
    };

    const target = await appwriteFunction(aw, { "index.js": HELLO });
    const exec = await aw("POST", `/functions/${target.$id}/executions`, {});
    const expected = [
      // The disabled function's own events fire the listener (it is the disabled one that is never fired).
      `event functions.${quiet.$id}.create ${quiet.$id}`,
      `event functions.${quiet.$id}.deployments.${quiet.deploymentId}.create ${quiet.deploymentId}`,
      `event functions.${target.$id}.create ${target.$id}`,
      `event functions.${target.$id}.deployments.${target.deploymentId}.create ${target.deploymentId}`,
      `event functions.${target.$id}.executions.${exec.body.$id}.create ${exec.body.$id}`,
    ];
    await until(seen, (l) => l.length >= expected.length, "the listener's executions");
    // Nothing more comes: not the listener's own create and deployment (it had nothing to run yet), nor its own
    // executions, nor the executions the events made.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await seen()).sort()).toEqual(expected.sort());
    const quietRuns = await aw("GET", `/functions/${quiet.$id}/executions`);
    expect(quietRuns.body.total).toBe(0);
  });
});
