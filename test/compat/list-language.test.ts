/**
 * The list language's additions the Cognite surface is built on (docs/functions.md), through the native functions
 * list: `startsWith` on text, the map field `metadata` with `contains`, and the relations `defaultVersion`,
 * `latestVersion` and `cognite`; then Cognite's filtered list, which pages through the list engine: a filter that
 * many functions match answers full pages, page after page.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, api, expectStatus, newFunction, newWorkspace, unique, type Workspace } from "../support/api";
import { deploy, upload } from "../support/deploy";

const HANDLE = "export async function handle(data) { return data; }";
const BROKEN = "export async function handle( {";

/** The ids the native list answers for this filter, in the workspace, in creation order. */
async function ids(ws: Workspace, filter: unknown, extra: Record<string, string> = {}): Promise<string[]> {
  const params = new URLSearchParams({ workspace_id: ws.id, filter: JSON.stringify(filter), ...extra });
  const page = expectStatus(await api("GET", `/api/functions?${params}`), 200);
  return (page.data as { id: string; system: boolean }[])
    .filter((f) => !f.system)
    .map((f) => f.id)
    .sort();
}

async function refused(ws: Workspace, params: Record<string, unknown>): Promise<string> {
  const query = new URLSearchParams({ workspace_id: ws.id });
  for (const [k, v] of Object.entries(params)) query.set(k, JSON.stringify(v));
  const res = await api("GET", `/api/functions?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  return res.body.error.message as string;
}

describe("the list language: startsWith, map fields, version relations, the Cognite relation", () => {
  let ws: Workspace;
  const f: Record<"ready" | "empty" | "failed" | "rolled" | "cognite", string> = {
    ready: "",
    empty: "",
    failed: "",
    rolled: "",
    cognite: "",
  };
  const sorted = (...keys: (keyof typeof f)[]) => keys.map((k) => f[k]).sort();

  beforeAll(async () => {
    ws = await newWorkspace();
    const [ready, empty, failed, rolled] = await Promise.all([
      newFunction(ws.id, { externalId: "team.alpha.1", metadata: { team: "ml", tier: "gold" } }),
      newFunction(ws.id, { externalId: "Team.alpha.2", metadata: { team: "ml" } }),
      newFunction(ws.id, { externalId: "team%_x", metadata: { team: "web", "a.b": "c" } }),
      newFunction(ws.id, {}),
    ]);
    Object.assign(f, { ready: ready.id, empty: empty.id, failed: failed.id, rolled: rolled.id });
    await deploy(ready.id, { "index.js": HANDLE });
    expect((await upload(failed.id, { "index.js": BROKEN })).status).toBe("failed");
    // Its active version is ready, its newest one failed.
    await deploy(rolled.id, { "index.js": HANDLE });
    expect((await upload(rolled.id, { "index.js": BROKEN })).status).toBe("failed");
    const created = expectStatus(
      await api("POST", `/api/v1/projects/${ws.name}/functions`, {
        key: ADMIN_KEY,
        body: { items: [{ name: unique("cog"), owner: "ada@example.com", code: HANDLE }] },
      }),
      201,
    );
    // Its build runs in the background: wait until its version is active.
    const cognite = `/api/v1/projects/${ws.name}/functions/${created.items[0].id}`;
    for (let i = 0; i < 400 && expectStatus(await api("GET", cognite), 200).status !== "Ready"; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const byId = expectStatus(
      await api("GET", `/api/functions?${new URLSearchParams({ workspace_id: ws.id, name: created.items[0].name })}`),
      200,
    );
    f.cognite = byId.data[0].id;
  });

  it("startsWith is an exact, case-sensitive prefix, without pattern characters", async () => {
    expect(await ids(ws, { externalId: { startsWith: "team." } })).toEqual(sorted("ready"));
    expect(await ids(ws, { externalId: { startsWith: "Team" } })).toEqual(sorted("empty"));
    expect(await ids(ws, { externalId: { startsWith: "team%" } })).toEqual(sorted("failed"));
    expect(await ids(ws, { externalId: { startsWith: "team_" } })).toEqual([]);
    expect(await ids(ws, { externalId: { startsWith: "" } })).toEqual(sorted("ready", "empty", "failed"));
    expect(await refused(ws, { filter: { createdAt: { startsWith: "2026" } } })).toMatch(/text fields/);
  });

  it("a map field matches when it contains every pair", async () => {
    expect(await ids(ws, { metadata: { contains: { team: "ml" } } })).toEqual(sorted("ready", "empty"));
    expect(await ids(ws, { metadata: { contains: { team: "ml", tier: "gold" } } })).toEqual(sorted("ready"));
    expect(await ids(ws, { metadata: { contains: { team: "ML" } } })).toEqual([]);
    expect(await ids(ws, { metadata: { contains: { "a.b": "c" } } })).toEqual(sorted("failed"));
    expect(await ids(ws, { metadata: { isNull: true } })).toEqual(sorted("rolled", "cognite"));
    expect((await ids(ws, { metadata: { contains: {} } })).length).toBe(5);
    expect(await refused(ws, { filter: { metadata: { eq: "ml" } } })).toMatch(/contains and isNull/);
    expect(await refused(ws, { filter: { metadata: { contains: { team: 1 } } } })).toMatch(/expected a string/);
    expect(await refused(ws, { filter: { name: { contains: { a: "b" } } } })).toMatch(/map fields/);
    expect(await refused(ws, { orderBy: [{ metadata: "asc" }] })).toMatch(/cannot sort on 'metadata'/);
  });

  it("defaultVersion and latestVersion reach the active and the newest version", async () => {
    expect(await ids(ws, { defaultVersion: { status: { eq: "ready" } } })).toEqual(
      sorted("ready", "rolled", "cognite"),
    );
    expect(await ids(ws, { latestVersion: { status: { eq: "failed" } } })).toEqual(sorted("failed", "rolled"));
    expect(await ids(ws, { latestVersion: { number: { eq: 2 } } })).toEqual(sorted("rolled"));
    expect(await ids(ws, { not: { latestVersion: { number: { gte: 1 } } } })).toEqual(sorted("empty"));
  });

  it("the cognite relation reaches Cognite's owner", async () => {
    expect(await ids(ws, { cognite: { owner: { eq: "ada@example.com" } } })).toEqual(sorted("cognite"));
    expect(await ids(ws, { cognite: { owner: { eq: "someone@else" } } })).toEqual([]);
  });
});

describe("Cognite's function filters through the list engine", () => {
  it("answers full pages of a filter that many functions match, among many that do not", async () => {
    const ws = await newWorkspace();
    const base = `/api/v1/projects/${ws.name}/functions`;
    const matching: string[] = [];
    for (let i = 0; i < 150; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          newFunction(ws.id, { metadata: { batch: (i + j) % 5 === 4 ? "other" : "big" } }),
        ),
      );
      matching.push(...batch.filter((fn) => fn.metadata.batch === "big").map((fn) => fn.name as string));
    }
    expect(matching).toHaveLength(120);
    const filter = { metadata: { batch: "big" }, status: "Failed" };

    const first = expectStatus(await api("POST", `${base}/list`, { body: { filter, limit: 100 } }), 200);
    expect(first.items).toHaveLength(100);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = expectStatus(
      await api("POST", `${base}/list`, { body: { filter, limit: 100, cursor: first.nextCursor } }),
      200,
    );
    expect(rest.items).toHaveLength(20);
    expect(rest.nextCursor).toBeUndefined();
    const names = [...first.items, ...rest.items].map((fn: { name: string }) => fn.name);
    expect(names.sort()).toEqual([...matching].sort());

    const all = expectStatus(await api("POST", `${base}/list`, { body: { filter, limit: -1 } }), 200);
    expect(all.items).toHaveLength(120);
    const none = expectStatus(
      await api("POST", `${base}/list`, { body: { filter: { ...filter, status: "Ready" } } }),
      200,
    );
    expect(none.items).toEqual([]);
    const byFile = expectStatus(await api("POST", `${base}/list`, { body: { filter: { fileId: 1 } } }), 200);
    expect(byFile.items).toEqual([]);
  });
});
