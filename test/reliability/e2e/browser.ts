/** Headless Chromium for the black-box browser tests (Debian's chromium; no download of its own). */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.EDGEFN_CHROMIUM ?? "/usr/bin/chromium";

/** Whether the browser tests run: Chromium is here, or this is CI (which installs it, so it must be there). */
export const BROWSER_TESTS = existsSync(CHROMIUM) || Boolean(process.env.CI);

/** Launches Chromium with the flags a machine without network access needs (no background requests). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
