import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../env";

export interface EgressProps {
  functionId: string;
  allowedHosts: string[];
}

/** `example.com` allows exactly that host; `*.example.com` allows its subdomains. */
export function hostAllowed(host: string, allowed: string[]): boolean {
  const h = host.toLowerCase();
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith("*.") ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p;
  });
}

/**
 * The outbound gateway of isolates whose function has an egress allowlist: every `fetch` of such an isolate
 * arrives here, and only requests to allowed hosts go out.
 */
export class EgressGateway extends WorkerEntrypoint<Env, EgressProps> {
  override async fetch(request: Request): Promise<Response> {
    const { allowedHosts } = this.ctx.props;
    const url = new URL(request.url);
    if (!hostAllowed(url.hostname, allowedHosts)) {
      return new Response(
        `edgefn: this function may not reach ${url.hostname}; allowed hosts: ${allowedHosts.join(", ")}`,
        { status: 403, headers: { "content-type": "text/plain" } },
      );
    }
    return fetch(request);
  }
}
