/**
 * Vitest global setup (in Node, before the workers start): the binary files the examples' READMEs upload (a wheel),
 * read from examples/ as they are, for test/examples.test.ts through `inject("exampleBinaries")` (base64).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const BINARY = /\.(whl|zip|bin|wasm)$/;

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (BINARY.test(entry.name))
      out[relative(ROOT, path).split("\\").join("/")] = readFileSync(path).toString("base64");
  }
  return out;
}

/** @param {import("vitest/node").TestProject} project */
export default function setup(project) {
  project.provide("exampleBinaries", walk(join(ROOT, "examples"), {}));
}
