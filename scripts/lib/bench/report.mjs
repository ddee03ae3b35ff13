/**
 * What `npm run bench` writes: bench/results.md from bench/results.json, and the goals it checks.
 */

/** The peer every goal is a ratio against (the issue's reference: what edgefn's users would run instead). */
export const GOAL_BASELINE = "serverless-offline, fresh: POST /noop";

/** The goals: edgefn's invoke and /run against the baseline, as ratios measured in the same run. */
export const GOALS = [
  { metric: "rpsRatio", concurrency: 32, label: "req/s at c=32", goal: 1.25, better: "higher" },
  { metric: "cpuRatio", concurrency: 32, label: "server CPU per request at c=32", goal: 0.75, better: "lower" },
  { metric: "p50Ratio", concurrency: 1, label: "p50 at c=1", goal: 1, better: "lower" },
];

/** Absolute goals of the one-off figures. */
export const STARTUP_GOAL_MS = 4000;
export const COLD_START_GOAL_MS = 10;
/** Python's: a first call from the snapshot, upload to ready, and a warm invoke against JavaScript's. */
export const PYTHON_GOALS = { coldMs: 500, uploadMs: 3000, warmP50Ratio: 1.5 };

const met = (value, goal, better) => value !== null && (better === "higher" ? value >= goal : value <= goal);

/** Each goal of each goal case of each edgefn target: the ratio measured and whether it is met. */
export function goalsOf(results) {
  const out = [];
  for (const key of results.goalCases) {
    for (const g of GOALS) {
      const row = results.http.find((r) => r.key === key && r.concurrency === g.concurrency);
      const ratio = row?.peers?.[g.metric] ?? null;
      out.push({
        case: key,
        goal: g.label,
        ratio,
        target: `${g.better === "higher" ? ">=" : "<="} ${g.goal}x`,
        met: met(ratio, g.goal, g.better),
      });
    }
  }
  for (const s of results.startup ?? []) {
    out.push({
      case: `${s.target}: ${s.name}`,
      goal: "ms",
      ratio: s.againMs,
      target: `<= ${STARTUP_GOAL_MS} ms`,
      met: met(s.againMs, STARTUP_GOAL_MS, "lower"),
    });
  }
  for (const c of (results.cold ?? []).filter((r) => r.name.includes("1 KB"))) {
    out.push({
      case: `${c.target}: ${c.name}`,
      goal: "ms over the warm call",
      ratio: c.overWarmMs,
      target: `<= ${COLD_START_GOAL_MS} ms`,
      met: met(c.overWarmMs, COLD_START_GOAL_MS, "lower"),
    });
  }
  for (const c of (results.cold ?? []).filter((r) => r.name.includes("Python from its memory snapshot"))) {
    out.push({
      case: `${c.target}: ${c.name}`,
      goal: "first call, ms",
      ratio: c.firstCallMs,
      target: `<= ${PYTHON_GOALS.coldMs} ms`,
      met: met(c.firstCallMs, PYTHON_GOALS.coldMs, "lower"),
    });
  }
  for (const u of (results.upload ?? []).filter((r) => r.name.includes("Python"))) {
    out.push({
      case: `${u.target}: ${u.name}`,
      goal: "ms",
      ratio: u.ms,
      target: `<= ${PYTHON_GOALS.uploadMs} ms`,
      met: met(u.ms, PYTHON_GOALS.uploadMs, "lower"),
    });
  }
  for (const r of (results.http ?? []).filter((r) => r.key.endsWith(": invoke, Python") && r.concurrency === 1)) {
    const ratio = r.self?.p50Ratio ?? null;
    out.push({
      case: r.key,
      goal: "p50 at c=1 against JavaScript's invoke",
      ratio,
      target: `<= ${PYTHON_GOALS.warmP50Ratio}x`,
      met: met(ratio, PYTHON_GOALS.warmP50Ratio, "lower"),
    });
  }
  return out;
}

const cell = (v, suffix = "") => (v === null || v === undefined ? "" : `${v}${suffix}`);

/**
 * The first edgefn target (this checkout) against each other one (`--compare`: main, say), from the medians of the
 * same run: the goal cases side by side.
 */
function beforeAfter(results) {
  const labels = [...new Set(results.goalCases.map((k) => k.slice(0, k.lastIndexOf(": "))))];
  if (labels.length < 2) return [];
  const [after, ...others] = labels;
  const lines = [];
  const figures = [
    ["c=1 p50 ms", 1, "p50Ms"],
    ["c=1 p99 ms", 1, "p99Ms"],
    ["c=32 req/s", 32, "rps"],
    ["CPU ms/req (c=32)", 32, "cpuMs"],
  ];
  for (const before of others) {
    lines.push(
      "",
      `### ${after} against ${before}`,
      "",
      "Both in this run, cases interleaved; the ratio is of the medians (this checkout / the other).",
      "",
      "| case | figure | before | after | after / before |",
      "|---|---|---:|---:|---:|",
    );
    for (const name of ["invoke", "/run"]) {
      for (const [label, concurrency, field] of figures) {
        const row = (target) =>
          results.http.find((r) => r.key === `${target}: ${name}` && r.concurrency === concurrency);
        const a = row(after)?.[field] ?? null;
        const b = row(before)?.[field] ?? null;
        const ratio = a === null || b === null || b === 0 ? null : Number((a / b).toFixed(2));
        lines.push(`| ${name} | ${label} | ${cell(b)} | ${cell(a)} | ${cell(ratio)} |`);
      }
    }
  }
  return lines;
}

export function markdown(results) {
  const lines = [];
  const m = results.machine;
  lines.push(
    `Measured ${results.date} on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB), Node ${m.node}; load average ${m.loadBefore.join(" / ")} before the run and ${m.loadAfter.join(" / ")} after it (the machine is shared).`,
    "",
    `Command: \`${results.command}\` (${results.method.rounds} rounds, ${results.method.secondsPerRun} s per case and concurrency, autocannon).`,
  );

  lines.push("", "### Against the peers", "");
  lines.push(
    `The same no-op function on each (answer a POST of \`{"args": ...}\` with the args); server CPU is the whole process tree's (utime + stime from /proc) per answered request. Ratios are against **${GOAL_BASELINE}**, taken per round and their median.`,
    "",
  );
  lines.push(
    "| target | start ms | c=1 p50 ms | c=1 p99 ms | c=32 req/s | c=32 p50 ms | CPU ms/req (c=32) | p50 ratio (c=1) | req/s ratio (c=32) | CPU ratio (c=32) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const key of results.peerRows) {
    const one = results.http.find((r) => r.key === key && r.concurrency === 1);
    const many = results.http.find((r) => r.key === key && r.concurrency === 32);
    const start = results.targets.find((t) => key.startsWith(`${t.label}: `))?.startMs;
    lines.push(
      `| ${key} | ${cell(start)} | ${cell(one?.p50Ms)} | ${cell(one?.p99Ms)} | ${cell(many?.rps)} | ${cell(many?.p50Ms)} | ${cell(many?.cpuMs)} | ${cell(one?.peers?.p50Ratio)} | ${cell(many?.peers?.rpsRatio)} | ${cell(many?.peers?.cpuRatio)} |`,
    );
  }

  lines.push(...beforeAfter(results));

  lines.push("", "### Goals", "", "| case | figure | measured | goal | met |", "|---|---|---:|---|---|");
  for (const g of goalsOf(results)) {
    lines.push(`| ${g.case} | ${g.goal} | ${cell(g.ratio)} | ${g.target} | ${g.met ? "yes" : "**no**"} |`);
  }

  lines.push("", "### How each is started", "");
  for (const t of results.targets) lines.push(`- **${t.label}**: ${t.how}`);

  lines.push("", "### edgefn against itself", "");
  lines.push(
    "The baselines are the same built bundle called straight through the Worker Loader (no key, no lookup, no record).",
    "",
    "| case | concurrency | p50 ms | p99 ms | req/s | CPU ms/req | vs | p50 ratio | p99 ratio | req/s ratio | CPU ratio |",
    "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
  );
  for (const r of results.http.filter((r) => r.self)) {
    lines.push(
      `| ${r.key} | ${r.concurrency} | ${r.p50Ms} | ${r.p99Ms} | ${r.rps} | ${cell(r.cpuMs)} | ${r.self.vs ?? "baseline"} | ${cell(r.self.p50Ratio)} | ${cell(r.self.p99Ratio)} | ${cell(r.self.rpsRatio)} | ${cell(r.self.cpuRatio)} |`,
    );
  }
  for (const [target, n] of Object.entries(results.recordedCalls)) {
    lines.push(
      "",
      `${target}: every invoke and /run call answered during these runs was recorded: ${n} calls, counted through the metrics endpoint afterwards.`,
    );
  }

  lines.push("", "### Start, cold start and build", "");
  lines.push("| case | figure | baseline | ratio |", "|---|---:|---:|---:|");
  for (const s of results.startup ?? []) {
    lines.push(`| ${s.target}: ${s.name} | ${s.againMs} ms (on new storage: ${s.freshMs} ms) | | |`);
  }
  for (const r of results.cold ?? []) {
    lines.push(
      `| ${r.target}: ${r.name} | first call ${r.firstCallMs} ms (+${r.overWarmMs} ms) | warm call ${r.warmCallMs} ms | ${r.ratio}x |`,
    );
  }
  for (const u of results.upload ?? []) {
    lines.push(`| ${u.target}: ${u.name} | ${u.ms} ms | ${u.vs}: ${u.baselineMs} ms | ${u.ratio}x |`);
  }
  for (const f of results.failed ?? []) lines.push(`| ${f.target}: ${f.what} | not measured: ${f.error} | | |`);

  if (results.workers?.length) {
    lines.push("", "### In the runtime (bench/*.bench.ts)");
    for (const b of results.workers) {
      lines.push("", `**${b.bench}**`, "", "| case | median ms | ratio |", "|---|---:|---|");
      for (const r of b.results) {
        lines.push(`| ${r.name} | ${r.medianMs} | ${r.vs ? `${r.ratio}x ${r.vs}` : "baseline"} |`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
