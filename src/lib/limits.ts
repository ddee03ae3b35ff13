/** Platform limits (DESIGN.md); exposed at GET /api/limits as functions grow more of them. */
export const LIMITS = {
  functionName: { min: 1, max: 140 },
  description: { max: 500 },
  externalId: { max: 255 },
  metadata: { pairs: 16, keyBytes: 32, valueBytes: 512, totalBytes: 4096 },
  workspaceName: { max: 63 },
  keyName: { max: 100 },
  retentionDays: { standard: 30, extended: 90 },
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
