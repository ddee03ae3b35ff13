/**
 * Black-box: `node scripts/start.mjs` (what `npm start` runs: the Worker in workerd through Miniflare, under
 * the supervisor) on a free port with its own local storage, driven over HTTP as a user would: the banner, the
 * API from workspace to invoke, the cron trigger, and Ctrl-C stopping every process it started.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const ADMIN_KEY = `efn_e2e_${randomBytes(16).toString("hex")}`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let port: number;
let base: string;
let state: string;
let server: ChildProcess;
let output = "";
let exited: Promise<number | null>;

let greeter = "";

/** The folders of workerd's output FIFO that npm start's process holds (scripts/lib/workerd-stdout.mjs). */
const fifoFolders = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`edgefn-workerd-${server.pid}-`));

async function call(method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY) {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: json };
}

beforeAll(async () => {
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  state = mkdtempSync(join(tmpdir(), "edgefn-e2e-"));
  server = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      EDGEFN_PERSIST_TO: state,
      EDGEFN_ADMIN_KEY: ADMIN_KEY,
      EDGEFN_SECRETS_KEY: randomBytes(32).toString("base64url"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  exited = new Promise((resolve) => server.on("exit", (code) => resolve(code)));
  server.stdout?.on("data", (d) => {
    output += d;
  });
  server.stderr?.on("data", (d) => {
    output += d;
  });
  // The banner is printed once /healthz answers.
  const deadline = Date.now() + 150_000;
  while (!output.includes("edgefn is running at")) {
    if (server.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(() => {
  if (server.exitCode === null) server.kill("SIGKILL");
  // The workerd that Miniflare started listens on this port (its command line says so).
  spawnSync("pkill", ["-KILL", "-f", `entry=127.0.0.1:${port} `]);
  rmSync(state, { recursive: true, force: true });
});

describe("npm start", () => {
  it("prints the URL and the admin key, and serves the API with that key only", async () => {
    expect(output).toContain(`edgefn is running at http://localhost:${port}`);
    expect(output).toContain(`Admin API key:  ${ADMIN_KEY}`);
    expect(output).toContain("from the environment (EDGEFN_ADMIN_KEY)");
    expect((await call("GET", "/healthz", undefined, null)).status).toBe(200);
    // workerd's output goes through a FIFO of its own, read in batches; the workerd is the one Miniflare depends on.
    expect(fifoFolders()).toHaveLength(1);
    const [workerd] = spawnSync("pgrep", ["-P", String(server.pid), "-x", "workerd"])
      .stdout.toString()
      .trim()
      .split("\n");
    const miniflares = createRequire(createRequire(import.meta.url).resolve("miniflare"))("workerd").default;
    expect(readlinkSync(`/proc/${workerd}/exe`)).toBe(realpathSync(miniflares));
    expect((await call("GET", "/api/workspaces", undefined, null)).status).toBe(401);
    expect((await call("GET", "/api/workspaces")).status).toBe(200);
    const docs = await fetch(`${base}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("<html");
  });

  it("takes a TypeScript function from upload to a result, with its secret", async () => {
    const ws = await call("POST", "/api/workspaces", { name: `e2e-${Date.now()}` });
    expect(ws.status).toBe(201);
    const fn = await call("POST", "/api/functions", {
      workspaceId: ws.body.id,
      name: "greeter",
      envVars: { GREETING: "Hello" },
      secrets: { token: "s3cret-e2e" },
    });
    expect(fn.status).toBe(201);
    expect(fn.body.secrets).toEqual({ token: "***" });
    greeter = fn.body.id;

    const uploaded = await call("POST", `/api/functions/${fn.body.id}/versions`, {
      files: {
        "index.ts": `
          import { shout } from "./shout";
          export async function handle(data: { name: string }, ctx: any): Promise<object> {
            console.log("greeting", data.name);
            return { message: shout(ctx.env.GREETING + ", " + data.name), hasToken: ctx.secrets.token === "s3cret-e2e" };
          }`,
        "shout.ts": "export const shout = (s: string): string => s.toUpperCase();",
      },
    });
    expect(uploaded.status).toBe(201);
    let version = uploaded.body;
    const deadline = Date.now() + 30_000;
    while (version.status === "queued" || version.status === "building") {
      if (Date.now() > deadline) throw new Error(`build still ${version.status}`);
      await new Promise((r) => setTimeout(r, 100));
      version = (await call("GET", `/api/functions/${fn.body.id}/versions/${version.id}`)).body;
    }
    expect(version).toMatchObject({ status: "ready", isDefault: true });

    const res = await call("POST", `/api/functions/${fn.body.id}/invoke`, { args: { name: "Ada" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, result: { message: "HELLO, ADA", hasToken: true } });
    expect(JSON.stringify(res.body)).not.toContain("s3cret-e2e");
  });

  it("runs the cron trigger at the local scheduled endpoint", async () => {
    const res = await fetch(`${base}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}`);
    expect(res.status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (!output.includes('"event":"cron"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain('{"event":"cron","cron":"* * * * *"');
  });

  it("runs a * * * * * schedule every minute by itself", { timeout: 150_000 }, async () => {
    const schedule = await call("POST", "/api/schedules", {
      functionId: greeter,
      name: "every-minute",
      cron: "* * * * *",
      data: { name: "cron" },
    });
    expect(schedule.status).toBe(201);
    // No manual trigger: npm start fires the Cron Trigger at every minute.
    const ended = async (n: number) => {
      const deadline = Date.now() + 140_000;
      for (;;) {
        const page = await call(
          "GET",
          `/api/functions/${greeter}/calls?scheduleId=${schedule.body.id}&status=completed`,
        );
        if (page.body.data.length >= n) return page.body.data;
        if (Date.now() > deadline) throw new Error(`fewer than ${n} scheduled calls completed`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const [first] = await ended(1);
    expect(first).toMatchObject({ trigger: "schedule", scheduleId: schedule.body.id });
    expect(new Date(first.scheduledTime).getUTCSeconds()).toBe(0);
    const response = await call("GET", `/api/calls/${first.id}/response`);
    expect(response.body.response).toMatchObject({ message: "HELLO, CRON" });
  });

  it("stops everything it started on Ctrl-C", async () => {
    server.kill("SIGINT");
    expect(await exited).toBe(0);
    // Nothing listens on the port any more: workerd is gone too.
    await new Promise((r) => setTimeout(r, 1000));
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    const left = spawnSync("pgrep", ["-f", `entry=127.0.0.1:${port} `])
      .stdout.toString()
      .trim();
    expect(left).toBe("");
    // Its FIFO's folder too; and the journal's lines (one per call) never reached the terminal.
    expect(fifoFolders()).toEqual([]);
    expect(output).not.toContain("edgefn-journal");
  });
});
