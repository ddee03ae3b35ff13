import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ADMIN_KEY,
  api,
  expectError,
  expectStatus,
  newFunction,
  newKey,
  newWorkspace,
  tenant,
  unique,
  type Workspace,
} from "./support/api";

// GET /api/functions as seed 004 describes it: limit/after/before paging, ids, workspace_id, source,
// include_deleted, name, the shorthands, the JSON filter language and multi-key orderBy.

interface Fn {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  createdAt: string;
  deletedAt: string | null;
  [field: string]: unknown;
}

interface PageInfo {
  total: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

interface Page {
  data: Fn[];
  pageInfo: PageInfo;
}

type Params = Record<string, string | number | object | undefined>;

/** The query string of a list call; objects (filter, orderBy) are sent as JSON. */
function query(params: Params): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(typeof v === "object" ? JSON.stringify(v) : String(v))}`)
    .join("&");
}

const listRaw = (params: Params, key: string = ADMIN_KEY) =>
  api<Page>("GET", `/api/functions?${query(params)}`, { key });

async function list(params: Params, key: string = ADMIN_KEY): Promise<Page> {
  return expectStatus(await listRaw(params, key), 200);
}

/** A 400 in the one error shape; returns its message. */
async function badRequest(params: Params, key: string = ADMIN_KEY): Promise<string> {
  return expectError(await listRaw(params, key), 400, "bad_request").message;
}

const ids = (page: Page) => page.data.map((f) => f.id);
const names = (page: Page) => page.data.map((f) => f.name);
const idsOf = (fns: Fn[]) => fns.map((f) => f.id);

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
/** The default order: newest first, the id breaking ties. */
const newestFirst = (a: Fn, b: Fn) => cmp(Date.parse(b.createdAt), Date.parse(a.createdAt)) || cmp(b.id, a.id);

/** Creates functions one after another; a string is a name, an object the create body. */
async function create(ws: Workspace, specs: (string | Record<string, unknown>)[], key = ADMIN_KEY): Promise<Fn[]> {
  const out: Fn[] = [];
  for (const spec of specs) out.push(await newFunction(ws.id, typeof spec === "string" ? { name: spec } : spec, key));
  return out;
}

/** Creates `n` functions concurrently. */
async function createMany(ws: Workspace, n: number): Promise<Fn[]> {
  const out: Fn[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = Array.from({ length: Math.min(20, n - i) }, (_, j) =>
      newFunction(ws.id, { name: `f-${String(i + j).padStart(3, "0")}` }),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** Follows endCursor until hasNextPage is false. */
async function walkForward(params: Params, limit: number, key = ADMIN_KEY): Promise<Page[]> {
  const pages: Page[] = [];
  let after: string | undefined;
  for (let i = 0; i < 200; i++) {
    const page = await list({ ...params, limit, after }, key);
    pages.push(page);
    if (!page.pageInfo.hasNextPage) return pages;
    after = page.pageInfo.endCursor as string;
  }
  throw new Error("the walk did not end");
}

/** Follows startCursor backwards from `before` until hasPreviousPage is false; pages in list order. */
async function walkBackward(params: Params, limit: number, before: string, key = ADMIN_KEY): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor = before;
  for (let i = 0; i < 200; i++) {
    const page = await list({ ...params, limit, before: cursor }, key);
    pages.unshift(page);
    if (!page.pageInfo.hasPreviousPage) return pages;
    cursor = page.pageInfo.startCursor as string;
  }
  throw new Error("the walk did not end");
}

const b64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64url = (text: string) => atob(text.replace(/-/g, "+").replace(/_/g, "/"));

const DIRECTIONS = ["asc", "desc", "asc_nulls_first", "asc_nulls_last", "desc_nulls_first", "desc_nulls_last"] as const;
type Direction = (typeof DIRECTIONS)[number];

/** How the list orders a nullable text field: SQLite's defaults (NULLs first ascending) unless told otherwise. */
function byNullable(field: "description", direction: Direction) {
  const desc = direction.startsWith("desc");
  const nullsFirst = direction.endsWith("nulls_first") ? true : direction.endsWith("nulls_last") ? false : !desc;
  return (a: Fn, b: Fn) => {
    const x = a[field];
    const y = b[field];
    if (x === null || y === null) {
      if (x === y) return desc ? cmp(b.id, a.id) : cmp(a.id, b.id);
      return (x === null) === nullsFirst ? -1 : 1;
    }
    return (desc ? cmp(y, x) : cmp(x, y)) || (desc ? cmp(b.id, a.id) : cmp(a.id, b.id));
  };
}

describe("functions list: limit and pageInfo", () => {
  it("returns 100 by default and any limit from 1 to 100", async () => {
    const ws = await newWorkspace();
    const all = (await createMany(ws, 101)).sort(newestFirst);

    const first = await list({ workspace_id: ws.id });
    expect(ids(first)).toEqual(idsOf(all.slice(0, 100)));
    expect(first.pageInfo).toEqual({
      total: 101,
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: expect.any(String),
      endCursor: expect.any(String),
    });
    expect(ids(await list({ workspace_id: ws.id, limit: 100 }))).toEqual(idsOf(all.slice(0, 100)));

    const rest = await list({ workspace_id: ws.id, after: first.pageInfo.endCursor as string });
    expect(ids(rest)).toEqual([all[100]?.id]);
    expect(rest.pageInfo).toMatchObject({ total: 101, hasNextPage: false, hasPreviousPage: true });
    expect(rest.pageInfo.startCursor).toBe(rest.pageInfo.endCursor);

    const one = await list({ workspace_id: ws.id, limit: 1 });
    expect(ids(one)).toEqual([all[0]?.id]);
    expect(one.pageInfo).toMatchObject({ total: 101, hasNextPage: true, hasPreviousPage: false });
    expect(one.pageInfo.startCursor).toBe(one.pageInfo.endCursor);
    expect(ids(await list({ workspace_id: ws.id, limit: 37 }))).toEqual(idsOf(all.slice(0, 37)));
  });

  it("refuses a limit outside 1..100 or one that is not a whole number", async () => {
    const ws = await newWorkspace();
    await create(ws, ["only"]);
    for (const limit of ["0", "101", "-1", "1000", "abc", "1.5", "10abc", "1e1", "0x10", " 5", "Infinity", "NaN"]) {
      const message = await badRequest({ workspace_id: ws.id, limit });
      expect(message, `limit=${limit}`).toMatch(/limit must be an integer from 1 to 100/);
    }
    expect(names(await list({ workspace_id: ws.id, limit: "007" }))).toEqual(["only"]);
  });

  it("describes an empty list", async () => {
    const ws = await newWorkspace();
    expect(await list({ workspace_id: ws.id })).toEqual({
      data: [],
      pageInfo: { total: 0, hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });
});

describe("functions list: keyset paging", () => {
  it("walks forward with after and back with before, with no gaps or duplicates", async () => {
    const ws = await newWorkspace();
    const all = idsOf((await create(ws, ["a", "b", "c", "d", "e", "f", "g"])).sort(newestFirst));
    const base = { workspace_id: ws.id };

    const forward = await walkForward(base, 3);
    expect(forward.map(ids)).toEqual([all.slice(0, 3), all.slice(3, 6), all.slice(6)]);
    expect(forward.map((p) => p.pageInfo.total)).toEqual([7, 7, 7]);
    expect(forward.map((p) => [p.pageInfo.hasPreviousPage, p.pageInfo.hasNextPage])).toEqual([
      [false, true],
      [true, true],
      [true, false],
    ]);
    const [p1, p2, p3] = forward as [Page, Page, Page];

    // Backwards from the last page: the rows right before the cursor, in list order.
    const back2 = await list({ ...base, limit: 3, before: p3.pageInfo.startCursor as string });
    expect(ids(back2)).toEqual(ids(p2));
    expect(back2.pageInfo).toEqual(p2.pageInfo);
    const back1 = await list({ ...base, limit: 3, before: back2.pageInfo.startCursor as string });
    expect(ids(back1)).toEqual(ids(p1));
    expect(back1.pageInfo).toMatchObject({ total: 7, hasPreviousPage: false, hasNextPage: true });
    const nearest = await list({ ...base, limit: 2, before: p3.pageInfo.startCursor as string });
    expect(ids(nearest)).toEqual(all.slice(4, 6));
    expect(nearest.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });

    const backward = await walkBackward(base, 2, p3.pageInfo.endCursor as string);
    expect(backward.map(ids)).toEqual([all.slice(0, 2), all.slice(2, 4), all.slice(4, 6)]);

    // Beyond either end: an empty page that still says what lies on the other side.
    expect(await list({ ...base, limit: 3, before: p1.pageInfo.startCursor as string })).toEqual({
      data: [],
      pageInfo: { total: 7, hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
    expect(await list({ ...base, limit: 3, after: p3.pageInfo.endCursor as string })).toEqual({
      data: [],
      pageInfo: { total: 7, hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null },
    });

    const both = await badRequest({
      ...base,
      after: p1.pageInfo.endCursor as string,
      before: p3.pageInfo.startCursor as string,
    });
    expect(both).toMatch(/either after or before/);
  });

  it("pages the same way in every sort direction, NULLs included, forward and backward", async () => {
    const ws = await newWorkspace();
    const descriptions = ["b", null, "a", null, "c", "a", null, "b"];
    const fns = await create(
      ws,
      descriptions.map((description, i) => ({ name: `n${i}`, ...(description === null ? {} : { description }) })),
    );
    for (const direction of DIRECTIONS) {
      const params = { workspace_id: ws.id, orderBy: [{ description: direction }] };
      const expected = idsOf([...fns].sort(byNullable("description", direction)));
      expect(ids(await list(params)), direction).toEqual(expected);
      const forward = await walkForward(params, 2);
      expect(forward.flatMap(ids), direction).toEqual(expected);
      expect(
        forward.map((p) => p.data.length),
        direction,
      ).toEqual([2, 2, 2, 2]);
      const last = forward[forward.length - 1] as Page;
      const backward = await walkBackward(params, 3, last.pageInfo.endCursor as string);
      expect([...backward.flatMap(ids), last.data[1]?.id], direction).toEqual(expected);
    }

    // Two keys, the second breaking the first's ties, paged one row at a time.
    const twoKeys = { workspace_id: ws.id, orderBy: [{ description: "desc_nulls_first" }, { name: "asc" }] };
    const expected = ["n1", "n3", "n6", "n4", "n0", "n7", "n2", "n5"];
    expect(names(await list(twoKeys))).toEqual(expected);
    expect((await walkForward(twoKeys, 1)).flatMap(names)).toEqual(expected);
  });

  it("keeps its place when functions are added or removed between pages", async () => {
    const ws = await newWorkspace();
    const original = idsOf((await create(ws, ["o1", "o2", "o3", "o4", "o5", "o6"])).sort(newestFirst));
    const base = { workspace_id: ws.id, limit: 2 };

    // Newest first: rows added later sort before the cursor and never push originals onto the next page.
    const p1 = await list(base);
    expect(ids(p1)).toEqual(original.slice(0, 2));
    await create(ws, ["new1", "new2"]);
    const p2 = await list({ ...base, after: p1.pageInfo.endCursor as string });
    expect(ids(p2)).toEqual(original.slice(2, 4));
    expect(p2.pageInfo).toMatchObject({ total: 8, hasPreviousPage: true, hasNextPage: true });
    await create(ws, ["new3"]);
    const p3 = await list({ ...base, after: p2.pageInfo.endCursor as string });
    expect(ids(p3)).toEqual(original.slice(4, 6));
    expect(p3.pageInfo).toMatchObject({ total: 9, hasPreviousPage: true, hasNextPage: false });

    // By name: rows added before the cursor are not seen, rows added after it are, and a removed cursor row
    // is still a valid place to continue from.
    const other = await newWorkspace();
    const byName = await create(other, ["b", "d", "f", "h", "j"]);
    const sorted = { workspace_id: other.id, limit: 2, orderBy: [{ name: "asc" }] };
    const s1 = await list(sorted);
    expect(names(s1)).toEqual(["b", "d"]);
    await create(other, ["a", "c", "e"]);
    const s2 = await list({ ...sorted, after: s1.pageInfo.endCursor as string });
    expect(names(s2)).toEqual(["e", "f"]);
    expectStatus(await api("DELETE", `/api/functions/${byName[2]?.id}`), 200);
    await create(other, ["g"]);
    const s3 = await list({ ...sorted, after: s2.pageInfo.endCursor as string });
    expect(names(s3)).toEqual(["g", "h"]);
    const s4 = await list({ ...sorted, after: s3.pageInfo.endCursor as string });
    expect(names(s4)).toEqual(["j"]);
    expect(s4.pageInfo).toMatchObject({ total: 8, hasNextPage: false, hasPreviousPage: true });
    // Back from the last page across the removed row.
    expect(names(await list({ ...sorted, limit: 3, before: s4.pageInfo.startCursor as string }))).toEqual([
      "e",
      "g",
      "h",
    ]);
  });

  it("reaches page 30 of 60 two at a time, and comes back", async () => {
    const ws = await newWorkspace();
    const all = idsOf((await createMany(ws, 60)).sort(newestFirst));
    const base = { workspace_id: ws.id };

    const pages = await walkForward(base, 2);
    expect(pages).toHaveLength(30);
    expect(pages.flatMap(ids)).toEqual(all);
    expect(new Set(pages.flatMap(ids)).size).toBe(60);
    for (const [i, page] of pages.entries()) {
      expect(page.pageInfo, `page ${i + 1}`).toMatchObject({
        total: 60,
        hasPreviousPage: i > 0,
        hasNextPage: i < 29,
      });
    }
    const last = pages[29] as Page;
    expect(ids(last)).toEqual(all.slice(58));

    const back = await walkBackward(base, 2, last.pageInfo.startCursor as string);
    expect(back).toHaveLength(29);
    expect(back.map(ids)).toEqual(pages.slice(0, 29).map(ids));

    // The same walk by name, ascending.
    const byName = await walkForward({ ...base, orderBy: [{ name: "asc" }] }, 2);
    expect(byName.flatMap(names)).toEqual(Array.from({ length: 60 }, (_, i) => `f-${String(i).padStart(3, "0")}`));
  });

  it("refuses a malformed or tampered cursor, naming the parameter", async () => {
    const ws = await newWorkspace();
    await create(ws, ["a", "b", "c"]);
    const base = { workspace_id: ws.id, limit: 1 };
    const page = await list(base);
    const cursor = page.pageInfo.endCursor as string;
    const decoded = JSON.parse(unb64url(cursor)) as { s: string; v: [number, string] };
    const [time, id] = decoded.v;
    const forge = (v: unknown[], s: unknown = decoded.s) => b64url(JSON.stringify({ s, v }));

    const bad = [
      "garbage!!",
      "~~~~",
      "✓",
      b64url("not json"),
      b64url("123"),
      b64url("null"),
      b64url(JSON.stringify([time, id])),
      cursor.slice(0, Math.floor(cursor.length / 2)),
      forge([time]),
      forge([time, id, 1]),
      forge([]),
      b64url(JSON.stringify({ v: [time, id] })),
      forge([time, id], 7),
      forge([{}, id]),
      forge([[time], id]),
      forge([true, id]),
      forge(["yesterday", id]),
      forge([String(time), id]),
      forge([null, id]),
      forge([time, null]),
      forge([time, 42]),
      b64url(`{"s":${JSON.stringify(decoded.s)},"v":[1e400,${JSON.stringify(id)}]}`),
    ];
    for (const c of bad) {
      for (const name of ["after", "before"]) {
        const res = await listRaw({ ...base, [name]: c });
        expect(res.status, `${name}=${c} (${unb64url(c.replace(/[^\w-]/g, "")).slice(0, 80)})`).toBe(400);
        expect(expectError(res, 400, "bad_request").message).toBe(`${name}: not a valid cursor`);
      }
    }
    // A well-formed cursor is just a place in the order: its row need not exist.
    expect(ids(await list({ ...base, limit: 3, after: forge([time, id]) }))).toEqual(
      ids(await list({ ...base, limit: 3, after: cursor })),
    );
    expect(await list({ ...base, after: forge([0, "fun_"]) })).toMatchObject({
      data: [],
      pageInfo: { total: 3, hasNextPage: false, hasPreviousPage: true },
    });
  });

  it("binds a cursor to the orderBy it was made with, not to the filter", async () => {
    const ws = await newWorkspace();
    const fns = await create(ws, [
      { name: "a", description: "x" },
      { name: "b" },
      { name: "c", description: "y" },
      { name: "d", description: "x" },
    ]);
    const base = { workspace_id: ws.id, limit: 1 };
    const newest = [...fns].sort(newestFirst).map((f) => f.name);
    const byDescriptionAsc = [...fns].sort(byNullable("description", "asc")).map((f) => f.name);
    const byName = (await list({ ...base, orderBy: [{ name: "asc" }] })).pageInfo.endCursor as string;
    const byDefault = (await list(base)).pageInfo.endCursor as string;

    for (const orderBy of [undefined, [{ name: "desc" }], [{ createdAt: "asc" }], [{ name: "asc" }, { id: "desc" }]]) {
      const message = await badRequest({ ...base, orderBy, after: byName });
      expect(message, JSON.stringify(orderBy)).toMatch(/after: this cursor belongs to a different orderBy/);
    }
    expect(await badRequest({ ...base, orderBy: [{ name: "asc" }], before: byDefault })).toMatch(
      /before: this cursor belongs to a different orderBy/,
    );

    // The same order spelled differently is the same order.
    expect(names(await list({ ...base, limit: 9, orderBy: [{ createdAt: "desc" }], after: byDefault }))).toEqual(
      newest.slice(1),
    );
    expect(names(await list({ ...base, limit: 9, orderBy: [{ name: "asc" }, { id: "asc" }], after: byName }))).toEqual([
      "b",
      "c",
      "d",
    ]);
    expect(names(await list({ ...base, limit: 9, orderBy: { name: "asc_nulls_last" }, after: byName }))).toEqual([
      "b",
      "c",
      "d",
    ]);
    const byDescription = (await list({ ...base, orderBy: [{ description: "asc" }] })).pageInfo.endCursor as string;
    expect(
      names(await list({ ...base, limit: 9, orderBy: [{ description: "asc_nulls_first" }], after: byDescription })),
    ).toEqual(byDescriptionAsc.slice(1));
    expect(byDescriptionAsc[0]).toBe("b");
    expect(await badRequest({ ...base, orderBy: [{ description: "asc_nulls_last" }], after: byDescription })).toMatch(
      /different orderBy/,
    );

    // A cursor carries a place, not a filter: it may continue a differently filtered list.
    const filtered = await list({
      ...base,
      limit: 9,
      orderBy: [{ name: "asc" }],
      after: byName,
      filter: { description: { eq: "x" } },
    });
    expect(names(filtered)).toEqual(["d"]);
    expect(filtered.pageInfo).toMatchObject({ total: 2, hasPreviousPage: true, hasNextPage: false });
  });
});

describe("functions list: ids, workspace_id, source, include_deleted, name", () => {
  it("narrows to ids, in list order, ignoring ids it cannot see", async () => {
    const ws = await newWorkspace();
    const [a, b, c, d] = (await create(ws, ["a", "b", "c", "d"])) as [Fn, Fn, Fn, Fn];
    const foreign = (await create(await newWorkspace(), ["foreign"]))[0] as Fn;
    const { keys } = await tenant();

    const page = await list({
      ids: ` ${a.id}, ${c.id} ,fun_00000000000000000000000000,,${d.id}`,
      orderBy: [{ name: "asc" }],
    });
    expect(names(page)).toEqual(["a", "c", "d"]);
    expect(page.pageInfo.total).toBe(3);
    expect(names(await list({ ids: [d.id, b.id].join(","), orderBy: [{ name: "desc" }] }))).toEqual(["d", "b"]);
    expect(names(await list({ ids: `${a.id},${foreign.id}`, orderBy: [{ name: "asc" }] }))).toEqual(["a", "foreign"]);
    expect(ids(await list({ ids: `${a.id},${foreign.id}`, workspace_id: ws.id }))).toEqual([a.id]);
    expect(await list({ ids: `${a.id},${foreign.id}` }, keys.viewer)).toMatchObject({
      data: [],
      pageInfo: { total: 0 },
    });

    for (const bad of ["", ",", " , "]) expect(await badRequest({ ids: bad })).toMatch(/ids: expected 1 to 100/);
    const tooMany = Array.from({ length: 101 }, (_, i) => `fun_${i}`).join(",");
    expect(await badRequest({ ids: tooMany })).toMatch(/ids: expected 1 to 100/);
    expect(names(await list({ ids: [a.id, ...Array(99).fill(b.id)].join(","), orderBy: [{ name: "asc" }] }))).toEqual([
      "a",
      "b",
    ]);
  });

  it("narrows to one workspace with workspace_id", async () => {
    const a = await tenant();
    const b = await newWorkspace();
    const inA = await create(a.ws, ["one", "two"]);
    await create(b, ["three"]);

    const page = await list({ workspace_id: a.ws.id });
    expect(ids(page)).toEqual(idsOf(inA.sort(newestFirst)));
    expect(page.pageInfo.total).toBe(2);
    expect(ids(await list({ workspace_id: a.ws.id }, a.keys.viewer))).toEqual(ids(page));
    expectError(await listRaw({ workspace_id: b.id }, a.keys.viewer), 404, "not_found");
    expectError(await listRaw({ workspace_id: "ws_00000000000000000000000000" }, a.keys.admin), 404, "not_found");
    // An unscoped admin key sees every workspace, and still gets a 404 for one that does not exist.
    expectError(await listRaw({ workspace_id: "ws_00000000000000000000000000" }), 404, "not_found");
  });

  it("shows live, all or only soft-deleted functions with include_deleted", async () => {
    const ws = await newWorkspace();
    const [live1, gone, live2] = (await create(ws, ["live1", "gone", "live2"])) as [Fn, Fn, Fn];
    expectStatus(await api("DELETE", `/api/functions/${gone.id}`), 200);
    const base = { workspace_id: ws.id, orderBy: [{ name: "asc" }] };

    expect(names(await list(base))).toEqual(["live1", "live2"]);
    expect(names(await list({ ...base, include_deleted: "false" }))).toEqual(["live1", "live2"]);
    const all = await list({ ...base, include_deleted: "true" });
    expect(names(all)).toEqual(["gone", "live1", "live2"]);
    expect(all.pageInfo.total).toBe(3);
    const only = await list({ ...base, include_deleted: "only" });
    expect(ids(only)).toEqual([gone.id]);
    expect(only.data[0]?.deletedAt).toEqual(expect.any(String));
    expect(only.pageInfo.total).toBe(1);
    // Sorting on deletedAt: live rows have none.
    expect(
      names(
        await list({ ...base, include_deleted: "true", orderBy: [{ deletedAt: "desc_nulls_last" }, { name: "asc" }] }),
      ),
    ).toEqual(["gone", "live1", "live2"]);
    expect([live1.deletedAt, live2.deletedAt]).toEqual([null, null]);

    for (const value of ["yes", "1", "TRUE", "all"]) {
      expect(await badRequest({ ...base, include_deleted: value })).toMatch(/include_deleted/);
    }
  });

  it("matches name as a case-insensitive substring, wildcards included literally", async () => {
    const ws = await newWorkspace();
    await create(ws, ["Resize-Images", "thumbnail-RESIZER", "crop", "100%_done", "a_b", "axb"]);
    const base = { workspace_id: ws.id, orderBy: [{ name: "asc" }] };

    expect(names(await list({ ...base, name: "resize" }))).toEqual(["Resize-Images", "thumbnail-RESIZER"]);
    expect(names(await list({ ...base, name: "RESIZE-i" }))).toEqual(["Resize-Images"]);
    expect(names(await list({ ...base, name: "%" }))).toEqual(["100%_done"]);
    expect(names(await list({ ...base, name: "_" }))).toEqual(["100%_done", "a_b"]);
    expect(names(await list({ ...base, name: "a_b" }))).toEqual(["a_b"]);
    expect(names(await list({ ...base, name: "crop" }))).toEqual(["crop"]);
    const none = await list({ ...base, name: "zzz" });
    expect(none).toMatchObject({ data: [], pageInfo: { total: 0 } });
    expect(await badRequest({ ...base, name: "x".repeat(141) })).toMatch(/name/);
  });

  it("narrows by source, and always includes system functions", async () => {
    const { ws, keys } = await tenant();
    const home = await newWorkspace();
    const own = (await create(ws, ["own1", "own2"])).sort(newestFirst);
    const system = expectStatus(
      await api("POST", "/api/functions", { body: { workspaceId: home.id, name: unique("sys"), system: true } }),
      201,
    ) as Fn;
    try {
      const base = { orderBy: [{ system: "desc" }, { name: "asc" }] };
      const all = await list(base, keys.viewer);
      expect(ids(all)).toEqual([system.id, ...idsOf(own.sort((x, y) => cmp(x.name, y.name)))]);
      expect(all.pageInfo.total).toBe(3);
      expect(names(await list({ ...base, source: "workspace" }, keys.viewer))).toEqual(["own1", "own2"]);
      expect(ids(await list({ ...base, source: "system" }, keys.viewer))).toEqual([system.id]);
      expect(await list({ ...base, source: "integration" }, keys.viewer)).toMatchObject({
        data: [],
        pageInfo: { total: 0 },
      });
      // workspace_id keeps system functions (seed 004), from any workspace.
      const inWs = await list({ workspace_id: ws.id, ...base });
      expect(ids(inWs)).toEqual([system.id, ...idsOf(own.sort((x, y) => cmp(x.name, y.name)))]);
      expect(inWs.pageInfo.total).toBe(3);
      // The system shorthand.
      expect(ids(await list({ ...base, system: "true" }, keys.viewer))).toEqual([system.id]);
      expect(names(await list({ ...base, system: "false" }, keys.viewer))).toEqual(["own1", "own2"]);
      expect(await badRequest({ source: "custom" })).toMatch(/source/);
      expect(await badRequest({ system: "yes" })).toMatch(/system/);
    } finally {
      // System functions show in every workspace's list, so none outlives this test.
      expectStatus(await api("DELETE", `/api/functions/${system.id}`), 200);
      expectStatus(await api("DELETE", `/api/functions/${system.id}/purge`), 200);
    }
  });

  it("applies the seed 004 shorthands as eq filters", async () => {
    const ws = await newWorkspace();
    const developer = await newKey("developer", ws.id);
    const [byDev] = await create(
      ws,
      [{ name: "by-dev", runtimeUserId: "svc-a", retentionTier: "extended" }],
      developer.key,
    );
    const [p, s] = await create(ws, [
      { name: "perm", runtimeUserId: "svc-b", retentionTier: "permanent" },
      { name: "std" },
    ]);
    // A default version as a finished build leaves it.
    await env.DB.prepare("UPDATE functions SET default_version_id = ? WHERE id = ?")
      .bind("ver_01jd5x0m7a2b3c4d5e6f7g8h9j", byDev?.id)
      .run();
    const base = { workspace_id: ws.id, orderBy: [{ name: "asc" }] };

    expect(names(await list({ ...base, default_version_id: "ver_01jd5x0m7a2b3c4d5e6f7g8h9j" }))).toEqual(["by-dev"]);
    expect(names(await list({ ...base, default_version_id: "ver_other" }))).toEqual([]);
    expect(names(await list({ ...base, created_by: developer.id }))).toEqual(["by-dev"]);
    expect(names(await list({ ...base, created_by: "key_admin" }))).toEqual(["perm", "std"]);
    expect(names(await list({ ...base, runtime_user_id: "svc-b" }))).toEqual(["perm"]);
    expect(names(await list({ ...base, retention_tier: "standard" }))).toEqual(["std"]);
    expect(names(await list({ ...base, retention_tier: "extended" }))).toEqual(["by-dev"]);
    expect(names(await list({ ...base, system: "false" }))).toEqual(["by-dev", "perm", "std"]);
    expect(names(await list({ ...base, system: "true" }))).toEqual([]);
    // Shorthands, filter and name all narrow together.
    expect(names(await list({ ...base, created_by: "key_admin", retention_tier: "permanent" }))).toEqual(["perm"]);
    expect(
      names(await list({ ...base, created_by: "key_admin", filter: { runtimeUserId: { isNull: true } }, name: "s" })),
    ).toEqual(["std"]);
    expect([p?.createdBy, s?.createdBy, byDev?.createdBy]).toEqual(["key_admin", "key_admin", developer.id]);

    expect(await badRequest({ ...base, retention_tier: "forever" })).toMatch(/retention_tier/);
  });
});

describe("functions list: filter", () => {
  async function fixture() {
    const ws = await newWorkspace();
    const fns = await create(ws, [
      { name: "alpha", description: "first", runtimeUserId: "u1" },
      { name: "Beta", retentionTier: "extended" },
      { name: "gamma", description: "Third", retentionTier: "permanent" },
      { name: "delta_1" },
      { name: "deltaX1", description: "x" },
      { name: "epsilon%", description: "x" },
      { name: "star*", description: "s" },
      { name: "starry", description: "s" },
    ]);
    const base = { workspace_id: ws.id, orderBy: [{ name: "asc" }] };
    const by = (filter: unknown) => list({ ...base, filter: filter as object }).then(names);
    return { ws, fns, base, by };
  }

  it("compares with eq, ne, gt, gte, lt, lte, in, nin and isNull", async () => {
    const { by } = await fixture();
    // Binary order: upper case before lower case.
    expect(await by({ name: { eq: "alpha" } })).toEqual(["alpha"]);
    expect(await by({ name: { eq: "ALPHA" } })).toEqual([]);
    expect(await by({ name: { ne: "alpha" } })).toEqual([
      "Beta",
      "deltaX1",
      "delta_1",
      "epsilon%",
      "gamma",
      "star*",
      "starry",
    ]);
    expect(await by({ name: { gt: "epsilon%" } })).toEqual(["gamma", "star*", "starry"]);
    expect(await by({ name: { gte: "epsilon%" } })).toEqual(["epsilon%", "gamma", "star*", "starry"]);
    expect(await by({ name: { lt: "alpha" } })).toEqual(["Beta"]);
    expect(await by({ name: { lte: "alpha" } })).toEqual(["Beta", "alpha"]);
    expect(await by({ name: { gte: "b", lt: "e" } })).toEqual(["deltaX1", "delta_1"]);
    expect(await by({ name: { in: ["gamma", "alpha", "nope"] } })).toEqual(["alpha", "gamma"]);
    expect(await by({ name: { nin: ["gamma", "alpha", "star*", "starry"] } })).toEqual([
      "Beta",
      "deltaX1",
      "delta_1",
      "epsilon%",
    ]);
    expect(await by({ retentionTier: { in: ["extended", "permanent"] } })).toEqual(["Beta", "gamma"]);
    expect(await by({ retentionTier: { nin: ["standard"] } })).toEqual(["Beta", "gamma"]);

    // NULLs: ne and nin count a NULL as different from any value; eq null means IS NULL.
    expect(await by({ description: { eq: null } })).toEqual(["Beta", "delta_1"]);
    expect(await by({ description: { isNull: true } })).toEqual(["Beta", "delta_1"]);
    expect(await by({ description: { isNull: false } })).toEqual([
      "alpha",
      "deltaX1",
      "epsilon%",
      "gamma",
      "star*",
      "starry",
    ]);
    expect(await by({ description: { ne: null } })).toEqual(await by({ description: { isNull: false } }));
    expect(await by({ description: { ne: "x" } })).toEqual(["Beta", "alpha", "delta_1", "gamma", "star*", "starry"]);
    expect(await by({ runtimeUserId: { nin: ["u1"] } })).toEqual([
      "Beta",
      "deltaX1",
      "delta_1",
      "epsilon%",
      "gamma",
      "star*",
      "starry",
    ]);
    expect(await by({ description: { gt: "a" } })).toEqual(["alpha", "deltaX1", "epsilon%", "star*", "starry"]);
    expect(await by({ runtimeUserId: { eq: "u1" } })).toEqual(["alpha"]);

    // Booleans.
    expect(await by({ system: { eq: false } })).toHaveLength(8);
    expect(await by({ system: { eq: true } })).toEqual([]);
    expect(await by({ system: { ne: true } })).toHaveLength(8);
    expect(await by({ system: { in: [true] } })).toEqual([]);
  });

  it("compares times given as ISO 8601 or epoch milliseconds", async () => {
    const { fns, by } = await fixture();
    const sorted = [...fns].sort(
      (a, b) => cmp(Date.parse(a.createdAt), Date.parse(b.createdAt)) || cmp(a.name, b.name),
    );
    const pivot = sorted[4] as Fn;
    const t = Date.parse(pivot.createdAt);
    const at = (pred: (ms: number) => boolean) =>
      fns
        .filter((f) => pred(Date.parse(f.createdAt)))
        .map((f) => f.name)
        .sort();
    expect(await by({ createdAt: { gte: pivot.createdAt } })).toEqual(at((ms) => ms >= t));
    expect(await by({ createdAt: { gte: t } })).toEqual(at((ms) => ms >= t));
    expect(await by({ createdAt: { lt: t } })).toEqual(at((ms) => ms < t));
    expect(await by({ createdAt: { eq: pivot.createdAt } })).toEqual(at((ms) => ms === t));
    expect(await by({ createdAt: { gt: "2000-01-01T00:00:00Z", lt: "2000-01-02" } })).toEqual([]);
    expect(await by({ updatedAt: { gte: "2000-01-01T00:00:00Z" } })).toHaveLength(8);
    expect(await by({ deletedAt: { isNull: false } })).toEqual([]);
  });

  it("matches like case-sensitively and ilike case-insensitively, with % and _ as wildcards", async () => {
    const { by } = await fixture();
    expect(await by({ name: { like: "%a" } })).toEqual(["Beta", "alpha", "gamma"]);
    expect(await by({ name: { like: "B%" } })).toEqual(["Beta"]);
    expect(await by({ name: { like: "b%" } })).toEqual([]);
    expect(await by({ name: { ilike: "b%" } })).toEqual(["Beta"]);
    expect(await by({ name: { ilike: "%A" } })).toEqual(["Beta", "alpha", "gamma"]);
    expect(await by({ name: { like: "delta_1" } })).toEqual(["deltaX1", "delta_1"]);
    expect(await by({ name: { like: "delta\\_1" } })).toEqual(["delta_1"]);
    expect(await by({ name: { ilike: "DELTA\\_1" } })).toEqual(["delta_1"]);
    expect(await by({ name: { like: "%\\%" } })).toEqual(["epsilon%"]);
    expect(await by({ name: { ilike: "%\\%" } })).toEqual(["epsilon%"]);
    // GLOB's own wildcards are plain characters in a like pattern.
    expect(await by({ name: { like: "star*" } })).toEqual(["star*"]);
    expect(await by({ name: { like: "sta?r*" } })).toEqual([]);
    expect(await by({ name: { like: "[s]%" } })).toEqual([]);
    expect(await by({ name: { ilike: "STAR*" } })).toEqual(["star*"]);
    expect(await by({ name: { like: "star%" } })).toEqual(["star*", "starry"]);
    expect(await by({ name: { like: "_____" } })).toEqual(["alpha", "gamma", "star*"]);
    expect(await by({ description: { ilike: "third" } })).toEqual(["gamma"]);
    expect(await by({ description: { like: "third" } })).toEqual([]);
  });

  it("combines conditions with and, or and not", async () => {
    const { by } = await fixture();
    expect(await by({ or: [{ name: { eq: "alpha" } }, { retentionTier: { eq: "permanent" } }] })).toEqual([
      "alpha",
      "gamma",
    ]);
    expect(await by({ and: [{ description: { isNull: false } }, { name: { lt: "e" } }] })).toEqual([
      "alpha",
      "deltaX1",
    ]);
    // Keys of one object are ANDed.
    expect(await by({ description: { eq: "s" }, name: { like: "%*" } })).toEqual(["star*"]);
    // not: a NULL comparison counts as false, so its negation is true.
    expect(await by({ not: { description: { eq: "x" } } })).toEqual([
      "Beta",
      "alpha",
      "delta_1",
      "gamma",
      "star*",
      "starry",
    ]);
    expect(await by({ not: { or: [{ description: { isNull: true } }, { description: { eq: "s" } }] } })).toEqual([
      "alpha",
      "deltaX1",
      "epsilon%",
      "gamma",
    ]);
    expect(
      await by({
        or: [
          { and: [{ name: { like: "delta%" } }, { not: { description: { isNull: true } } }] },
          { and: [{ retentionTier: { ne: "standard" } }, { not: { name: { eq: "Beta" } } }] },
        ],
      }),
    ).toEqual(["deltaX1", "gamma"]);
    expect(await by({ not: { not: { name: { eq: "alpha" } } } })).toEqual(["alpha"]);
    expect(await by({ and: [{ name: { eq: "alpha" } }, { name: { eq: "Beta" } }] })).toEqual([]);
  });

  it("traverses to the function's workspace", async () => {
    const a = await newWorkspace();
    const b = await newWorkspace();
    await create(a, ["a1", "a2"]);
    await create(b, ["b1"]);
    const both = { workspaceId: { in: [a.id, b.id] } };
    const by = (filter: unknown) => list({ filter: filter as object, orderBy: [{ name: "asc" }] }).then(names);

    expect(await by({ workspace: { name: { eq: a.name } } })).toEqual(["a1", "a2"]);
    expect(await by({ workspace: { id: { eq: b.id } } })).toEqual(["b1"]);
    expect(await by({ workspace: { id: { in: [a.id, b.id] } } })).toEqual(["a1", "a2", "b1"]);
    expect(await by({ workspace: { or: [{ name: { eq: a.name } }, { name: { eq: b.name } }] } })).toEqual([
      "a1",
      "a2",
      "b1",
    ]);
    expect(await by({ and: [both, { not: { workspace: { name: { eq: a.name } } } }] })).toEqual(["b1"]);
    expect(await by({ and: [both, { workspace: { not: { name: { eq: a.name } } } }] })).toEqual(["b1"]);
    expect(await by({ workspace: { name: { eq: b.name } }, name: { eq: "a1" } })).toEqual([]);
    expect(await by({ and: [both, { workspace: { description: { isNull: true } } }] })).toEqual(["a1", "a2", "b1"]);
    expect(await by({ and: [both, { workspace: { createdAt: { lt: "2000-01-01" } } }] })).toEqual([]);
    expect(await by({ workspace: { name: { ilike: a.name.toUpperCase() } } })).toEqual(["a1", "a2"]);

    expect(await badRequest({ filter: { workspace: { secret: { eq: "x" } } } })).toMatch(
      /filter\.workspace\.secret: unknown field 'secret'; filterable fields are id, name, description, createdAt$/,
    );
    expect(await badRequest({ filter: { workspace: { workspace: { name: { eq: "x" } } } } })).toMatch(
      /filter\.workspace\.workspace: unknown field 'workspace'/,
    );
    expect(await badRequest({ filter: { workspace: { eq: a.id } } })).toMatch(/filter\.workspace\.eq: unknown field/);
  });

  it("answers a bad filter with a 400 that names what is wrong", async () => {
    const ws = await newWorkspace();
    await create(ws, ["kept"]);
    const nest = (depth: number): object => (depth === 0 ? { name: { ne: "x" } } : { not: nest(depth - 1) });
    const cases: [string | object, RegExp][] = [
      ["{not json", /^filter is not valid JSON$/],
      ['"name"', /^filter: expected an object$/],
      ["[]", /^filter: expected an object$/],
      ["null", /^filter: expected an object$/],
      [{}, /^filter: empty filter object$/],
      [
        { secret: { eq: 1 } },
        /^filter\.secret: unknown field 'secret'; filterable fields are id, workspaceId, name,.* workspace$/,
      ],
      [{ workspace_id: { eq: "x" } }, /unknown field 'workspace_id'/],
      [
        { name: { regex: "x" } },
        /^filter\.name: unknown operator 'regex'; operators are eq, ne, gt, gte, lt, lte, in, nin, like, ilike, startsWith, isNull$/,
      ],
      [{ name: { EQ: "x" } }, /unknown operator 'EQ'/],
      [{ name: "alpha" }, /^filter\.name: expected an operator object such as \{"eq": \.\.\.\}$/],
      [{ name: {} }, /^filter\.name: expected an operator object/],
      [{ name: { eq: 5 } }, /^filter\.name\.eq: expected a string of at most 1000 characters$/],
      [{ name: { eq: true } }, /^filter\.name\.eq: expected a string/],
      [{ name: { eq: ["x"] } }, /^filter\.name\.eq: expected a string/],
      [{ name: { eq: "x".repeat(1001) } }, /^filter\.name\.eq: expected a string of at most 1000 characters$/],
      [{ system: { eq: "true" } }, /^filter\.system\.eq: expected true or false$/],
      [{ system: { gt: true } }, /^filter\.system\.gt: 'gt' does not apply to a boolean field$/],
      [{ createdAt: { gt: "yesterday" } }, /^filter\.createdAt\.gt: expected an ISO 8601 time or epoch milliseconds$/],
      [{ createdAt: { eq: true } }, /^filter\.createdAt\.eq: expected an ISO 8601/],
      [{ name: { in: "alpha" } }, /^filter\.name\.in: expected an array of 1 to 100 values$/],
      [{ name: { nin: [] } }, /^filter\.name\.nin: expected an array of 1 to 100 values$/],
      [{ name: { in: Array(101).fill("x") } }, /^filter\.name\.in: expected an array of 1 to 100 values$/],
      [{ name: { in: ["a", 1] } }, /^filter\.name\.in\[1\]: expected a string/],
      [{ name: { isNull: "yes" } }, /^filter\.name\.isNull: expected true or false$/],
      [{ system: { like: "t%" } }, /^filter\.system\.like: 'like' applies only to text fields$/],
      [{ createdAt: { ilike: "2026%" } }, /^filter\.createdAt\.ilike: 'ilike' applies only to text fields$/],
      [{ name: { like: 5 } }, /^filter\.name\.like: expected a pattern string/],
      [{ and: {} }, /^filter\.and: expected a non-empty array$/],
      [{ or: [] }, /^filter\.or: expected a non-empty array$/],
      [{ and: [{ name: { eq: "a" } }, { bogus: { eq: 1 } }] }, /^filter\.and\[1\]\.bogus: unknown field 'bogus'/],
      [{ or: [{ not: { name: { gte: 1 } } }] }, /^filter\.or\[0\]\.not\.name\.gte: expected a string/],
      [{ not: [] }, /^filter\.not: expected an object$/],
      [{ and: ["x"] }, /^filter\.and\[0\]: expected an object$/],
      [nest(9), /deeper than 8 levels/],
      [
        { or: Array.from({ length: 101 }, () => ({ description: { isNull: true } })) },
        /^filter has more than 100 conditions$/,
      ],
      [
        { or: Array.from({ length: 51 }, (_, i) => ({ name: { eq: `n${i}` } })) },
        /^filter compares against more than 50 values; use in or nin for a list of values$/,
      ],
      [{ name: { gt: "a", lt: "b" }, and: Array(49).fill({ name: { ne: "c" } }) }, /more than 50 values/],
    ];
    for (const [filter, message] of cases) {
      const raw = typeof filter === "string" ? filter : JSON.stringify(filter);
      expect(await badRequest({ workspace_id: ws.id, filter: raw }), raw.slice(0, 80)).toMatch(message);
    }
    // Nesting up to the limit is fine, and an empty filter is no filter.
    expect(names(await list({ workspace_id: ws.id, filter: nest(8) }))).toEqual(["kept"]);
    expect(names(await list({ workspace_id: ws.id, filter: "" }))).toEqual(["kept"]);
  });
});

describe("functions list: the largest query", () => {
  it("runs with every parameter at its limit", async () => {
    const { ws, keys } = await tenant();
    const [keep] = (await create(ws, [
      { name: "keep", description: "d", externalId: "e", runtimeUserId: "u", retentionTier: "extended" },
      { name: "other", description: "d", externalId: "f", runtimeUserId: "u", retentionTier: "extended" },
    ])) as [Fn, Fn];
    const many = (prefix: string, n = 100) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const params = {
      workspace_id: ws.id,
      ids: [keep.id, ...many("fun_y", 99)].join(","),
      filter: {
        and: [
          { name: { in: ["keep", ...many("n", 99)] } },
          { id: { nin: many("fun_x") } },
          ...Array.from({ length: 48 }, (_, i) => ({ name: { ne: `x${i}` } })),
        ],
      },
      orderBy: [
        { description: "asc_nulls_last" },
        { runtimeUserId: "desc" },
        { externalId: "desc_nulls_first" },
        { createdBy: "asc" },
        { name: "asc" },
      ],
      name: "kee",
      created_by: "key_admin",
      runtime_user_id: "u",
      retention_tier: "extended",
      system: "false",
      source: "workspace",
      limit: 1,
    };
    const page = await list(params, keys.viewer);
    expect(ids(page)).toEqual([keep.id]);
    expect(page.pageInfo).toMatchObject({ total: 1, hasNextPage: false, hasPreviousPage: false });
    const after = await list({ ...params, after: page.pageInfo.endCursor as string }, keys.viewer);
    expect(after).toMatchObject({ data: [], pageInfo: { total: 1, hasNextPage: false, hasPreviousPage: true } });
    const before = await list({ ...params, before: page.pageInfo.startCursor as string }, keys.viewer);
    expect(before).toMatchObject({ data: [], pageInfo: { total: 1, hasNextPage: true, hasPreviousPage: false } });
  });
});

describe("functions list: orderBy", () => {
  it("sorts by several keys, each in its own direction", async () => {
    const ws = await newWorkspace();
    const fns = await create(ws, [
      { name: "b" },
      { name: "a", retentionTier: "permanent" },
      { name: "c" },
      { name: "d", retentionTier: "extended" },
      { name: "e", retentionTier: "permanent" },
    ]);
    const by = (orderBy: object) => list({ workspace_id: ws.id, orderBy }).then(names);
    expect(await by([{ retentionTier: "asc" }, { name: "desc" }])).toEqual(["d", "e", "a", "c", "b"]);
    expect(await by([{ retentionTier: "desc" }, { name: "asc" }])).toEqual(["b", "c", "a", "e", "d"]);
    expect(await by([{ name: "asc" }])).toEqual(["a", "b", "c", "d", "e"]);
    expect(await by([{ name: "desc" }])).toEqual(["e", "d", "c", "b", "a"]);
    const oldestFirst = [...fns].sort(newestFirst).reverse();
    expect(await by([{ createdAt: "asc" }, { id: "asc" }])).toEqual(oldestFirst.map((f) => f.name));
    expect(await by([{ createdAt: "desc" }])).toEqual([...oldestFirst].reverse().map((f) => f.name));
    expect(await by([{ system: "asc" }, { retentionTier: "asc" }, { name: "asc" }])).toEqual(["d", "a", "e", "b", "c"]);

    // Paged one row at a time, both ways.
    const params = { workspace_id: ws.id, orderBy: [{ retentionTier: "asc" }, { name: "desc" }] };
    const forward = await walkForward(params, 1);
    expect(forward.flatMap(names)).toEqual(["d", "e", "a", "c", "b"]);
    const last = forward[forward.length - 1] as Page;
    expect((await walkBackward(params, 1, last.pageInfo.startCursor as string)).flatMap(names)).toEqual([
      "d",
      "e",
      "a",
      "c",
    ]);
  });

  it("puts NULLs where each of the six directions says", async () => {
    const ws = await newWorkspace();
    await create(ws, [
      { name: "n1", description: "m" },
      { name: "n2" },
      { name: "n3", description: "a" },
      { name: "n4" },
      { name: "n5", description: "z" },
    ]);
    const by = (direction: Direction) =>
      list({ workspace_id: ws.id, orderBy: [{ description: direction }, { name: "asc" }] }).then(names);
    expect(await by("asc")).toEqual(["n2", "n4", "n3", "n1", "n5"]);
    expect(await by("asc_nulls_first")).toEqual(["n2", "n4", "n3", "n1", "n5"]);
    expect(await by("asc_nulls_last")).toEqual(["n3", "n1", "n5", "n2", "n4"]);
    expect(await by("desc")).toEqual(["n5", "n1", "n3", "n2", "n4"]);
    expect(await by("desc_nulls_first")).toEqual(["n2", "n4", "n5", "n1", "n3"]);
    expect(await by("desc_nulls_last")).toEqual(["n5", "n1", "n3", "n2", "n4"]);
  });

  it("answers a bad orderBy with a 400 that names what is wrong", async () => {
    const ws = await newWorkspace();
    const cases: [string | object, RegExp][] = [
      ["[{name:asc}]", /^orderBy is not valid JSON$/],
      [[{ secret: "asc" }], /^orderBy\[0\]: cannot sort on 'secret'; sortable fields are id, workspaceId, name,/],
      [[{ name: "asc" }, { metadata: "desc" }], /^orderBy\[1\]: cannot sort on 'metadata'/],
      [[{ "workspace.name": "asc" }], /cannot sort on 'workspace\.name'/],
      [[{ workspace: "asc" }], /cannot sort on 'workspace'/],
      [
        [{ name: "up" }],
        /^orderBy\[0\]\.name: direction must be one of asc, desc, asc_nulls_first, asc_nulls_last, desc_nulls_first, desc_nulls_last$/,
      ],
      [[{ name: "ASC" }], /direction must be one of/],
      [[{ name: 1 }], /direction must be one of/],
      [[{ name: null }], /direction must be one of/],
      [[], /^orderBy: expected 1 to 5 keys$/],
      [
        [
          { name: "asc" },
          { id: "asc" },
          { createdAt: "asc" },
          { updatedAt: "asc" },
          { source: "asc" },
          { system: "asc" },
        ],
        /^orderBy: expected 1 to 5 keys$/,
      ],
      [[{ name: "asc" }, { name: "desc" }], /^orderBy: 'name' appears twice$/],
      [[{ name: "asc", id: "desc" }], /^orderBy\[0\]: expected an object with one field/],
      [[{}], /^orderBy\[0\]: expected an object with one field/],
      [["name"], /^orderBy\[0\]: expected an object with one field/],
      [[["name", "asc"]], /^orderBy\[0\]: expected an object with one field/],
      ['"name"', /^orderBy\[0\]: expected an object with one field/],
    ];
    for (const [orderBy, message] of cases) {
      const raw = typeof orderBy === "string" ? orderBy : JSON.stringify(orderBy);
      expect(await badRequest({ workspace_id: ws.id, orderBy: raw }), raw).toMatch(message);
    }
  });
});

describe("functions list: injection", () => {
  it("treats SQL in values as plain text", async () => {
    const { ws, keys } = await tenant();
    const evil = "name'; DROP TABLE functions;--";
    const [bad, plain] = (await create(ws, [evil, "plain"])) as [Fn, Fn];
    const base = { workspace_id: ws.id, orderBy: [{ name: "asc" }] };
    const by = (filter: object) => list({ ...base, filter }).then(ids);

    expect(await by({ name: { eq: evil } })).toEqual([bad.id]);
    expect(await by({ name: { eq: "1) OR 1=1 --" } })).toEqual([]);
    expect(await by({ name: { eq: "' OR '1'='1" } })).toEqual([]);
    expect(await by({ name: { ne: "' OR 1=1; --" } })).toEqual([bad.id, plain.id]);
    expect(await by({ name: { in: ['x"); DROP TABLE workspaces; --', "') OR ('1'='1"] } })).toEqual([]);
    expect(await by({ name: { like: "%' OR 1=1 --" } })).toEqual([]);
    expect(await by({ name: { ilike: "%'; drop table%" } })).toEqual([bad.id]);
    expect(await by({ name: { lt: "'" } })).toEqual([]);
    expect(await by({ workspace: { name: { eq: "x' OR '1'='1" } } })).toEqual([]);
    expect(await by({ description: { eq: "\\'; SELECT * FROM api_keys; --" } })).toEqual([]);
    expect(ids(await list({ ...base, name: "'; DROP TABLE functions;--" }))).toEqual([bad.id]);
    expect(ids(await list({ ...base, name: "' OR ''='" }))).toEqual([]);
    expect(ids(await list({ ...base, ids: `${plain.id}' OR '1'='1` }))).toEqual([]);
    expect(ids(await list({ ...base, ids: "1) OR 1=1 --" }))).toEqual([]);
    expect(ids(await list({ ...base, created_by: "' OR 1=1 --" }))).toEqual([]);
    expect(ids(await list({ ...base, runtime_user_id: '" OR ""="' }))).toEqual([]);
    expect(await badRequest({ ...base, filter: { createdAt: { eq: "1 OR 1=1" } } })).toMatch(/expected an ISO 8601/);
    expectError(await listRaw({ workspace_id: "ws' OR '1'='1" }, keys.viewer), 404, "not_found");
    // A cursor carries values, compared as values.
    const cursor = b64url(JSON.stringify({ s: "name:a,id:a", v: ["' OR 1=1 --", "x"] }));
    expect(ids(await list({ ...base, after: cursor }))).toEqual([bad.id, plain.id]);
    expect(
      await badRequest({
        workspace_id: ws.id,
        after: b64url(JSON.stringify({ s: "createdAt:d,id:d", v: ["1) OR 1=1 --", "x"] })),
      }),
    ).toMatch(/not a valid cursor/);

    // Everything is still there.
    expect(ids(await list(base))).toEqual([bad.id, plain.id]);
    expectStatus(await api("GET", `/api/workspaces/${ws.id}`), 200);
  });

  it("refuses SQL in filter keys, operators and orderBy keys", async () => {
    const ws = await newWorkspace();
    const before = ids(await list({ workspace_id: ws.id }));
    await create(ws, ["x", "y"]);
    const base = { workspace_id: ws.id };

    const keys = [
      "name'; DROP TABLE functions;--",
      "`name`",
      '"name"',
      "name) OR 1=1 --",
      "name = name OR 1",
      "rel_ws.name",
      "functions.name",
      "1=1",
      "__proto__",
      "constructor",
      "hasOwnProperty",
      "NAME",
    ];
    for (const key of keys) {
      const raw = `{${JSON.stringify(key)}:{"eq":"x"}}`;
      expect(await badRequest({ ...base, filter: raw }), key).toContain(`unknown field '${key}'`);
      expect(await badRequest({ ...base, filter: { workspace: { [key]: { eq: "x" } } } }), key).toContain(
        `unknown field '${key}'`,
      );
      expect(await badRequest({ ...base, orderBy: `[{${JSON.stringify(key)}:"asc"}]` }), key).toContain(
        `cannot sort on '${key}'`,
      );
    }
    for (const op of ["eq) OR (1=1", "=", "IS NOT", "toString", "__proto__", "constructor"]) {
      const raw = `{"name":{${JSON.stringify(op)}:"x"}}`;
      expect(await badRequest({ ...base, filter: raw }), op).toContain(`unknown operator '${op}'`);
    }
    for (const direction of ["asc; DROP TABLE functions", "asc, (SELECT 1)", "desc --", "toString"]) {
      expect(await badRequest({ ...base, orderBy: [{ name: direction }] }), direction).toMatch(
        /direction must be one of/,
      );
    }

    // Everything is still there.
    expect(names(await list({ ...base, orderBy: [{ name: "asc" }] }))).toEqual(["x", "y"]);
    expect(before).toEqual([]);
    const row = await env.DB.prepare("SELECT count(*) AS n FROM functions WHERE workspace_id = ?")
      .bind(ws.id)
      .first<{ n: number }>();
    expect(row?.n).toBe(2);
  });
});

describe("functions list: workspace walls", () => {
  it("never shows a key of workspace A the functions of workspace B", async () => {
    const a = await tenant();
    const b = await newWorkspace();
    const inA = (await create(a.ws, [{ name: "shared", description: "d" }, { name: "a-only" }])).sort(newestFirst);
    const inB = await create(b, [{ name: "shared", description: "d" }, { name: "b-only" }, { name: "b-gone" }]);
    expectStatus(await api("DELETE", `/api/functions/${inB[2]?.id}`), 200);
    const bIds = idsOf(inB);
    const aIds = idsOf(inA);

    // What an admin for every workspace sees across both, as a reference and as a source of cursors.
    const admin = await list({ filter: { workspaceId: { in: [a.ws.id, b.id] } }, include_deleted: "true" });
    expect(admin.pageInfo.total).toBe(5);
    const foreignCursor = (await list({ filter: { workspaceId: { eq: b.id } }, limit: 1, orderBy: [{ name: "asc" }] }))
      .pageInfo.endCursor as string;

    for (const [role, key] of Object.entries(a.keys)) {
      const see = async (params: Params) => {
        const page = await list(params, key);
        expect(
          ids(page).filter((id) => bIds.includes(id)),
          `${role} ${JSON.stringify(params)}`,
        ).toEqual([]);
        return page;
      };
      const all = await see({});
      expect(ids(all), role).toEqual(aIds);
      expect(all.pageInfo.total).toBe(2);

      const empty = { data: [], pageInfo: { total: 0, hasNextPage: false, hasPreviousPage: false } };
      expect(await see({ filter: { workspaceId: { eq: b.id } } })).toMatchObject(empty);
      expect(await see({ filter: { workspace: { id: { eq: b.id } } } })).toMatchObject(empty);
      expect(await see({ filter: { workspace: { name: { eq: b.name } } } })).toMatchObject(empty);
      expect(await see({ filter: { or: [{ workspaceId: { eq: b.id } }, { id: { in: bIds } }] } })).toMatchObject(empty);
      expect(await see({ filter: { not: { workspaceId: { eq: a.ws.id } } }, include_deleted: "true" })).toMatchObject(
        empty,
      );
      expect(await see({ filter: { id: { in: bIds } }, include_deleted: "true" })).toMatchObject(empty);
      expect(await see({ ids: bIds.join(","), include_deleted: "true" })).toMatchObject(empty);
      expect(await see({ include_deleted: "only" })).toMatchObject(empty);
      expect(await see({ source: "system" })).toMatchObject(empty);
      expect(ids(await see({ ids: [...bIds, inA[0]?.id].join(",") }))).toEqual([inA[0]?.id]);
      expect(names(await see({ name: "shared" }))).toEqual(["shared"]);
      expect(ids(await see({ filter: { description: { eq: "d" } } }))).toEqual([
        inA.find((f) => f.name === "shared")?.id,
      ]);
      expect(names(await see({ include_deleted: "true", orderBy: [{ name: "asc" }] }))).toEqual(["a-only", "shared"]);
      expect(names(await see({ orderBy: [{ name: "asc" }], after: foreignCursor }))).toEqual(["shared"]);
      expectError(await listRaw({ workspace_id: b.id }, key), 404, "not_found");
    }
  });
});
