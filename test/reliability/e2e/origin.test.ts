/**
 * Function content never runs as the platform's origin, tried in a real browser (headless Chromium) against a real
 * local platform. A user signs in to the console; then a public function's HTML page tries to take what the console
 * has: its storage, its cookies, a service worker over the whole origin, and the API with the console's session.
 * Served at /run on the platform's origin the page is sandboxed (an opaque origin); served at its own origin
 * ({function}.{workspace}.localhost) it is another site. Either way it gets nothing.
 *
 * Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium) or at EDGEFN_CHROMIUM.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../../scripts/lib/platform.mjs";
import { BROWSER_TESTS, CHROMIUM, launchChromium } from "./browser";
import { api, deployFunction, ok } from "./client";

if (!BROWSER_TESTS) console.warn(`test/reliability/e2e/origin.test.ts skipped: no Chromium at ${CHROMIUM}`);

/** A page that tries everything and writes what it got into #out as JSON. */
const THIEF = `<!doctype html><meta charset="utf-8"><title>thief</title><pre id="out">running</pre>
<script>
(async () => {
  const out = {};
  const attempt = async (name, f) => { try { out[name] = await f(); } catch (e) { out[name] = "refused: " + e.name; } };
  await attempt("origin", () => location.origin + " / " + self.origin);
  await attempt("localStorage", () => JSON.stringify({ ...localStorage }));
  await attempt("sessionStorage", () => JSON.stringify({ ...sessionStorage }));
  await attempt("cookie", () => document.cookie);
  await attempt("serviceWorker", async () => {
    const reg = await navigator.serviceWorker.register("sw.js", { scope: "/" });
    return "registered " + reg.scope;
  });
  await attempt("session", async () => {
    const res = await fetch(new URL("/api/session", PLATFORM), { credentials: "include" });
    return res.status + " " + (await res.text()).slice(0, 200);
  });
  await attempt("functions", async () => {
    const res = await fetch(new URL("/api/functions", PLATFORM), { credentials: "include" });
    return res.status + " " + (await res.text()).slice(0, 200);
  });
  document.getElementById("out").textContent = JSON.stringify(out);
})();
</script>`;

let p: LocalPlatform;
let browser: Browser;
let page: Page;
let workspace: string;
let fnName: string;

async function thiefResult(url: string): Promise<Record<string, string>> {
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("out")?.textContent !== "running", undefined, {
    timeout: 20_000,
  });
  return JSON.parse((await page.locator("#out").textContent()) as string);
}

beforeAll(async () => {
  if (!BROWSER_TESTS) return;
  p = await startPlatform();
  const ws = await ok(api(p, "POST", "/api/workspaces", { name: "origin-walls" }), 201);
  workspace = ws.name;
  fnName = "thief";
  const code = `const PAGE = ${JSON.stringify(THIEF)};
    export default { fetch(request) {
      const url = new URL(request.url);
      if (url.pathname.endsWith("sw.js")) {
        return new Response("self.addEventListener('fetch', () => {});", {
          headers: { "content-type": "text/javascript", "service-worker-allowed": "/" },
        });
      }
      const platform = request.headers.get("x-platform") ?? "";
      return new Response(PAGE.replace("PLATFORM", JSON.stringify(platform)), {
        headers: {
          "content-type": "text/html",
          "set-cookie": "stolen=1; Path=/",
          "service-worker-allowed": "/",
          "clear-site-data": '"*"',
        },
      });
    } };`;
  const { fn } = await deployFunction(p, ws.id, fnName, code, { public: true });
  expect(fn.public).toBe(true);
  browser = await launchChromium();
  page = await browser.newPage();
  // The platform's origin, for the page's fetches (sent to the function in a header the test adds).
  await page.setExtraHTTPHeaders({ "x-platform": p.url });
  // Signed in to the console: a session cookie and console state in this browser.
  await page.goto(`${p.url}/`);
  await page.getByLabel("API key").fill(p.adminKey);
  await page.getByRole("button", { name: "Use API key" }).click();
  await page.getByRole("heading", { name: "Functions" }).waitFor();
  await page.evaluate(() => localStorage.setItem("console-state", "private to the console"));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

describe.skipIf(!BROWSER_TESTS)("function content and the platform's origin, in a browser", () => {
  it("a page served at /run runs sandboxed: no storage, no cookies, no service worker, no session", async () => {
    const got = await thiefResult(`${p.url}/run/${workspace}/${fnName}/`);
    expect(got.origin).toMatch(/null/);
    expect(got.localStorage).toMatch(/^refused/);
    expect(got.sessionStorage).toMatch(/^refused/);
    expect(got.cookie).toMatch(/^refused|^$/);
    expect(got.serviceWorker).toMatch(/^refused/);
    // Its requests carry no cookie of the platform: the API answers 401, or the browser refuses to show the answer.
    for (const what of ["session", "functions"]) expect(got[what]).toMatch(/^refused|^401 /);
    expect(JSON.stringify(got)).not.toContain(p.adminKey);
    expect(JSON.stringify(got)).not.toContain("private to the console");
    // The function's Set-Cookie did not reach the platform's origin, nor did Clear-Site-Data wipe the console.
    const cookies = await page.context().cookies(p.url);
    expect(cookies.map((c) => c.name)).not.toContain("stolen");
    expect(cookies.some((c) => c.name.endsWith("edgefn_session"))).toBe(true);
  });

  it("a page at its own origin is another site: it reaches nothing of the console's", async () => {
    const port = new URL(p.url).port;
    const own = `http://${fnName}.${workspace}.localhost:${port}/`;
    const got = await thiefResult(own);
    expect(got.origin).toContain(`${fnName}.${workspace}.localhost`);
    expect(got.localStorage).not.toContain("private to the console");
    expect(got.cookie).not.toContain("edgefn_session");
    for (const what of ["session", "functions"]) expect(got[what]).toMatch(/^refused|^401 /);
    expect(JSON.stringify(got)).not.toContain(p.adminKey);
  });

  it("the console still works after both pages: nothing of it was cleared or replaced", async () => {
    await page.goto(`${p.url}/`);
    await page.getByRole("heading", { name: "Functions" }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem("console-state"))).toBe("private to the console");
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);
  });
});
