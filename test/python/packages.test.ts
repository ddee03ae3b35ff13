/**
 * Python packages through the platform's API: requirements.txt is met by pure-Python wheels carried in the upload
 * as binary files, and refused with a clear build error when a wheel is missing, too old, or built for a platform.
 */
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { api, expectStatus, newFunction, newWorkspace } from "../support/api";
import { invoke, waitForBuild } from "../support/deploy";
import { tinyWheel } from "./support";

const T = 120_000;
const BUILD_MS = 90_000;

const HANDLER = `
import tinywheel
from tinywheel.lazy import answer

def handle(data):
    return {"shout": tinywheel.shout(data["text"]), "version": tinywheel.VERSION, "answer": answer()}
`;

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

/** A wheel built for one platform, with a compiled extension inside. */
function platformWheel(tag: string): Uint8Array {
  const dist = "fastthing-2.0.0.dist-info";
  return zipSync({
    "fastthing/__init__.py": strToU8("from ._speed import go\n"),
    "fastthing/_speed.cpython-313-x86_64-linux-gnu.so": new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
    [`${dist}/METADATA`]: strToU8("Metadata-Version: 2.1\nName: fastthing\nVersion: 2.0.0\n"),
    [`${dist}/WHEEL`]: strToU8(`Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: ${tag}\n`),
    [`${dist}/RECORD`]: strToU8(""),
  });
}

async function build(files: Record<string, string | { base64: string }>) {
  const ws = await newWorkspace();
  const fn = await newFunction(ws.id);
  const queued = expectStatus(await api("POST", `/api/functions/${fn.id}/versions`, { body: { files } }), 201);
  const version = await waitForBuild(fn.id, queued.id, undefined, BUILD_MS);
  return { fn, version };
}

describe("Python packages", () => {
  it(
    "imports a vendored pure-Python wheel that meets requirements.txt",
    async () => {
      const { fn, version } = await build({
        "handler.py": HANDLER,
        "requirements.txt": "# what the function needs\ntinywheel>=1.0,<2\n",
        "wheels/tinywheel-1.0.0-py3-none-any.whl": { base64: base64(tinyWheel()) },
      });
      expect(version.status, JSON.stringify(version.error)).toBe("ready");
      const call = expectStatus(await invoke(fn.id, { text: "hi" }), 200);
      expect(call.result).toEqual({ shout: "HI!", version: "1.0.0", answer: 42 });
      const logs = version.buildLogs.map((l: { message: string }) => l.message).join("\n");
      expect(logs).toMatch(/tinywheel/);
    },
    T,
  );

  it(
    "fails the build when a requirement has no wheel, or no wheel of a matching version",
    async () => {
      const missing = await build({ "handler.py": HANDLER, "requirements.txt": "numpy==2.1.0\n" });
      expect(missing.version.status).toBe("failed");
      expect(missing.version.error.message).toMatch(/numpy/);
      expect(missing.version.error.message).toMatch(/wheel/i);

      const tooOld = await build({
        "handler.py": HANDLER,
        "requirements.txt": "tinywheel>=2\n",
        "wheels/tinywheel-1.0.0-py3-none-any.whl": { base64: base64(tinyWheel()) },
      });
      expect(tooOld.version.status).toBe("failed");
      expect(tooOld.version.error.message).toMatch(/tinywheel/);
      expect(tooOld.version.error.message).toMatch(/1\.0\.0/);
    },
    T,
  );

  it(
    "refuses wheels with compiled code, whatever their tag says",
    async () => {
      const cases: [string, string][] = [
        ["cp313-cp313-manylinux_2_17_x86_64", "fastthing-2.0.0-cp313-cp313-manylinux_2_17_x86_64.whl"],
        ["py3-none-any", "fastthing-2.0.0-py3-none-any.whl"],
      ];
      for (const [tag, name] of cases) {
        const { version } = await build({
          "handler.py": "import fastthing\n\ndef handle(data):\n    return fastthing.go()\n",
          [`wheels/${name}`]: { base64: base64(platformWheel(tag)) },
        });
        expect(version.status, name).toBe("failed");
        expect(version.error.message, name).toMatch(/fastthing/);
        expect(version.error.message, name).toMatch(/compiled|pure-Python|platform/i);
      }
    },
    T,
  );
});
