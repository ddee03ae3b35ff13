/**
 * The runaway guard of Python isolates: the interrupt buffer ends a loop that runs past the stretch limit (200 ms),
 * even one that swallows the error, while other isolates keep answering, and the isolate serves the next call.
 * Every loop here also ends by itself after LOOP_S seconds: a guard that fails makes the test fail, not freeze.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ISOLATE_COMPAT } from "../../src/runtime/compat";
import { freshId, infoOf, pyIsolate } from "./support";

const T = 120_000;
const LOOP_S = 8;

const RUNAWAY = `
import asyncio, time

LOOP_S = ${LOOP_S}

def spin(t):
    while time.time() - t < LOOP_S:
        pass

async def handle(data, ctx):
    t = time.time()
    if data == "plain":
        spin(t)
    elif data == "swallow":
        while time.time() - t < LOOP_S:
            try:
                spin(t)
            except Exception:
                pass
    elif data == "swallow-all":
        while time.time() - t < LOOP_S:
            try:
                try:
                    spin(t)
                except BaseException:
                    continue
            except:
                pass
    elif data == "async":
        while time.time() - t < LOOP_S:
            await asyncio.sleep(0)
        return "async loop ran to its end"
    elif data == "ok":
        return "fine"
    return "not stopped"
`;

function jsIsolate() {
  const worker = env.LOADER.get(freshId("js"), () => ({
    ...ISOLATE_COMPAT,
    mainModule: "index.js",
    modules: { "index.js": "export default { fetch() { return new Response('js answered'); } };" },
    globalOutbound: null,
  }));
  return worker.getEntrypoint();
}

describe("runaway Python", () => {
  // JavaScript's stretch limit, not Python's five times longer one: the loops end sooner.
  const runaway = pyIsolate({ "main.py": RUNAWAY }, { stretchMs: 200 });
  const other = pyIsolate({ "main.py": "def handle(data):\n    return {'pong': data}\n" }, { stretchMs: 200 });
  const js = jsIsolate();

  it(
    "ends loops, and loops that swallow the error, past 200 ms while other isolates keep answering",
    async () => {
      // Warm both Python isolates (their boots are long synchronous stretches of their own).
      expect((await runaway.invoke("ok", infoOf("call_warm") as any)).result).toBe('"fine"');
      expect((await other.invoke(0, infoOf("call_other0") as any)).ok).toBe(true);

      for (const kind of ["plain", "swallow", "swallow-all"]) {
        const started = Date.now();
        const attack = runaway.invoke(kind, infoOf(`call_${kind}`) as any);
        await new Promise((r) => setTimeout(r, 20));
        const [fromJs, fromPy] = await Promise.all([
          js.fetch("https://js.invalid/").then((r) => r.text()),
          other.invoke(kind, infoOf(`call_other_${kind}`) as any),
        ]);
        const answered = Date.now() - started;
        expect(fromJs).toBe("js answered");
        expect(fromPy.result).toBe(JSON.stringify({ pong: kind }));
        const out = await attack;
        const took = Date.now() - started;
        expect(out.ok, kind).toBe(false);
        expect(out.error!.name, kind).toBe("StretchLimitError");
        expect(out.error!.message).toMatch(/^Python ran longer than 200 ms/);
        expect(out.error!.stack).toContain('File "/function/main.py"');
        expect(answered, kind).toBeLessThan((LOOP_S * 1000) / 2);
        expect(took, kind).toBeLessThan((LOOP_S * 1000) / 2);
        // The isolate is still usable.
        expect((await runaway.invoke("ok", infoOf(`call_after_${kind}`) as any)).result).toBe('"fine"');
      }
    },
    T,
  );

  it(
    "lets an async loop that yields to the event loop run (it does not stall the runtime)",
    async () => {
      const started = Date.now();
      const attack = runaway.invoke("async", infoOf("call_async") as any);
      await new Promise((r) => setTimeout(r, 50));
      const fromJs = await js.fetch("https://js.invalid/").then((r) => r.text());
      expect(fromJs).toBe("js answered");
      expect(Date.now() - started).toBeLessThan(2_000);
      const out = await attack;
      // Either the guard ended it or it ran to its end while the event loop kept turning.
      expect(out.ok ? out.result : out.error!.name).toMatch(/async loop ran to its end|StretchLimitError/);
    },
    T,
  );
});
