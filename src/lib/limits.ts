/** Platform limits; exposed at GET /api/limits. */
export const LIMITS = {
  functionName: { min: 1, max: 140 },
  description: { max: 500 },
  externalId: { max: 255 },
  metadata: { pairs: 16, keyBytes: 32, valueBytes: 512, totalBytes: 4096 },
  workspaceName: { max: 63 },
  keyName: { max: 100 },
  retentionDays: { standard: 30, extended: 90 },
  /** A call's wall-clock limit: default, and bounds for a function's timeoutMs. */
  timeoutMs: { default: 30_000, min: 100, max: 900_000 },
  /** CPU per call: enforced by Cloudflare through the loader's limits. Local workerd has no CPU limit: there the loop guard's stretchMs bounds runaway code instead. */
  cpuMs: { default: 30_000, min: 10, max: 300_000 },
  /** Longest stretch of synchronous execution before the loop guard ends it (EDGEFN_STRETCH_MS overrides). */
  stretchMs: 200,
  argsBytes: 1024 * 1024,
  schedulesPerFunction: 100,
  /** How far ahead an async call can be scheduled. */
  scheduleAheadMs: 30 * 86_400_000,
  /** How often a failed async call is tried again, when the failure is retryable. */
  maxRetries: { default: 2, min: 0, max: 10 },
  /** Seconds before the first retry; each further retry waits twice as long (EDGEFN_RETRY_BACKOFF_S overrides). */
  retryBackoffSeconds: 2,
  /** Calls and logs are kept this many days unless the workspace says otherwise. */
  callRetentionDays: { default: 14, min: 1, max: 365 },
  resultBytes: 1024 * 1024,
  /**
   * Request bodies, capped while they stream: JSON bodies; code uploads (the code limit plus room for JSON escaping
   * and archive headers); one Appwrite upload chunk (5 MiB) with its multipart envelope; HTTP bodies streamed to a
   * function (/run, a function's own origin, the Supabase surface).
   */
  body: { json: 6 * 1024 * 1024, upload: 16 * 1024 * 1024, chunk: 6 * 1024 * 1024, http: 100 * 1024 * 1024 },
  codeBytes: 10 * 1024 * 1024,
  /** Files in one upload (a node_modules folder included). */
  codeFiles: 10_000,
  /**
   * An archive's entries of every kind (folders, links and skipped files too), and the uncompressed bytes read from
   * a tar (a skipped .git folder streams by but counts here).
   */
  archive: { entries: 100_000, bytes: 64 * 1024 * 1024 },
  /** A call's logs: at most this many bytes and lines (each line costs logLineOverhead bytes beyond its text). */
  logBytes: 256 * 1024,
  logLines: 2_000,
  logLineOverhead: 32,
  /** totalBytes (names and values) keeps a function's row well inside D1's 2 MB row limit. */
  envVars: { count: 100, key: /^[A-Za-z_][A-Za-z0-9_]*$/, valueBytes: 32 * 1024, totalBytes: 128 * 1024 },
  secrets: { count: 30, key: /^[a-z0-9-]{1,15}$/, totalBytes: 25 * 1024 },
  allowedHosts: 50,
  /** How deep calls may nest through ctx.client, and how many calls one root call may make in all. */
  callDepth: 5,
  callTreeCalls: 100,
  /** Calls of one workspace running at once in one host isolate (EDGEFN_WORKSPACE_CONCURRENCY overrides). */
  workspaceConcurrency: 64,
} as const;

const bytes = (s: string) => new TextEncoder().encode(s).byteLength;

/** Cognite's metadata rules; returns the first violation, or null. */
export function metadataProblem(metadata: Record<string, string>): string | null {
  const { pairs, keyBytes, valueBytes, totalBytes } = LIMITS.metadata;
  const entries = Object.entries(metadata);
  if (entries.length > pairs) return `at most ${pairs} key-value pairs`;
  let total = 0;
  for (const [k, v] of entries) {
    if (bytes(k) > keyBytes) return `key '${k.slice(0, 40)}' is longer than ${keyBytes} bytes`;
    if (bytes(v) > valueBytes) return `value of '${k}' is longer than ${valueBytes} bytes`;
    total += bytes(k) + bytes(v);
  }
  if (total > totalBytes) return `keys and values together exceed ${totalBytes} bytes`;
  return null;
}

/** Cognite's rules for env vars; returns the first violation, or null. */
export function envVarsProblem(vars: Record<string, string>): string | null {
  const entries = Object.entries(vars);
  if (entries.length > LIMITS.envVars.count) return `at most ${LIMITS.envVars.count} variables`;
  let total = 0;
  for (const [k, v] of entries) {
    if (!LIMITS.envVars.key.test(k))
      return `'${k.slice(0, 40)}' is not a valid name (letters, digits and underscores, not starting with a digit)`;
    if (bytes(v) > LIMITS.envVars.valueBytes)
      return `value of '${k}' is longer than ${LIMITS.envVars.valueBytes} bytes`;
    total += bytes(k) + bytes(v);
  }
  if (total > LIMITS.envVars.totalBytes) return `names and values together exceed ${LIMITS.envVars.totalBytes} bytes`;
  return null;
}

/** Cognite's rules for secrets; returns the first violation, or null. */
export function secretsProblem(secrets: Record<string, string>): string | null {
  const entries = Object.entries(secrets);
  if (entries.length > LIMITS.secrets.count) return `at most ${LIMITS.secrets.count} secrets`;
  let total = 0;
  for (const [k, v] of entries) {
    if (!LIMITS.secrets.key.test(k)) return `'${k.slice(0, 40)}' is not a valid secret name (^[a-z0-9-]{1,15}$)`;
    total += bytes(k) + bytes(v);
  }
  if (total > LIMITS.secrets.totalBytes) return `names and values together exceed ${LIMITS.secrets.totalBytes} bytes`;
  return null;
}
