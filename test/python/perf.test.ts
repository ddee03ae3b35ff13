/**
 * Cold and warm figures of Python isolates in this runtime (host clock, each on a new loader id), logged for the
 * record, with one loose check: a snapshot boot beats a plain one. The heap size is the interpreter's wasm memory.
 */
import { expect, it } from "vitest";
import { infoOf, pyIsolate, snapshotOf } from "./support";

const FILES = {
  "main.py": `
import json, re, datetime, decimal, collections, dataclasses, typing, urllib.parse, base64, hashlib, logging

def handle(data, ctx):
    if data == "heap":
        import pyodide_js
        return pyodide_js._module.HEAP8.length
    return {"echo": data}
`,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function firstCall(o: Parameters<typeof pyIsolate>[1]) {
  const started = Date.now();
  const py = pyIsolate(FILES, o);
  const out = await py.invoke(1, infoOf("call_first") as any);
  expect(out.error).toBeUndefined();
  return { ms: Date.now() - started, py };
}

it("measures plain and snapshot cold starts, warm calls and the snapshot", async () => {
  const mark = (what: string) => console.log(`[python-perf] ${Date.now()} ${what}`);
  mark("start");
  const plain: number[] = [];
  for (let i = 0; i < 3; i++) plain.push((await firstCall({})).ms);
  mark("plain boots done");

  const madeAt = Date.now();
  const made = await snapshotOf(FILES);
  if (!made.ok) throw new Error(JSON.stringify(made.error));
  const makeMs = Date.now() - madeAt;
  mark("snapshot made");

  const restored: number[] = [];
  let last: Awaited<ReturnType<typeof firstCall>> | null = null;
  for (let i = 0; i < 5; i++) {
    last = await firstCall({ snapshot: made.snapshot });
    restored.push(last.ms);
  }
  mark("snapshot boots done");

  const warm: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = Date.now();
    await last!.py.invoke(i, infoOf(`call_w${i}`) as any);
    warm.push(Date.now() - t);
  }
  const heap = JSON.parse((await last!.py.invoke("heap", infoOf("call_heap") as any)).result as string);
  mark("warm calls done");

  console.log(
    "[python-perf]",
    JSON.stringify({
      plainFirstCallMs: plain,
      snapshotFirstCallMs: restored,
      snapshotFirstCallMedianMs: median(restored),
      warmCallMedianMs: median(warm),
      makeSnapshotMs: makeMs,
      snapshot: made.stats,
      wasmHeapBytes: heap,
    }),
  );
  expect(median(restored)).toBeLessThan(median(plain));
}, 180_000);
