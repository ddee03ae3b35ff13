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
// The clock does not move while a module is being evaluated (there is no request yet), so a stretch also ends
// after this many guard calls: far more than any honest code makes between two turns of the event loop.
const MAX_CALLS = 50_000_000;
let start = 0;
let calls = 0;
let armed = false;
let tripped = false;

export class StretchLimitError extends Error {
  constructor() {
    super("Synchronous execution ran longer than " + LIMIT + " ms (or " + MAX_CALLS + " loop and call steps) without yielding: a runaway loop or recursion?");
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
    calls = 0;
    // Module evaluation may not set timers; there the stretch simply never ends early.
    try { schedule(reset, 0); } catch {}
    return;
  }
  if (t - start > LIMIT || ++calls > MAX_CALLS) {
    tripped = true;
    throw new StretchLimitError();
  }
}

/**
 * Starts a fresh stretch for a new event (a call or request). Timers die with the request that set them,
 * so the reset timer of an earlier call may never fire; every event entering the isolate is itself a turn of
 * the event loop, since it can only begin while no other code runs.
 */
export function enter() {
  reset();
}

/** Whether the current stretch was cut short (the entry module reports it even if user code swallowed it). */
export function wasTripped() {
  return tripped;
}
`;
}
