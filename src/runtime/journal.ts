import type { Env } from "../env";

/**
 * The call journal of a supervised local runtime. Local workerd enforces no CPU limit and runs every isolate on
 * one thread, so native work the loop guard cannot see (a catastrophic regular expression, a WebAssembly loop)
 * freezes the whole process; the supervisor of `npm start` then restarts it. So that the calls in flight are
 * not lost without a trace, the host tells the supervisor (outside the process) which call is about to run user
 * code, and which calls ended. After a restart the supervisor hands the open entries back (see domain/recover).
 *
 * A message is one line of the host's log, `edgefn-journal <token> <json>`: workerd writes a log line to its
 * output at once (a synchronous write, which the supervisor reads even while workerd is frozen), so a begin is
 * outside the process before the call's code can run, without a request per call. The runtime takes these lines
 * out of the log it prints and hands them to the supervisor, which keeps those carrying its token.
 *
 * Off unless the supervisor configured it (EDGEFN_SUPERVISOR_URL and _TOKEN): on Cloudflare each isolate's cpuMs
 * ends such work, and nothing is written.
 */

export interface JournalEntry {
  /** A call id, or `build:<versionId>` for a build's check. */
  id: string;
  kind: "call" | "http" | "build";
  functionId: string;
  workspaceId: string;
  versionId: string;
  trigger: string;
  /** An async call: its row exists (running) and the queue would retry it. */
  async: boolean;
  startedAt: number;
  timeoutMs: number;
  /**
   * How long this entry may keep workerd's one thread busy before the supervisor calls it a stall (3 s when
   * absent): longer for Python, whose boot and module imports are seconds of work that cannot yield.
   */
  stallMs?: number;
}

/** What a Python call and a Python build may hold the local thread for (a boot from snapshot; a boot, imports and the snapshot). */
export const PYTHON_STALL_MS = { call: 15_000, build: 30_000 } as const;

type Supervised = Pick<Env, "EDGEFN_SUPERVISOR_URL" | "EDGEFN_SUPERVISOR_TOKEN">;

/** Ids of entries that ended since the last message; they ride along with the next one. */
let ended: string[] = [];

export const journalEnabled = (env: Supervised): boolean =>
  !!env.EDGEFN_SUPERVISOR_URL && (env.EDGEFN_SUPERVISOR_TOKEN ?? "").length >= 32;

function send(env: Supervised, body: { begin?: JournalEntry; end?: string[] }): void {
  console.log(`edgefn-journal ${env.EDGEFN_SUPERVISOR_TOKEN} ${JSON.stringify(body)}`);
}

/** Records that an entry is about to run user code: once this returns, the supervisor has it. */
export function journalBegin(env: Supervised, entry: JournalEntry): void {
  if (!journalEnabled(env)) return;
  const end = ended;
  ended = [];
  send(env, end.length > 0 ? { begin: entry, end } : { begin: entry });
}

/** Records that an entry ended (sent with the next message, or by journalFlush). */
export function journalEnd(env: Supervised, id: string): void {
  if (!journalEnabled(env)) return;
  ended.push(id);
  if (ended.length > 1_000) ended = ended.slice(-1_000);
}

/** Sends the ends not sent yet (after a batch of records is written). */
export function journalFlush(env: Supervised): void {
  if (!journalEnabled(env) || ended.length === 0) return;
  const end = ended;
  ended = [];
  send(env, { end });
}
