/**
 * Load generation for `npm run bench`: one autocannon run against one request, with the latency of every
 * response and the CPU the server's whole process tree used meanwhile (see ./proc.mjs).
 */
import autocannon from "autocannon";
import { cpuBetween, treeCpu } from "./proc.mjs";

/** The median of the values that are not null (null when there are none). */
export const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

export const round = (n, d = 2) => (n === null || n === undefined ? null : Number(n.toFixed(d)));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the process tree of `pid` is quiet (under `share` of one core over 250 ms), at most `maxMs`: work
 * a server still does for the last run (requests still queued, records written after the answers) must not be
 * charged to the next one.
 */
export async function settle(pid, { share = 0.05, maxMs = 30_000 } = {}) {
  const deadline = Date.now() + maxMs;
  let before = treeCpu(pid);
  while (before && Date.now() < deadline) {
    await sleep(250);
    const after = treeCpu(pid);
    if (cpuBetween(before, after) <= 250 * share) return;
    before = after;
  }
}

/**
 * One run: `connections` connections sending `request` ({url, method, headers, body}) back to back for `seconds`.
 * Returns p50/p99 latency (ms; null when nothing was answered in time), requests per second, the requests
 * answered, and, when `pid` is given, the CPU milliseconds the server's process tree used per answered request.
 * Any failed request fails the run.
 */
export function measure(request, { connections, seconds, pid }) {
  const { url, method = "GET", headers = {}, body } = request;
  return new Promise((resolve, reject) => {
    const latencies = [];
    const before = pid ? treeCpu(pid) : null;
    const instance = autocannon(
      { url, method, headers, body, connections, duration: seconds, timeout: 30 },
      (err, result) => {
        const after = pid ? treeCpu(pid) : null;
        if (err) return reject(err);
        const bad = result.non2xx + result.errors + result.timeouts;
        if (bad > 0) return reject(new Error(`${method} ${url}: ${bad} failed requests of ${result.requests.total}`));
        const cpu = cpuBetween(before, after);
        const n = latencies.length;
        // A server too slow to answer within the run has no latency to show, and used its CPU for nothing yet.
        resolve({
          p50: n ? percentile(latencies, 50) : null,
          p99: n ? percentile(latencies, 99) : null,
          rps: n / seconds,
          n,
          cpuMs: cpu === null || n === 0 ? null : cpu / n,
        });
      },
    );
    instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}

/** A cold-start row: first calls against the warm calls that followed each. */
export function coldRow(name, m, samples) {
  return {
    name,
    firstCallMs: round(median(m.first)),
    warmCallMs: round(median(m.warm)),
    overWarmMs: round(median(m.first.map((f, i) => f - m.warm[i]))),
    ratio: round(median(m.first.map((f, i) => f / m.warm[i]))),
    samples,
  };
}
