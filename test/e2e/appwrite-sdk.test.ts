/**
 * The official node-appwrite SDK against the real local server: create a function, deploy a tar.gz, execute it
 * (sync and async), list, manage variables, and read Appwrite's error shape, through /v1 only.
 */
import { randomBytes } from "node:crypto";
import { gzipSync } from "fflate";
import { createTar } from "nanotar";
import { AppwriteException, Client, ExecutionMethod, Functions, ID, Query, Runtime } from "node-appwrite";
import { InputFile } from "node-appwrite/file";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../scripts/lib/platform.mjs";
import { api, ok, until } from "../reliability/e2e/client";

const HANDLER = `export default async ({ req, res, log, error }) => {
  log("got " + req.method + " " + req.path);
  if (req.path === "/fail") error("asked to fail");
  return res.json({ hello: req.bodyJson?.name ?? "world", greeting: process.env.GREETING ?? null, path: req.path }, req.path === "/fail" ? 500 : 200);
};
`;

let p: LocalPlatform;
let functions: Functions;

beforeAll(async () => {
  p = await startPlatform();
  const ws = await ok(api(p, "POST", "/api/workspaces", { name: "appwrite-sdk" }), 201);
  const key = await ok(api(p, "POST", "/api/keys", { name: "sdk", role: "developer", workspaceId: ws.id }), 201);
  const client = new Client().setEndpoint(`${p.url}/v1`).setProject(ws.name).setKey(key.key);
  functions = new Functions(client);
});

afterAll(async () => {
  await p?.stop();
});

describe("node-appwrite against edgefn", () => {
  it("create -> deploy -> execute -> list", async () => {
    // ID.unique() makes the id on the client: it becomes the function's externalId.
    const functionId = ID.unique();
    const fn = await functions.create({
      functionId,
      name: "hello",
      runtime: Runtime.Node22,
      execute: ["any"],
      timeout: 10,
    });
    expect(fn.$id).toBe(functionId);
    expect(fn.runtime).toBe("node-22");
    expect(fn.timeout).toBe(10);

    const custom = await functions.create({ functionId: "my-fn", name: "custom", runtime: Runtime.Bun11 });
    expect(custom.$id).toBe("my-fn");

    const code = gzipSync(createTar([{ name: "src/main.js", data: HANDLER }]));
    const deployment = await functions.createDeployment({
      functionId: fn.$id,
      code: InputFile.fromBuffer(code, "code.tar.gz"),
      activate: true,
      entrypoint: "src/main.js",
    });
    expect(deployment.$id).toMatch(/^ver_/);
    const ready = await until(
      () => functions.getDeployment({ functionId: fn.$id, deploymentId: deployment.$id }),
      (d) => !["waiting", "processing", "building"].includes(d.status),
    );
    expect(ready.status, ready.buildLogs).toBe("ready");
    expect((await functions.get({ functionId: fn.$id })).deploymentId).toBe(deployment.$id);

    await functions.createVariable({ functionId: fn.$id, variableId: ID.unique(), key: "GREETING", value: "hej" });
    const vars = await functions.listVariables({ functionId: fn.$id });
    expect(vars.variables.map((v) => v.key)).toEqual(["GREETING"]);

    const exec = await functions.createExecution({
      functionId: fn.$id,
      body: JSON.stringify({ name: "Ada" }),
      xpath: "/greet",
      method: ExecutionMethod.POST,
      headers: { "content-type": "application/json" },
    });
    expect(exec.status).toBe("completed");
    expect(exec.responseStatusCode).toBe(200);
    expect(JSON.parse(exec.responseBody)).toEqual({ hello: "Ada", greeting: "hej", path: "/greet" });
    expect(exec.logs).toContain("got POST /greet");

    const failing = await functions.createExecution({ functionId: fn.$id, xpath: "/fail" });
    expect(failing.responseStatusCode).toBe(500);
    expect(failing.errors).toContain("asked to fail");

    const queued = await functions.createExecution({ functionId: fn.$id, body: "{}", async: true });
    const finished = await until(
      () => functions.getExecution({ functionId: fn.$id, executionId: queued.$id }),
      (e) => e.status === "completed" || e.status === "failed",
    );
    expect(finished.status).toBe("completed");

    const listed = await until(
      () => functions.listExecutions({ functionId: fn.$id }),
      (l) => l.total === 3,
    );
    expect(listed.executions.map((e) => e.$id)).toContain(exec.$id);
    const limited = await functions.listExecutions({ functionId: fn.$id, queries: [Query.limit(1)] });
    expect(limited.executions).toHaveLength(1);

    const all = await functions.list();
    expect(all.functions.map((f) => f.$id).sort()).toEqual([fn.$id, "my-fn"].sort());
    const byName = await functions.list({ queries: [Query.equal("name", "custom")] });
    expect(byName.functions.map((f) => f.$id)).toEqual(["my-fn"]);
    const searched = await functions.list({ search: "hel" });
    expect(searched.functions.map((f) => f.$id)).toEqual([fn.$id]);

    const deployments = await functions.listDeployments({ functionId: fn.$id });
    expect(deployments.total).toBe(1);
    const runtimes = await functions.listRuntimes();
    expect(runtimes.runtimes.length).toBeGreaterThan(0);

    const err = await functions.get({ functionId: "nope" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppwriteException);
    expect((err as AppwriteException).code).toBe(404);
    expect((err as AppwriteException).type).toBe("function_not_found");

    await functions.delete({ functionId: "my-fn" });
    expect((await functions.list()).total).toBe(1);
  });

  it("uploads a deployment over 5 MiB in chunks", async () => {
    const fn = await functions.create({ functionId: ID.unique(), name: "big", runtime: Runtime.Node22 });
    // Random text barely compresses, so the tar.gz is over the SDK's 5 MiB chunk size.
    const blob = randomBytes(5 * 1024 * 1024).toString("base64");
    const code = gzipSync(
      createTar([
        { name: "index.js", data: 'export default async ({ res }) => res.text("big");\n' },
        { name: "assets/blob.txt", data: blob },
      ]),
    );
    expect(code.byteLength).toBeGreaterThan(5 * 1024 * 1024);
    const progress: number[] = [];
    const deployment = await functions.createDeployment({
      functionId: fn.$id,
      code: InputFile.fromBuffer(code, "code.tar.gz"),
      activate: true,
      onProgress: (p) => progress.push(p.chunksUploaded),
    });
    expect(progress.at(-1)).toBe(2);
    expect(deployment.$id).toMatch(/^ver_/);
    const ready = await until(
      () => functions.getDeployment({ functionId: fn.$id, deploymentId: deployment.$id }),
      (d) => !["waiting", "processing", "building"].includes(d.status),
    );
    expect(ready.status, ready.buildLogs).toBe("ready");
    const exec = await functions.createExecution({ functionId: fn.$id });
    expect(exec.responseBody).toBe("big");
  });
});
