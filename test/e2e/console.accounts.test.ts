/**
 * The web console with people's accounts, black-box: a throwaway local platform and headless Chromium. A platform
 * admin made over the API signs in with email and password (a wrong password is refused with the same words as an
 * unknown email), sees who is signed in, invites someone to a workspace as a developer; the invited person opens
 * the link, sets a password and lands in the workspace's functions, changes their password (the old one stops
 * working), and the admin changes their role and removes them (their session sees the workspace no more).
 *
 * Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium) or at EDGEFN_CHROMIUM.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../scripts/lib/platform.mjs";
import { BROWSER_TESTS, CHROMIUM, launchChromium } from "../reliability/e2e/browser";
import { api, deployFunction, ok } from "../reliability/e2e/client";

const ADMIN = { email: "root@example.com", password: "correct horse battery" };
const DEV = { email: "dev@example.com", password: "first dev password", next: "second dev password" };

let p: LocalPlatform;
let browser: Browser;
let ws: { id: string; name: string };
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) pageErrors.push(msg.text());
  });
  return page;
}

async function signIn(page: Page, email: string, password: string) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

const RUN = BROWSER_TESTS;
if (!RUN) console.warn(`test/e2e/console.accounts.test.ts skipped: no Chromium at ${CHROMIUM}`);

describe.skipIf(!RUN)("the web console with accounts", () => {
  let admin: Page;
  let dev: Page;
  let link = "";

  beforeAll(async () => {
    [p, browser] = await Promise.all([startPlatform(), launchChromium()]);
    ws = await ok(api(p, "POST", "/api/workspaces", { name: "acme" }), 201);
    await ok(api(p, "POST", "/api/workspaces", { name: "elsewhere" }), 201);
    await deployFunction(p, ws.id, "greeter", "export const handle = () => 'hi';");
    await ok(api(p, "POST", "/api/users", { ...ADMIN, platformAdmin: true }), 201);
    [admin, dev] = await Promise.all([newPage(), newPage()]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await p?.stop();
  });

  it("refuses a wrong password and an unknown email alike, and signs in with the right ones", async () => {
    await admin.goto(`${p.url}/`);
    await signIn(admin, ADMIN.email, "not the password");
    await expect
      .poll(() => admin.locator("#signin-error").textContent())
      .toBe("Wrong email or password. Check them and try again.");
    await signIn(admin, "nobody@example.com", ADMIN.password);
    await expect
      .poll(() => admin.locator("#signin-error").textContent())
      .toBe("Wrong email or password. Check them and try again.");

    await signIn(admin, ` ${ADMIN.email.toUpperCase()} `, ADMIN.password);
    await admin.getByRole("heading", { name: "Functions" }).waitFor();
    await admin.locator("#functions").getByRole("link", { name: "greeter" }).waitFor();
    expect(await admin.locator("#key-hint").textContent()).toBe(`${ADMIN.email} · platform admin`);
    // The password is nowhere page script can read, and the session cookie is HttpOnly and SameSite=Strict.
    const stored = await admin.evaluate(
      () => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
    );
    expect(stored).not.toContain(ADMIN.password);
    expect(await admin.evaluate(() => document.cookie)).toBe("");
    const cookie = (await admin.context().cookies()).find((c) => c.name.endsWith("edgefn_session"));
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
  });

  it("lets the admin invite someone to a workspace as a developer", async () => {
    await admin.getByRole("link", { name: "Members" }).click();
    await admin.getByLabel("Workspace").selectOption(ws.id);
    await expect.poll(() => admin.locator("#members").textContent()).toContain("No members yet");
    await admin.locator("#invite-email").fill(DEV.email);
    await admin.locator("#invite-role").selectOption("developer");
    await admin.getByRole("button", { name: "Invite", exact: true }).click();
    link = (await admin.locator("#invite-link").textContent()) ?? "";
    expect(link).toMatch(new RegExp(`^${p.url}/#/invite/.+`));
    await expect
      .poll(() => admin.locator('#invites [data-invite="dev@example.com"]').textContent())
      .toContain("developer");
  });

  it("lets the invited person set a password, join and see the workspace's functions", async () => {
    await dev.goto(link);
    await dev.getByRole("heading", { name: "Join a workspace" }).waitFor();
    await dev.locator("#invite-password").fill("short");
    await dev.getByRole("button", { name: "Join" }).click();
    await expect.poll(() => dev.locator("#invite-error").textContent()).toMatch(/at least 8 characters/);
    await dev.locator("#invite-name").fill("Dee Veloper");
    await dev.locator("#invite-password").fill(DEV.password);
    await dev.getByRole("button", { name: "Join" }).click();
    await dev.getByRole("heading", { name: "Functions" }).waitFor();
    await dev.locator("#functions").getByRole("link", { name: "greeter" }).waitFor();
    expect(await dev.locator("#key-hint").textContent()).toBe(DEV.email);

    // The link worked once.
    await dev.goto(link);
    await dev.locator("#invite-password").fill(DEV.password);
    await dev.getByRole("button", { name: "Join" }).click();
    await expect.poll(() => dev.locator("#invite-error").textContent()).toMatch(/used already/);
  });

  it("shows the account and changes its password", async () => {
    await dev.goto(`${p.url}/#/account`);
    await expect.poll(() => dev.locator("#account-title").textContent()).toBe(DEV.email);
    expect(await dev.locator(`#my-workspaces [data-workspace="${ws.id}"]`).textContent()).toContain("developer");
    await dev.locator("#current-password").fill(DEV.password);
    await dev.locator("#new-password").fill(DEV.next);
    await dev.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => dev.locator("#password-result").textContent()).toMatch(/Password changed/);

    await dev.getByRole("button", { name: "Sign out", exact: true }).click();
    await signIn(dev, DEV.email, DEV.password);
    await expect.poll(() => dev.locator("#signin-error").textContent()).toMatch(/Wrong email or password/);
    await signIn(dev, DEV.email, DEV.next);
    await dev.getByRole("heading", { name: "Functions" }).waitFor();
  });

  it("lets the admin change a member's role and remove them, who then sees the workspace no more", async () => {
    // The page was left at this very URL: a reload reads the members again.
    await admin.goto(`${p.url}/#/members?ws=${ws.id}`);
    await admin.reload();
    const row = admin.locator('#members [data-member="dev@example.com"]');
    await row.waitFor();
    await row.getByLabel("Role of dev@example.com").selectOption("viewer");
    await admin.getByText("dev@example.com is now viewer").waitFor();
    const member = await ok(api(p, "GET", `/api/workspaces/${ws.id}/members`));
    expect(member.data).toMatchObject([{ email: DEV.email, role: "viewer" }]);

    admin.once("dialog", (d) => d.accept());
    await row.getByRole("button", { name: "Remove" }).click();
    await expect.poll(() => admin.locator("#members").textContent()).toContain("No members yet");

    await dev.goto(`${p.url}/#/functions`);
    await dev.reload();
    await dev.getByText("No functions yet").waitFor();
  });

  it("still signs in with the admin key, and raised no script error", async () => {
    const page = await newPage();
    await page.goto(`${p.url}/`);
    await page.getByLabel("API key").fill(p.adminKey);
    await page.getByRole("button", { name: "Use API key" }).click();
    await page.getByRole("heading", { name: "Functions" }).waitFor();
    expect(await page.locator("#key-hint").textContent()).toMatch(/^admin · /);
    expect(pageErrors).toEqual([]);
  });
});
