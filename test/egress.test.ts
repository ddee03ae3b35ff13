/**
 * Egress: what a function with `allowedHosts` may reach. The host classifier (lib/hosts.ts) over the spellings of
 * addresses and names, the gateway's per-hop check with a stubbed fetch (the test runtime has no internet), the
 * API refusing forbidden entries, and a deployed function whose requests to the host's networks and raw sockets
 * are refused.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { forbiddenHostReason, forbiddenPatternReason, hostMatches, normalizeHost } from "../src/lib/hosts";
import { egressRefusal, forwardEgress } from "../src/runtime/egress";
import { api, expectError, expectStatus, newFunction, newWorkspace, unique, type Workspace } from "./support/api";
import { deploy, invoke } from "./support/deploy";

let ws: Workspace;
beforeAll(async () => {
  ws = await newWorkspace();
});

describe("the host classifier", () => {
  // [host as written, what the refusal says]
  const forbidden: [string, RegExp][] = [
    // IPv4 loopback in every spelling the URL parser accepts
    ["127.0.0.1", /loopback/],
    ["127.1", /loopback/],
    ["127.0.1", /loopback/],
    ["2130706433", /loopback/],
    ["0177.0.0.1", /loopback/],
    ["0177.0.0.01", /loopback/],
    ["017700000001", /loopback/],
    ["0x7f.1", /loopback/],
    ["0x7F.0.0.1", /loopback/],
    ["0x7f000001", /loopback/],
    ["0x7f.0.0x0.1", /loopback/],
    ["127.0.0.1.", /loopback/],
    ["127.0.0.1..", /loopback/],
    ["127.255.255.254", /loopback/],
    ["%31%32%37.0.0.1", /loopback/],
    ["１２７.０.０.１", /loopback/],
    // the other IPv4 ranges
    ["0", /this network/],
    ["0.0.0.0", /this network/],
    ["10.0.0.1", /private.*10\.0\.0\.0\/8/],
    ["10.1", /private.*10\.0\.0\.0\/8/],
    ["012.0.0.1", /private.*10\.0\.0\.0\/8/],
    ["172.16.0.1", /private.*172\.16/],
    ["172.31.255.255", /private.*172\.16/],
    ["192.168.1.1", /private.*192\.168/],
    ["3232235777", /private.*192\.168/],
    ["169.254.169.254", /link-local/],
    ["0xa9.0xfe.0xa9.0xfe", /link-local/],
    ["100.64.0.1", /carrier-grade/],
    ["100.100.100.200", /carrier-grade/],
    ["192.0.0.170", /IETF/],
    ["198.18.0.1", /benchmarking/],
    ["203.0.113.9", /documentation/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["240.0.0.1", /reserved/],
    ["255.255.255.255", /broadcast/],
    // IPv6, bracketed or not
    ["::1", /loopback/],
    ["[::1]", /loopback/],
    ["[0:0:0:0:0:0:0:1]", /loopback/],
    ["::", /unspecified/],
    ["[::]", /unspecified/],
    ["[::ffff:127.0.0.1]", /IPv4-mapped/],
    ["::ffff:7f00:1", /IPv4-mapped/],
    ["[::ffff:1.1.1.1]", /IPv4-mapped/],
    ["[::ffff:0:a9fe:a9fe]", /IPv4-translated/],
    ["[::127.0.0.1]", /IPv4-compatible/],
    ["[::7f00:1]", /IPv4-compatible/],
    ["[fe80::1]", /link-local/],
    ["[FEBF::1]", /link-local/],
    ["[fc00::1]", /unique-local/],
    ["[fd00:ec2::254]", /unique-local/],
    ["[fec0::1]", /site-local/],
    ["[ff02::1]", /multicast/],
    ["[64:ff9b::7f00:1]", /NAT64 .*127\.0\.0\.1.*loopback/],
    ["[64:ff9b::10.0.0.1]", /NAT64 .*10\.0\.0\.1.*private/],
    ["[64:ff9b::a9fe:a9fe]", /NAT64 .*169\.254\.169\.254/],
    ["[64:ff9b:1::1]", /local-use NAT64/],
    ["[2002:7f00:1::]", /6to4 .*127\.0\.0\.1/],
    ["[2002:c0a8:101::1]", /6to4 .*192\.168\.1\.1/],
    ["[2001:0:4136:e378:8000:63bf:3fff:fdd2]", /Teredo/],
    ["[2001:db8::1]", /documentation/],
    ["[100::1]", /discard/],
    ["[4000::1]", /reserved IPv6/],
    // names: trailing dots, case, encodings
    ["localhost", /loopback name/],
    ["LOCALHOST", /loopback name/],
    ["localhost.", /loopback name/],
    ["Localhost..", /loopback name/],
    ["localhost。", /loopback name/],
    ["%6c%6fcalhost", /loopback name/],
    ["ⓛⓞⓒⓐⓛⓗⓞⓢⓣ", /loopback name/],
    ["foo.localhost", /loopback name/],
    ["A.B.LocalHost.", /loopback name/],
    ["localhost.localdomain", /\.localdomain/],
    ["printer.local", /\.local\b/],
    ["my-service.default.svc.cluster.local", /\.local\b/],
    ["metadata.google.internal", /\.internal/],
    ["METADATA.GOOGLE.INTERNAL.", /\.internal/],
    ["instance-data.ec2.internal", /\.internal/],
    ["router.home.arpa", /\.home\.arpa/],
    ["1.0.0.127.in-addr.arpa", /\.arpa/],
    ["nas.lan", /\.lan/],
    ["metadata", /single-label/],
    ["instance-data", /single-label/],
    // not a host at all
    ["example.com:80", /not a valid host/],
    ["[::1]:80", /not a valid host/],
    ["http://example.com", /not a valid host/],
    ["user@example.com", /not a valid host/],
    ["ex ample.com", /not a valid host/],
    ["[fe80::1%25eth0]", /not a valid host/],
    ["1.2.3.4.5", /not a valid host/],
    ["", /not a valid host/],
    [".", /not a valid host/],
  ];
  it.each(forbidden)("refuses %s", (host, reason) => {
    expect(forbiddenHostReason(host)).toMatch(reason);
  });

  const allowed = [
    "api.example.com",
    "example.com",
    "EXAMPLE.com.",
    "xn--bcher-kva.example",
    "localhost.example.com",
    "internal.example.com",
    "local.example.com",
    "1.1.1.1",
    "8.8.8.8",
    "0x01010101",
    "16843009",
    "172.15.255.255",
    "172.32.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "169.255.0.1",
    "192.169.0.1",
    "223.255.255.255",
    "[2606:4700:4700::1111]",
    "2606:4700:4700::1111",
    "[64:ff9b::808:808]",
    "[2002:808:808::1]",
  ];
  it.each(allowed)("lets %s through", (host) => {
    expect(forbiddenHostReason(host)).toBeNull();
  });

  it("normalises every spelling to the one fetch uses", () => {
    expect(normalizeHost("0x7f.1")).toBe("127.0.0.1");
    expect(normalizeHost("2130706433")).toBe("127.0.0.1");
    expect(normalizeHost("::FFFF:127.0.0.1")).toBe("[::ffff:7f00:1]");
    expect(normalizeHost("Example.COM..")).toBe("example.com");
    expect(normalizeHost("bücher.example")).toBe("xn--bcher-kva.example");
    expect(normalizeHost("example.com/path")).toBeNull();
  });

  it("checks allowedHosts patterns: wildcards over local names or addresses are refused", () => {
    expect(forbiddenPatternReason("*.localhost")).toMatch(/loopback name/);
    expect(forbiddenPatternReason("*.LOCAL")).toMatch(/\.local/);
    expect(forbiddenPatternReason("*.internal")).toMatch(/\.internal/);
    expect(forbiddenPatternReason("*.google.internal")).toMatch(/\.internal/);
    expect(forbiddenPatternReason("*.home.arpa")).toMatch(/\.home\.arpa/);
    expect(forbiddenPatternReason("*.10.0.0.1")).toMatch(/not an address/);
    expect(forbiddenPatternReason("*.1.1.1.1")).toMatch(/not an address/);
    expect(forbiddenPatternReason("*.0x7f.1")).toMatch(/not an address/);
    expect(forbiddenPatternReason("localhost")).toMatch(/loopback name/);
    expect(forbiddenPatternReason("*.example.com")).toBeNull();
    expect(forbiddenPatternReason("*.com")).toBeNull();
    expect(forbiddenPatternReason("EXAMPLE.NET")).toBeNull();
  });

  it("matches hosts against the list in canonical form", () => {
    expect(hostMatches("api.example.com", ["*.example.com"])).toBe(true);
    expect(hostMatches("a.b.example.com", ["*.example.com"])).toBe(true);
    expect(hostMatches("example.com", ["*.example.com"])).toBe(false);
    expect(hostMatches("evilexample.com", ["*.example.com"])).toBe(false);
    expect(hostMatches("example.com.", ["EXAMPLE.COM"])).toBe(true);
    expect(hostMatches("example.com", ["example.com."])).toBe(true);
    expect(hostMatches("0x01010101", ["1.1.1.1"])).toBe(true);
    expect(hostMatches("example.org", ["example.com"])).toBe(false);
  });
});

describe("the gateway's check of each hop", () => {
  /** A stub of the internet: answers by URL, records what the gateway sent. */
  function stubNet(routes: Record<string, () => Response>) {
    const sent: Request[] = [];
    const send = async (r: Request) => {
      sent.push(r);
      const route = routes[r.url];
      return route ? route() : new Response("not found", { status: 404 });
    };
    return { sent, send };
  }
  const redirect = (status: number, location: string) => () => new Response("moved", { status, headers: { location } });

  it("allows only http: and https: to listed, public hosts", () => {
    const list = ["example.com", "*.example.org"];
    expect(egressRefusal("https://example.com/x", list)).toBeNull();
    expect(egressRefusal("http://api.example.org:8080/x", list)).toBeNull();
    expect(egressRefusal("HTTP://EXAMPLE.COM./", list)).toBeNull();
    expect(egressRefusal("ftp://example.com/", list)).toMatch(/may not use ftp: \(only http: and https:\)/);
    expect(egressRefusal("ws://example.com/", list)).toMatch(/may not use ws:/);
    expect(egressRefusal("file:///etc/passwd", list)).toMatch(/may not use file:/);
    expect(egressRefusal("http://example.net/", list)).toMatch(/may not reach example\.net; allowed hosts/);
    expect(egressRefusal("http://0x7f.1/", list)).toMatch(/may not reach 127\.0\.0\.1: a loopback address/);
    expect(egressRefusal("http://example.com@169.254.169.254/", list)).toMatch(/may not reach 169\.254\.169\.254/);
  });

  it("refuses a forbidden host even when the list names it (an entry stored before the check existed)", async () => {
    const legacy = ["127.0.0.1", "localhost", "*.internal", "10.0.0.1"];
    const net = stubNet({});
    for (const url of [
      "http://127.0.0.1/",
      "http://localhost:8787/",
      "http://metadata.google.internal/",
      "http://10.1/",
    ]) {
      const res = await forwardEgress(new Request(url), legacy, net.send);
      expect(res.status, url).toBe(403);
      expect(res.headers.get("content-type")).toBe("text/plain");
      expect(await res.text()).toMatch(/^edgefn: this function may not reach /);
    }
    expect(net.sent).toEqual([]);
  });

  it("sends a fresh request that does not follow redirects and carries no cf options", async () => {
    const net = stubNet({ "https://example.com/in": () => new Response("hi") });
    const res = await forwardEgress(
      new Request("https://example.com/in", {
        method: "POST",
        body: "payload",
        headers: { "x-a": "1" },
        cf: { resolveOverride: "127.0.0.1" },
      } as RequestInit),
      ["example.com"],
      net.send,
    );
    expect(await res.text()).toBe("hi");
    const [out] = net.sent;
    expect(out!.redirect).toBe("manual");
    expect(out!.method).toBe("POST");
    expect(out!.headers.get("x-a")).toBe("1");
    expect(await out!.text()).toBe("payload");
    expect(out!.cf?.resolveOverride).toBeUndefined();
  });

  it("passes on a redirect to a host the function may reach, and answers 403 for one it may not", async () => {
    const net = stubNet({
      "https://example.com/relative": redirect(302, "/next"),
      "https://example.com/ok": redirect(301, "https://api.example.com/v2"),
      "https://example.com/loopback": redirect(302, "http://127.0.0.1:8787/admin"),
      "https://example.com/metadata": redirect(307, "http://[::ffff:a9fe:a9fe]/latest/meta-data/"),
      "https://example.com/decimal": redirect(308, "http://2130706433/"),
      "https://example.com/unlisted": redirect(303, "https://example.net/"),
      "https://example.com/scheme": redirect(302, "file:///etc/passwd"),
    });
    const list = ["example.com", "*.example.com"];
    const hop = (path: string) => forwardEgress(new Request(`https://example.com${path}`), list, net.send);

    const relative = await hop("/relative");
    expect(relative.status).toBe(302);
    expect(relative.headers.get("location")).toBe("/next");
    expect((await hop("/ok")).status).toBe(301);

    const cases: [string, RegExp][] = [
      ["/loopback", /redirect from https:\/\/example\.com\/loopback refused: .*may not reach 127\.0\.0\.1: a loopback/],
      ["/metadata", /refused: .*IPv4-mapped/],
      ["/decimal", /refused: .*may not reach 127\.0\.0\.1/],
      ["/unlisted", /refused: .*may not reach example\.net; allowed hosts/],
      ["/scheme", /refused: .*may not use file:/],
    ];
    for (const [path, reason] of cases) {
      const res = await hop(path);
      expect(res.status, path).toBe(403);
      expect(await res.text(), path).toMatch(reason);
    }
  });

  it("checks every hop of a redirect chain the way the isolate's fetch follows it", async () => {
    const net = stubNet({
      "https://example.com/1": redirect(302, "https://a.example.com/2"),
      "https://a.example.com/2": redirect(301, "https://b.example.com/3"),
      "https://b.example.com/3": redirect(302, "http://localhost./4"),
    });
    // The isolate's fetch sends each hop back through the gateway, as workerd does with globalOutbound.
    let url = "https://example.com/1";
    let res: Response;
    for (let hops = 0; ; hops++) {
      res = await forwardEgress(new Request(url), ["example.com", "*.example.com"], net.send);
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !location || hops === 10) break;
      url = new URL(location, url).href;
    }
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/may not reach localhost: a loopback name/);
    expect(net.sent.map((r) => r.url)).toEqual([
      "https://example.com/1",
      "https://a.example.com/2",
      "https://b.example.com/3",
    ]);
  });
});

describe("allowedHosts in the API", () => {
  const fnPath = (id: string) => `/api/functions/${id}`;
  const create = (body: Record<string, unknown>) =>
    api("POST", "/api/functions", { body: { workspaceId: ws.id, name: unique("fn"), ...body } });

  it("takes public names and addresses", async () => {
    const hosts = ["api.example.com", "*.example.org", "1.1.1.1", "EXAMPLE.NET", "localhost.example.com"];
    expect(expectStatus(await create({ allowedHosts: hosts }), 201).allowedHosts).toEqual(hosts);
  });

  it("refuses loopback, private and local hosts on create and patch, naming the host, and changes nothing", async () => {
    const fn = await newFunction(ws.id, { allowedHosts: ["example.com"] });
    const refused: [string, RegExp][] = [
      ["localhost", /localhost may not be reached by a function: a loopback name/],
      ["LOCALHOST", /LOCALHOST may not be reached/],
      ["foo.localhost", /foo\.localhost may not be reached/],
      ["*.localhost", /\*\.localhost may not be reached/],
      ["127.0.0.1", /127\.0\.0\.1 may not be reached by a function: a loopback address/],
      ["127.1", /127\.1 may not be reached/],
      ["2130706433", /2130706433 may not be reached/],
      ["0x7f000001", /0x7f000001 may not be reached/],
      ["0x7f.1", /0x7f\.1 may not be reached/],
      ["0177.0.0.1", /0177\.0\.0\.1 may not be reached/],
      ["10.0.0.1", /private/],
      ["*.10.0.0.1", /\*\.10\.0\.0\.1 may not be reached by a function: a wildcard needs a domain name/],
      ["172.20.1.1", /private/],
      ["192.168.0.10", /private/],
      ["169.254.169.254", /link-local/],
      ["100.64.1.1", /carrier-grade/],
      ["0", /this network/],
      ["metadata.google.internal", /metadata\.google\.internal may not be reached/],
      ["*.internal", /\.internal/],
      ["printer.local", /\.local/],
      ["router.home.arpa", /\.home\.arpa/],
      ["box.localdomain", /\.localdomain/],
      ["metadata", /single-label/],
      // already refused by the host-name pattern: IPv6 literals, bracketed or not
      ["[::1]", /a host name/],
      ["::1", /a host name/],
      ["[::ffff:127.0.0.1]", /a host name/],
    ];
    for (const [host, message] of refused) {
      for (const allowedHosts of [[host], ["ok.example.com", host]]) {
        const index = allowedHosts.length - 1;
        const name = unique("refused");
        const created = expectError(await create({ name, allowedHosts }), 400, "bad_request");
        expect(created.message, host).toMatch(message);
        expect(created.message, host).toContain(`allowedHosts.${index}`);
        const patched = expectError(await api("PATCH", fnPath(fn.id), { body: { allowedHosts } }), 400, "bad_request");
        expect(patched.message, host).toMatch(message);
        const found = expectStatus(await api("GET", `/api/functions?workspace_id=${ws.id}&name=${name}`), 200);
        expect(found.data, host).toEqual([]);
      }
    }
    expect(expectStatus(await api("GET", fnPath(fn.id)), 200)).toEqual(fn);
  });
});

describe("a deployed function with allowedHosts", () => {
  it("cannot reach the host's networks in any spelling, nor another scheme of an allowed host", async () => {
    const fn = await newFunction(ws.id, { allowedHosts: ["example.com", "*.example.com"] });
    await deploy(fn.id, {
      "index.js": `export async function handle({ urls }) {
        const out = {};
        for (const url of urls) {
          try {
            const res = await fetch(url);
            out[url] = { status: res.status, text: (await res.text()).slice(0, 300) };
          } catch (e) {
            out[url] = { error: String(e) };
          }
        }
        return out;
      }`,
    });
    const refused: [string, RegExp][] = [
      ["http://127.0.0.1:8787/", /may not reach 127\.0\.0\.1: a loopback address/],
      ["http://[::1]/", /may not reach \[::1\]: the IPv6 loopback address/],
      ["http://2130706433/", /may not reach 127\.0\.0\.1: a loopback address/],
      ["http://0x7f.1:8787/api", /may not reach 127\.0\.0\.1/],
      ["http://0177.0.0.1/", /may not reach 127\.0\.0\.1/],
      ["http://[::ffff:127.0.0.1]/", /may not reach \[::ffff:7f00:1\]: an IPv4-mapped/],
      ["http://localhost:8787/", /may not reach localhost: a loopback name/],
      ["http://LOCALHOST./", /may not reach localhost: a loopback name/],
      ["http://example.com@169.254.169.254/latest/meta-data/", /may not reach 169\.254\.169\.254: a link-local/],
      ["http://metadata.google.internal/computeMetadata/v1/", /may not reach metadata\.google\.internal/],
      ["http://10.0.0.1/", /may not reach 10\.0\.0\.1: a private address/],
      ["https://evil.example.net/", /may not reach evil\.example\.net; allowed hosts: example\.com, \*\.example\.com/],
    ];
    const res = expectStatus(await invoke(fn.id, { urls: [...refused.map(([u]) => u), "ftp://example.com/"] }), 200);
    expect(res.ok, JSON.stringify(res.error)).toBe(true);
    for (const [url, reason] of refused) {
      expect(res.result[url], url).toMatchObject({ status: 403 });
      expect(res.result[url].text, url).toMatch(/^edgefn: /);
      expect(res.result[url].text, url).toMatch(reason);
    }
    // Another scheme never leaves the isolate: its fetch refuses it before the gateway.
    expect(res.result["ftp://example.com/"].error).toMatch(/TypeError: Fetch API cannot load: ftp:/);
  });

  it("cannot open raw TCP sockets with connect(), to any host", async () => {
    const fn = await newFunction(ws.id, { allowedHosts: ["example.com"] });
    await deploy(fn.id, {
      "index.js": `import { connect } from "cloudflare:sockets";
      export async function handle({ address }) {
        const out = { bytes: 0 };
        try {
          const socket = connect(address);
          const writer = socket.writable.getWriter();
          await writer.write(new TextEncoder().encode("GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n"));
          const reader = socket.readable.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            out.bytes += value.byteLength;
          }
        } catch (e) {
          out.error = String(e);
        }
        return out;
      }`,
    });
    for (const address of ["127.0.0.1:8787", "localhost:8787", "example.com:80", "10.0.0.1:5432"]) {
      const res = expectStatus(await invoke(fn.id, { address }), 200);
      expect(res.ok, JSON.stringify(res.error)).toBe(true);
      expect(res.result.bytes, address).toBe(0);
      expect(res.result.error, address).toMatch(/Network connection lost/);
    }
  });
});
