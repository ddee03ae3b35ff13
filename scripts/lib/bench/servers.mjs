/**
 * The servers a benchmark starts (the peers edgefn is compared with): each runs in a process group of its own,
 * so that stopping it stops whatever it started (worker processes, runtimes), and every group still running is
 * killed on every way out of this process: a normal exit, an uncaught error, a signal (see stopOnSignals), and
 * even a SIGKILL of this process: a server is started by a guard (this file run as `node servers.mjs guard
 * <command> <args...>`, its group's leader), which kills the whole group when the channel to this process closes.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../local.mjs";

const SELF = fileURLToPath(import.meta.url);

const running = new Set();

/** Signals a whole process group; false if it is gone. */
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

// Synchronous, so that it also runs on process.exit(): nothing this process started outlives it.
process.on("exit", () => {
  for (const server of running) signalGroup(server.pid, "SIGKILL");
});

/**
 * Stops every server still running, then exits, on SIGINT, SIGTERM or SIGHUP; `cleanup` runs first (it stops
 * what was started some other way, such as the edgefn platform).
 */
export function stopOnSignals(cleanup = async () => {}) {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, async () => {
      console.error(`bench: ${signal}: stopping everything`);
      await Promise.allSettled([cleanup(), ...[...running].map((s) => s.stop())]);
      process.exit(130);
    });
  }
}

export { freePort };

/** Polls `url` until anything answers (any status), for at most `timeoutMs`; false when nothing did. */
async function answers(url, timeoutMs, exited) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return false;
}

/** Waits until `output()` matches `line`, for at most `timeoutMs`; false when it did not. */
async function printed(line, output, timeoutMs, exited) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    if (line.test(output())) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return line.test(output());
}

/**
 * Starts `command args` in `cwd` (a process group of its own, output kept) and waits until `readyUrl` answers
 * or its output matches `readyLine`. Returns { name, pid, startMs (spawn to ready), output(), stop() }.
 */
export async function startServer({ name, command, args, cwd, env = {}, readyUrl, readyLine, timeoutMs = 120_000 }) {
  const started = performance.now();
  const child = spawn(process.execPath, [SELF, "guard", command, ...args], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ...env },
  });
  // The channel stays open (the guard stops its server when it closes) without keeping this process alive.
  child.channel?.unref();
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  // Read (and mostly dropped): a server whose output pipe fills up would block.
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let gone = false;
  exited.then(() => {
    gone = true;
  });

  let stopping;
  const server = {
    name,
    pid: child.pid,
    startMs: 0,
    output: () => output,
    stop() {
      stopping ??= (async () => {
        if (!gone) {
          signalGroup(child.pid, "SIGTERM");
          const timer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), 5000);
          await exited;
          clearTimeout(timer);
        }
        // Whatever of the group outlived its leader.
        signalGroup(child.pid, "SIGKILL");
        running.delete(server);
      })();
      return stopping;
    },
  };
  running.add(server);
  const ready = readyLine
    ? await printed(
        readyLine,
        () => output,
        timeoutMs,
        () => gone,
      )
    : await answers(readyUrl, timeoutMs, () => gone);
  if (!ready) {
    await server.stop();
    throw new Error(`${name} was not ready (${readyLine ?? readyUrl}) within ${timeoutMs / 1000} s:\n${output}`);
  }
  server.startMs = performance.now() - started;
  return server;
}

/** The guard: runs the server in this process group and takes the group down when its starter goes away. */
function guard([command, ...args]) {
  const server = spawn(command, args, { stdio: "inherit" });
  // A signal to the group reaches the server itself: this process waits for it to exit, and exits likewise.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => {});
  server.once("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  process.once("disconnect", () => process.kill(0, "SIGKILL"));
}

if (process.argv[2] === "guard" && process.argv[1] && resolve(process.argv[1]) === SELF) guard(process.argv.slice(3));
