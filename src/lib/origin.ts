/**
 * Function content and the platform's origin. A function's HTTP answers are served from an origin of their own
 * (`{function}.{workspace}.<run domain>`, or `{function}--{workspace}.<run domain>` for a single wildcard
 * certificate); on the platform's own origin (the API's and the console's), where `/run/...` also answers, they
 * are made inert: a sandbox CSP without `allow-same-origin` gives a page there an opaque origin (no storage, no
 * cookies, no service worker of the platform's), and the headers that act on the whole origin are dropped.
 */

/** The run domain when none is configured: `*.localhost` resolves to this machine in browsers. */
export const LOCAL_RUN_DOMAIN = "localhost";

/** Response headers a function may not send from the platform's origin: they act on the whole origin. */
const ORIGIN_WIDE = new Set([
  "set-cookie",
  "set-cookie2",
  "service-worker-allowed",
  "clear-site-data",
  "access-control-allow-credentials",
  "origin-agent-cluster",
  "strict-transport-security",
  "alt-svc",
  "nel",
  "report-to",
  "reporting-endpoints",
  "accept-ch",
  "critical-ch",
]);

/** Scripts run, forms and popups work, but the document's origin is opaque: nothing of the platform's is reachable. */
export const SANDBOX_CSP = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads";

/** A function's answer, made inert for the platform's origin (headers changed in place; the body is untouched). */
export function inertOnPlatformOrigin(headers: Headers): void {
  // The names it has (lower case), looked up: fewer calls into Headers than a delete per listed name.
  const present: string[] = [];
  for (const name of headers.keys()) if (ORIGIN_WIDE.has(name)) present.push(name);
  for (const name of present) headers.delete(name);
  headers.append("content-security-policy", SANDBOX_CSP);
  headers.set("x-content-type-options", "nosniff");
}

/**
 * The same for an answer's headers as [name, value] pairs, names in lower case as a Headers gives them, before its
 * Response is made (no calls into a Headers).
 */
export function inertPairs(pairs: [string, string][]): [string, string][] {
  const kept = pairs.filter(([name]) => !ORIGIN_WIDE.has(name) && name !== "x-content-type-options");
  kept.push(["content-security-policy", SANDBOX_CSP], ["x-content-type-options", "nosniff"]);
  return kept;
}

/**
 * A function's answer on its own origin: everything passes, except cookies set for a parent domain, which would
 * reach the platform and every other function (they become cookies of the function's own host).
 */
export function confinedToFunctionOrigin(headers: Headers): void {
  const cookies = headers.getSetCookie();
  if (!cookies.some((c) => /;\s*domain\s*=/i.test(c))) return;
  headers.delete("set-cookie");
  for (const cookie of cookies) headers.append("set-cookie", cookie.replace(/;\s*domain\s*=[^;]*/gi, ""));
}

export interface FunctionHost {
  workspace: string;
  fn: string;
}

/** The last setting runDomain read, and what it made of it (read on every request). */
let lastDomain: { configured: string | undefined; domain: string } | undefined;

/** The configured run domain, lower-cased, without a port or dots at its ends. */
export function runDomain(configured: string | undefined): string {
  if (lastDomain && lastDomain.configured === configured) return lastDomain.domain;
  const domain = domainOf(configured);
  lastDomain = { configured, domain };
  return domain;
}

function domainOf(configured: string | undefined): string {
  const d = (configured ?? "")
    .trim()
    .toLowerCase()
    .replace(/^\.+|\.+$/g, "");
  return d === "" ? LOCAL_RUN_DOMAIN : d;
}

/**
 * The function a request's host names, or null when the host is not a function's: `fn.ws.<domain>` or
 * `fn--ws.<domain>` (the port, if any, is ignored). Labels are lower case, as browsers send them.
 */
export function functionHost(hostHeader: string | undefined | null, domain: string): FunctionHost | null {
  if (!hostHeader) return null;
  const host = hostHeader.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  if (!host.endsWith(`.${domain}`)) return null;
  const labels = host.slice(0, -domain.length - 1).split(".");
  if (labels.length === 2) {
    const [fn, workspace] = labels as [string, string];
    return fn && workspace ? { fn, workspace } : null;
  }
  if (labels.length === 1) {
    const label = labels[0] as string;
    const at = label.lastIndexOf("--");
    if (at > 0 && at < label.length - 2) return { fn: label.slice(0, at), workspace: label.slice(at + 2) };
  }
  return null;
}

/** The URL a function answers on at its own origin, given the URL the platform is reached at. */
export function functionOriginUrl(platformUrl: string, domain: string, fn: string, workspace: string): string {
  const url = new URL(platformUrl);
  const label = (s: string) => s.toLowerCase();
  url.hostname = `${label(fn)}.${label(workspace)}.${domain}`;
  url.pathname = "/";
  url.search = "";
  return url.toString();
}
