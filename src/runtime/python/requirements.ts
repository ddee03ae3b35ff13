/**
 * A Python upload's dependencies: `requirements.txt` is satisfied by pure-Python wheels the upload carries (any
 * `.whl` file, by convention in `wheels/`). The build refuses, naming the requirement, one that no vendored wheel
 * satisfies, and a wheel with compiled code (a platform tag other than `any`, an ABI other than `none`, or a shared
 * library inside): Pyodide runs only pure Python from a wheel it did not build itself.
 */
import { satisfies, valid } from "@renovatebot/pep440";
import { unzipSync } from "fflate";

export class RequirementError extends Error {}

/** PEP 503: names compare case-insensitively, with runs of `-`, `_` and `.` as one `-`. */
export const normalizeName = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

export interface Wheel {
  path: string;
  name: string;
  version: string;
  bytes: Uint8Array;
}

export interface Requirement {
  line: number;
  text: string;
  name: string;
  specifier: string;
}

/** Parses requirements.txt: `name[extras] specifiers ; markers`, comments, blank lines; options are refused. */
export function parseRequirements(text: string): Requirement[] {
  const out: Requirement[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line) continue;
    if (line.startsWith("-")) {
      // -r other.txt, --index-url, -e ...: pip's options mean nothing without pip.
      throw new RequirementError(
        `requirements.txt:${i + 1}: '${line.slice(0, 100)}' is a pip option; vendor the wheels instead (see wheels/)`,
      );
    }
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;@]*)(;.*)?$/.exec(line);
    if (!match) {
      throw new RequirementError(`requirements.txt:${i + 1}: '${line.slice(0, 100)}' is not a requirement`);
    }
    out.push({ line: i + 1, text: line, name: match[1] as string, specifier: (match[3] ?? "").replace(/\s+/g, "") });
  }
  return out;
}

/**
 * Reads a wheel's name, version and tags from its file name (PEP 427:
 * `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`) and refuses one with compiled code.
 */
export function inspectWheel(path: string, bytes: Uint8Array): Wheel {
  const file = path.slice(path.lastIndexOf("/") + 1);
  const parts = file.slice(0, -".whl".length).split("-");
  if (parts.length !== 5 && parts.length !== 6) {
    throw new RequirementError(`${path}: not a wheel file name (name-version-python-abi-platform.whl)`);
  }
  const [name, version] = parts as [string, string];
  const [abi, platform] = parts.slice(-2) as [string, string];
  if (platform !== "any" || abi !== "none") {
    throw new RequirementError(
      `${path}: ${name} ${version} has compiled code (ABI '${abi}', platform '${platform}'); only pure-Python ` +
        "wheels (…-none-any.whl) run here",
    );
  }
  const names: string[] = [];
  try {
    unzipSync(bytes, {
      filter: (f) => {
        names.push(f.name);
        return false;
      },
    });
  } catch {
    throw new RequirementError(`${path}: not a valid wheel (not a zip archive)`);
  }
  const compiled = names.find((n) => /\.(so|pyd|dylib|dll)(\.|$)/i.test(n));
  if (compiled) {
    throw new RequirementError(
      `${path}: ${name} ${version} has compiled code (${compiled}); only pure Python runs here`,
    );
  }
  return { path, name, version, bytes };
}

/** The requirement the wheels leave unmet, or null when every requirement has a wheel that satisfies it. */
export function unmetRequirement(requirements: Requirement[], wheels: Wheel[]): string | null {
  for (const req of requirements) {
    const candidates = wheels.filter((w) => normalizeName(w.name) === normalizeName(req.name));
    if (candidates.length === 0) {
      return `requirements.txt:${req.line}: '${req.text}' has no wheel in the upload: add a pure-Python wheel of ${req.name} (e.g. wheels/${req.name}-<version>-py3-none-any.whl; \`edgefn deploy\` fetches them with pip where an index is reachable)`;
    }
    if (req.specifier && !candidates.some((w) => valid(w.version) && satisfies(w.version, req.specifier))) {
      const have = candidates.map((w) => w.version).join(", ");
      return `requirements.txt:${req.line}: '${req.text}' is not satisfied by the vendored ${req.name} ${have}`;
    }
  }
  return null;
}
