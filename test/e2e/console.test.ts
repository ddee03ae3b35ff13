/**
 * The web console, black-box: a throwaway local platform (`wrangler dev`, as `npm start` runs it) serves the
 * console at `/`, and headless Chromium drives it as a user would: sign in (a wrong key is refused), find a
 * function by search, activate an older version, read its code, its env vars with the secret masked, invoke it and
 * read the result and logs, filter its calls by status and open a failed one, see a schedule's next runs and the
 * charts. Every screenshot must show something (not one flat colour); they go to a temporary folder, and with
 * UPDATE_SCREENSHOTS=1 the three the docs show are rewritten in docs/ (console.png, console-invoke.png, console-call.png).
 *
 * Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium) or at EDGEFN_CHROMIUM.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../scripts/lib/platform.mjs";
import { BROWSER_TESTS, CHROMIUM, launchChromium } from "../reliability/e2e/browser";
import { api, deployFunction, ok, until } from "../reliability/e2e/client";

const ROOT = join(import.meta.dirname, "..", "..");
let SHOTS = "";
/** The screenshots the docs show: written to docs/ when UPDATE_SCREENSHOTS is set. */
const DOC_SHOTS = new Set(["console", "console-invoke", "console-call"]);
const shots = new Map<string, string>();
const SECRET = `s3cret-${randomBytes(12).toString("hex")}`;

const V1 = `export async function handle(data, ctx) {
  console.log("hello from v1", JSON.stringify(data));
  if (data && data.fail) throw new Error("boom: " + data.fail);
  return { version: 1, greeting: ctx.env.GREETING + ", " + (data && data.name) };
}
`;
const V2 = `import { greet } from "./greet.js";

export async function handle(data, ctx) {
  console.log("hello from v2", JSON.stringify(data));
  if (data && data.ms) await new Promise((resolve) => setTimeout(resolve, data.ms));
  console.warn("token is set:", Boolean(ctx.secrets["api-token"]));
  if (data && data.fail) throw new Error("boom: " + data.fail);
  return { version: 2, greeting: greet(ctx.env.GREETING, data && data.name) };
}
`;
const GREET = `export const greet = (greeting, name) => greeting + ", " + name + "!";\n`;

let p: LocalPlatform;
let browser: Browser;
let page: Page;
let fn: { id: string; name: string };
let v1: string;
let v2: string;
const pageErrors: string[] = [];

/** Takes a screenshot and checks it is an image of something: many colours, not mostly one flat fill. */
async function screenshot(name: string, options: { fullPage?: boolean } = {}) {
  const png = await page.screenshot({ fullPage: options.fullPage ?? false });
  const file = join(process.env.UPDATE_SCREENSHOTS && DOC_SHOTS.has(name) ? join(ROOT, "docs") : SHOTS, `${name}.png`);
  writeFileSync(file, png);
  shots.set(name, file);
  const { distinct, topShare } = await colours(png);
  expect(distinct, `${name}.png has ${distinct} colours`).toBeGreaterThan(50);
  expect(topShare, `${name}.png is ${Math.round(topShare * 100)}% one colour`).toBeLessThan(0.95);
  return file;
}

/**
 * Decodes a PNG in a blank page of the browser; of a sample of its pixels, how many distinct colours there are and
 * what share the commonest one covers.
 */
async function colours(png: Buffer): Promise<{ distinct: number; topShare: number }> {
  const blank = await browser.newPage();
  try {
    return await blank.evaluate(
      async (dataUrl) => {
        const img = new Image();
        img.src = dataUrl;
        await img.decode();
        const canvas = document.createElement("canvas");
        canvas.width = img.width;
        canvas.height = img.height;
        const g = canvas.getContext("2d");
        if (!g) return { distinct: 0, topShare: 1 };
        g.drawImage(img, 0, 0);
        const { data } = g.getImageData(0, 0, img.width, img.height);
        const counts = new Map<number, number>();
        let samples = 0;
        for (let i = 0; i < data.length; i += 4 * 7) {
          const rgb = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
          counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
          samples++;
        }
        return { distinct: counts.size, topShare: Math.max(...counts.values()) / samples };
      },
      `data:image/png;base64,${png.toString("base64")}`,
    );
  } finally {
    await blank.close();
  }
}

/** An element's text as the user sees it (cells and lines apart). */
const seen = async (l: Locator) => (await l.allInnerTexts()).join("\n");

async function expectNoSecret() {
  expect(await page.content()).not.toContain(SECRET);
}

// Chromium is needed: on a developer's machine without it the file is skipped with a warning; in CI it must run.
const RUN = BROWSER_TESTS;
if (!RUN) console.warn(`test/e2e/console.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!RUN)("the web console", () => {
  beforeAll(async () => {
    const platform = startPlatform();
    const launched = launchChromium();
    [p, browser] = await Promise.all([platform, launched]);

    // Fixtures over the API: a workspace, two functions, two ready versions, env vars and a secret, calls of which
    // one failed, and a schedule.
    const ws = await ok(api(p, "POST", "/api/workspaces", { name: "acme" }), 201);
    await deployFunction(p, ws.id, "resize-images", "export const handle = () => 'ok';");
    const deployed = await deployFunction(p, ws.id, "greeter", V1, {
      description: "Greets people",
      envVars: { GREETING: "Hello", REGION: "eu" },
      secrets: { "api-token": SECRET },
    });
    fn = deployed.fn;
    v1 = deployed.version.id;
    const queued = await ok(
      api(p, "POST", `/api/functions/${fn.id}/versions`, { files: { "index.js": V2, "greet.js": GREET } }),
      201,
    );
    await until(
      () => ok(api(p, "GET", `/api/functions/${fn.id}/versions/${queued.id}`)),
      (v) => v.status === "ready",
    );
    v2 = queued.id;
    const people = ["Ada", "Grace", "Linus", "Barbara", "Edsger", "Margaret", "Donald", "Frances", "Ken", "Radia"];
    for (const [i, name] of people.entries()) {
      const args = { name, ms: [4, 12, 7, 25, 9, 16, 5, 30, 11, 8][i] };
      expect(await ok(api(p, "POST", `/api/functions/${fn.id}/invoke`, { args }))).toMatchObject({ ok: true });
    }
    expect(await ok(api(p, "POST", `/api/functions/${fn.id}/invoke`, { args: { fail: "bad input" } }))).toMatchObject({
      ok: false,
    });
    await until(
      () => ok(api(p, "GET", `/api/functions/${fn.id}/calls`)),
      (page) => page.data.length === 11,
    );
    await ok(
      api(p, "POST", "/api/schedules", {
        functionId: fn.id,
        name: "morning-greeting",
        cron: "30 7 * * 1-5",
        timezone: "Europe/Oslo",
        data: { name: "team" },
      }),
      201,
    );

    SHOTS = mkdtempSync(join(tmpdir(), "edgefn-console-"));
    page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    page.setDefaultTimeout(15_000);
    // Script errors and CSP violations; an API answer of 401 or 404 (a wrong key, logs not yet recorded) is expected.
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    page.on("console", (msg) => {
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) pageErrors.push(msg.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await p?.stop();
    if (SHOTS) rmSync(SHOTS, { recursive: true, force: true });
  });

  it("is served at / without a key, next to the API", async () => {
    const res = await fetch(`${p.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(await res.text()).toContain("/console.js");
    expect((await fetch(`${p.url}/console.js`)).headers.get("content-type")).toMatch(/javascript/);
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${p.url}/api/functions`)).status).toBe(401);
    expect((await fetch(`${p.url}/docs`)).status).toBe(200);
    // The headers file configures the assets; it is not one of them.
    expect((await fetch(`${p.url}/_headers`)).status).toBe(404);
  });

  it("refuses a wrong key and signs in with a right one", async () => {
    await page.goto(`${p.url}/`);
    await page.getByLabel("API key").fill("efn_not-a-real-key");
    await page.getByRole("button", { name: "Use API key" }).click();
    await expect.poll(() => page.locator("#signin-error").textContent()).toMatch(/not accepted/);
    await screenshot("console-sign-in");

    await page.getByLabel("API key").fill(p.adminKey);
    await page.getByRole("button", { name: "Use API key" }).click();
    await page.getByRole("heading", { name: "Functions" }).waitFor();
    await page.locator("#functions table").waitFor();
    expect(await page.locator("#functions tbody tr").count()).toBe(2);
    // Page script never holds the key: no storage has it, and the session cookie is HttpOnly and SameSite=Strict.
    const stored = await page.evaluate(
      () => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
    );
    expect(stored).not.toContain(p.adminKey);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name.endsWith("edgefn_session"));
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(session?.value).not.toContain(p.adminKey);
  });

  it("finds a function by search and opens it", async () => {
    await page.getByLabel("Search functions").fill("greet");
    await expect.poll(() => page.locator("#functions tbody tr").count()).toBe(1);
    await page.getByLabel("Search functions").fill("no-such-function");
    await page.getByText("No function matches").waitFor();
    await page.getByLabel("Search functions").fill("GREET");
    await page.locator("#functions").getByRole("link", { name: "greeter" }).waitFor();
    await screenshot("console-functions");
    await page.locator("#functions").getByRole("link", { name: "greeter" }).click();
    await page.locator("#fn-name").getByText("greeter").waitFor();
    expect(page.url()).toContain(`#/functions/${fn.id}`);
  });

  it("draws the calls, errors and duration charts from the metrics", async () => {
    await page.locator("#metrics").waitFor();
    const stats = await seen(page.locator("#metrics"));
    expect(stats).toMatch(/Calls\s+11/);
    expect(stats).toMatch(/Errors\s+1/);
    expect(stats).toMatch(/9\.1%/);
    // Bars for completed (green) and failed (red) calls, and one bar per finished call's duration.
    expect(await page.locator('#calls-chart svg rect[fill="#12a150"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#calls-chart svg rect[fill="#d92d20"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#duration-chart svg rect[fill="#4f46e5"]').count()).toBe(10);
    expect(await page.locator('#duration-chart svg rect[fill="#d92d20"]').count()).toBe(1);
    await screenshot("console", { fullPage: true });
  });

  it("lists the versions and activates an older one", async () => {
    await page.getByRole("link", { name: "Versions", exact: true }).click();
    const rows = page.locator("#versions tbody tr[data-version]");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    const row1 = page.locator('#versions tr[data-version="1"]');
    const row2 = page.locator('#versions tr[data-version="2"]');
    expect(await seen(row2)).toMatch(/ready\s+default/);
    expect(await seen(row1)).not.toMatch(/default/);
    await row1.getByRole("button", { name: "Activate" }).click();
    await page.getByText("Version 1 is now the default").waitFor();
    await expect.poll(() => seen(page.locator('#versions tr[data-version="1"]'))).toMatch(/default/);
    expect(await page.locator('#versions tr[data-version="2"]').getByRole("button", { name: "Activate" }).count()).toBe(
      1,
    );
    expect((await ok(api(p, "GET", `/api/functions/${fn.id}`))).defaultVersionId).toBe(v1);
    await screenshot("console-versions");
  });

  it("shows a version's source files", async () => {
    await page.locator('#versions tr[data-version="2"]').getByRole("link", { name: "Code" }).click();
    await page.locator("#files").waitFor();
    expect(await page.locator("#files button").allInnerTexts()).toEqual(["index.js (entry)", "greet.js"]);
    expect(await seen(page.locator("#code"))).toContain('import { greet } from "./greet.js";');
    await page.locator("#files").getByRole("button", { name: "greet.js" }).click();
    expect(await seen(page.locator("#code"))).toContain("export const greet");
    await page.getByLabel("Version").selectOption(v1);
    await expect.poll(() => seen(page.locator("#code"))).toContain("hello from v1");
    await screenshot("console-code");
  });

  it("shows env vars, and secrets only masked", async () => {
    await page.getByRole("link", { name: "Environment", exact: true }).click();
    await page.locator("#env-vars table").waitFor();
    const env = await seen(page.locator("#env-vars"));
    expect(env).toContain("GREETING");
    expect(env).toContain("Hello");
    expect(env).toContain("REGION");
    const secrets = await seen(page.locator("#secrets"));
    expect(secrets).toContain("api-token");
    expect(secrets).toContain("••••••••");
    await expectNoSecret();
    await screenshot("console-environment");
  });

  it("invokes with JSON args and shows the result and the call's logs", async () => {
    await page.getByRole("link", { name: "Invoke", exact: true }).click();
    await page.locator("#invoke-args").fill("{ not json");
    await page.getByRole("button", { name: "Invoke", exact: true }).click();
    await page.getByText("The arguments are not valid JSON").waitFor();

    await page.locator("#invoke-args").fill(JSON.stringify({ name: "Console" }, null, 2));
    await page.getByLabel("Version").selectOption(v2);
    await page.getByRole("button", { name: "Invoke", exact: true }).click();
    await page.locator("#invoke-output").waitFor();
    expect(JSON.parse(await seen(page.locator("#invoke-output")))).toEqual({
      version: 2,
      greeting: "Hello, Console!",
    });
    await page.locator("#invoke-logs .logs").waitFor();
    const logs = await seen(page.locator("#invoke-logs"));
    expect(logs).toContain('hello from v2 {"name":"Console"}');
    expect(logs).toMatch(/warn\s+token is set: true/);
    await expectNoSecret();
    await screenshot("console-invoke");
  });

  it("filters the calls by status and opens a failed call with its logs", async () => {
    await page.getByRole("link", { name: "Calls", exact: true }).click();
    await page.locator("#calls tbody tr").first().waitFor();
    await expect.poll(() => page.locator("#calls tbody tr").count()).toBe(12);
    await page.getByLabel("Status").selectOption("failed");
    await expect.poll(() => page.locator("#calls tbody tr").count()).toBe(1);
    await screenshot("console-calls");
    expect(await seen(page.locator("#calls tbody"))).toContain("Error: boom: bad input");
    await page.locator("#calls tbody tr a").first().click();
    await page.locator("#call-id").waitFor();
    expect(await seen(page.locator("#call-outcome"))).toContain("Error: boom: bad input");
    expect(await seen(page.locator("#call-detail"))).toMatch(/Status\s+failed/);
    expect(await seen(page.locator("#call-logs"))).toContain('hello from v2 {"fail":"bad input"}');
    await screenshot("console-call");
  });

  it("shows a schedule with its next runs", async () => {
    await page.locator(".crumbs").getByRole("link", { name: "greeter" }).click();
    await page.getByRole("link", { name: "Schedules", exact: true }).click();
    const schedule = page.locator('[data-schedule="morning-greeting"]');
    await schedule.waitFor();
    const text = await seen(schedule);
    expect(text).toContain("30 7 * * 1-5");
    expect(text).toContain("At 07:30, Monday through Friday");
    expect(text).toContain("Europe/Oslo");
    expect(await schedule.locator("ol.runs li").count()).toBe(5);
    await expectNoSecret();
    await screenshot("console-schedules");
  });

  it("keeps the screenshots small", () => {
    for (const name of DOC_SHOTS) expect(statSync(shots.get(name) as string).size).toBeLessThan(300 * 1024);
  });

  it("raised no script error and broke no content security rule", () => {
    expect(pageErrors).toEqual([]);
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    expect((await page.context().cookies()).filter((c) => c.name.endsWith("edgefn_session") && c.value)).toEqual([]);
    // The old session's cookie no longer authorizes anything.
    expect((await fetch(`${p.url}/api/session`)).status).toBe(401);
  });
});
