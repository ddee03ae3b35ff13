/**
 * The local runtime's watchdog and call journal.
 *
 * Locally every isolate (the host Worker and the functions' dynamic isolates) shares workerd's one thread and
 * no CPU limit applies, so work the loop guard cannot see (a regular expression backtracking with
 * backreferences, a WebAssembly loop) freezes the whole process, and only killing workerd ends it. The
 * supervisor probes GET /healthz straight at workerd every 500 ms (1 s timeout); when nothing has answered for
 * 3 s it SIGKILLs workerd, which Miniflare starts again on the same ports and storage (a new Miniflare if that
 * does not answer). It also notices workerd exiting by itself (a memory bomb) while Miniflare restarts it.
 *
 * The journal: the Worker reports the calls running user code (`begin` before the code runs, `end` for those
 * that finished) as lines of its log, `edgefn-journal <token> <json>` (src/runtime/journal.ts), which the
 * runtime hands over instead of printing them: workerd writes a log line at once, so a begin is out of workerd
 * (in the pipe the runtime reads, see ./workerd-stdout.mjs) before the call's code runs, even if that code then
 * freezes workerd; the runtime reads the pipe to its end before a stall or a crash is acted on. The same
 * messages are taken over HTTP (POST {url}/journal) from anything else holding the token. After a restart, once
 * /healthz answers, the supervisor hands the calls that were open to the platform (POST /__edgefn/recover): after
 * a stall, the one that began last is the call that froze the process (`stalled`), the others were
 * `interrupted`; after a crash all were interrupted.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { startRuntime } from "./runtime.mjs";

export const PROBE_EVERY_MS = 500;
export const PROBE_TIMEOUT_MS = 1000;
/** How long the runtime may not answer before it is restarted... */
export const STALL_AFTER_MS = 3000;
/** ...unless an open journal entry asks for longer (a Python boot, `stallMs`), up to this. */
const STALL_AT_MOST_MS = 60_000;
const RECOVER_RETRY_MS = 500;
const RECOVER_FOR_MS = 30_000;
/** How long the warm-up after a start may take (a few Python boots of half a second each, at most). */
const WARM_FOR_MS = 60_000;
/** An entry is dropped this long after its call's timeout (its end was lost). */
const ENTRY_GRACE_MS = 60_000;
const JOURNAL_CAP = 10_000;
const BODY_CAP = 1024 * 1024;
const HEADER = "x-edgefn-supervisor";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Starts the journal's HTTP server on 127.0.0.1 (a random port). Returns the supervisor: `vars` (the two
 * Worker vars naming it), `runtimeEvents` (to pass to startRuntime), `watch(runtime)`, `status()`, `stop()`.
 */
export async function createSupervisor({ log = (line) => console.error(`edgefn: ${line}`) } = {}) {
  const token = randomBytes(32).toString("base64url");
  const tokenBytes = Buffer.from(token);
  /** Open calls by id, in the order their begins arrived. */
  const journal = new Map();
  const recoveries = [];
  /** The warm-ups after each start: { startedAt, done, ok, warmed, skipped? }. */
  const warmUps = [];
  let restarts = 0;
  let runtime;
  let stopped = false;
  let loop;
  const abort = new AbortController();

  const authorized = (req) => {
    const given = Buffer.from(String(req.headers[HEADER] ?? ""));
    return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
  };

  function begin(entry) {
    if (!entry || typeof entry !== "object" || typeof entry.id !== "string" || entry.id === "") return;
    journal.delete(entry.id);
    if (journal.size >= JOURNAL_CAP) journal.delete(journal.keys().next().value);
    journal.set(entry.id, entry);
  }

  /** The stall limit in force: 3 s, or the longest `stallMs` of the open entries (capped). */
  function stallLimit() {
    let ms = STALL_AFTER_MS;
    for (const e of journal.values()) {
      const asked = Number(e.stallMs);
      if (Number.isFinite(asked)) ms = Math.max(ms, Math.min(asked, STALL_AT_MOST_MS));
    }
    return ms;
  }

  /** A journal message: ends first (a message may end calls and begin the next). */
  function apply(message) {
    if (Array.isArray(message?.end)) for (const id of message.end) journal.delete(id);
    if (message?.begin) begin(message.begin);
  }

  /** A journal line of the Worker's log (without its prefix): `<token> <json>`, kept only with the token. */
  function journalLine(line) {
    const space = line.indexOf(" ");
    const given = Buffer.from(space < 0 ? "" : line.slice(0, space));
    if (given.length !== tokenBytes.length || !timingSafeEqual(given, tokenBytes)) return;
    try {
      apply(JSON.parse(line.slice(space + 1)));
    } catch {
      // Not a message: nothing to keep.
    }
  }

  function prune(now) {
    for (const [id, e] of journal) {
      const startedAt = Number(e.startedAt) || 0;
      const timeoutMs = Number(e.timeoutMs) || 0;
      if (now > startedAt + timeoutMs + ENTRY_GRACE_MS) journal.delete(id);
    }
  }

  /** The open entries, oldest begin first; the journal is emptied (those calls' process is gone). */
  function takeJournal() {
    const entries = [...journal.values()];
    journal.clear();
    return entries;
  }

  const server = createServer((req, res) => {
    if (!authorized(req)) {
      res.writeHead(req.url === "/journal" || req.url === "/status" ? 403 : 404).end();
      req.resume();
      return;
    }
    if (req.method === "POST" && req.url === "/journal") {
      const chunks = [];
      let size = 0;
      req.on("data", (chunk) => {
        size += chunk.length;
        if (size <= BODY_CAP) chunks.push(chunk);
      });
      req.on("end", () => {
        if (size > BODY_CAP) return void res.writeHead(413).end();
        let message;
        try {
          message = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          return void res.writeHead(400).end();
        }
        apply(message);
        res.writeHead(204).end();
      });
      return;
    }
    if (req.method === "GET" && req.url === "/status") {
      req.resume();
      runtime?.drainLog?.();
      const body = JSON.stringify({
        journal: [...journal.values()],
        restarts,
        recoveries,
        warmUps,
        workerdPids: runtime?.workerdPids() ?? [],
      });
      res.writeHead(200, { "content-type": "application/json" }).end(body);
      return;
    }
    req.resume();
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;

  // What the runtime reports: workerd exited by itself (Miniflare is restarting it), and the journal's lines.
  let crash = null;
  const runtimeEvents = {
    crash() {
      if (stopped || crash) return;
      crash = { at: Date.now(), entries: takeJournal() };
    },
    journal: journalLine,
  };

  async function answers(timeoutMs = PROBE_TIMEOUT_MS) {
    try {
      const res = await fetch(`${runtime.url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      return true;
    } catch {
      return false;
    }
  }

  async function answersWithin(ms) {
    const deadline = Date.now() + ms;
    while (!stopped && Date.now() < deadline) {
      if (await answers()) return true;
      await sleep(100);
    }
    return false;
  }

  /** Posts the recovery to the platform, every 500 ms until a 2xx, for up to 30 s. */
  async function recover(body) {
    const record = {
      reason: body.reason,
      stalled: body.stalled,
      interrupted: body.interrupted,
      stalledAt: body.stalledAt,
      restartedAt: body.restartedAt,
      attempts: 0,
      status: null,
      done: false,
    };
    recoveries.push(record);
    if (recoveries.length > 20) recoveries.shift();
    const deadline = Date.now() + RECOVER_FOR_MS;
    const payload = JSON.stringify(body);
    while (!stopped) {
      record.attempts++;
      try {
        const res = await fetch(`${runtime.url}/__edgefn/recover`, {
          method: "POST",
          headers: { [HEADER]: token, "content-type": "application/json" },
          body: payload,
          signal: AbortSignal.any([abort.signal, AbortSignal.timeout(5000)]),
        });
        record.status = res.status;
        await res.body?.cancel();
        if (res.ok) {
          record.done = true;
          return;
        }
      } catch (err) {
        record.status = 0;
        record.error = err?.message ?? String(err);
      }
      if (Date.now() + RECOVER_RETRY_MS > deadline) break;
      await sleep(RECOVER_RETRY_MS);
    }
    if (stopped) return;
    const calls = (body.stalled ? 1 : 0) + body.interrupted.length;
    log(
      `could not hand ${calls} interrupted call(s) to the platform: POST /__edgefn/recover answered ${
        record.status || record.error
      } for ${RECOVER_FOR_MS / 1000} s`,
    );
  }

  /**
   * After the runtime (re)started: the platform makes the isolates of the functions called most recently
   * (POST /__edgefn/warm), so that their next calls do not each wait for a new one. Once; a failure only costs
   * those first calls their speed.
   */
  async function warm({ afterRestart = false } = {}) {
    if (stopped || !runtime) return;
    const last = warmUps.at(-1);
    const record = { startedAt: Date.now(), done: false, ok: false, warmed: 0 };
    warmUps.push(record);
    if (warmUps.length > 20) warmUps.shift();
    // The runtime stopped while the last warm-up was making isolates: it may be what stopped it (a Python boot
    // that froze or outgrew the runtime), and making them again could do the same, over and over.
    if (afterRestart && last && !last.ok) {
      // Skipped, not failed: a later restart warms again.
      Object.assign(record, { done: true, ok: true, skipped: true });
      log("the warm-up after the last start did not finish; the isolates are made by the first calls this time");
      return;
    }
    try {
      const res = await fetch(`${runtime.url}/__edgefn/warm`, {
        method: "POST",
        headers: { [HEADER]: token },
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(WARM_FOR_MS)]),
      });
      if (!res.ok) return void (await res.body?.cancel());
      const out = await res.json();
      record.ok = true;
      record.warmed = Number(out?.warmed) || 0;
      if (record.warmed > 0) log(`made the isolates of ${record.warmed} recently called function(s) in ${out.ms} ms`);
    } catch {
      // Stopped meanwhile, or the runtime is busy: the first calls make their isolates themselves.
    } finally {
      record.done = true;
    }
  }

  /**
   * Restarts a runtime that stopped answering: SIGKILL of workerd (Miniflare starts it again), or, when that
   * does not answer within 5 s (or there was no workerd to kill), a new Miniflare on the same storage.
   */
  async function restart(stalledAt, silentMs) {
    const reason = crash ? "crash" : "stall";
    // The journal's last lines, written before workerd froze, may not have been read yet.
    runtime.drainLog?.();
    const entries = crash ? crash.entries : takeJournal();
    const started = Date.now();
    let how = "SIGKILL of workerd";
    let ok = false;
    if (runtime.kill().length > 0) ok = await answersWithin(5000);
    if (!ok && !stopped) {
      how = "a new Miniflare";
      try {
        await runtime.recreate();
        ok = await answersWithin(10_000);
      } catch (err) {
        log(`could not restart the runtime: ${err?.message ?? err}`);
      }
    }
    if (stopped) return;
    crash = null;
    restarts++;
    const restartedAt = Date.now();
    log(
      ok
        ? `the runtime did not answer for ${seconds(silentMs)} (${reason}); restarted it (${how}) in ${seconds(restartedAt - started)}`
        : `the runtime did not answer for ${seconds(silentMs)} (${reason}) and did not come back after a restart`,
    );
    if (!ok) return;
    const stalled = reason === "stall" ? (entries.at(-1) ?? null) : null;
    const interrupted = reason === "stall" ? entries.slice(0, -1) : entries;
    void recover({ reason, stalled, interrupted, stalledAt, restartedAt }).then(() => warm({ afterRestart: true }));
  }

  async function watchLoop() {
    let lastAnswer = Date.now();
    let firstFailure = null;
    let failures = 0;
    let expected = Date.now();
    while (!stopped) {
      let started = Date.now();
      // The probe that would end after the limit is cut short, so a stall is acted on 3 s after the last answer.
      const limit = crash ? STALL_AFTER_MS * 2 : stallLimit();
      const timeout = Math.max(
        200,
        failures === 0 ? PROBE_TIMEOUT_MS : Math.min(PROBE_TIMEOUT_MS, lastAnswer + limit - started),
      );
      const ok = await answers(timeout);
      if (stopped) break;
      const now = Date.now();
      // This process itself did not run for a while (a suspended laptop, a debugger): no evidence either way.
      if (started > expected + 2000 || now > started + timeout + 2000) {
        lastAnswer = now;
        firstFailure = null;
        failures = 0;
        started = now;
      }
      expected = Math.max(now, started + PROBE_EVERY_MS);
      prune(now);
      if (ok) {
        if (crash) {
          // Miniflare restarted workerd after it exited by itself.
          const { at, entries } = crash;
          crash = null;
          restarts++;
          log(`workerd exited (crash); Miniflare restarted it, answering again ${seconds(now - at)} later`);
          void recover({ reason: "crash", stalled: null, interrupted: entries, stalledAt: at, restartedAt: now }).then(
            () => warm({ afterRestart: true }),
          );
        }
        lastAnswer = now;
        firstFailure = null;
        failures = 0;
      } else {
        runtime.drainLog?.();
        firstFailure ??= started;
        failures++;
        // Three probes in a row and 3 s without an answer (one late probe after a suspended laptop is not a
        // stall). After a crash Miniflare gets longer to bring workerd back by itself.
        const silent = now - lastAnswer;
        if (failures >= 3 && silent >= (crash ? STALL_AFTER_MS * 2 : stallLimit())) {
          await restart(crash ? crash.at : firstFailure, silent);
          lastAnswer = Date.now();
          expected = lastAnswer;
          firstFailure = null;
          failures = 0;
          continue;
        }
      }
      const wait = PROBE_EVERY_MS - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
  }

  return {
    url,
    token,
    vars: { EDGEFN_SUPERVISOR_URL: url, EDGEFN_SUPERVISOR_TOKEN: token },
    runtimeEvents,
    /** Starts watching a runtime from startRuntime (already answering). */
    watch(rt) {
      runtime = rt;
      loop = watchLoop();
      void warm();
    },
    status: () => {
      runtime?.drainLog?.();
      return { journal: [...journal.values()], restarts, recoveries, warmUps };
    },
    /** Stops probing and recovering, and closes the journal's server. */
    async stop() {
      stopped = true;
      abort.abort();
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r()));
      await loop;
    },
  };
}

/**
 * The runtime under its supervisor: the journal's server, then the runtime with the supervisor's vars, then
 * the watchdog once /healthz answers. Returns { url, runtime, supervisor, stop() }; `stop` disposes of
 * everything (workerd included) and is safe to call more than once.
 */
export async function startSupervised({
  port,
  persistTo,
  vars = {},
  main,
  log = (line) => console.error(`edgefn: ${line}`),
}) {
  const supervisor = await createSupervisor({ log });
  let runtime;
  try {
    runtime = await startRuntime({
      port,
      persistTo,
      main,
      vars: { ...vars, ...supervisor.vars },
      events: supervisor.runtimeEvents,
      log,
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const res = await fetch(`${runtime.url}/healthz`, { signal: AbortSignal.timeout(5000) });
        await res.body?.cancel();
        if (res.ok) break;
      } catch {
        // Not answering yet.
      }
      if (Date.now() > deadline) throw new Error(`${runtime.url}/healthz did not answer within 60 s`);
      await sleep(50);
    }
  } catch (err) {
    await supervisor.stop();
    await runtime?.dispose().catch(() => {});
    throw err;
  }
  supervisor.watch(runtime);
  let stopping;
  return {
    url: runtime.url,
    runtime,
    supervisor,
    stop() {
      stopping ??= (async () => {
        await supervisor.stop();
        await runtime.dispose();
      })();
      return stopping;
    },
  };
}
