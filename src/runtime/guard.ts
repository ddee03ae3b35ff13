/**
 * The loop guard, as the source of a module loaded into every isolate. Built code calls `guard()` at the
 * top of every loop body and function body. A "stretch" is the time since the isolate last gave the event
 * loop a turn (a macrotask); a stretch longer than the limit throws, and keeps throwing until the event
 * loop turns, so a runaway call ends even if it catches the error. Locally workerd enforces no CPU limit,
 * so without this one `while (true) {}` would freeze every request of the process; on Cloudflare the
 * isolate's cpuMs limit does the same job.
 */
export const GUARD_MODULE = "__edgefn/guard.js";

export function guardModuleSource(stretchMs: number): string {
  return `const now = Date.now;
const schedule = setTimeout;
const LIMIT = ${Math.max(1, Math.floor(stretchMs))};
let start = 0;
let armed = false;
let tripped = false;

export class StretchLimitError extends Error {
  constructor() {
    super("Synchronous execution ran longer than " + LIMIT + " ms without yielding (runaway loop or recursion?)");
    this.name = "StretchLimitError";
  }
}

function reset() {
  armed = false;
  tripped = false;
}

export function guard() {
  if (tripped) throw new StretchLimitError();
  const t = now();
  if (!armed) {
    armed = true;
    start = t;
    // Module evaluation may not set timers; there the stretch simply never ends early.
    try { schedule(reset, 0); } catch {}
    return;
  }
  if (t - start > LIMIT) {
    tripped = true;
    throw new StretchLimitError();
  }
}

/** Whether the current stretch was cut short (the entry module reports it even if user code swallowed it). */
export function wasTripped() {
  return tripped;
}
`;
}
