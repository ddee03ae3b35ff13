/**
 * A built Python version as stored in R2 (`bundles/<sha256>`): its text files, entry file, vendored wheels (base64)
 * and what its module defines. Its memory snapshot is a separate object (`snapshots/...`, see storage/objects.ts),
 * keyed by version and Pyodide build, so a platform with another Pyodide never restores a foreign snapshot.
 */
import { version as pyodideVersion } from "../../../node_modules/pyodide/package.json";
import { PYTHON_VERSION } from "./assets";

export const PYODIDE_BUILD = { pyodide: pyodideVersion as string, python: PYTHON_VERSION };

export interface PythonBundle {
  runtime: "python";
  entry: string;
  /** Text files as strings, binary ones as `{ base64 }`. */
  files: Record<string, string | { base64: string }>;
  wheels: { path: string; base64: string }[];
  kind: { handle: boolean; fetch: boolean; appwrite: boolean };
}

/** A Python version's entry file ends in `.py`. */
export const isPythonEntry = (path: string) => path.endsWith(".py");

export const isPythonBundle = (bundle: unknown): bundle is PythonBundle =>
  (bundle as { runtime?: unknown } | null)?.runtime === "python";
