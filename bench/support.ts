/**
 * A small measuring kit for benchmarks that run inside workerd. The clock of a Worker only moves across I/O,
 * so every measured operation must do I/O (a request, a query, an RPC call) and is timed over a batch.
 * Cases are interleaved round by round so the machine's noise falls on all of them alike, and figures are
 * reported as ratios against a baseline measured in the same process.
 */
export type Case = () => Promise<unknown>;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Runs every case `perRound` times per round, for `rounds` rounds; returns each case's median ms per operation. */
export async function compare(
  cases: Record<string, Case>,
  { rounds = 15, perRound = 20, warmup = 5 } = {},
): Promise<Record<string, number>> {
  for (const fn of Object.values(cases)) for (let i = 0; i < warmup; i++) await fn();
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      const started = performance.now();
      for (let i = 0; i < perRound; i++) await fn();
      samples[name]?.push((performance.now() - started) / perRound);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

export interface Row {
  name: string;
  ms: number;
  /** The row it is compared with, by name. */
  vs?: string;
}

/** Prints a table of medians and ratios, and one JSON line for tools. */
export function report(title: string, rows: Row[], notes: Record<string, unknown> = {}) {
  const byName = new Map(rows.map((r) => [r.name, r.ms]));
  const lines = rows.map((r) => {
    const base = r.vs ? byName.get(r.vs) : undefined;
    const ratio = base ? `${(r.ms / base).toFixed(2)}x ${r.vs}` : "baseline";
    return `  ${r.name.padEnd(44)} ${r.ms.toFixed(2).padStart(9)} ms   ${ratio}`;
  });
  console.log([`\n${title}`, ...lines].join("\n"));
  console.log(
    JSON.stringify({
      bench: title,
      ...notes,
      results: rows.map((r) => ({
        name: r.name,
        medianMs: Number(r.ms.toFixed(3)),
        ...(r.vs ? { vs: r.vs, ratio: Number((r.ms / (byName.get(r.vs) as number)).toFixed(3)) } : {}),
      })),
    }),
  );
}
