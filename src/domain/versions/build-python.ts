import type { Env } from "../../env";
import { fromBase64url, sha256Hex } from "../../lib/crypto";
import type { UploadFile } from "../../lib/files";
import { BuildError } from "../../runtime/bundle";
import { stretchMs } from "../../runtime/loader";
import { PYODIDE_BUILD, type PythonBundle } from "../../runtime/python/bundle";
import { makePythonSnapshot, type PythonSnapshotResult, pythonStretchMs } from "../../runtime/python/modules";
import {
  inspectWheel,
  parseRequirements,
  RequirementError,
  unmetRequirement,
  type Wheel,
} from "../../runtime/python/requirements";
import { bundleKeyOf, snapshotKeyOf } from "../../storage/objects";

/** What a Python build leaves: the bundle to store, its handlers, and the snapshot (stored by the caller). */
export interface PythonBuild {
  body: string;
  bundleKey: string;
  handlers: string[];
  snapshot: { key: string; bytes: Uint8Array } | null;
}

/** The wall-clock limit of a snapshot build: boot, wheels and the module's import (its top level is the user's). */
const SNAPSHOT_WALL_MS = 60_000;

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/**
 * Builds a Python version: keeps the upload's files (binary ones as base64), checks requirements.txt against the vendored pure-Python
 * wheels, then boots Python once in a throwaway isolate (no env, no network, the loop guard on), installs the wheels,
 * imports the entry module and takes a memory snapshot of it. The snapshot's time and size go to the build logs.
 */
export async function buildPython(
  env: Env,
  version: { id: string; functionId: string },
  source: { files: Record<string, unknown>; entrypoint: string },
  limits: { cpuMs: number },
  log: (message: string) => void,
): Promise<PythonBuild> {
  const files: Record<string, UploadFile> = {};
  const wheels: Wheel[] = [];
  for (const [path, value] of Object.entries(source.files)) {
    if (typeof value === "string") {
      files[path] = value;
      continue;
    }
    const base64 = (value as { base64?: unknown } | null)?.base64;
    if (typeof base64 !== "string") continue;
    if (!path.endsWith(".whl")) {
      files[path] = { base64 };
      continue;
    }
    try {
      wheels.push(inspectWheel(path, fromBase64url(base64)));
    } catch (err) {
      if (err instanceof RequirementError) throw new BuildError(err.message);
      throw err;
    }
  }
  const requirements = files["requirements.txt"];
  if (typeof requirements === "string") {
    let unmet: string | null;
    try {
      unmet = unmetRequirement(parseRequirements(requirements), wheels);
    } catch (err) {
      if (err instanceof RequirementError) throw new BuildError(err.message);
      throw err;
    }
    if (unmet) throw new BuildError(unmet);
  }
  const py = Object.keys(files).filter((f) => f.endsWith(".py"));
  log(
    `Python ${PYODIDE_BUILD.python} (Pyodide ${PYODIDE_BUILD.pyodide}): ${py.length} .py file(s), ` +
      `${wheels.length} wheel(s)${wheels.length ? ` (${wheels.map((w) => `${w.name} ${w.version}`).join(", ")})` : ""}`,
  );

  const app = { files, entry: source.entrypoint, wheels: wheels.map((w) => w.bytes) };
  const started = Date.now();
  const made = await withWallLimit(
    makePythonSnapshot(env.LOADER, `pysnap:${version.id}:${crypto.randomUUID()}`, app, {
      stretchMs: pythonStretchMs(stretchMs(env)),
      cpuMs: limits.cpuMs,
    }),
    SNAPSHOT_WALL_MS,
  );
  if (!made.ok) {
    const e = made.error;
    const what = `${String(e.name).slice(0, 200)}: ${String(e.message).slice(0, 2000)}`;
    throw new BuildError(`The module failed to load: ${what}`, String(e.stack ?? what).slice(0, 20_000));
  }
  const { kind, stats } = made;
  const handlers = [kind.handle && "handle", kind.fetch && "fetch"].filter((h): h is string => !!h);
  if (handlers.length === 0) {
    throw new BuildError(
      "The module defines no handler: def handle(data, ctx) (or Cognite's handle(data, client, secrets, " +
        "function_call_info)), Appwrite's def main(context), or async def on_fetch(request)",
    );
  }
  const what = kind.appwrite ? "Appwrite's main(context)" : handlers.join(" and ");
  log(`Imported ${source.entrypoint} in ${Math.round(stats.importMs)} ms; defines ${what}`);
  log(
    `Snapshot ${mib(made.snapshot.byteLength)} (memory ${mib(stats.rawBytes)}, zero pages left out) made in ` +
      `${Date.now() - started} ms (boot ${Math.round(stats.bootMs)} ms, snapshot ${Math.round(stats.snapshotMs)} ms)`,
  );

  const bundle: PythonBundle = {
    runtime: "python",
    entry: source.entrypoint,
    files,
    wheels: wheels.map((w) => ({ path: w.path, base64: (source.files[w.path] as { base64: string }).base64 })),
    kind,
  };
  const body = JSON.stringify(bundle);
  return {
    body,
    bundleKey: bundleKeyOf(await sha256Hex(body)),
    handlers,
    snapshot: { key: snapshotKeyOf(version.functionId, version.id, PYODIDE_BUILD.pyodide), bytes: made.snapshot },
  };
}

async function withWallLimit(promise: Promise<PythonSnapshotResult>, ms: number): Promise<PythonSnapshotResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BuildError(`The module did not finish loading within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } catch (err) {
    if (err instanceof BuildError) throw err;
    const e = err as Error;
    throw new BuildError(`The Python runtime failed while loading the module: ${e.message.split("\n")[0]}`);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
