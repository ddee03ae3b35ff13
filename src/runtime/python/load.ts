import type { Env } from "../../env";
import { fromBase64url } from "../../lib/crypto";
import { snapshotKeyOf } from "../../storage/objects";
import { type PYODIDE_BUILD as Build, PYODIDE_BUILD, type PythonBundle } from "./bundle";
import { pythonStretchMs, pythonWorkerCode } from "./modules";

/**
 * A Python version's isolate code, for the loader's callback: its files and wheels from the stored bundle, and its
 * memory snapshot from R2 when there is one for this Pyodide build (else a plain boot, which the first call's logs
 * mention).
 */
export async function pythonIsolateCode(
  env: Env,
  ids: { functionId: string; versionId: string },
  bundle: PythonBundle,
  o: {
    env: Record<string, string>;
    secretNames: string[];
    stretchMs: number;
    cpuMs: number;
    globalOutbound: Fetcher | null;
    build?: typeof Build;
  },
): Promise<WorkerLoaderWorkerCode> {
  const build = o.build ?? PYODIDE_BUILD;
  const object = await env.CODE.get(snapshotKeyOf(ids.functionId, ids.versionId, build.pyodide));
  const snapshot = object ? await object.arrayBuffer() : null;
  return pythonWorkerCode(
    { files: bundle.files, entry: bundle.entry, wheels: bundle.wheels.map((w) => fromBase64url(w.base64)) },
    {
      env: o.env,
      secretNames: o.secretNames,
      stretchMs: pythonStretchMs(o.stretchMs),
      cpuMs: o.cpuMs,
      globalOutbound: o.globalOutbound,
      snapshot,
    },
  );
}
