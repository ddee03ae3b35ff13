/**
 * Archives as real tools make them (made by test/support/archives.setup.mjs with GNU tar, zip(1) and Python's
 * zipfile): `-C dir .` entries starting with `./`, the gnu, pax and ustar formats, a shared top folder, Windows
 * backslashes; dotfiles, links and fifos skipped, node_modules kept; escapes, bombs and entry floods refused.
 */
import { env, exports } from "cloudflare:workers";
import { zipSync } from "fflate";
import { describe, expect, inject, it } from "vitest";
import { ADMIN_KEY, type ApiResponse, api, expectError, expectStatus, newFunction, newWorkspace } from "./support/api";
import { PROJECT } from "./support/archive-project";
import { invoke, waitForBuild } from "./support/deploy";

const archives = inject("archives");
const archive = (name: string) => Uint8Array.fromBase64(archives[name] as string);
const versionsOf = (fnId: string) => `/api/functions/${fnId}/versions`;

async function send(fnId: string, body: Uint8Array, contentType: string): Promise<ApiResponse> {
  const res = await exports.default.fetch(`http://edgefn.test${versionsOf(fnId)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": contentType },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

async function freshFunction() {
  return newFunction((await newWorkspace()).id);
}

/** The files the project folder should come to: text as text, the PNG as base64. */
function expected(extra: Record<string, string> = {}) {
  const files: Record<string, unknown> = { ...extra };
  for (const [path, content] of Object.entries(PROJECT)) {
    files[path] = typeof content === "string" ? content : { base64: Uint8Array.from(content).toBase64() };
  }
  return files;
}

/** Uploads an archive, waits for the build, and returns the stored sources and a call's result. */
async function roundTrip(name: string, contentType: string) {
  const fn = await freshFunction();
  const queued = expectStatus(await send(fn.id, archive(name), contentType), 201);
  const v = await waitForBuild(fn.id, queued.id);
  expect(v.status, JSON.stringify(v.error)).toBe("ready");
  const source = expectStatus(await api("GET", `${versionsOf(fn.id)}/${v.id}/source`), 200);
  const result = expectStatus(await invoke(fn.id, { n: 5 }), 200).result;
  return { source, result, version: v };
}

describe("packaging: archives made by tar and zip", () => {
  it.each([
    ["gnu.tar.gz", "application/gzip"],
    ["pax.tar.gz", "application/gzip"],
    ["ustar.tar.gz", "application/octet-stream"],
    ["plain.tar", "application/x-tar"],
    ["top.tar.gz", "application/gzip"],
  ])(
    "unpacks %s: ./ entries, long and UTF-8 names, binary files, node_modules; no dotfiles or links",
    async (name, type) => {
      const { source, result, version } = await roundTrip(name, type);
      expect(version.entrypoint).toBe("index.js");
      // Hard links, symlinks (one pointing at /etc/passwd), the fifo, .git, .env, .DS_Store and
      // node_modules/.package-lock.json are not there; the rest is, byte for byte.
      expect(source.files).toEqual(expected());
      expect(result).toBe("n=5");
    },
  );

  it("unpacks zip(1)'s archive of the folder (links stored as links are skipped)", async () => {
    const { source, result } = await roundTrip("proj.zip", "application/zip");
    // zip has no hard links: the second name is a file of its own.
    expect(source.files).toEqual(expected({ "b-hardlink.txt": "hard-linked\n" }));
    expect(result).toBe("n=5");
  });

  it("turns a Windows zip's backslashes into folders, and removes its shared top folder", async () => {
    const fn = await freshFunction();
    const queued = expectStatus(await send(fn.id, archive("windows.zip"), "application/zip"), 201);
    expect((await waitForBuild(fn.id, queued.id)).status).toBe("ready");
    const source = expectStatus(await api("GET", `${versionsOf(fn.id)}/${queued.id}/source`), 200);
    expect(Object.keys(source.files).sort()).toEqual(["index.js", "lib/label.js"]);
    expect(expectStatus(await invoke(fn.id, { n: 2 }), 200).result).toBe("n=2");
  });

  it("takes the archive as multipart form data too", async () => {
    const fn = await freshFunction();
    const form = new FormData();
    form.append("code", new File([archive("pax.tar.gz")], "code.tar.gz", { type: "application/gzip" }));
    const res = await exports.default.fetch(`http://edgefn.test${versionsOf(fn.id)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      body: form,
    });
    expect(res.status).toBe(201);
    const queued = (await res.json()) as { id: string };
    expect((await waitForBuild(fn.id, queued.id)).status).toBe("ready");
  });
});

describe("packaging: archives refused, with nothing stored", () => {
  async function refused(body: Uint8Array, type: string, status: number, code: string) {
    const fn = await freshFunction();
    const before = (await env.CODE.list({ prefix: "sources/" })).objects.length;
    const err = expectError(await send(fn.id, body, type), status, code);
    expect((await env.CODE.list({ prefix: "sources/" })).objects.length).toBe(before);
    expect(expectStatus(await api("GET", versionsOf(fn.id)), 200).data).toEqual([]);
    return err;
  }

  it("refuses an entry whose path climbs out (..\\..\\evil.js) with a 400", async () => {
    const err = await refused(archive("escape.zip"), "application/zip", 400, "bad_request");
    expect(err.message).toMatch(/evil\.js.*outside/);
  });

  it("refuses a tar entry climbing out, and one with a Windows drive letter", async () => {
    for (const name of ["../evil.js", "C:\\evil.js", "ok/../../evil.js"]) {
      const tar = tarOf([
        ["index.js", "export async function handle() { return 1; }"],
        [name, "x"],
      ]);
      const err = await refused(tar, "application/x-tar", 400, "bad_request");
      expect(err.message).toContain("outside");
    }
  });

  it("refuses a zip bomb by its declared size before inflating it (413)", async () => {
    const bomb = archive("bomb.zip");
    expect(bomb.byteLength).toBeLessThan(512 * 1024);
    const err = await refused(bomb, "application/zip", 413, "payload_too_large");
    expect(err.message).toContain(String(10 * 1024 * 1024));
  });

  it("refuses a tar.gz whose files come to more than the code limit (413)", async () => {
    const big = new Uint8Array(6 * 1024 * 1024).fill(0x61);
    const tgz = await gzip(
      tarOf([
        ["index.js", "export async function handle() { return 1; }"],
        ["a.txt", big],
        ["b.txt", big],
      ]),
    );
    expect(tgz.byteLength).toBeLessThan(256 * 1024);
    await refused(tgz, "application/gzip", 413, "payload_too_large");
  });

  it("refuses more files than the limit, and a flood of entries of any kind (413)", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i <= 10_000; i++) files[`f/${i}.txt`] = new Uint8Array([0x61]);
    files["index.js"] = new TextEncoder().encode("export async function handle() { return 1; }");
    let err = await refused(zipSync(files, { level: 0 }), "application/zip", 413, "payload_too_large");
    expect(err.message).toMatch(/10000 files/);

    // Folders count as entries though they hold nothing (as do skipped dotfiles and links).
    const flood: TarEntry[] = [["index.js", "export async function handle() { return 1; }"]];
    for (let i = 0; i <= 100_000; i++) flood.push([`d${i}/`, "", "5"]);
    err = await refused(await gzip(tarOf(flood)), "application/gzip", 413, "payload_too_large");
    expect(err.message).toMatch(/100000 entries/);
  });

  it("refuses a tar whose header is damaged, or which ends inside an entry (400)", async () => {
    const tar = tarOf([["index.js", "export async function handle() { return 1; }"]]);
    const damaged = tar.slice();
    damaged[10] = 0x41;
    await refused(damaged, "application/x-tar", 400, "bad_request");
    await refused(tar.slice(0, 700), "application/x-tar", 400, "bad_request");
  });

  it("says an archive of only dotfiles and links holds no files (400)", async () => {
    const zip = zipSync({ ".env": new Uint8Array([0x61]), ".git/HEAD": new Uint8Array([0x62]) });
    const err = await refused(zip, "application/zip", 400, "bad_request");
    expect(err.message).toMatch(/no files/);
  });
});

type TarEntry = [name: string, content: string | Uint8Array, type?: string];

/** A plain ustar archive of these entries, written here byte by byte (names up to 100 bytes). */
function tarOf(entries: TarEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const blocks: Uint8Array[] = [];
  for (const [name, content, type = "0"] of entries) {
    const data = typeof content === "string" ? encoder.encode(content) : content;
    const header = new Uint8Array(512);
    const put = (text: string, at: number) => header.set(encoder.encode(text), at);
    put(name, 0);
    put("0000644\0", 100);
    put("0000000\0", 108);
    put("0000000\0", 116);
    put(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    put("00000000000\0", 136);
    put(type, 156);
    put("ustar\x0000", 257);
    header.fill(0x20, 148, 156);
    put(
      `${header
        .reduce((n, b) => n + b, 0)
        .toString(8)
        .padStart(6, "0")}\0 `,
      148,
    );
    blocks.push(header);
    const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
    body.set(data);
    blocks.push(body);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
