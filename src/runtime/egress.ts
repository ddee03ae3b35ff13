import { exports, WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../env";
import { forbiddenHostReason, hostMatches, normalizeHost } from "../lib/hosts";

export interface EgressProps {
  functionId: string;
  allowedHosts: string[];
  /** The function may reach the platform's own API at PLATFORM_ORIGIN (Appwrite functions, with their key). */
  platform?: boolean;
}

/**
 * Where a function reaches the platform's own API from inside its isolate (Appwrite's
 * `APPWRITE_FUNCTION_API_ENDPOINT` is this plus `/v1`). The name resolves nowhere (`.internal` is a private name,
 * which the gateway refuses everywhere else): a request to it never leaves the host, the gateway hands it to the
 * platform's own fetch handler, where it is authenticated like any request from outside.
 */
export const PLATFORM_ORIGIN = "https://api.edgefn.internal";

/** Whether `url` is on the platform's internal origin (any path, any port-less spelling of the host). */
export function isPlatformUrl(url: string): boolean {
  try {
    return new URL(url).origin === PLATFORM_ORIGIN;
  } catch {
    return false;
  }
}

/**
 * `example.com` allows exactly that host; `*.example.com` allows its subdomains. Both sides are compared in their
 * canonical form (lowercase, no trailing dot, addresses in one spelling).
 */
export function hostAllowed(host: string, allowed: string[]): boolean {
  return hostMatches(host, allowed);
}

/**
 * Why a request to `url` may not leave the platform, or null when it may: only http: and https:, never a host
 * that is forbidden in itself (loopback, private networks, metadata services, local names: see lib/hosts.ts),
 * even if the list names it, and only hosts the list allows.
 */
export function egressRefusal(url: string, allowedHosts: string[]): string | null {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return `this function may not reach ${url}: not a URL`;
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    return `this function may not use ${target.protocol} (only http: and https:)`;
  }
  const host = normalizeHost(target.hostname) ?? target.hostname;
  const forbidden = forbiddenHostReason(host);
  if (forbidden) return `this function may not reach ${host}: ${forbidden}`;
  if (!hostAllowed(host, allowedHosts)) {
    return `this function may not reach ${host}; allowed hosts: ${allowedHosts.join(", ")}`;
  }
  return null;
}

function refused(reason: string): Response {
  return new Response(`edgefn: ${reason}`, { status: 403, headers: { "content-type": "text/plain" } });
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * One hop of an isolate's outbound request: refused with a 403 (plain-text reason) unless `egressRefusal` lets it
 * through, else sent with `send` as a fresh request (redirects not followed, no `cf` options such as
 * `resolveOverride`, which could point the connection elsewhere).
 *
 * Redirects: the isolate's own `fetch` follows them (with its `redirect` mode and its hop limit), and each hop it
 * follows comes back through the gateway, so each is checked here like the first request. On top of that, a
 * redirect whose target the function may not reach is answered with the 403 instead, so no code ever sees a
 * redirect the gateway would refuse to follow.
 */
export async function forwardEgress(
  request: Request,
  allowedHosts: string[],
  send: (request: Request) => Promise<Response>,
): Promise<Response> {
  const refusal = egressRefusal(request.url, allowedHosts);
  if (refusal) return refused(refusal);
  const response = await send(
    new Request(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
    }),
  );
  const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get("location") : null;
  if (location === null) return response;
  let next: string;
  try {
    next = new URL(location, request.url).href;
  } catch {
    return response; // not a URL: the isolate's fetch fails on it without going anywhere
  }
  const hopRefusal = egressRefusal(next, allowedHosts);
  if (!hopRefusal) return response;
  await response.body?.cancel();
  return refused(`redirect from ${request.url} refused: ${hopRefusal}`);
}

/**
 * The outbound gateway of isolates whose function has an egress allowlist or may reach the platform's API: every
 * `fetch` of such an isolate arrives here, and only requests to the platform's internal origin (when allowed) and
 * to allowed, public hosts go anywhere.
 */
export class EgressGateway extends WorkerEntrypoint<Env, EgressProps> {
  override fetch(request: Request): Promise<Response> {
    if (this.ctx.props.platform && isPlatformUrl(request.url)) {
      // The platform's own API: through its fetch handler (body caps, auth, routes), never the network.
      return exports.default.fetch(
        new Request(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          redirect: "manual",
        }),
      );
    }
    return forwardEgress(request, this.ctx.props.allowedHosts, (r) => fetch(r));
  }

  /**
   * A TCP socket of the isolate (`connect()` from `cloudflare:sockets`) arrives here, but without the address it
   * was opened to, so it cannot be checked against the list: every socket is closed at once (the isolate sees
   * "Network connection lost" on its first read or write). Without this method workerd would also refuse it, with
   * an error logged by the host.
   */
  override async connect(socket: Socket): Promise<void> {
    await socket.close().catch(() => {});
  }
}
