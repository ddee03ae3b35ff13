/**
 * The runaway guard of a Python isolate's entry module (JavaScript, part of pythonEntrySource): the interrupt
 * buffer CPython reads, which reads as SIGINT once a stretch of synchronous Python runs past its limit.
 */
export const ENTRY_GUARD = `
// --- The runaway guard: an interrupt buffer whose [0] reads as SIGINT (2) once a stretch runs past its limit ------
// CPython reads it every 50 eval-loop checks (about 180,000 reads a second here). A stretch is the time since the isolate last gave the event loop a
// turn; it stays tripped until then, so a loop that swallows the error is interrupted again (the glue's SIGINT
// handler raises only where user code runs). Each call entering the isolate starts a fresh stretch.
let guarding = false;
let importing = false;
let armed = false;
let tripped = false;
let start = 0;
let reads = 0;
function reset() {
  // Called only between turns of Python (a new event, a timer): the glue stops raising in user code too.
  if (tripped && glue) {
    try { glue._resume_user_code(); } catch {}
  }
  armed = false;
  tripped = false;
}
function limitMs() {
  return importing ? CONFIG.importMs : CONFIG.stretchMs;
}
let sinceFired = 0;
function read() {
  if (!guarding) return 0;
  if (tripped) {
    // Fired again every so many reads, never on consecutive ones: CPython would call the handler inside the
    // handler, and recurse until the stack overflows.
    if (++sinceFired < 64) return 0;
    sinceFired = 0;
    return 2;
  }
  const t = now();
  if (!armed) {
    armed = true;
    start = t;
    reads = 0;
    try { setTimeout(reset, 0); } catch {}
    return 0;
  }
  if (t - start > limitMs() || ++reads > CONFIG.maxReads) {
    tripped = true;
    sinceFired = 0;
    return 2;
  }
  return 0;
}
const INTERRUPT = Object.create(null);
Object.defineProperty(INTERRUPT, 0, { get: read, set() {}, enumerable: true });
Object.defineProperty(INTERRUPT, "length", { value: 1 });

class StretchLimitError extends ErrorBase {
  constructor(ms) {
    super("Python ran longer than " + ms + " ms (or " + CONFIG.maxReads + " interrupt checks) without yielding to the event loop: a runaway loop?");
    this.name = "StretchLimitError";
  }
}

`;
