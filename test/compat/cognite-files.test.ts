/**
 * The Cognite surface's Files API (/api/v1/projects/{project}/files...), as the Python SDK's upload uses it: file
 * metadata, an upload URL back at the platform that works once and expires, the PUT of the bytes (capped), reads,
 * lists, overwrite and delete, within the project's walls; and gzip-compressed JSON bodies, which the SDK sends.
 */
import { env, exports } from "cloudflare:workers";
import { gzipSync, strToU8 } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_KEY,
  type ApiResponse,
  api,
  newFunction,
  newKey,
  newWorkspace,
  unique,
  type Workspace,
} from "../support/api";

function ok<T = any>(res: ApiResponse<T>, status = 200): T {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

function cogniteError(res: ApiResponse, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body)).toEqual(["error"]);
  expect(res.body.error).toMatchObject({ code: status, message: expect.any(String) });
  return res.body.error as { code: number; message: string; missing?: unknown[]; duplicated?: unknown[] };
}

/** The PUT the SDK makes to an upload URL (no API key needed; the SDK sends its own, which changes nothing). */
async function put(url: string, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await exports.default.fetch(url, { method: "PUT", body, headers: { accept: "*/*", ...headers } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers } as ApiResponse;
}

/** The R2 objects holding the workspace's files. */
async function objectsOf(ws: Workspace) {
  return (await env.CODE.list({ prefix: `cognite-files/${ws.id}/` })).objects.map((o) => o.key);
}

describe("Cognite Files API", () => {
  let ws: Workspace;
  let base: string;
  let dev: string;

  beforeAll(async () => {
    ws = await newWorkspace();
    base = `/api/v1/projects/${ws.name}/files`;
    dev = (await newKey("developer", ws.id)).key;
  });

  it("creates a file with an upload URL back at the platform, takes the bytes once, and reads it back", async () => {
    const externalId = unique("code");
    const created = ok(
      await api("POST", `${base}?overwrite=False`, {
        key: dev,
        body: { name: "myfn.zip", externalId, dataSetId: 77, metadata: { kind: "function" } },
      }),
      201,
    );
    expect(created).toMatchObject({
      id: expect.any(Number),
      name: "myfn.zip",
      externalId,
      dataSetId: 77,
      metadata: { kind: "function" },
      uploaded: false,
      createdTime: expect.any(Number),
      lastUpdatedTime: expect.any(Number),
    });
    const url = new URL(created.uploadUrl);
    expect(url.origin).toBe("http://edgefn.test");
    const token = url.pathname.split("/").pop() as string;
    // 32 random bytes, and nothing else: the URL names neither the file nor the project.
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.pathname).toBe(`/api/v1/files/upload/${token}`);
    expect(url.search).toBe("");

    const bytes = crypto.getRandomValues(new Uint8Array(5000));
    const uploaded = await put(created.uploadUrl, bytes, { authorization: `Bearer ${dev}` });
    expect(uploaded.status).toBe(200);
    const keys = await objectsOf(ws);
    expect(keys).toHaveLength(1);
    expect(new Uint8Array(await ((await env.CODE.get(keys[0] as string)) as R2ObjectBody).arrayBuffer())).toEqual(
      bytes,
    );

    // Single use: a second PUT to the same URL changes nothing.
    const again = cogniteError(await put(created.uploadUrl, new Uint8Array([1, 2, 3])), 403);
    expect(again.message).toMatch(/not valid/);
    expect(await objectsOf(ws)).toEqual(keys);

    const got = ok(await api("GET", `${base}/${created.id}`, { key: dev }));
    expect(got).toMatchObject({ id: created.id, uploaded: true, uploadedTime: expect.any(Number) });
    expect(got.uploadUrl).toBeUndefined();
    const byIds = ok(
      await api("POST", `${base}/byids`, { key: dev, body: { items: [{ externalId }, { id: created.id }] } }),
    );
    expect(byIds.items.map((f: { id: number }) => f.id)).toEqual([created.id, created.id]);
  });

  it("keeps one content when two uploads race on one URL", async () => {
    const made = ok(await api("POST", base, { key: dev, body: { name: "race.zip" } }), 201);
    const answers = await Promise.all(["first", "second", "third"].map((body) => put(made.uploadUrl, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 403, 403]);
    const keys = (await objectsOf(ws)).filter((k) => k.includes(`/${made.id}/`));
    expect(keys).toHaveLength(1);
    const kept = await ((await env.CODE.get(keys[0] as string)) as R2ObjectBody).text();
    expect(["first", "second", "third"][answers.findIndex((a) => a.status === 200)]).toBe(kept);
  });

  it("refuses an unknown, a malformed and an expired upload URL, and a body over the cap, storing nothing", async () => {
    const made = ok(await api("POST", base, { key: dev, body: { name: "late.zip" } }), 201);
    const before = await objectsOf(ws);
    cogniteError(await put(`http://edgefn.test/api/v1/files/upload/${"A".repeat(43)}`, "x"), 403);
    cogniteError(await put("http://edgefn.test/api/v1/files/upload/short", "x"), 403);
    await env.DB.prepare("UPDATE cognite_files SET upload_expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, made.id)
      .run();
    cogniteError(await put(made.uploadUrl, "x"), 403);

    const big = ok(await api("POST", base, { key: dev, body: { name: "big.zip" } }), 201);
    const tooLarge = new Uint8Array(16 * 1024 * 1024 + 1);
    cogniteError(await put(big.uploadUrl, tooLarge), 413);
    // Without a Content-Length the body is cut off at the cap while it streams.
    const stream = new Blob([tooLarge]).stream();
    cogniteError(await put(big.uploadUrl, stream), 413);
    expect(await objectsOf(ws)).toEqual(before);
    expect(ok(await api("GET", `${base}/${big.id}`, { key: dev })).uploaded).toBe(false);
    // The URL still works for a body within the cap.
    expect((await put(big.uploadUrl, new Uint8Array(10))).status).toBe(200);
  });

  it("overwrites by externalId only when asked: new metadata and URL, the old content until the new one lands", async () => {
    const externalId = unique("same");
    const first = ok(await api("POST", base, { key: dev, body: { name: "a.zip", externalId } }), 201);
    expect((await put(first.uploadUrl, "first")).status).toBe(200);
    const [oldKey] = (await objectsOf(ws)).filter((k) => k.includes(`/${first.id}/`));

    const dup = cogniteError(await api("POST", base, { key: dev, body: { name: "b.zip", externalId } }), 409);
    expect(dup.duplicated).toEqual([{ externalId }]);

    const second = ok(
      await api("POST", `${base}?overwrite=true`, { key: dev, body: { name: "b.zip", externalId } }),
      201,
    );
    expect(second).toMatchObject({ id: first.id, name: "b.zip", uploaded: true });
    expect(second.uploadUrl).not.toBe(first.uploadUrl);
    expect(await env.CODE.head(oldKey as string)).not.toBeNull();
    expect((await put(second.uploadUrl, "second")).status).toBe(200);
    const keys = (await objectsOf(ws)).filter((k) => k.includes(`/${first.id}/`));
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toBe(oldKey);
    expect(await ((await env.CODE.get(keys[0] as string)) as R2ObjectBody).text()).toBe("second");
  });

  it("lists with Cognite's filters and cursors", async () => {
    const other = await newWorkspace();
    const key = (await newKey("developer", other.id)).key;
    const b = `/api/v1/projects/${other.name}/files`;
    const made: number[] = [];
    for (const [name, directory] of [
      ["one.zip", "/fn/a"],
      ["two.zip", "/fn/b"],
      ["three.txt", "/docs"],
    ]) {
      made.push(ok(await api("POST", b, { key, body: { name, directory, mimeType: "application/zip" } }), 201).id);
    }
    const list = ok(await api("POST", `${b}/list`, { key, body: { filter: { directoryPrefix: "/fn/" } } }));
    expect(list.items.map((f: { name: string }) => f.name).sort()).toEqual(["one.zip", "two.zip"]);
    expect(ok(await api("POST", `${b}/list`, { key, body: { filter: { uploaded: true } } })).items).toEqual([]);
    const page1 = ok(await api("POST", `${b}/list`, { key, body: { limit: 2 } }));
    expect(page1.items).toHaveLength(2);
    const page2 = ok(await api("POST", `${b}/list`, { key, body: { limit: 2, cursor: page1.nextCursor } }));
    expect([...page1.items, ...page2.items].map((f: { id: number }) => f.id).sort()).toEqual([...made].sort());
    expect(page2.nextCursor).toBeUndefined();
    expect(ok(await api("GET", `${b}?limit=1`, { key })).items).toHaveLength(1);
    cogniteError(await api("POST", `${b}/list`, { key, body: { filter: { assetIds: [1] } } }), 400);
  });

  it("deletes files with their content; unknown ids are missing unless ignored", async () => {
    const made = ok(await api("POST", base, { key: dev, body: { name: "gone.zip" } }), 201);
    expect((await put(made.uploadUrl, "bytes")).status).toBe(200);
    expect((await objectsOf(ws)).some((k) => k.includes(`/${made.id}/`))).toBe(true);
    const missing = cogniteError(
      await api("POST", `${base}/delete`, { key: dev, body: { items: [{ id: made.id }, { id: 999_999_999 }] } }),
      400,
    );
    expect(missing.missing).toEqual([{ id: 999_999_999 }]);
    expect(ok(await api("GET", `${base}/${made.id}`, { key: dev })).id).toBe(made.id);
    ok(
      await api("POST", `${base}/delete`, {
        key: dev,
        body: { items: [{ id: made.id }, { id: 999_999_999 }], ignoreUnknownIds: true },
      }),
    );
    expect((await objectsOf(ws)).some((k) => k.includes(`/${made.id}/`))).toBe(false);
    expect(cogniteError(await api("GET", `${base}/${made.id}`, { key: dev }), 404).missing).toEqual([{ id: made.id }]);
    // Its upload URL died with it.
    cogniteError(await put(made.uploadUrl, "late"), 403);
  });

  it("keeps files inside their project, and from keys that may not write or see them", async () => {
    const made = ok(await api("POST", base, { key: dev, body: { name: "private.zip", externalId: unique("p") } }), 201);
    const other = await newWorkspace();
    const foreign = (await newKey("admin", other.id)).key;
    cogniteError(await api("GET", `${base}/${made.id}`, { key: foreign }), 403);
    const theirs = `/api/v1/projects/${other.name}/files`;
    expect(cogniteError(await api("GET", `${theirs}/${made.id}`, { key: foreign }), 404).missing).toEqual([
      { id: made.id },
    ]);
    cogniteError(
      await api("POST", `${theirs}/byids`, { key: foreign, body: { items: [{ externalId: made.externalId }] } }),
      400,
    );
    cogniteError(await api("POST", `${theirs}/delete`, { key: foreign, body: { items: [{ id: made.id }] } }), 400);
    expect(ok(await api("POST", `${theirs}/list`, { key: foreign, body: {} })).items).toEqual([]);

    const viewer = (await newKey("viewer", ws.id)).key;
    expect(ok(await api("GET", `${base}/${made.id}`, { key: viewer })).id).toBe(made.id);
    cogniteError(await api("POST", base, { key: viewer, body: { name: "v.zip" } }), 403);
    cogniteError(await api("POST", `${base}/delete`, { key: viewer, body: { items: [{ id: made.id }] } }), 403);
    // A key scoped to single functions sees no files.
    const fn = await newFunction(ws.id);
    const scoped = (await newKey("invoker", ws.id, { functionIds: [fn.id] })).key;
    cogniteError(await api("GET", `${base}/${made.id}`, { key: scoped }), 404);
    expect(ok(await api("POST", `${base}/list`, { key: scoped, body: {} })).items).toEqual([]);
    expect(ok(await api("GET", `${base}/${made.id}`, { key: dev })).name).toBe("private.zip");
  });

  it("deletes a workspace's files, content included, with the workspace", async () => {
    const gone = await newWorkspace();
    const key = (await newKey("developer", gone.id)).key;
    const made = ok(await api("POST", `/api/v1/projects/${gone.name}/files`, { key, body: { name: "x.zip" } }), 201);
    expect((await put(made.uploadUrl, "bytes")).status).toBe(200);
    expect(await objectsOf(gone)).toHaveLength(1);
    ok(await api("DELETE", `/api/workspaces/${gone.id}`, { key: ADMIN_KEY }));
    expect(await objectsOf(gone)).toEqual([]);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM cognite_files WHERE workspace_id = ?")
      .bind(gone.id)
      .first();
    expect(rows?.n).toBe(0);
  });

  it("refuses bad metadata with a 400 and creates nothing", async () => {
    const count = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM cognite_files WHERE workspace_id = ?").bind(ws.id).first())?.n;
    const before = await count();
    for (const body of [
      {},
      { name: "" },
      { name: "x", directory: "relative/path" },
      { name: "x", metadata: { k: "v".repeat(10241) } },
      { name: "x", unknownField: 1 },
      { name: "x", dataSetId: -1 },
    ]) {
      cogniteError(await api("POST", base, { key: dev, body }), 400);
    }
    cogniteError(await api("POST", `${base}?overwrite=maybe`, { key: dev, body: { name: "x" } }), 400);
    expect(await count()).toBe(before);
  });

  it("reads gzip-compressed JSON bodies, as the SDK sends them; refuses broken gzip and other encodings", async () => {
    const gz = (value: unknown) => gzipSync(strToU8(JSON.stringify(value)));
    const send = (body: BodyInit, encoding: string) =>
      exports.default.fetch(`http://edgefn.test${base}`, {
        method: "POST",
        headers: { authorization: `Bearer ${dev}`, "content-type": "application/json", "content-encoding": encoding },
        body,
      });
    const res = await send(gz({ name: "gzipped.zip" }), "gzip");
    expect(res.status).toBe(201);
    expect(((await res.json()) as { name: string }).name).toBe("gzipped.zip");
    const broken = await send(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), "gzip");
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toMatch(/gzip/);
    expect((await send(JSON.stringify({ name: "x" }), "br")).status).toBe(415);
    // A small body that inflates past the cap of JSON bodies is a 413.
    const bomb = gzipSync(new Uint8Array(7 * 1024 * 1024).fill(32));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    expect((await send(bomb, "gzip")).status).toBe(413);
  });
});
