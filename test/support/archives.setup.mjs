/**
 * Vitest global setup (in Node, before the workers start): archives of one project folder made by the real tools,
 * as users make them: GNU tar in its gnu, pax and ustar formats (`tar -czf code.tar.gz -C dir .`, and with the
 * folder itself as the archive's top), zip(1) (`zip -r -y`, links stored as links), and Python's zipfile for a
 * Windows-style zip with backslashes. The tests get them base64-encoded through `inject("archives")`.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT } from "./archive-project.ts";

/** What is in the folder but never uploaded: dotfiles and dot-folders, links, a fifo. */
const LEFT_OUT = {
  ".env": "SECRET=1\n",
  ".DS_Store": [0, 0, 0, 1, 66, 117, 100, 49],
  ".git/HEAD": "ref: refs/heads/main\n",
  ".git/objects/ab/cdef": [120, 1, 0, 0],
  "node_modules/.package-lock.json": "{}\n",
};

function write(root, files) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === "string" ? content : Uint8Array.from(content));
  }
}

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });

/** @param {import("vitest/node").TestProject} project */
export default function setup(project) {
  const root = mkdtempSync(join(tmpdir(), "edgefn-archives-"));
  try {
    const dir = join(root, "proj");
    write(dir, PROJECT);
    write(dir, LEFT_OUT);
    symlinkSync("index.js", join(dir, "link.js"));
    symlinkSync("/etc/passwd", join(dir, "outside.txt"));
    // Sorted by name, tar stores a-original.txt as a file and b-hardlink.txt as a link to it (zip has no links).
    linkSync(join(dir, "a-original.txt"), join(dir, "b-hardlink.txt"));
    run("mkfifo", [join(dir, "pipe")]);
    chmodSync(join(dir, "index.js"), 0o755);

    const out = {};
    const made = (name, path) => {
      out[name] = readFileSync(path).toString("base64");
    };
    for (const format of ["gnu", "pax", "ustar"]) {
      run("tar", [`--format=${format}`, "--sort=name", "-czf", join(root, `${format}.tar.gz`), "-C", dir, "."]);
      made(`${format}.tar.gz`, join(root, `${format}.tar.gz`));
    }
    run("tar", ["--format=ustar", "--sort=name", "-cf", join(root, "plain.tar"), "-C", dir, "."]);
    made("plain.tar", join(root, "plain.tar"));
    // The folder itself at the archive's top (`tar -czf proj.tar.gz proj`): the shared folder is removed.
    run("tar", ["--sort=name", "-czf", join(root, "top.tar.gz"), "-C", root, "proj"]);
    made("top.tar.gz", join(root, "top.tar.gz"));
    run("zip", ["-q", "-r", "-y", join(root, "proj.zip"), "."], dir);
    made("proj.zip", join(root, "proj.zip"));

    // Zips as Windows tools write them: backslashes between folders, and one whose entry climbs out.
    const py = (script) => execFileSync("python3", ["-c", script], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    py(`import zipfile
with zipfile.ZipFile("windows.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("proj\\\\index.js", ${JSON.stringify(PROJECT["index.js"])})
    z.writestr("proj\\\\lib\\\\label.js", ${JSON.stringify(PROJECT["lib/label.js"])})
    z.writestr("proj\\\\lib\\\\", "")
with zipfile.ZipFile("escape.zip", "w") as z:
    z.writestr("index.js", "export async function handle() { return 1; }")
    z.writestr("lib\\\\..\\\\..\\\\evil.js", "export const evil = 1;")
with zipfile.ZipFile("bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("index.js", "export async function handle() { return 1; }")
    z.writestr("zeros.bin", bytes(64 * 1024 * 1024))
`);
    for (const name of ["windows.zip", "escape.zip", "bomb.zip"]) made(name, join(root, name));
    project.provide("archives", out);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
