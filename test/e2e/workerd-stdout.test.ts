/**
 * The local runtime's reader of workerd's standard output (scripts/lib/workerd-stdout.mjs), driven as Miniflare
 * drives it: the script it puts in MINIFLARE_WORKERD_PATH is run with a shell in place of workerd, whose output must
 * reach the reader whole, in order and as Miniflare would hand it over.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { batchedWorkerdStdout, type WorkerdLog } from "../../scripts/lib/workerd-stdout.mjs";

type Reader = { drain(): void; close(): void };

let scriptDir: string;
let logs: WorkerdLog[];
let reader: Reader;

/** Runs the script Miniflare would run, with `sh -c <command>` as "workerd": its output goes to the reader's FIFO. */
function runAsWorkerd(command: string) {
  const script = process.env.MINIFLARE_WORKERD_PATH as string;
  const run = spawnSync(script, ["-c", command], { env: { ...process.env, EDGEFN_WORKERD_BIN: "/bin/sh" } });
  expect(run.status).toBe(0);
}

const structured = (message: string, level = "log") => JSON.stringify({ timestamp: 1, level, message });

beforeEach(() => {
  scriptDir = mkdtempSync(join(tmpdir(), "edgefn-stdout-test-"));
  logs = [];
  const made = batchedWorkerdStdout((log) => logs.push(log), { scriptDir });
  if (!made) throw new Error("no FIFO could be made on this machine");
  reader = made;
});

afterEach(() => {
  reader.close();
  rmSync(scriptDir, { recursive: true, force: true });
});

describe("workerd's output, read in batches", () => {
  it("hands over structured lines as Miniflare does, plain ones as messages, and drops workerd's own noise", () => {
    const lines = [
      structured("edgefn-journal token {}", "log"),
      structured("a warning", "warn"),
      "not json at all",
      structured("Not symbolizing stack traces because $LLVM_SYMBOLIZER is not set"),
      structured("CODE_MOVED for unknown code block"),
    ];
    runAsWorkerd(`printf '%s\\n' ${lines.map((l) => `'${l.replaceAll("'", `'\\''`)}'`).join(" ")}`);
    // Nothing is read until the next poll or a drain: the lines wait in the pipe.
    reader.drain();
    expect(logs.map(({ level, message }) => ({ level, message }))).toEqual([
      { level: "log", message: "edgefn-journal token {}" },
      { level: "warn", message: "a warning" },
      { level: "log", message: "not json at all" },
    ]);
    expect(logs[0]?.timestamp).toBe(1);
  });

  it("keeps every line of a burst larger than the pipe, in order, and a line split across writes whole", async () => {
    // 4,000 lines of about 100 bytes: several times a pipe's capacity, read while the writer waits on it.
    const script = process.env.MINIFLARE_WORKERD_PATH as string;
    const burst = `i=0; while [ $i -lt 4000 ]; do printf '{"timestamp":"1","level":"log","message":"line %05d ${"x".repeat(60)}"}\\n' $i; i=$((i+1)); done; printf 'half a '; sleep 0.1; printf 'line\\n'`;
    const child = spawn(script, ["-c", burst], { env: { ...process.env, EDGEFN_WORKERD_BIN: "/bin/sh" } });
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    reader.drain();
    expect(logs).toHaveLength(4001);
    expect(logs.slice(0, 4000).every((log, i) => log.message.startsWith(`line ${String(i).padStart(5, "0")} `))).toBe(
      true,
    );
    expect(logs[4000]?.message).toBe("half a line");
  });

  it("names Miniflare's workerd when none is set, and puts the environment back when closed", () => {
    expect(process.env.MINIFLARE_WORKERD_PATH).toBe(join(scriptDir, "workerd-stdout.sh"));
    const miniflares = createRequire(createRequire(import.meta.url).resolve("miniflare"))("workerd").default;
    expect(process.env.EDGEFN_WORKERD_BIN).toBe(miniflares);
    const fifo = process.env.EDGEFN_WORKERD_STDOUT as string;
    expect(existsSync(fifo)).toBe(true);
    reader.close();
    expect(existsSync(dirname(fifo))).toBe(false);
    expect(process.env.MINIFLARE_WORKERD_PATH).toBeUndefined();
    expect(process.env.EDGEFN_WORKERD_STDOUT).toBeUndefined();
  });
});
