/**
 * workerd's standard output, read in batches.
 *
 * Miniflare reads workerd's output through a pipe it listens on, so every line the Worker logs wakes this Node
 * process at once: 0.05-0.17 ms of CPU per line here, on a machine whose few cores the calls themselves need. The
 * Worker logs one line per call (the journal's begin, src/runtime/journal.ts), so that wake-up cost 5-10% of a
 * call's latency one at a time (docs/performance.md). Here workerd's standard output goes to a FIFO of the runtime's own instead,
 * read every 25 ms while it is quiet, every 10 ms while lines come, at once after a read of 8 KiB or more, and
 * whenever the runtime asks (`drain()`: before the supervisor acts on a stall or a crash). A line is still outside
 * workerd once written (in the kernel's pipe buffer, which outlives a frozen or killed workerd); it is only read
 * later. The pipe holds 64 KiB on Linux (about 150 journal lines, more than 10 ms of calls at the local runtime's
 * pace; 16 KiB on macOS): a full pipe would hold workerd's writes until the next read.
 *
 * Miniflare starts workerd by the path in MINIFLARE_WORKERD_PATH (each time: after a crash too); it is set to a
 * two-line script (in `scriptDir`, beside the runtime's other cached files rather than in a temporary folder that
 * may not allow running programs) that runs workerd with its standard output on the FIFO, both named by variables
 * of this process's environment. Standard error stays Miniflare's (its start-up and crash reports). One such
 * runtime per Node process (the variables are the process's); on Windows, or where no FIFO can be made, nothing
 * changes.
 */
import { spawnSync } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { writeAtomic } from "./local.mjs";

/** Milliseconds to the next read: after a read of nothing, of some lines, of BURST bytes or more. */
const QUIET_MS = 25;
const BUSY_MS = 10;
const BURST = 8 * 1024;
const CHUNK = 64 * 1024;

const PREFIX = "edgefn-workerd-";

/** The folders of runtimes whose process is gone (killed before it could remove its own). */
function removeLeftovers() {
  let names = [];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(PREFIX.length).split("-")[0]);
    if (!name.startsWith(PREFIX) || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if (err?.code === "ESRCH") rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/** What Miniflare runs as workerd: workerd itself, its standard output on the FIFO. */
const SCRIPT = `#!/bin/sh
# workerd with its standard output on the FIFO the local runtime reads (scripts/lib/workerd-stdout.mjs).
exec "$EDGEFN_WORKERD_BIN" "$@" >"$EDGEFN_WORKERD_STDOUT"
`;

/** The variables this sets in the process's environment (and puts back on close). */
const VARIABLES = ["MINIFLARE_WORKERD_PATH", "EDGEFN_WORKERD_BIN", "EDGEFN_WORKERD_STDOUT"];

function runnable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function readFileIfAny(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/**
 * A workerd log line as Miniflare hands it over (`{ timestamp, level, message }`; a line that is not structured
 * is an info message), or null for one Miniflare hides (see its messageClassifiers).
 */
function structured(line) {
  let parsed = null;
  try {
    parsed = JSON.parse(line);
  } catch {
    // Not JSON: a plain line.
  }
  const log =
    parsed && typeof parsed === "object" && typeof parsed.level === "string" && typeof parsed.message === "string"
      ? { timestamp: Number.parseInt(parsed.timestamp, 10) || Date.now(), level: parsed.level, message: parsed.message }
      : { timestamp: Date.now(), level: "log", message: line };
  const m = log.message;
  if (
    m.includes("Not symbolizing stack traces because $LLVM_SYMBOLIZER is not set") ||
    m.includes("took recursive isolate lock") ||
    /stack:( (0|[a-f\d]{4,})){3,}/.test(m) ||
    /CODE_MOVED for unknown code block/.test(m)
  ) {
    return null;
  }
  return log;
}

/**
 * Points Miniflare's next workerd at a FIFO read in batches; `onLog` gets each line (as Miniflare's
 * handleStructuredLogs would). Returns { drain(), close() }, or null where it cannot (then Miniflare reads the
 * output as usual).
 */
export function batchedWorkerdStdout(onLog, { scriptDir }) {
  if (process.platform === "win32") return null;
  removeLeftovers();
  let dir;
  try {
    dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  } catch {
    return null;
  }
  const fifo = join(dir, "stdout");
  let fd;
  try {
    const made = spawnSync("mkfifo", ["-m", "600", fifo], { stdio: "ignore" });
    if (made.status !== 0) throw new Error("mkfifo failed");
    // Non-blocking: open without a writer, and a read of an empty pipe answers at once.
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  const script = join(scriptDir, "workerd-stdout.sh");
  try {
    if (readFileIfAny(script) !== SCRIPT || !runnable(script)) writeAtomic(script, SCRIPT, 0o755);
  } catch {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  const previous = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  const given = process.env.MINIFLARE_WORKERD_PATH;
  // The workerd Miniflare itself would run: its own dependency, which need not be the project's `workerd`.
  process.env.EDGEFN_WORKERD_BIN =
    given && given !== script ? given : createRequire(import.meta.resolve("miniflare"))("workerd").default;
  process.env.EDGEFN_WORKERD_STDOUT = fifo;
  process.env.MINIFLARE_WORKERD_PATH = script;

  const buffer = Buffer.allocUnsafe(CHUNK);
  const decoder = new StringDecoder("utf8");
  let partial = "";
  let closed = false;

  /** Reads what the pipe holds and hands over its complete lines; answers how many bytes came. */
  function read() {
    if (closed) return 0;
    let text = "";
    let bytes = 0;
    for (let i = 0; i < 16; i++) {
      let n = 0;
      try {
        n = readSync(fd, buffer, 0, CHUNK, null);
      } catch (err) {
        if (err?.code === "EAGAIN" || err?.code === "EWOULDBLOCK") break;
        throw err;
      }
      if (n === 0) break; // No writer (between two workerd processes), nothing left.
      text += decoder.write(buffer.subarray(0, n));
      bytes += n;
      if (n < CHUNK) break;
    }
    if (text === "") return bytes;
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") continue;
      const log = structured(line);
      if (log) onLog(log);
    }
    return bytes;
  }

  // The folder goes with this process, however it exits (a signal's handler calls process.exit).
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir);

  let timer;
  const schedule = (ms) => {
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  function tick() {
    let bytes = 0;
    try {
      bytes = read();
    } catch {
      // The pipe is gone (closed below): nothing more to read.
    }
    if (!closed) schedule(bytes >= BURST ? 0 : bytes > 0 ? BUSY_MS : QUIET_MS);
  }
  schedule(QUIET_MS);

  return {
    /** Hands over every line written so far (what a frozen or exited workerd left in the pipe included). */
    drain() {
      try {
        while (read() > 0) {}
      } catch {
        // Closed.
      }
    },
    /** Reads what is left, stops reading and removes the FIFO (after workerd has stopped). */
    close() {
      if (closed) return;
      this.drain();
      if (partial !== "") {
        const log = structured(partial);
        partial = "";
        if (log) onLog(log);
      }
      closed = true;
      clearTimeout(timer);
      if (process.env.EDGEFN_WORKERD_STDOUT === fifo) {
        for (const name of VARIABLES) {
          if (previous[name] === undefined) delete process.env[name];
          else process.env[name] = previous[name];
        }
      }
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
      process.off("exit", removeDir);
      removeDir();
    },
  };
}
