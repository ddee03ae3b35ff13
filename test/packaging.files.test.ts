/**
 * The stored file format: text files as strings, binary files as `{ base64 }`, in the native JSON upload, in
 * archives and in the sources kept in R2 (served back by GET .../source and Appwrite's download).
 */
import { env, exports } from "cloudflare:workers";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { ADMIN_KEY, api, expectError, expectStatus, newFunction, newWorkspace } from "./support/api";
import { deploy, waitForBuild } from "./support/deploy";

const versionsOf = (fnId: string) => `/api/functions/${fnId}/versions`;
const handler = `export async function handle() { return "ok"; }`;
/** Bytes that are not UTF-8 (and hold a NUL): a binary file whatever its name. */
const BINARY = new Uint8Array([0x00, 0xff, 0xfe, 0x01, 0x80, 0x7f, 0x00, 0x42]);
const b64 = (bytes: Uint8Array) => bytes.toBase64();

async function freshFunction() {
  const ws = await newWorkspace();
  return newFunction(ws.id);
}

async function sourceOf(fnId: string, versionId: string) {
  return expectStatus(await api("GET", `${versionsOf(fnId)}/${versionId}/source`), 200);
}

describe("packaging: binary files in the stored sources", () => {
  it("keeps a {base64} file of a JSON upload, counts it by its decoded size and serves it back as it came", async () => {
    const fn = await freshFunction();
    const v = await deploy(fn.id, { "index.js": handler, "model.bin": { base64: b64(BINARY) } });
    expect(v.sourceSize).toBe(new TextEncoder().encode(handler).byteLength + BINARY.byteLength);
    const source = await sourceOf(fn.id, v.id);
    expect(source).toEqual({
      entrypoint: "index.js",
      files: { "index.js": handler, "model.bin": { base64: b64(BINARY) } },
    });
  });

  it("refuses base64 that is not valid with a 400 naming the file, storing nothing", async () => {
    const fn = await freshFunction();
    const before = (await env.CODE.list({ prefix: "sources/" })).objects.length;
    for (const bad of ["not base64!", "QUJD=", "QQ", "QUJ\nD"]) {
      const err = expectError(
        await api("POST", versionsOf(fn.id), { body: { files: { "index.js": handler, "x.bin": { base64: bad } } } }),
        400,
        "bad_request",
      );
      expect(err.message).toContain("x.bin");
    }
    // An object that is not {base64} is not a file.
    expectError(
      await api("POST", versionsOf(fn.id), { body: { files: { "index.js": handler, "x.bin": { bytes: "AA==" } } } }),
      400,
      "bad_request",
    );
    expect((await env.CODE.list({ prefix: "sources/" })).objects.length).toBe(before);
    expect(expectStatus(await api("GET", versionsOf(fn.id)), 200).data).toEqual([]);
  });

  it("counts binary files against the code limit by their decoded size (413)", async () => {
    const fn = await freshFunction();
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    const err = expectError(
      await api("POST", versionsOf(fn.id), {
        body: { files: { "index.js": handler, "big.bin": { base64: b64(big) } } },
      }),
      413,
      "payload_too_large",
    );
    expect(err.message).toContain(String(10 * 1024 * 1024));
  });

  it("keeps an archive's binary files as base64 and its text files as text", async () => {
    const fn = await freshFunction();
    const zip = zipSync({
      "index.js": new TextEncoder().encode(handler),
      "image.png": BINARY,
      "notes.txt": new TextEncoder().encode("héllo\n"),
    });
    const res = await exports.default.fetch(`http://edgefn.test${versionsOf(fn.id)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/zip" },
      body: zip,
    });
    expect(res.status).toBe(201);
    const queued = (await res.json()) as { id: string };
    expect((await waitForBuild(fn.id, queued.id)).status).toBe("ready");
    const source = await sourceOf(fn.id, queued.id);
    expect(source.files).toEqual({ "index.js": handler, "image.png": { base64: b64(BINARY) }, "notes.txt": "héllo\n" });
  });
});
