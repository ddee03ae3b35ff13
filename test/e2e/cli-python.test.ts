/**
 * Black-box: `edgefn deploy` of a Python folder, as a user runs it against a throwaway local platform. The folder's
 * files go up as they are (a helper package, a data file, a binary file), and the wheels requirements.txt needs come
 * from pip (offline here: pip's own PIP_FIND_LINKS / PIP_NO_INDEX point it at a folder of wheels), or from the folder.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startPlatform } from "../../scripts/lib/platform.mjs";
import { runNode } from "./support/run";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "cli", "edgefn.js");
const T = 240_000;

let platform: LocalPlatform;
let home: string;

/** The environment the CLI runs with: this platform, its admin key, a config folder of its own. */
function cliEnv(): Record<string, string | undefined> {
  return {
    ...process.env,
    NO_COLOR: "1",
    XDG_CONFIG_HOME: join(home, "config"),
    EDGEFN_URL: platform.url,
    EDGEFN_KEY: platform.adminKey,
    EDGEFN_WORKSPACE: undefined,
  };
}

function edgefn(args: string[], env: Record<string, string | undefined> = {}) {
  return runNode(CLI, args, { cwd: home, env: { ...cliEnv(), ...env } });
}

/** A pure-Python wheel of `name` at `version`. */
function wheel(name: string, version: string, body: string): Uint8Array {
  const dist = `${name}-${version}.dist-info`;
  return zipSync({
    [`${name}/__init__.py`]: strToU8(body),
    [`${dist}/METADATA`]: strToU8(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`),
    [`${dist}/WHEEL`]: strToU8("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    [`${dist}/RECORD`]: strToU8(""),
  });
}

/** A Python function folder: handler.py, a helper package, a data file, a binary file, requirements.txt. */
function pythonFolder(name: string, extra: Record<string, string | Uint8Array> = {}) {
  const dir = join(home, name);
  const files: Record<string, string | Uint8Array> = {
    "handler.py": [
      "import json, os",
      "import shouty",
      "from lib.words import count",
      "",
      "with open('data/greeting.txt') as f:",
      "    GREETING = f.read().strip()",
      "",
      "def handle(data, function_call_info):",
      "    text = data.get('text', '')",
      "    size = os.path.getsize('assets/logo.bin')",
      "    return {'loud': shouty.shout(GREETING + ' ' + text), 'words': count(text), 'bin': size}",
      "",
    ].join("\n"),
    "lib/__init__.py": "",
    "lib/words.py": "def count(text):\n    return len(text.split())\n",
    "data/greeting.txt": "hello\n",
    "assets/logo.bin": new Uint8Array([0, 1, 2, 255, 254, 0, 7]),
    "requirements.txt": "shouty>=1.0  # the only dependency\n",
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    "__pycache__/handler.cpython-314.pyc": new Uint8Array([1, 2, 3]),
    ...extra,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "edgefn-cli-py-"));
  platform = await startPlatform();
  mkdirSync(join(home, "index"));
  writeFileSync(
    join(home, "index", "shouty-1.2.0-py3-none-any.whl"),
    wheel("shouty", "1.2.0", "def shout(text):\n    return text.upper() + '!'\n"),
  );
}, T);

afterAll(async () => {
  await platform?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("edgefn deploy, Python", () => {
  it(
    "uploads the folder as it is, fetches the wheels requirements.txt needs with pip, and the function runs",
    async () => {
      const dir = pythonFolder("greeter");
      const pipEnv = { PIP_NO_INDEX: "1", PIP_FIND_LINKS: join(home, "index") };
      const deployed = await edgefn(["--json", "deploy", dir], pipEnv);
      expect(deployed.code, deployed.stderr + deployed.stdout).toBe(0);
      const out = JSON.parse(deployed.stdout);
      expect(out.version).toMatchObject({ status: "ready", runtime: "python", entrypoint: "handler.py" });

      const invoked = await edgefn(["--json", "invoke", "greeter", "--data", '{"text": "big world"}']);
      expect(invoked.code, invoked.stderr).toBe(0);
      expect(JSON.parse(invoked.stdout).result).toEqual({ loud: "HELLO BIG WORLD!", words: 2, bin: 7 });

      // What went up: the wheel pip fetched, the binary file as it was; no virtual environment, no bytecode.
      const res = await fetch(`${platform.url}/api/functions/${out.function.id}/versions/${out.version.id}/source`, {
        headers: { authorization: `Bearer ${platform.adminKey}` },
      });
      const source = (await res.json()) as { files: Record<string, unknown> };
      expect(Object.keys(source.files).sort()).toEqual([
        "assets/logo.bin",
        "data/greeting.txt",
        "handler.py",
        "lib/__init__.py",
        "lib/words.py",
        "requirements.txt",
        "wheels/shouty-1.2.0-py3-none-any.whl",
      ]);
      expect(source.files["assets/logo.bin"]).toEqual({
        base64: Buffer.from([0, 1, 2, 255, 254, 0, 7]).toString("base64"),
      });

      // The human output says what pip fetched.
      const again = await edgefn(["deploy", dir], pipEnv);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain("fetched with pip: shouty-1.2.0-py3-none-any.whl");
    },
    T,
  );

  it(
    "uses the wheels the folder carries without calling pip, and says what pip answered when it cannot help",
    async () => {
      const carried = pythonFolder("carried", {
        "wheels/shouty-1.0.0-py3-none-any.whl": wheel("shouty", "1.0.0", "def shout(t):\n    return t + '?'\n"),
      });
      // A pip that fails if it is ever called.
      const deployed = await edgefn(["--json", "deploy", carried], { EDGEFN_PIP: "false" });
      expect(deployed.code, deployed.stderr + deployed.stdout).toBe(0);
      const invoked = await edgefn(["--json", "invoke", "carried", "--data", '{"text": "x"}']);
      expect(JSON.parse(invoked.stdout).result).toMatchObject({ loud: "hello x?" });

      const missing = pythonFolder("missing", { "requirements.txt": "nosuchthing==9.9\n" });
      const failed = await edgefn(["deploy", missing], { PIP_NO_INDEX: "1", PIP_FIND_LINKS: join(home, "index") });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/pip could not fetch pure-Python wheels/);
      expect(failed.stderr).toMatch(/nosuchthing/);

      // --no-pip: the platform's build refuses the unmet requirement, by name.
      const skipped = await edgefn(["deploy", "--no-pip", missing]);
      expect(skipped.code).toBe(3);
      expect(skipped.stderr).toMatch(/nosuchthing/);
    },
    T,
  );

  it(
    "deploys examples/python-wheel as its README says, with the wheel the folder carries, and invokes it",
    async () => {
      const readme = readFileSync(join(ROOT, "examples", "python-wheel", "README.md"), "utf8");
      const lines = [...readme.matchAll(/^npx edgefn (.+)\n# (.*)$|^npx edgefn (.+)$/gm)];
      expect(lines.map((m) => (m[1] ?? m[3] ?? "").split(" ")[0])).toEqual(["deploy", "invoke"]);
      const out: string[] = [];
      for (const m of lines) {
        // The README's words, split as a shell would (single quotes kept together); run from the repository root.
        const args = [...(m[1] ?? m[3] ?? "").matchAll(/'([^']*)'|(\S+)/g)].map((a) => a[1] ?? a[2] ?? "");
        // A pip that fails if it is ever called: the folder's wheel satisfies requirements.txt.
        const ran = await runNode(CLI, args, { cwd: ROOT, env: { ...cliEnv(), EDGEFN_PIP: "false" } });
        expect(ran.code, ran.stderr + ran.stdout).toBe(0);
        if (m[2]) expect(JSON.parse(ran.stdout)).toEqual(JSON.parse(m[2]));
        out.push(ran.stderr);
      }
      expect(out[0]).toMatch(/ready/);
    },
    T,
  );
});
