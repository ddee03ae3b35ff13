/**
 * Which hosts a function's outbound traffic may never reach, whatever its `allowedHosts` say: the host's own
 * machine, its private networks, cloud metadata services, and names that only mean something on a local network.
 *
 * Everything here looks at the host as written; nothing is resolved. Every spelling the WHATWG URL parser accepts
 * for an address (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`, `%31%32%37.0.0.1`, full-width digits, ...) is
 * first turned into its one canonical form by that same parser, which is also what `fetch` uses to decide where to
 * connect, so the check and the connection agree on what the host is.
 *
 * Pure: no I/O, no platform API beyond `URL`.
 */

/** A forbidden IPv4 block: the address's top `bits` bits equal those of `base`. */
interface V4Block {
  base: number;
  bits: number;
  reason: string;
}

/** A forbidden IPv6 block, as a 128-bit number and a prefix length. */
interface V6Block {
  base: bigint;
  bits: number;
  reason: string;
}

/**
 * IPv4 blocks that are not on the public internet (after the IANA special-purpose registry). Everything else is
 * treated as public.
 */
const V4_BLOCKS: V4Block[] = [
  v4Block("0.0.0.0/8", "'this network' (0.0.0.0/8), which reaches the host itself"),
  v4Block("10.0.0.0/8", "a private address (10.0.0.0/8)"),
  v4Block("100.64.0.0/10", "a carrier-grade NAT address (100.64.0.0/10)"),
  v4Block("127.0.0.0/8", "a loopback address (127.0.0.0/8)"),
  v4Block("169.254.0.0/16", "a link-local address (169.254.0.0/16), where cloud metadata services live"),
  v4Block("172.16.0.0/12", "a private address (172.16.0.0/12)"),
  v4Block("192.0.0.0/24", "an IETF protocol address (192.0.0.0/24)"),
  v4Block("192.0.2.0/24", "a documentation address (192.0.2.0/24)"),
  v4Block("192.88.99.0/24", "a 6to4 relay address (192.88.99.0/24)"),
  v4Block("192.168.0.0/16", "a private address (192.168.0.0/16)"),
  v4Block("198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"),
  v4Block("198.51.100.0/24", "a documentation address (198.51.100.0/24)"),
  v4Block("203.0.113.0/24", "a documentation address (203.0.113.0/24)"),
  v4Block("224.0.0.0/4", "a multicast address (224.0.0.0/4)"),
  v4Block("240.0.0.0/4", "a reserved or broadcast address (240.0.0.0/4)"),
];

/**
 * IPv6 blocks refused outright. Blocks that carry an IPv4 address which is checked instead (NAT64, 6to4) are
 * handled in `v6Reason`, and anything outside the global unicast range 2000::/3 is refused there too.
 */
const V6_BLOCKS: V6Block[] = [
  v6Block("::/128", "the unspecified address (::), which reaches the host itself"),
  v6Block("::1/128", "the IPv6 loopback address (::1)"),
  v6Block("::ffff:0:0/96", "an IPv4-mapped IPv6 address (::ffff:0:0/96); write the IPv4 address itself"),
  v6Block("::ffff:0:0:0/96", "an IPv4-translated IPv6 address (::ffff:0:0:0/96); write the IPv4 address itself"),
  v6Block("::/96", "an IPv4-compatible IPv6 address (::/96); write the IPv4 address itself"),
  v6Block("64:ff9b:1::/48", "a local-use NAT64 address (64:ff9b:1::/48)"),
  v6Block("100::/64", "a discard-only address (100::/64)"),
  v6Block("2001::/32", "a Teredo tunnel address (2001::/32)"),
  v6Block("2001::/23", "an IETF protocol address (2001::/23)"),
  v6Block("2001:db8::/32", "a documentation address (2001:db8::/32)"),
  v6Block("3fff::/20", "a documentation address (3fff::/20)"),
  v6Block("fc00::/7", "a unique-local address (fc00::/7), IPv6's private networks"),
  v6Block("fe80::/10", "a link-local address (fe80::/10)"),
  v6Block("fec0::/10", "a site-local address (fec0::/10)"),
  v6Block("ff00::/8", "a multicast address (ff00::/8)"),
];

/** NAT64 (RFC 6052): the last 32 bits are an IPv4 address, reached through a translator. */
const NAT64 = v6Block("64:ff9b::/96", "");
/** 6to4 (RFC 3056): bits 16 to 48 are the IPv4 address of the tunnel's end. */
const SIX_TO_FOUR = v6Block("2002::/16", "");
/** Global unicast: every public IPv6 address is in here. */
const GLOBAL_UNICAST = v6Block("2000::/3", "");

/**
 * Name suffixes that only have a meaning on a local network (special-use and commonly squatted private TLDs). A
 * name is refused when it is one of these or ends with `.` + one of these, e.g. `metadata.google.internal`.
 */
const LOCAL_SUFFIXES: [suffix: string, reason: string][] = [
  ["localhost", "a loopback name (localhost)"],
  ["local", "a multicast DNS name (.local)"],
  ["internal", "a private network name (.internal), as used by cloud metadata services"],
  ["localdomain", "a local network name (.localdomain)"],
  ["home.arpa", "a home network name (.home.arpa)"],
  ["arpa", "an infrastructure name (.arpa)"],
  ["lan", "a local network name (.lan)"],
  ["intranet", "a local network name (.intranet)"],
  ["corp", "a local network name (.corp)"],
  ["home", "a local network name (.home)"],
  ["private", "a local network name (.private)"],
];

/**
 * The canonical form of a host name or address, as `fetch` would see it: through the WHATWG URL host parser
 * (lowercase, punycode, IPv4 in dotted decimal, IPv6 compressed in brackets), without trailing dots. An IPv6
 * address may be given with or without brackets. null when the text is not a host (a URL, a port, a path, ...).
 */
export function normalizeHost(input: string): string | null {
  let host = input;
  // A bare IPv6 address (two colons or more) gets its brackets; one colon is a port, which is not a host.
  if (!host.startsWith("[") && (host.match(/:/g)?.length ?? 0) >= 2) host = `[${host}]`;
  // Anything that would make the parser read a port, user info, path, query or fragment is not a bare host.
  if (/[/?#@\\]/.test(host) || /:(?![^[]*\])/.test(host)) return null;
  // Parse until nothing changes: trailing dots are dropped, then what is left is parsed again, since
  // `127.0.0.1..` or `localhost。` (an ideographic full stop, which IDNA maps to ".") only show their real
  // form once their dots are gone.
  for (let round = 0; round < 4; round++) {
    const stripped = host.replace(/\.+$/, "");
    if (!stripped) return null;
    let parsed: string;
    try {
      parsed = new URL(`http://${stripped}/`).hostname;
    } catch {
      return null;
    }
    if (parsed === host) return host;
    host = parsed;
  }
  return host.replace(/\.+$/, "") || null;
}

/**
 * Why `host` (a host name or address, in any spelling) may never be reached, as a phrase such as
 * "a loopback address (127.0.0.0/8)"; null when it is an ordinary public host.
 */
export function forbiddenHostReason(host: string): string | null {
  const canonical = normalizeHost(host);
  if (canonical === null) return "not a valid host name or address";
  if (canonical.startsWith("[")) return v6Reason(parseV6(canonical));
  const v4 = parseV4(canonical);
  if (v4 !== null) return v4Reason(v4);
  return nameReason(canonical);
}

/** True when `host` may never be reached (see `forbiddenHostReason`). */
export function isForbiddenHost(host: string): boolean {
  return forbiddenHostReason(host) !== null;
}

/**
 * Why an `allowedHosts` entry is refused, or null when it is fine. A `*.` pattern is refused when the domain it
 * covers is forbidden (`*.localhost`, `*.internal`) or is an address (`*.10.0.0.1`: an address has no subdomains).
 */
export function forbiddenPatternReason(pattern: string): string | null {
  if (!pattern.startsWith("*.")) return forbiddenHostReason(pattern);
  const domain = normalizeHost(pattern.slice(2));
  if (domain === null) return "not a valid host name pattern";
  if (domain.startsWith("[") || parseV4(domain) !== null) return "a wildcard needs a domain name, not an address";
  // Only the local-network names apply here: the single-label rule is about a host on its own, and `*.com`
  // covers multi-label names.
  return localSuffixReason(domain);
}

/** Whether canonical `host` is one of `patterns` (`example.com` exactly, `*.example.com` its subdomains). */
export function hostMatches(host: string, patterns: readonly string[]): boolean {
  const canonical = normalizeHost(host);
  if (canonical === null) return false;
  return patterns.some((pattern) => {
    if (pattern.startsWith("*.")) {
      const domain = normalizeHost(pattern.slice(2));
      return domain !== null && canonical.endsWith(`.${domain}`);
    }
    return normalizeHost(pattern) === canonical;
  });
}

// --- IPv4 ---------------------------------------------------------------------------------------------------------

/** A canonical dotted-decimal IPv4 address as an unsigned 32-bit number; null for anything else. */
function parseV4(host: string): number | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function v4Reason(address: number): string | null {
  for (const block of V4_BLOCKS) {
    // Compare the top `bits` bits; a division keeps it in exact integer arithmetic (no 32-bit shift pitfalls).
    const size = 2 ** (32 - block.bits);
    if (Math.floor(address / size) === Math.floor(block.base / size)) return block.reason;
  }
  return null;
}

function v4Block(cidr: string, reason: string): V4Block {
  const [base, bits] = cidr.split("/") as [string, string];
  return { base: parseV4(base) as number, bits: Number(bits), reason };
}

function v4Text(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

// --- IPv6 ---------------------------------------------------------------------------------------------------------

/**
 * A canonical bracketed IPv6 address (as the URL parser writes it: lowercase hex groups, at most one `::`, no
 * embedded dotted IPv4) as a 128-bit number.
 */
function parseV6(host: string): bigint {
  const inner = host.slice(1, -1);
  const [head = "", tail] = inner.split("::") as [string, string | undefined];
  const groups = (text: string) => (text ? text.split(":") : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => "0");
  return [...left, ...zeros, ...right].reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

function inV6(address: bigint, block: V6Block): boolean {
  const shift = BigInt(128 - block.bits);
  return address >> shift === block.base >> shift;
}

function v6Reason(address: bigint): string | null {
  for (const block of V6_BLOCKS) if (inV6(address, block)) return block.reason;
  // Addresses that carry an IPv4 address are as forbidden as the address they carry.
  if (inV6(address, NAT64)) return embeddedV4Reason(Number(address & 0xffffffffn), "a NAT64 address");
  if (inV6(address, SIX_TO_FOUR)) return embeddedV4Reason(Number((address >> 80n) & 0xffffffffn), "a 6to4 address");
  if (!inV6(address, GLOBAL_UNICAST)) return "a reserved IPv6 address (outside the global unicast range 2000::/3)";
  return null;
}

function embeddedV4Reason(v4: number, kind: string): string | null {
  const reason = v4Reason(v4);
  return reason && `${kind} wrapping ${v4Text(v4)}, ${reason}`;
}

function v6Block(cidr: string, reason: string): V6Block {
  const [base, bits] = cidr.split("/") as [string, string];
  return { base: parseV6(normalizeHost(base) as string), bits: Number(bits), reason };
}

// --- names --------------------------------------------------------------------------------------------------------

function nameReason(name: string): string | null {
  const local = localSuffixReason(name);
  if (local) return local;
  // `metadata`, `instance-data`, `kubernetes`: a name without a dot is looked up in the resolver's search domains,
  // i.e. on the local network; no public host has one.
  if (!name.includes(".")) return "a single-label name, which only resolves on a local network";
  return null;
}

function localSuffixReason(name: string): string | null {
  for (const [suffix, reason] of LOCAL_SUFFIXES) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return reason;
  }
  return null;
}
