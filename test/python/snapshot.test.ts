/**
 * Pure-Python wheels and memory snapshots: a wheel made here is installed and imported; a snapshot made by
 * makePythonSnapshot boots the function's isolates (files and wheels written back, randomness reseeded), and a
 * corrupt or missing snapshot falls back to a plain boot, said in the first call's logs.
 */
import { describe, expect, it } from "vitest";
import { infoOf, messages, pyIsolate, snapshotOf, tinyWheel } from "./support";

const T = 120_000;

const FILES = {
  "main.py": `
import json, random, re, datetime, decimal, tinywheel

print("top level ran")

def handle(data, ctx):
    from tinywheel.lazy import answer
    import helper
    return {
        "shout": tinywheel.shout(data["text"]),
        "answer": answer(),
        "helper": helper.VALUE,
        "random": random.random(),
    }
`,
  "helper.py": "VALUE = 'from a file'\n",
};

describe("wheels", () => {
  it(
    "installs a pure-Python wheel into site-packages and imports it, a lazily imported submodule too",
    async () => {
      const py = pyIsolate(FILES, { wheels: [tinyWheel()] });
      const out = await py.invoke({ text: "hi" }, infoOf("call_w1") as any);
      expect(out.error).toBeUndefined();
      expect(JSON.parse(out.result as string)).toMatchObject({ shout: "HI!", answer: 42, helper: "from a file" });
      expect(messages(out)).toEqual(["top level ran"]);
    },
    T,
  );
});

describe("memory snapshots", () => {
  it(
    "boots from a snapshot, with the files and wheels written back and random reseeded in each isolate",
    async () => {
      const wheels = [tinyWheel()];
      const made = await snapshotOf(FILES, wheels);
      if (!made.ok) throw new Error(JSON.stringify(made.error));
      expect(made.kind).toEqual({ handle: true, fetch: false, appwrite: false });
      // The module's top level ran when the snapshot was made: its output is the build's.
      expect(made.logs.map((l) => l.message)).toContain("top level ran");
      expect(made.stats.bytes).toBeLessThan(made.stats.rawBytes);

      const results = [];
      for (const id of ["a", "b"]) {
        const py = pyIsolate(FILES, { wheels, snapshot: made.snapshot });
        const out = await py.invoke({ text: id }, infoOf(`call_s_${id}`) as any);
        expect(out.error).toBeUndefined();
        expect(out.logs[0]!.message).toMatch(/^\[edgefn\] Python booted from its memory snapshot in \d+ ms$/);
        expect(messages(out)).toEqual([]);
        results.push(JSON.parse(out.result as string));
      }
      expect(results[0]).toMatchObject({ shout: "A!", answer: 42, helper: "from a file" });
      expect(results[1]).toMatchObject({ shout: "B!", answer: 42 });
      expect(results[0].random).not.toBe(results[1].random);
    },
    T,
  );

  it(
    "falls back to a plain boot when the snapshot is corrupt, or missing, and says so in the call's logs",
    async () => {
      const made = await snapshotOf({ "main.py": "def handle(data):\n    return data * 2\n" });
      if (!made.ok) throw new Error(JSON.stringify(made.error));
      const files = { "main.py": "def handle(data):\n    return data * 2\n" };

      const corrupt = made.snapshot.slice();
      corrupt[Math.floor(corrupt.length / 2)]! ^= 0xff;
      const a = await pyIsolate(files, { snapshot: corrupt }).invoke(21, infoOf("call_corrupt") as any);
      expect(a.result).toBe("42");
      expect(a.logs[0]).toMatchObject({ level: "warn" });
      expect(a.logs[0]!.message).toMatch(
        /memory snapshot was refused \(its checksum does not match\): booting Python without it/,
      );

      const junk = await pyIsolate(files, { snapshot: new Uint8Array(1000) }).invoke(1, infoOf("call_junk") as any);
      expect(junk.result).toBe("2");
      expect(junk.logs[0]!.message).toMatch(/refused \(not an edgefn snapshot\)/);

      const missing = await pyIsolate(files, { snapshot: null }).invoke(2, infoOf("call_missing") as any);
      expect(missing.result).toBe("4");
      expect(missing.logs[0]!.message).toMatch(/memory snapshot is missing: booting Python without it/);
    },
    T,
  );

  it(
    "reports a module that fails at snapshot time",
    async () => {
      const made = await snapshotOf({ "main.py": "raise RuntimeError('no snapshot for me')\n" });
      expect(made.ok).toBe(false);
      if (made.ok) return;
      expect(made.error).toMatchObject({ name: "RuntimeError", message: "no snapshot for me" });
      expect(made.error.stack).toContain('File "/function/main.py", line 1, in <module>');
    },
    T,
  );
});
