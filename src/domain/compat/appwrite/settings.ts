/**
 * The Appwrite settings of a function, as the platform reads them wherever they take effect (the call pipeline, the
 * loader's config, events, the surface's routes). edgefn has no column for them: they live in the function's
 * metadata under `aw.*` keys (strings; lists and booleans as JSON). Pure, and imports nothing of the domain, so any
 * part of it can read them.
 */
import { ApiError } from "../../../lib/errors";
import type { FunctionRow } from "../../../storage/schema";

export const META = {
  runtime: "aw.runtime",
  execute: "aw.execute",
  events: "aw.events",
  schedule: "aw.schedule",
  enabled: "aw.enabled",
  logging: "aw.logging",
  entrypoint: "aw.entrypoint",
  commands: "aw.commands",
  scopes: "aw.scopes",
  specification: "aw.specification",
} as const;

/** What a function created without a runtime (natively) shows as its runtime. */
export const DEFAULT_RUNTIME = "node-22";
export const SPECIFICATION = { slug: "s-0.5vcpu-512mb", cpus: 0.5, memory: 512 } as const;

export interface AppwriteSettings {
  runtime: string;
  execute: string[];
  events: string[];
  schedule: string;
  enabled: boolean;
  logging: boolean;
  entrypoint: string;
  commands: string;
  scopes: string[];
  specification: string;
}

type Meta = Pick<FunctionRow, "metadata">;

function json<T>(fn: Meta, key: string, fallback: T, valid: (v: unknown) => boolean): T {
  const raw = fn.metadata?.[key];
  if (raw === undefined) return fallback;
  try {
    const value: unknown = JSON.parse(raw);
    return valid(value) ? (value as T) : fallback;
  } catch {
    return fallback;
  }
}

const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
const bool = (v: unknown) => typeof v === "boolean";

/** The function's Appwrite settings, with Appwrite's defaults for what it does not set. */
export function settingsOf(fn: Meta): AppwriteSettings {
  const meta = fn.metadata ?? {};
  return {
    runtime: meta[META.runtime] ?? DEFAULT_RUNTIME,
    execute: json<string[]>(fn, META.execute, [], strings),
    events: json<string[]>(fn, META.events, [], strings),
    schedule: meta[META.schedule] ?? "",
    enabled: json<boolean>(fn, META.enabled, true, bool),
    logging: json<boolean>(fn, META.logging, true, bool),
    entrypoint: meta[META.entrypoint] ?? "",
    commands: meta[META.commands] ?? "",
    scopes: json<string[]>(fn, META.scopes, [], strings),
    specification: meta[META.specification] ?? SPECIFICATION.slug,
  };
}

/** A function made through the Appwrite surface (it has a runtime): it gets Appwrite's variables and outbound. */
export const isAppwriteFunction = (fn: Meta): boolean => fn.metadata?.[META.runtime] !== undefined;

/** Whether a function keeps its calls' logs, errors and response bodies (Appwrite's `logging`). */
export const keepsOutput = (fn: Meta): boolean => fn.metadata?.[META.logging] !== "false";

/** A variable of the function: its value ("" for a secret, which is never shown) and whether it is a secret; else 404. */
export function variableOf(
  fn: Pick<FunctionRow, "envVars" | "secrets">,
  key: string,
): { value: string; secret: boolean } {
  if (fn.envVars && Object.hasOwn(fn.envVars, key)) return { value: fn.envVars[key] as string, secret: false };
  if (fn.secrets && Object.hasOwn(fn.secrets, key)) return { value: "", secret: true };
  throw new ApiError("not_found", `variable ${key} not found`);
}

/** The Appwrite server version the surface answers as. */
export const APPWRITE_VERSION = "1.7.4";

/**
 * The runtimes the surface accepts: JavaScript ones all run on the same Workers runtime, Python ones on the
 * platform's one Python (see /api/runtimes); the names are Appwrite's. [id, name, version]
 */
export const RUNTIMES = [
  ["node-18.0", "Node.js", "18.0"],
  ["node-20.0", "Node.js", "20.0"],
  ["node-21.0", "Node.js", "21.0"],
  ["node-22", "Node.js", "22"],
  ["bun-1.0", "Bun", "1.0"],
  ["bun-1.1", "Bun", "1.1"],
  ["python-3.9", "Python", "3.9"],
  ["python-3.10", "Python", "3.10"],
  ["python-3.11", "Python", "3.11"],
  ["python-3.12", "Python", "3.12"],
  ["python-3.13", "Python", "3.13"],
] as const;

/** A runtime id the surface accepts: a known one, or any other `node-*` / `bun-*` / `python-*` version. */
export const RUNTIME_ID = /^(node|bun|python)-[0-9][0-9.]*$/;

/** The name and version a runtime id stands for (`node-22` is Node.js 22). */
export function runtimeOf(id: string): { name: string; version: string } {
  const known = RUNTIMES.find(([rid]) => rid === id);
  if (known) return { name: known[1], version: known[2] };
  const [key = "", version = ""] = id.split("-");
  return { name: key === "bun" ? "Bun" : key === "python" ? "Python" : "Node.js", version };
}
