/**
 * A runaway Python function through the platform: its calls end with StretchLimitError and a traceback pointing at
 * the loop, recorded as its own failed calls, while a JavaScript function and another Python function keep answering.
 */
import { describe, expect, it } from "vitest";
import { api, expectStatus, newFunction, newWorkspace } from "../support/api";
import { waitForCall } from "../support/calls";
import { deploy, invoke, waitForBuild } from "../support/deploy";

const T = 180_000;

const RUNAWAY = `
def handle(data):
    if data == "plain":
        while True:
            pass
    if data == "swallow":
        n = 0
        while True:
            try:
                while True:
                    n += 1
            except BaseException:
                pass
    if data == "recurse":
        def down(k):
            return down(k + 1) + 1
        while True:
            try:
                down(0)
            except RecursionError:
                pass
    return "fine"
`;

describe("runaway Python through the platform", () => {
  it(
    "fails the runaway's calls with StretchLimitError while other functions keep answering",
    async () => {
      const ws = await newWorkspace();
      const runaway = await newFunction(ws.id, { timeoutMs: 60_000 });
      const queued = expectStatus(
        await api("POST", `/api/functions/${runaway.id}/versions`, { body: { files: { "handler.py": RUNAWAY } } }),
        201,
      );
      expect((await waitForBuild(runaway.id, queued.id, undefined, 90_000)).status).toBe("ready");

      const pyOther = await newFunction(ws.id);
      const pyQueued = expectStatus(
        await api("POST", `/api/functions/${pyOther.id}/versions`, {
          body: { files: { "main.py": "def handle(data):\n    return {'pong': data}\n" } },
        }),
        201,
      );
      expect((await waitForBuild(pyOther.id, pyQueued.id, undefined, 90_000)).status).toBe("ready");
      const js = await newFunction(ws.id);
      await deploy(js.id, { "index.js": "export const handle = (d) => ({ js: d });" });

      // Warm all three, so the runaway's own boot is not what the others wait on.
      expect(expectStatus(await invoke(runaway.id, "ok"), 200).result).toBe("fine");
      expect(expectStatus(await invoke(pyOther.id, 0), 200).result).toEqual({ pong: 0 });

      for (const kind of ["plain", "swallow", "recurse"]) {
        const attack = invoke(runaway.id, kind);
        await new Promise((r) => setTimeout(r, 50));
        const [fromJs, fromPy] = await Promise.all([invoke(js.id, kind), invoke(pyOther.id, kind)]);
        expect(expectStatus(fromJs, 200).result).toEqual({ js: kind });
        expect(expectStatus(fromPy, 200).result).toEqual({ pong: kind });

        const out = expectStatus(await attack, 200);
        expect(out, kind).toMatchObject({ ok: false, status: "failed" });
        expect(out.errorDetail.name, kind).toBe("StretchLimitError");
        expect(out.errorDetail.stack, kind).toContain('File "/function/handler.py"');
        const record = await waitForCall(out.callId);
        expect(record.status).toBe("failed");
        expect(record.functionId).toBe(runaway.id);
        // The function is still usable afterwards.
        expect(expectStatus(await invoke(runaway.id, "ok"), 200).result).toBe("fine");
      }
    },
    T,
  );
});
