/** Python isolates for the tests, driven through the loader directly (no API): the runtime's own RPC surface. */
import { env, RpcTarget } from "cloudflare:workers";
import { strToU8, zipSync } from "fflate";
import { LIMITS } from "../../src/lib/limits";
import type { IsolateEntrypoint } from "../../src/runtime/loader";
import {
  makePythonSnapshot,
  type PythonApp,
  type PythonRunOptions,
  pythonStretchMs,
  pythonWorkerCode,
} from "../../src/runtime/python/modules";

let serial = 0;
export const freshId = (what: string) => `py-test-${what}-${Date.now()}-${++serial}`;

/**
 * A Python function's isolate for `main.py` (and any other files), under a new loader id; its stretch limit is the
 * platform's for Python (five times JavaScript's) unless given.
 */
export function pyIsolate(
  files: Record<string, string>,
  o: PythonRunOptions & { wheels?: Uint8Array[]; env?: Record<string, string>; id?: string } = {},
) {
  const app: PythonApp = { files, entry: "main.py", wheels: o.wheels };
  const options = { stretchMs: pythonStretchMs(LIMITS.stretchMs), ...o };
  const worker = env.LOADER.get(o.id ?? freshId("run"), () => pythonWorkerCode(app, options));
  return worker.getEntrypoint() as unknown as IsolateEntrypoint;
}

export function snapshotOf(files: Record<string, string>, wheels: Uint8Array[] = []) {
  return makePythonSnapshot(env.LOADER, freshId("snap"), { files, entry: "main.py", wheels });
}

/** The host's ctx.client as an isolate sees it: an RpcTarget (here answering from memory). */
export class FakeClient extends RpcTarget {
  invoke(target: string, args: unknown) {
    return { ok: true, result: { target, args }, callId: "call_child" };
  }
  calls(limit: number) {
    return [{ id: "call_earlier", status: "completed", limit }];
  }
  cogniteCallInfo() {
    return { function_id: 7, call_id: 8, schedule_id: 9, scheduled_time: 1767225600000 };
  }
}

export const infoOf = (callId: string, extra: Record<string, unknown> = {}, client?: RpcTarget) => ({
  call: { functionId: "fun_py", callId, ...extra },
  ...(client ? { client: client as any } : {}),
});

/** A pure-Python wheel made here: a package with a lazily imported submodule, and its .dist-info. */
export function tinyWheel(): Uint8Array {
  const dist = "tinywheel-1.0.0.dist-info";
  return zipSync({
    "tinywheel/__init__.py": strToU8('VERSION = "1.0.0"\n\ndef shout(text):\n    return text.upper() + "!"\n'),
    "tinywheel/lazy.py": strToU8("def answer():\n    return 42\n"),
    [`${dist}/METADATA`]: strToU8("Metadata-Version: 2.1\nName: tinywheel\nVersion: 1.0.0\n"),
    [`${dist}/WHEEL`]: strToU8(
      "Wheel-Version: 1.0\nGenerator: edgefn-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    ),
    [`${dist}/top_level.txt`]: strToU8("tinywheel\n"),
    [`${dist}/RECORD`]: strToU8(""),
  });
}

/** A call's log lines without the platform's own ("[edgefn] Python booted in ... ms"). */
export const userLogs = <L extends { message: string }>(out: { logs: L[] }) =>
  out.logs.filter((l) => !l.message.startsWith("[edgefn]"));
export const messages = (out: { logs: { message: string }[] }) => userLogs(out).map((l) => l.message);
