/**
 * JSON Schemas: storing them, and what they do to a function's calls as its inputSchemaId (args are checked
 * before the call runs) and outputSchemaId (the result is checked before it is answered).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, expectError, expectStatus, newFunction, newWorkspace, tenant, unique } from "./support/api";
import { deploy, invoke } from "./support/deploy";

async function newSchema(workspaceId: string, schema: unknown, key?: string) {
  return expectStatus(
    await api("POST", "/api/schemas", { key, body: { workspaceId, name: unique("schema"), schema } }),
    201,
  );
}

const schemaIdsOf = async (workspaceId: string, key?: string) => {
  const page = expectStatus(
    await api(
      "GET",
      `/api/schemas?limit=100&filter=${encodeURIComponent(JSON.stringify({ workspaceId: { eq: workspaceId } }))}`,
      { key },
    ),
    200,
  );
  return page.data.map((s: { id: string }) => s.id).sort();
};

const patchFn = (id: string, body: unknown) => api("PATCH", `/api/functions/${id}`, { body });

const ORDER = {
  type: "object",
  properties: {
    quantity: { type: "integer", minimum: 1 },
    sku: { type: "string", pattern: "^[A-Z]{3}-\\d+$" },
  },
  required: ["quantity", "sku"],
  additionalProperties: false,
};

describe("schemas: store and read", () => {
  it("stores a JSON Schema as sent and serves it by id and in the list", async () => {
    const ws = await newWorkspace();
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $defs: { money: { type: "number", minimum: 0 } },
      type: "object",
      properties: { price: { $ref: "#/$defs/money" }, tags: { type: "array", prefixItems: [{ type: "string" }] } },
      patternProperties: { "^x-": { type: "string" } },
      required: ["price"],
    };
    const created = expectStatus(
      await api("POST", "/api/schemas", {
        body: { workspaceId: ws.id, name: "price input", description: "What a pricing call takes", schema },
      }),
      201,
    );
    expect(created).toMatchObject({
      workspaceId: ws.id,
      name: "price input",
      description: "What a pricing call takes",
      schema,
      createdBy: expect.any(String),
    });
    expect(created.id).toMatch(/^scm_[0-9a-z]{26}$/);
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(expectStatus(await api("GET", `/api/schemas/${created.id}`), 200)).toEqual(created);

    const always = await newSchema(ws.id, true);
    const never = await newSchema(ws.id, false);
    expect([always.schema, never.schema]).toEqual([true, false]);
    const page = expectStatus(await api("GET", "/api/schemas?limit=2"), 200);
    expect(page.data).toHaveLength(2);
    expect(page.pageInfo).toMatchObject({ hasNextPage: true });
    expect(await schemaIdsOf(ws.id)).toEqual([created.id, always.id, never.id].sort());
  });

  it("rejects what is not a usable JSON Schema with 400, storing nothing", async () => {
    const ws = await newWorkspace();
    const cases: [unknown, RegExp][] = [
      [null, /object or a boolean/],
      [[{ type: "string" }], /object or a boolean/],
      ["string", /object or a boolean/],
      [{ type: "text" }, /type/],
      [{ type: 5 }, /type/],
      [{ properties: ["a"] }, /properties/],
      [{ required: "a" }, /required/],
      [{ properties: { name: { minLength: -1 } } }, /minLength/],
      [{ pattern: "([a-z]" }, /pattern.*regex/],
      [{ patternProperties: { "(": {} } }, /regex/],
      [{ items: [{ type: "string" }] }, /items/],
      [{ allOf: [] }, /allOf/],
      [{ multipleOf: 0 }, /multipleOf/],
      [{ properties: { a: { $ref: "#/$defs/missing" } } }, /\$ref "#\/\$defs\/missing"/],
      [{ $ref: "https://example.com/remote.json" }, /\$ref/],
      [{ description: "x".repeat(65 * 1024) }, /larger than 65536 bytes/],
    ];
    for (const [schema, message] of cases) {
      const err = expectError(
        await api("POST", "/api/schemas", { body: { workspaceId: ws.id, name: "bad", schema } }),
        400,
        "bad_request",
      );
      expect(err.message, JSON.stringify(schema)?.slice(0, 80)).toMatch(/^schema: /);
      expect(err.message, JSON.stringify(schema)?.slice(0, 80)).toMatch(message);
    }
    const body = (extra: Record<string, unknown>) => ({ workspaceId: ws.id, name: "ok", schema: {}, ...extra });
    expect(
      expectError(await api("POST", "/api/schemas", { body: body({ schema: undefined }) }), 400, "bad_request").message,
    ).toMatch(/schema/);
    expectError(await api("POST", "/api/schemas", { body: body({ name: "" }) }), 400, "bad_request");
    expectError(await api("POST", "/api/schemas", { body: body({ id: "scm_mine" }) }), 400, "bad_request");
    expectError(await api("POST", "/api/schemas", { raw: "{not json" }), 400, "bad_request");
    expectError(
      await api("POST", "/api/schemas", { body: body({ workspaceId: "ws_doesnotexist" }) }),
      404,
      "not_found",
    );
    expect(await schemaIdsOf(ws.id)).toEqual([]);
  });

  it("keeps schemas inside their workspace: other workspaces' keys neither list nor see them", async () => {
    const a = await tenant();
    const b = await tenant();
    const mine = await newSchema(a.ws.id, { type: "string" }, a.keys.developer);
    const theirs = await newSchema(b.ws.id, { type: "string" }, b.keys.developer);

    const listed = expectStatus(await api("GET", "/api/schemas?limit=100", { key: a.keys.viewer }), 200);
    expect(listed.data.map((s: { id: string }) => s.id)).toEqual([mine.id]);
    expect(expectStatus(await api("GET", `/api/schemas/${mine.id}`, { key: a.keys.viewer }), 200).id).toBe(mine.id);
    expectError(await api("GET", `/api/schemas/${theirs.id}`, { key: a.keys.admin }), 404, "not_found");
    expectError(await api("DELETE", `/api/schemas/${theirs.id}`, { key: a.keys.admin }), 404, "not_found");
    expectError(
      await api("POST", "/api/schemas", { key: a.keys.admin, body: { workspaceId: b.ws.id, name: "x", schema: {} } }),
      404,
      "not_found",
    );
    // A filter cannot reach past the wall either.
    expect(await schemaIdsOf(b.ws.id, a.keys.admin)).toEqual([]);
    expect(await schemaIdsOf(b.ws.id)).toEqual([theirs.id]);

    for (const role of ["viewer", "invoker"] as const) {
      expectError(
        await api("POST", "/api/schemas", { key: a.keys[role], body: { workspaceId: a.ws.id, name: "x", schema: {} } }),
        403,
        "forbidden",
      );
      expectError(await api("DELETE", `/api/schemas/${mine.id}`, { key: a.keys[role] }), 403, "forbidden");
    }
    expect(expectStatus(await api("DELETE", `/api/schemas/${mine.id}`, { key: a.keys.developer }), 200)).toEqual({
      success: true,
    });
    expectError(await api("GET", `/api/schemas/${mine.id}`), 404, "not_found");
    expectError(await api("DELETE", `/api/schemas/${mine.id}`), 404, "not_found");
    expectError(await api("GET", "/api/schemas/scm_00000000000000000000000000"), 404, "not_found");
  });
});

describe("schemas: a function's inputSchemaId", () => {
  it("checks the args before the call runs: a 400 listing every violation, and the function never runs", async () => {
    const ws = await newWorkspace();
    const input = await newSchema(ws.id, ORDER);
    const fn = await newFunction(ws.id, { inputSchemaId: input.id });
    expect(fn.inputSchemaId).toBe(input.id);
    // The isolate counts the calls it ran: module state lives as long as the warm isolate.
    await deploy(fn.id, {
      "index.js": "let runs = 0;\nexport async function handle(order) { runs += 1; return { runs, order }; }",
    });

    const valid = { quantity: 2, sku: "ABC-12" };
    expect(expectStatus(await invoke(fn.id, valid), 200)).toMatchObject({ ok: true, result: { runs: 1 } });

    const res = await invoke(fn.id, { quantity: 0, sku: "abc", colour: "red" });
    const err = expectError(res, 400, "bad_request");
    expect(err.message).toMatch(/^args do not match the function's input schema: /);
    expect(err.message).toMatch(/\/quantity: .*0.*1/);
    expect(err.message).toMatch(/\/sku: .*pattern/);
    expect(err.message).toMatch(/\/colour: not allowed/);
    expect(res.body.error.details.violations.length).toBeGreaterThanOrEqual(3);
    const missing = expectError(await invoke(fn.id, { quantity: 1 }), 400, "bad_request");
    expect(missing.message).toMatch(/sku/);
    // No args are null, which is not an object.
    expect(expectError(await invoke(fn.id), 400, "bad_request").message).toMatch(/\(root\): .*object/);

    expect(expectStatus(await invoke(fn.id, valid), 200)).toMatchObject({ ok: true, result: { runs: 2 } });

    // Without the schema, the same args run (so the 400 came from the schema, not the function).
    expect(expectStatus(await patchFn(fn.id, { inputSchemaId: null }), 200).inputSchemaId).toBeNull();
    expect(expectStatus(await invoke(fn.id, { quantity: 0, sku: "abc", colour: "red" }), 200)).toMatchObject({
      ok: true,
      result: { order: { colour: "red" } },
    });
  });

  it("follows a patched inputSchemaId on the very next call", async () => {
    const ws = await newWorkspace();
    const strings = await newSchema(ws.id, { type: "string" });
    const numbers = await newSchema(ws.id, { type: "number" });
    const fn = await newFunction(ws.id, { inputSchemaId: strings.id });
    await deploy(fn.id, { "index.js": "export async function handle(d) { return d; }" });
    expect(expectStatus(await invoke(fn.id, "text"), 200).result).toBe("text");
    expectError(await invoke(fn.id, 5), 400, "bad_request");
    expectStatus(await patchFn(fn.id, { inputSchemaId: numbers.id }), 200);
    expect(expectStatus(await invoke(fn.id, 5), 200).result).toBe(5);
    expectError(await invoke(fn.id, "text"), 400, "bad_request");
  });

  it("refuses an unknown schema or another workspace's, on create and on patch, changing nothing", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace();
    const foreign = await newSchema(other.id, { type: "object" });
    for (const field of ["inputSchemaId", "outputSchemaId"]) {
      for (const id of ["scm_00000000000000000000000000", foreign.id]) {
        const err = expectError(
          await api("POST", "/api/functions", { body: { workspaceId: ws.id, name: unique("fn"), [field]: id } }),
          400,
          "bad_request",
        );
        expect(err.message).toMatch(new RegExp(`^${field}: no schema ${id} in this function's workspace`));
      }
    }
    const fn = await newFunction(ws.id);
    for (const field of ["inputSchemaId", "outputSchemaId"]) {
      for (const id of ["scm_00000000000000000000000000", foreign.id]) {
        expectError(await patchFn(fn.id, { [field]: id }), 400, "bad_request");
      }
    }
    expect(expectStatus(await api("GET", `/api/functions/${fn.id}`), 200)).toEqual(fn);
    const listed = expectStatus(await api("GET", `/api/functions?workspace_id=${ws.id}&include_deleted=true`), 200);
    expect(listed.data.map((f: { id: string }) => f.id)).toEqual([fn.id]);
  });
});

describe("schemas: a function's outputSchemaId", () => {
  it("fails a call whose result does not match, with errorDetail.code invalid_result", async () => {
    const ws = await newWorkspace();
    const output = await newSchema(ws.id, {
      type: "object",
      properties: { total: { type: "number" } },
      required: ["total"],
    });
    const fn = await newFunction(ws.id, { outputSchemaId: output.id });
    await deploy(fn.id, { "index.js": "export async function handle(d) { return d; }" });

    expect(expectStatus(await invoke(fn.id, { total: 12.5 }), 200)).toMatchObject({
      ok: true,
      result: { total: 12.5 },
      errorDetail: null,
    });
    const res = expectStatus(await invoke(fn.id, { total: "12.5" }), 200);
    expect(res).toMatchObject({
      ok: false,
      status: "failed",
      errorDetail: { name: "InvalidResult", code: "invalid_result" },
    });
    expect(res).not.toHaveProperty("result");
    expect(res.error).toMatch(/^InvalidResult: The result does not match the function's output schema: \/total: /);
    expect(res.errorDetail).not.toHaveProperty("stack");
    const missing = expectStatus(await invoke(fn.id, {}), 200);
    expect(missing).toMatchObject({ ok: false, errorDetail: { code: "invalid_result" } });
    expect(missing.errorDetail.message).toMatch(/total/);
  });
});

describe("schemas: delete while in use", () => {
  it("refuses (409) to delete a schema a function uses, soft-deleted functions included, and keeps validating", async () => {
    const ws = await newWorkspace();
    const input = await newSchema(ws.id, { type: "integer" });
    const output = await newSchema(ws.id, { type: "integer" });
    const a = await newFunction(ws.id, { inputSchemaId: input.id });
    const b = await newFunction(ws.id, { outputSchemaId: output.id });
    await deploy(a.id, { "index.js": "export async function handle(d) { return d; }" });

    const err = expectError(await api("DELETE", `/api/schemas/${input.id}`), 409, "conflict");
    expect(err.message).toContain(a.id);
    expect(expectError(await api("DELETE", `/api/schemas/${output.id}`), 409, "conflict").message).toContain(b.id);
    expect(expectStatus(await api("GET", `/api/schemas/${input.id}`), 200).id).toBe(input.id);
    expectError(await invoke(a.id, "not an integer"), 400, "bad_request");

    // Once no function points at it, it goes.
    expectStatus(await patchFn(a.id, { inputSchemaId: null }), 200);
    expectStatus(await api("DELETE", `/api/schemas/${input.id}`), 200);
    expectError(await api("GET", `/api/schemas/${input.id}`), 404, "not_found");
    expect(expectStatus(await invoke(a.id, "now anything"), 200).result).toBe("now anything");

    // A soft-deleted function can be restored, so it still holds its schema until it is purged.
    expectStatus(await api("DELETE", `/api/functions/${b.id}`), 200);
    expectError(await api("DELETE", `/api/schemas/${output.id}`), 409, "conflict");
    expectStatus(await api("DELETE", `/api/functions/${b.id}/purge`), 200);
    expectStatus(await api("DELETE", `/api/schemas/${output.id}`), 200);
    const rows = await env.DB.prepare("SELECT id FROM schemas WHERE workspace_id = ?").bind(ws.id).all();
    expect(rows.results).toEqual([]);
  });
});
