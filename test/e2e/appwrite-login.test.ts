/**
 * Black-box: Appwrite's own CLI (appwrite-cli, unchanged) signed in with an edgefn account instead of a key, against
 * a throwaway local platform. Users are made with `edgefn admin create-user`; `appwrite login` with email and
 * password keeps the session cookie in the CLI's own HOME; `push functions` from the project's config file then acts
 * as the member (with their role in that workspace), an execution runs the pushed code; a wrong password, a user who
 * is no member of the workspace, and a signed-out session are refused.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../scripts/lib/platform.mjs";
import { api, ok, until } from "../reliability/e2e/client";
import { type Run, runNode } from "./support/run";

const ROOT = join(import.meta.dirname, "..", "..");
const APPWRITE = join(ROOT, "node_modules", "appwrite-cli", "index.js");
const EDGEFN = join(ROOT, "cli", "edgefn.js");
const PASSWORD = "a long enough password";

const HELLO = `export default async ({ req, res }) => res.json({ hi: req.bodyText || "from a session" });
`;

let platform: LocalPlatform;
let dir: string;
let home: string;
let project: string;
let workspaceId: string;
let memberId: string;
const member = `dev-${Date.now()}@example.com`;
const stranger = `stranger-${Date.now()}@example.com`;

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

/** `edgefn admin create-user`, as the platform's admin runs it. */
async function createUser(email: string, admin = false): Promise<string> {
  const args = ["admin", "create-user", "--email", email, "--password", PASSWORD, ...(admin ? ["--admin"] : [])];
  const r = await runNode(EDGEFN, ["--json", ...args], {
    cwd: dir,
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(dir, "edgefn"),
      EDGEFN_URL: platform.url,
      EDGEFN_KEY: platform.adminKey,
    },
  });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout).id;
}

/** The platform's Appwrite endpoint (`login --endpoint`, as for a self-hosted Appwrite). */
const endpoint = () => `${platform.url}/v1`;

/** The CLI's saved prefs (its sessions, keyed by an id of its own, and `current`). */
const prefs = () => JSON.parse(readFileSync(join(home, ".appwrite", "prefs.json"), "utf8"));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgefn-appwrite-login-"));
  home = join(dir, "home");
  project = join(dir, "project");
  mkdirSync(home);
  mkdirSync(join(project, "functions", "hello"), { recursive: true });
  platform = await startPlatform();
  workspaceId = (await ok(api(platform, "POST", "/api/workspaces", { name: "appwrite-login" }), 201)).id;
});

afterAll(async () => {
  try {
    await platform?.stop();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

describe("appwrite login with an edgefn account", { timeout: 180_000 }, () => {
  it("makes the users: a developer of the workspace, and one who belongs to no workspace", async () => {
    memberId = await createUser(member);
    await createUser(stranger);
    // The member joins by an invite accepted with their password.
    const invite = await ok(
      api(platform, "POST", `/api/workspaces/${workspaceId}/invites`, { email: member, role: "developer" }),
      201,
    );
    const accepted = await fetch(`${platform.url}/api/invites/${invite.token}/accept`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PASSWORD }),
    });
    expect(accepted.status).toBe(200);
  });

  it("refuses a wrong password with Appwrite's message, and keeps no session", async () => {
    const r = await appwrite("login", "--endpoint", endpoint(), "--email", member, "--password", "not the password");
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("Invalid credentials. Please check the email and password.");
    expect(JSON.stringify(prefs())).not.toContain("a_session_console");
  });

  it("signs in: the CLI keeps the HttpOnly session cookie, whoami shows the account", async () => {
    const r = await appwrite("login", "--endpoint", endpoint(), "--email", member, "--password", PASSWORD);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Successfully signed in as ${member}`);
    const saved = prefs();
    expect(saved[saved.current].cookie).toMatch(/^a_session_console=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    expect(JSON.stringify(saved)).not.toContain(PASSWORD);

    const who = await appwrite("--json", "whoami");
    expect(who.code, who.stdout + who.stderr).toBe(0);
    expect(who.stdout).toContain(member);
  });

  it("pushes a function from appwrite.config.json in the session, and an execution runs it", async () => {
    writeFileSync(join(project, "functions", "hello", "main.js"), HELLO);
    // The workspace to work in, as the docs say (instead of `appwrite init project`).
    const linked = await appwrite("client", "--project-id", workspaceId);
    expect(linked.code, linked.stdout + linked.stderr).toBe(0);
    const config = {
      ...JSON.parse(readFileSync(join(project, "appwrite.config.json"), "utf8")),
      functions: [
        {
          $id: "hello",
          name: "Hello",
          runtime: "node-22",
          execute: ["any"],
          events: [],
          scopes: [],
          schedule: "",
          timeout: 15,
          enabled: true,
          logging: true,
          entrypoint: "main.js",
          commands: "",
          path: "functions/hello",
        },
      ],
    };
    expect(config.projectId).toBe(workspaceId);
    writeFileSync(join(project, "appwrite.config.json"), JSON.stringify(config, null, 4));
    const pushed = await appwrite("--all", "--force", "push", "functions");
    expect(pushed.code, pushed.stdout + pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain("Successfully pushed 1 functions");

    const listed = await json("functions", "list");
    expect(listed.functions.map((f: any) => f.$id)).toEqual(["hello"]);
    await until(
      () => json("functions", "get", "--function-id", "hello"),
      (f) => f.latestDeploymentStatus === "ready" && f.deploymentId === f.latestDeploymentId,
      60_000,
    );
    const exec = await json("functions", "create-execution", "--function-id", "hello", "--body", "pushed");
    expect(exec.status).toBe("completed");
    expect(JSON.parse(exec.responseBody)).toEqual({ hi: "pushed" });

    // The function is the workspace's, made by the member (the platform's own API shows it).
    const fns = await ok(api(platform, "GET", "/api/functions?limit=100"), 200);
    const hello = fns.data.find((f: any) => f.workspaceId === workspaceId && f.externalId === "hello");
    expect(hello.createdBy).toBe(memberId);
  });

  it("signs out: the session ends on the server too", async () => {
    const cookie = prefs()[prefs().current].cookie as string;
    const out = await appwrite("logout");
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout + out.stderr).not.toContain("Unable to log out");
    const after = await appwrite("--json", "functions", "list");
    expect(after.code).not.toBe(0);
    // The cookie the CLI had is no credential any more.
    const replay = await fetch(`${platform.url}/v1/account`, {
      headers: { cookie, "x-appwrite-project": "console" },
    });
    expect(replay.status).toBe(401);
  });

  it("a user who is no member of the workspace signs in but does not see it", async () => {
    const r = await appwrite("login", "--endpoint", endpoint(), "--email", stranger, "--password", PASSWORD);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const list = await appwrite("--json", "functions", "list");
    expect(list.code).not.toBe(0);
    expect(list.stdout + list.stderr).toContain("Project with the requested ID could not be found.");
    const push = await appwrite("--all", "--force", "push", "functions");
    expect(push.stdout + push.stderr).not.toContain("Successfully pushed");
  });
});
