/**
 * Black-box: the `edgefn` CLI (cli/edgefn.js) as a user runs it, a child process against a throwaway local
 * platform: login and its config file, deploy with a progress line (a folder as it is: its node_modules
 * dependencies, binary files; or one esbuild bundle), invoke,
 * --json, calls and logs (and --follow), versions and a rollback, the function lifecycle, keys, schedules,
 * and clear errors with non-zero exit codes. Also the typed client, imported as `edgefn/client`.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError, createClient, resolveFunction, unwrap } from "edgefn/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../scripts/lib/platform.mjs";
import { runNode } from "./support/run";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "cli", "edgefn.js");

let platform: LocalPlatform;
let home: string;

/** Runs the CLI; by default with EDGEFN_URL and EDGEFN_KEY of the platform and an empty config home. */
function edgefn(
  args: string[],
  { env = {}, input, cwd = home }: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {},
) {
  // Not the repository: a .dev.vars there would make the CLI use the local `npm start` platform.
  return runNode(CLI, args, {
    cwd,
    env: {
      ...process.env,
      NO_COLOR: "1",
      XDG_CONFIG_HOME: join(home, "empty-config"),
      EDGEFN_URL: platform.url,
      EDGEFN_KEY: platform.adminKey,
      EDGEFN_WORKSPACE: undefined,
      ...env,
    },
    input: input ?? "",
  });
}

async function ok(args: string[], options?: Parameters<typeof edgefn>[1]) {
  const run = await edgefn(args, options);
  if (run.code !== 0) throw new Error(`edgefn ${args.join(" ")} exited ${run.code}\n${run.stdout}\n${run.stderr}`);
  return run;
}

const json = async (args: string[], options?: Parameters<typeof edgefn>[1]) =>
  JSON.parse((await ok(["--json", ...args], options)).stdout);

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "edgefn-cli-"));
  platform = await startPlatform();
  // A function with an npm dependency (in its own node_modules) that logs.
  const app = join(home, "loud");
  mkdirSync(join(app, "node_modules", "shout"), { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "@acme/loud", dependencies: { shout: "1.0.0" } }));
  writeFileSync(
    join(app, "node_modules", "shout", "package.json"),
    JSON.stringify({ name: "shout", version: "1.0.0", main: "index.js" }),
  );
  writeFileSync(
    join(app, "node_modules", "shout", "index.js"),
    'module.exports = (s) => String(s).toUpperCase() + "!";',
  );
  writeFileSync(
    join(app, "index.js"),
    [
      'import shout from "shout";',
      "export async function handle(data) {",
      '  console.log("shouting", data?.word);',
      "  return shout(data?.word ?? 'hey');",
      "}",
    ].join("\n"),
  );
});

afterAll(async () => {
  await platform?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("edgefn CLI", () => {
  it("shows help and its version", async () => {
    const help = await ok(["--help"]);
    for (const command of ["login", "deploy", "invoke", "logs", "versions", "functions", "schedules", "keys"]) {
      expect(help.stdout).toContain(command);
    }
    const version = await ok(["--version"]);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  it("logs in, checking the key, into a config file only the user can read", async () => {
    const config = join(home, "config");
    const bad = await edgefn(["login", "--url", platform.url, "--key", "efn_wrong"], {
      env: { XDG_CONFIG_HOME: config, EDGEFN_URL: undefined, EDGEFN_KEY: undefined },
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error: .*\(unauthorized 401/);

    await ok(["login", "--url", platform.url, "--key", platform.adminKey], {
      env: { XDG_CONFIG_HOME: config, EDGEFN_URL: undefined, EDGEFN_KEY: undefined },
    });
    const path = join(config, "edgefn", "config.json");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ url: platform.url, key: platform.adminKey });
    // The saved login is used without the environment...
    const list = await ok(["workspaces"], {
      env: { XDG_CONFIG_HOME: config, EDGEFN_URL: undefined, EDGEFN_KEY: undefined },
    });
    expect(list.stderr).toContain("(none)");
    // ...and the environment overrides it.
    const wrong = await edgefn(["workspaces"], { env: { XDG_CONFIG_HOME: config, EDGEFN_KEY: "efn_wrong" } });
    expect(wrong.code).toBe(1);
  });

  it("says how to log in when there is no login", async () => {
    const run = await edgefn(["functions"], { env: { EDGEFN_URL: undefined, EDGEFN_KEY: undefined } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("edgefn login");
  });

  it("needs no setup in the folder `npm start` runs in: its local platform, and a first workspace", async () => {
    // What `npm start` leaves: .dev.vars with the admin key; the platform on PORT. No login, no workspace yet.
    const project = join(home, "project");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, ".dev.vars"), `# local\nEDGEFN_ADMIN_KEY=${platform.adminKey}\n`);
    const local = {
      cwd: project,
      env: { EDGEFN_URL: undefined, EDGEFN_KEY: undefined, PORT: new URL(platform.url).port },
    };
    const deploy = await ok(["deploy", join(ROOT, "examples", "hello")], local);
    expect(deploy.stderr).toMatch(/created workspace default/);
    expect(deploy.stdout).toMatch(/version\s+1 \(ver_\w+\) ready/);
    const invoke = await ok(["invoke", "hello", "--data", '{"name":"first"}'], local);
    expect(JSON.parse(invoke.stdout)).toEqual({ message: "Hello, first!" });

    // Leave the platform as the next tests expect it: no workspace.
    await ok(["functions", "delete", "hello"], local);
    await ok(["functions", "purge", "hello"], local);
    const api = createClient({ url: platform.url, key: platform.adminKey });
    const ws = await unwrap(api.GET("/api/workspaces", {}));
    for (const w of ws.data) await unwrap(api.DELETE("/api/workspaces/{id}", { params: { path: { id: w.id } } }));
  });

  it("deploys examples/hello, invokes it and shows the call's logs", async () => {
    await ok(["workspaces", "create", "acme"]);
    const deploy = await ok(["deploy", join(ROOT, "examples", "hello")]);
    expect(deploy.stdout).toMatch(/version\s+1 \(ver_\w+\) ready/);
    expect(deploy.stdout).toContain("npx edgefn invoke hello");
    // examples/hello has only handle(): no HTTP endpoint to print.
    expect(deploy.stdout).not.toContain("/run/");
    expect(deploy.stderr).toMatch(/Deployed hello version 1/);

    const invoke = await ok(["invoke", "hello", "--data", '{"name":"x"}']);
    expect(JSON.parse(invoke.stdout)).toEqual({ message: "Hello, x!" });
    expect(invoke.stderr).toMatch(/completed · call_\w+/);

    // stdin is the input when there is no --data
    const piped = await ok(["invoke", "hello"], { input: '{"name":"pipe"}' });
    expect(JSON.parse(piped.stdout)).toEqual({ message: "Hello, pipe!" });

    const result = await json(["invoke", "hello", "--data", '{"name":"y"}']);
    expect(result).toMatchObject({ ok: true, result: { message: "Hello, y!" }, status: "completed" });

    const calls = await json(["calls", "hello"]);
    expect(calls.data.map((c: { id: string }) => c.id)).toContain(result.callId);
    const table = await ok(["calls", "hello"]);
    expect(table.stdout).toContain(result.callId);

    const logs = await json(["logs", result.callId]);
    expect(logs).toEqual({ items: [], truncated: false });
  });

  it("uploads npm dependencies from node_modules, and follows a function's logs", async () => {
    const folder = join(home, "loud");
    const deploy = await json(["deploy", folder]);
    expect(deploy.version).toMatchObject({ status: "ready", number: 1, handlers: ["handle"] });
    expect(deploy.function.name).toBe("loud");

    const follow = spawn(process.execPath, [CLI, "logs", "loud", "--follow", "--interval", "200"], {
      env: { ...process.env, NO_COLOR: "1", EDGEFN_URL: platform.url, EDGEFN_KEY: platform.adminKey },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let followed = "";
    follow.stdout.on("data", (d) => {
      followed += d;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const call = await json(["invoke", "loud", "--data", '{"word":"hi"}']);
      expect(call.result).toBe("HI!");
      const logs = await ok(["logs", call.callId]);
      expect(logs.stdout).toMatch(/info shouting hi/);
      const deadline = Date.now() + 10_000;
      while (!followed.includes("shouting hi") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(followed).toContain(call.callId);
      expect(followed).toMatch(/info shouting hi/);
    } finally {
      follow.kill("SIGTERM");
    }
  });

  it("uploads the folder as it is: dependencies, not devDependencies; binary files; no dotfiles; or --bundle", async () => {
    const folder = join(home, "assets-app");
    const write = (path: string, content: string | Uint8Array) => {
      mkdirSync(join(folder, path, ".."), { recursive: true });
      writeFileSync(join(folder, path), content);
    };
    const model = Uint8Array.from([0, 255, 1, 254, 0, 66]);
    write(
      "package.json",
      JSON.stringify({ name: "assets-app", dependencies: { dep: "1.0.0" }, devDependencies: { tool: "1.0.0" } }),
    );
    write(
      "src/index.js",
      [
        'import { twice } from "dep";',
        "export async function handle(data, ctx) {",
        "  const bytes = await ctx.asset(data.file);",
        "  return { twice: twice(21), bytes: bytes && [...new Uint8Array(bytes)] };",
        "}",
      ].join("\n"),
    );
    write("models/model.bin", model);
    write(".env", "SECRET=never-uploaded\n");
    write(".git/HEAD", "ref: refs/heads/main\n");
    write(
      "node_modules/dep/package.json",
      JSON.stringify({ name: "dep", exports: { ".": { require: "./dep.cjs", import: "./dep.mjs" } } }),
    );
    write("node_modules/dep/dep.mjs", "export const twice = (n) => n * 2;");
    write("node_modules/dep/dep.cjs", "exports.twice = (n) => n * 2;");
    write("node_modules/dep/dep.d.ts", "export declare const twice: (n: number) => number;");
    write("node_modules/tool/package.json", JSON.stringify({ name: "tool" }));
    write("node_modules/tool/big.js", "// a build tool\n");
    write("node_modules/.bin/tool", "#!/bin/sh\n");

    const deploy = await json(["deploy", folder, "--entry", "src/index.js"]);
    expect(deploy.version).toMatchObject({ status: "ready", entrypoint: "src/index.js" });
    const call = await json(["invoke", "assets-app", "--data", '{"file":"models/model.bin"}']);
    expect(call.result).toEqual({ twice: 42, bytes: [...model] });

    const api = createClient({ url: platform.url, key: platform.adminKey });
    const source = await unwrap(
      api.GET("/api/functions/{id}/versions/{vid}/source", {
        params: { path: { id: deploy.function.id, vid: deploy.version.id } },
      }),
    );
    expect(Object.keys(source.files).sort()).toEqual([
      "models/model.bin",
      "node_modules/dep/dep.cjs",
      "node_modules/dep/dep.mjs",
      "node_modules/dep/package.json",
      "package.json",
      "src/index.js",
    ]);
    expect(source.files["models/model.bin"]).toEqual({ base64: Buffer.from(model).toString("base64") });

    // --bundle uploads one esbuild bundle: the dependency inlined, no other file.
    const bundled = await json(["deploy", folder, "--entry", "src/index.js", "--bundle"]);
    expect(bundled.version).toMatchObject({ status: "ready", number: 2, entrypoint: "index.js" });
    const again = await json(["invoke", "assets-app", "--data", '{"file":"models/model.bin"}']);
    expect(again.result).toEqual({ twice: 42, bytes: null });
  });

  it("lists versions and rolls back with activate", async () => {
    const folder = join(home, "hello2");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "index.js"), "export async function handle() { return 'v2'; }");
    const deploy = await ok(["deploy", folder, "--name", "hello"]);
    expect(deploy.stdout).toMatch(/version\s+2 /);
    expect((await json(["invoke", "hello"])).result).toBe("v2");

    const versions = await ok(["versions", "hello"]);
    expect(versions.stdout).toMatch(/^2\s+ver_\w+\s+ready\s+\*/m);
    const list = await json(["versions", "hello"]);
    expect(list.data.map((v: { number: number }) => v.number)).toEqual([2, 1]);

    const rollback = await ok(["versions", "activate", "hello", "1"]);
    expect(rollback.stderr).toContain("hello now runs version 1");
    expect((await json(["invoke", "hello", "--data", '{"name":"z"}'])).result).toEqual({ message: "Hello, z!" });
    // one call of another version without activating it
    expect((await json(["invoke", "hello", "--use-version", "v2"])).result).toBe("v2");
  });

  it("deletes, restores and purges a function, by name or id", async () => {
    await ok(["functions", "create", "doomed"]);
    const fn = await json(["functions", "get", "doomed"]);
    expect(fn).toMatchObject({ name: "doomed", deletedAt: null });

    await ok(["functions", "delete", "doomed"]);
    expect((await json(["functions"])).data.map((f: { name: string }) => f.name)).not.toContain("doomed");
    await ok(["functions", "restore", "doomed"]);
    expect((await json(["functions"])).data.map((f: { name: string }) => f.name)).toContain("doomed");

    await ok(["functions", "delete", fn.id]);
    const purge = await ok(["functions", "purge", "doomed"]);
    expect(purge.stderr).toContain(`purged doomed (${fn.id})`);
    const gone = await edgefn(["functions", "get", fn.id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/not found \(not_found 404/);
  });

  it("creates and lists keys and schedules", async () => {
    const key = await ok(["keys", "create", "ci", "--role", "invoker", "--workspace-only", "-w", "acme"]);
    const secret = key.stdout.trim();
    expect(secret).toMatch(/^efn_/);
    expect((await ok(["keys"])).stdout).toMatch(/ci\s+key_\w+\s+\S+\s+invoker/);
    // the new key works, and an invoker may not deploy
    expect((await json(["invoke", "hello"], { env: { EDGEFN_KEY: secret } })).ok).toBe(true);
    const denied = await edgefn(["functions", "create", "nope"], { env: { EDGEFN_KEY: secret } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/\(forbidden 403/);

    const schedule = await json([
      "schedules",
      "create",
      "hello",
      "morning",
      "30 7 * * 1-5",
      "--timezone",
      "Europe/Oslo",
    ]);
    expect(schedule).toMatchObject({ name: "morning", when: "At 07:30, Monday through Friday" });
    expect((await ok(["schedules"])).stdout).toContain(schedule.id);
    await ok(["schedules", "delete", schedule.id]);
    expect((await json(["schedules"])).data).toEqual([]);
  });

  it("creates the first user, who signs in with email and password, without the console", async () => {
    const signIn = (email: string, password: string) =>
      fetch(`${platform.url}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
    const made = await json([
      "admin",
      "create-user",
      "--email",
      "Admin@Example.COM",
      "--password",
      "first admin pw",
      "--admin",
    ]);
    expect(made).toMatchObject({ email: "admin@example.com", platformAdmin: true });
    const session = await signIn("admin@example.com", "first admin pw");
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ kind: "user", role: "admin", user: { platformAdmin: true } });

    // The password from stdin (a pipe), so it is in no process list.
    const piped = await ok(["admin", "create-user", "--email", "ops@example.com"], { input: "piped password\n" });
    expect(piped.stderr).toContain("created ops@example.com");
    expect((await signIn("ops@example.com", "piped password")).status).toBe(200);
    expect((await ok(["admin", "users"])).stdout).toMatch(/admin@example\.com.*platform/);

    const short = await edgefn(["admin", "create-user", "--email", "x@example.com", "--password", "short"]);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 8 characters/);
    const again = await edgefn(["admin", "create-user", "--email", "ADMIN@example.com", "--password", "long enough"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists.*conflict 409/);
  });

  it("fails clearly, with non-zero exit codes", async () => {
    const badJson = await edgefn(["invoke", "hello", "--data", "{nope"]);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("error: the input is not valid JSON");

    const missing = await edgefn(["invoke", "no-such-function"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error: function no-such-function not found");

    const missingJson = await edgefn(["--json", "invoke", "no-such-function"]);
    expect(missingJson.code).toBe(1);
    expect(JSON.parse(missingJson.stderr).error).toMatchObject({ code: "not_found", status: 404 });

    const apiError = await edgefn(["workspaces", "create", "Not Valid"]);
    expect(apiError.code).toBe(1);
    expect(apiError.stderr).toMatch(/error: .+\(bad_request 400, request /);

    const usage = await edgefn(["deploy"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("missing required argument 'folder'");

    const unknown = await edgefn(["frobnicate"]);
    expect(unknown.code).toBe(2);

    const noFolder = await edgefn(["deploy", join(home, "nowhere")]);
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toContain("is not a folder");

    // a build that fails: exit code 3 and the build's message
    const broken = join(home, "broken");
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, "index.js"), "export const nothing = 1;");
    const failed = await edgefn(["deploy", broken]);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/failed/);

    // a call that throws: exit code 3 and the error
    const thrower = join(home, "thrower");
    mkdirSync(thrower, { recursive: true });
    writeFileSync(join(thrower, "index.js"), "export async function handle() { throw new TypeError('boom'); }");
    await ok(["deploy", thrower]);
    const thrown = await edgefn(["invoke", "thrower"]);
    expect(thrown.code).toBe(3);
    expect(thrown.stderr).toContain("TypeError: boom");

    const unreachable = await edgefn(["functions"], { env: { EDGEFN_URL: "http://127.0.0.1:1" } });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("cannot reach the edgefn API");
  });
});

describe("edgefn/client", () => {
  it("is typed from the OpenAPI document and carries the API's errors", async () => {
    const api = createClient({ url: platform.url, key: platform.adminKey });
    const fn = await resolveFunction(api, "hello");
    const version = await unwrap(
      api.GET("/api/functions/{id}/versions/{vid}", {
        params: { path: { id: fn.id, vid: fn.defaultVersionId ?? "" } },
      }),
    );
    expect(version.number).toBe(1);
    const err = await unwrap(api.GET("/api/functions/{id}", { params: { path: { id: "fun_nope" } } })).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: "not_found" });
    expect(err.requestId).toBeTruthy();
  });
});
