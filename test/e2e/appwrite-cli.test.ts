/**
 * Black-box: Appwrite's own CLI (appwrite-cli, unchanged) against a throwaway local platform, with a workspace key:
 * `client` setup, `functions create`, `create-variable`, `create-deployment` from a folder with --activate, executions
 * (sync and async) read back with `list-executions` (and Appwrite queries) and `get-execution`, `pull functions` and
 * `push functions` from the project's config file, a function that uses node-appwrite inside itself with its
 * execution's `x-appwrite-key`, and Appwrite's errors with a non-zero exit code. The CLI gets a HOME of its own
 * (its prefs.json lives there) and a project folder of its own (its appwrite.config.json).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../scripts/lib/platform.mjs";
import { api, ok, until } from "../reliability/e2e/client";
import { type Run, runNode } from "./support/run";

const ROOT = join(import.meta.dirname, "..", "..");
const APPWRITE = join(ROOT, "node_modules", "appwrite-cli", "index.js");

const HELLO = `export default async ({ req, res, log }) => {
  log("hello " + req.method + " " + req.path);
  return res.json({ hi: req.bodyText || "world", greeting: process.env.GREETING ?? null, path: req.path });
};
`;

/** Lists its own executions through /v1 with node-appwrite and the key its execution got. */
const SELF = `import { Client, Functions, Query } from "node-appwrite";
export default async ({ req, res }) => {
  const client = new Client()
    .setEndpoint(process.env.APPWRITE_FUNCTION_API_ENDPOINT)
    .setProject(process.env.APPWRITE_FUNCTION_PROJECT_ID)
    .setKey(req.headers["x-appwrite-key"]);
  const functions = new Functions(client);
  const own = await functions.listExecutions({
    functionId: process.env.APPWRITE_FUNCTION_ID,
    queries: [Query.equal("trigger", "http"), Query.limit(25)],
  });
  let others = null;
  try {
    await functions.list();
  } catch (e) {
    others = e.type;
  }
  return res.json({ ids: own.executions.map((e) => e.$id), others });
};
`;

/**
 * node-appwrite reaches the network through undici, a Node.js package; in a Worker the same names are globals. A
 * bundler targeting Workers maps them so (this is that mapping, for esbuild).
 */
const UNDICI_FOR_WORKERS = `export const fetch = (...args) => globalThis.fetch(...args);
export const FormData = globalThis.FormData;
export const File = globalThis.File;
export class Agent { destroy() {} }
`;

let platform: LocalPlatform;
let dir: string;
let home: string;
let project: string;
let workspaceId: string;
let key: string;
/** The first deployment of `hello`, made from a folder. */
let firstDeployment: string;

/** Runs `appwrite ...args` in the project folder, with its own HOME and nothing of this machine's Appwrite setup. */
function appwrite(...args: string[]): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, HOME: home, USERPROFILE: home, NO_COLOR: "1" };
  for (const name of Object.keys(env)) if (name.startsWith("APPWRITE_")) delete env[name];
  return runNode(APPWRITE, args, { cwd: project, env });
}

/** `appwrite --json ...args`, which must succeed: its parsed output. */
async function json(...args: string[]): Promise<any> {
  const r = await appwrite("--json", ...args);
  if (r.code !== 0 || /✗ Error/.test(r.stdout + r.stderr)) {
    throw new Error(`appwrite ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return JSON.parse(r.stdout);
}

/** Deploys a folder with the CLI, activated, and waits for its build. */
async function deployFolder(functionId: string, folder: string): Promise<string> {
  const deployment = await json(
    "functions",
    "create-deployment",
    "--function-id",
    functionId,
    "--code",
    folder,
    "--activate",
    "true",
  );
  const ready = await until(
    () => json("functions", "get-deployment", "--function-id", functionId, "--deployment-id", deployment.$id),
    (d) => !["waiting", "processing", "building"].includes(d.status),
    60_000,
  );
  expect(ready.status, ready.buildLogs).toBe("ready");
  return deployment.$id;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgefn-appwrite-cli-"));
  home = join(dir, "home");
  project = join(dir, "project");
  mkdirSync(home);
  mkdirSync(project);
  platform = await startPlatform();
  const ws = await ok(api(platform, "POST", "/api/workspaces", { name: "appwrite-cli" }), 201);
  workspaceId = ws.id;
  key = (await ok(api(platform, "POST", "/api/keys", { name: "cli", role: "developer", workspaceId }), 201)).key;
});

afterAll(async () => {
  try {
    await platform?.stop();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

// Every step runs the CLI a few times (a Node.js process each).
describe("Appwrite's CLI against edgefn", { timeout: 180_000 }, () => {
  it("sets up its client with a key: checks /v1/health/version, keeps endpoint and key in its own HOME", async () => {
    const bad = await appwrite("client", "--endpoint", `${platform.url}/nowhere`);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain("Invalid endpoint");

    const r = await appwrite("client", "--endpoint", `${platform.url}/v1`, "--project-id", workspaceId, "--key", key);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("Setting client");
    const prefs = JSON.parse(readFileSync(join(home, ".appwrite", "prefs.json"), "utf8"));
    expect(prefs[prefs.current]).toMatchObject({ endpoint: `${platform.url}/v1`, key });
    expect(JSON.parse(readFileSync(join(project, "appwrite.config.json"), "utf8"))).toMatchObject({
      projectId: workspaceId,
    });
    expect(await json("functions", "list")).toEqual({ total: 0, functions: [] });
  });

  it("creates a function, a variable and a deployment from a folder, executes it and reads the executions back", async () => {
    const fn = await json(
      ...["functions", "create", "--function-id", "hello", "--name", "Hello", "--runtime", "node-22"],
      ...["--entrypoint", "src/main.js", "--execute", "any", "--timeout", "15"],
    );
    expect(fn).toMatchObject({ $id: "hello", name: "Hello", runtime: "node-22", execute: ["any"], timeout: 15 });
    expect(fn.deploymentId).toBe("");

    // Nothing deployed yet: Appwrite's answer, and the CLI's exit code.
    const early = await appwrite("functions", "create-execution", "--function-id", "hello");
    expect(early.code).toBe(1);
    expect(early.stdout + early.stderr).toContain("Deployment not found. Create a deployment before trying to execute");

    const variable = await json(
      "functions",
      "create-variable",
      "--function-id",
      "hello",
      "--key",
      "GREETING",
      "--value",
      "hej",
    );
    // Secret unless sent false: its value is not shown back.
    expect(variable).toMatchObject({ key: "GREETING", secret: true, value: "" });
    const shown = await json(
      ...["functions", "create-variable", "--function-id", "hello", "--key", "MODE", "--value", "demo"],
      ...["--secret", "false"],
    );
    expect(shown).toMatchObject({ key: "MODE", secret: false, value: "demo" });
    const variables = await json("functions", "list-variables", "--function-id", "hello");
    expect(variables.variables.map((v: any) => v.key).sort()).toEqual(["GREETING", "MODE"]);

    mkdirSync(join(project, "hello", "src"), { recursive: true });
    writeFileSync(join(project, "hello", "src", "main.js"), HELLO);
    const deploymentId = await deployFolder("hello", "hello");
    firstDeployment = deploymentId;
    expect((await json("functions", "get", "--function-id", "hello")).deploymentId).toBe(deploymentId);

    const exec = await json(
      ...["functions", "create-execution", "--function-id", "hello", "--body", "Ada"],
      ...["--xpath", "/greet?x=1", "--method", "POST", "--headers", JSON.stringify({ "x-demo": "yes" })],
    );
    expect(exec).toMatchObject({
      functionId: "hello",
      deploymentId,
      trigger: "http",
      status: "completed",
      requestMethod: "POST",
      requestPath: "/greet?x=1",
      responseStatusCode: 200,
      logs: "hello POST /greet",
    });
    expect(JSON.parse(exec.responseBody)).toEqual({ hi: "Ada", greeting: "hej", path: "/greet" });
    expect(exec.requestHeaders).toContainEqual({ name: "x-demo", value: "yes" });

    const queued = await json("functions", "create-execution", "--function-id", "hello", "--async", "true");
    expect(queued.status).toMatch(/waiting|processing|completed/);
    const done = await until(
      () => json("functions", "get-execution", "--function-id", "hello", "--execution-id", queued.$id),
      (e) => e.status === "completed",
    );
    expect(JSON.parse(done.responseBody)).toMatchObject({ hi: "world", greeting: "hej" });

    const all = await json("functions", "list-executions", "--function-id", "hello");
    expect(all.total).toBe(2);
    expect(all.executions.map((e: any) => e.$id).sort()).toEqual([exec.$id, queued.$id].sort());
    // Queries as the CLI passes them, in both of Appwrite's forms.
    const greeted = await json(
      ...["functions", "list-executions", "--function-id", "hello", "--queries"],
      JSON.stringify({ method: "equal", attribute: "requestPath", values: ["/greet?x=1"] }),
    );
    expect(greeted.executions.map((e: any) => e.$id)).toEqual([exec.$id]);
    const posted = await json(
      ...["functions", "list-executions", "--function-id", "hello", "--queries"],
      `equal("requestMethod", ["POST"])`,
      "limit(1)",
    );
    expect(posted.executions).toHaveLength(1);
    const unknown = await appwrite(
      ...["functions", "list-executions", "--function-id", "hello", "--queries"],
      `equal("color", ["red"])`,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stdout + unknown.stderr).toContain("Attribute not found in schema: color");

    const missing = await appwrite("functions", "get", "--function-id", "nope");
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toContain("Function with the requested ID could not be found.");
  });

  it("pulls functions into the project and pushes them back; switches deployments, manages variables", async () => {
    const pulled = await appwrite("--all", "--force", "pull", "functions");
    expect(pulled.code, pulled.stdout + pulled.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(project, "appwrite.config.json"), "utf8"));
    const hello = config.functions.find((f: any) => f.$id === "hello");
    expect(hello).toMatchObject({ name: "Hello", runtime: "node-22", execute: ["any"], timeout: 15 });
    // The latest deployment's code came down with it: without the folder every file shared (src/), which edgefn
    // drops from an upload; the entrypoint src/main.js still finds it when pushed back.
    const main = join(project, hello.path, "main.js");
    expect(readFileSync(main, "utf8")).toBe(HELLO);

    writeFileSync(main, HELLO.replace('"world"', '"pushed"'));
    hello.timeout = 20;
    writeFileSync(join(project, "appwrite.config.json"), JSON.stringify(config, null, 4));
    const pushed = await appwrite("--all", "--force", "push", "functions");
    expect(pushed.code, pushed.stdout + pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain("Successfully pushed 1 functions");

    const fn = await json("functions", "get", "--function-id", "hello");
    expect(fn.timeout).toBe(20);
    const ready = await until(
      () => json("functions", "get", "--function-id", "hello"),
      (f) => f.latestDeploymentStatus === "ready" && f.deploymentId === f.latestDeploymentId,
      60_000,
    );
    expect(ready.deploymentId).not.toBe("");
    const exec = await json("functions", "create-execution", "--function-id", "hello");
    expect(JSON.parse(exec.responseBody).hi).toBe("pushed");

    // Back to the first deployment, then the pushed one goes.
    await json("functions", "update-function-deployment", "--function-id", "hello", "--deployment-id", firstDeployment);
    const back = await json("functions", "create-execution", "--function-id", "hello");
    expect(JSON.parse(back.responseBody).hi).toBe("world");
    const deleted = await appwrite(
      "functions",
      "delete-deployment",
      "--function-id",
      "hello",
      "--deployment-id",
      ready.deploymentId,
    );
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(0);
    const left = await json("functions", "list-deployments", "--function-id", "hello");
    expect(left.deployments.map((d: any) => d.$id)).toEqual([firstDeployment]);

    // Variables one by one, and an execution deleted.
    expect(await json("functions", "get-variable", "--function-id", "hello", "--variable-id", "MODE")).toMatchObject({
      value: "demo",
      secret: false,
    });
    const updated = await json(
      ...["functions", "update-variable", "--function-id", "hello", "--variable-id", "MODE"],
      ...["--key", "MODE", "--value", "live", "--secret", "false"],
    );
    expect(updated.value).toBe("live");
    expect(
      (await appwrite("functions", "delete-variable", "--function-id", "hello", "--variable-id", "MODE")).code,
    ).toBe(0);
    const vars = await json("functions", "list-variables", "--function-id", "hello");
    expect(vars.variables.map((v: any) => v.key)).toEqual(["GREETING"]);
    expect(
      (await appwrite("functions", "delete-execution", "--function-id", "hello", "--execution-id", back.$id)).code,
    ).toBe(0);
    const gone = await appwrite("functions", "get-execution", "--function-id", "hello", "--execution-id", back.$id);
    expect(gone.code).toBe(1);
    expect(gone.stdout + gone.stderr).toContain("Execution with the requested ID could not be found.");
  });

  it("runs a function that lists its own executions with node-appwrite and its execution's key", async () => {
    const bundled = await build({
      stdin: { contents: SELF, resolveDir: ROOT, sourcefile: "main.js", loader: "js" },
      bundle: true,
      format: "esm",
      platform: "neutral",
      mainFields: ["module", "main"],
      write: false,
      // inputFile's fromPath imports "fs" lazily; Workers have it as node:fs.
      alias: { fs: "node:fs" },
      external: ["node:*"],
      logLevel: "silent",
      plugins: [
        {
          name: "undici-for-workers",
          setup(b) {
            b.onResolve({ filter: /^undici$/ }, () => ({ path: "undici", namespace: "workers" }));
            b.onLoad({ filter: /.*/, namespace: "workers" }, () => ({ contents: UNDICI_FOR_WORKERS, loader: "js" }));
          },
        },
      ],
    });
    mkdirSync(join(project, "self"));
    writeFileSync(join(project, "self", "main.js"), bundled.outputFiles[0]?.text ?? "");

    await json(
      ...["functions", "create", "--function-id", "self", "--name", "Self", "--runtime", "node-22"],
      ...["--entrypoint", "main.js", "--scopes", "execution.read"],
    );
    await deployFolder("self", "self");
    const first = await json("functions", "create-execution", "--function-id", "self");
    expect(first.status, first.errors).toBe("completed");
    expect(JSON.parse(first.responseBody)).toEqual({ ids: [], others: "general_unauthorized_scope" });
    const second = await json("functions", "create-execution", "--function-id", "self");
    // It saw the first execution; listing functions is beyond its scopes.
    expect(JSON.parse(second.responseBody)).toEqual({ ids: [first.$id], others: "general_unauthorized_scope" });
  });

  it("lists the platform's templates and deploys one", async () => {
    const templates = await json("functions", "list-templates");
    expect(templates.templates.map((t: any) => t.id)).toContain("hello-http");
    const template = await json("functions", "get-template", "--template-id", "hello-http");
    const runtime = template.runtimes.find((r: any) => r.name === "node-22");
    await json(
      ...["functions", "create", "--function-id", "greeter", "--name", "Greeter", "--runtime", "node-22"],
      ...["--entrypoint", runtime.entrypoint],
    );
    const deployment = await json(
      ...["functions", "create-template-deployment", "--function-id", "greeter"],
      ...["--repository", template.providerRepositoryId, "--owner", template.providerOwner],
      ...["--root-directory", runtime.providerRootDirectory, "--type", "tag", "--reference", template.providerVersion],
      ...["--activate", "true"],
    );
    await until(
      () => json("functions", "get", "--function-id", "greeter"),
      (f) => f.deploymentId === deployment.$id,
      60_000,
    );
    const exec = await json("functions", "create-execution", "--function-id", "greeter", "--xpath", "/?name=Ada");
    expect(exec.responseBody).toBe("Hello, Ada!");
    expect((await appwrite("functions", "delete", "--function-id", "greeter")).code).toBe(0);
  });

  it("deletes a function", async () => {
    expect((await appwrite("functions", "delete", "--function-id", "self")).code).toBe(0);
    const gone = await appwrite("functions", "get", "--function-id", "self");
    expect(gone.code).toBe(1);
    const list = await json("functions", "list");
    expect(list.functions.map((f: any) => f.$id)).toEqual(["hello"]);
  });
});
