/**
 * JSON Schema validation is tenant-controlled work: it runs in a validator isolate (src/runtime/validator.ts)
 * under the loop guard, a cpuMs limit and a host-side timeout, with uniqueItems in linear time. These tests
 * check that costly schemas and values end in bounded time with a clear answer, and that ordinary ones still
 * validate as before.
 *
 * Never added here: a single catastrophic regular expression on a long string (`^(a+)+$` against 40 a's and a
 * "!"). That is native code the loop guard cannot interrupt, and local workerd enforces no cpuMs, so it would
 * freeze the test runtime; on Cloudflare the validator isolate's cpuMs ends it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { violations } from "../src/domain/json-schemas";
import type { Env } from "../src/env";
import { LIMITS } from "../src/lib/limits";
import {
  askValidator,
  unansweredReason,
  uniqueItemsIsLinear,
  VALIDATION_CPU_MS,
  VALIDATION_TIMEOUT_MS,
  type ValidatorEntrypoint,
  validatorModules,
} from "../src/runtime/validator";
import { getDb } from "../src/storage/db";
import { api, expectError, expectStatus, newFunction, newWorkspace, unique } from "./support/api";
import { deploy, invoke } from "./support/deploy";

async function newSchema(workspaceId: string, schema: unknown) {
  return expectStatus(
    await api("POST", "/api/schemas", { body: { workspaceId, name: unique("schema"), schema } }),
    201,
  );
}

/** A function that returns its args, validated by the given schemas. */
async function echo(workspaceId: string, schemas: { inputSchemaId?: string; outputSchemaId?: string }) {
  const fn = await newFunction(workspaceId, schemas);
  await deploy(fn.id, { "index.js": "export async function handle(d) { return d; }" });
  return fn;
}

const db = () => getDb(env.DB);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const TOO_COSTLY = new RegExp(`could not be validated within ${VALIDATION_CPU_MS} ms`);

describe("schemas: uniqueItems in linear time", () => {
  it("validates 200,000 distinct items correctly and quickly, and names the first duplicate pair", async () => {
    validatorModules();
    expect(uniqueItemsIsLinear).toBe(true);
    const ws = await newWorkspace();
    const schema = await newSchema(ws.id, { type: "array", uniqueItems: true });

    const items: unknown[] = range(200_000);
    let started = Date.now();
    expect(await violations({ db: db() }, schema.id, items)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);

    // The library's rule: the lowest index that has a duplicate, and its first duplicate.
    items[199_999] = 3;
    items[150_000] = 7;
    started = Date.now();
    expect(await violations({ db: db() }, schema.id, items)).toEqual([
      "(root): Duplicate items at indexes 3 and 199999.",
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);

    // Deep equality as the library has it: key order does not matter, types do.
    const deep = [{ a: 1, b: [1, { c: "x" }] }, { a: "1" }, [1, "1"], null, { b: [1, { c: "x" }], a: 1 }];
    expect(await violations({ db: db() }, schema.id, deep)).toEqual(["(root): Duplicate items at indexes 0 and 4."]);
    expect(await violations({ db: db() }, schema.id, [0, -0])).toEqual(["(root): Duplicate items at indexes 0 and 1."]);
    expect(await violations({ db: db() }, schema.id, [1, "1", true, "true", null, "null", [], {}, "[]"])).toEqual([]);
  });

  it("answers a call with 150,000 items (as many as 1 MiB of args holds) in bounded time, 200 or 400", async () => {
    const ws = await newWorkspace();
    const schema = await newSchema(ws.id, { type: "array", items: { type: "integer" }, uniqueItems: true });
    const fn = await echo(ws.id, { inputSchemaId: schema.id });
    const items = range(150_000);
    expect(JSON.stringify(items).length).toBeLessThan(LIMITS.argsBytes);

    const ok = expectStatus(await invoke(fn.id, items), 200);
    expect(ok).toMatchObject({ ok: true });
    expect(ok.result).toHaveLength(150_000);

    items[149_999] = 42;
    const res = await invoke(fn.id, items);
    const err = expectError(res, 400, "bad_request");
    expect(err.message).toBe(
      "args do not match the function's input schema: (root): Duplicate items at indexes 42 and 149999.",
    );
    expect(res.body.error.details.violations).toEqual(["(root): Duplicate items at indexes 42 and 149999."]);
  });

  it("checks a new schema's uniqueItems lists (required, type) in linear time too", async () => {
    const ws = await newWorkspace();
    // ~60 KiB of required names: the meta-schema's uniqueItems over them was quadratic in the host.
    const required = range(7_000).map((i) => `p${i}`);
    const started = Date.now();
    await newSchema(ws.id, { type: "object", required });
    expect(Date.now() - started).toBeLessThan(5_000);
    const dup = expectError(
      await api("POST", "/api/schemas", {
        body: { workspaceId: ws.id, name: "dup", schema: { required: [...required, "p5"] } },
      }),
      400,
      "bad_request",
    );
    expect(dup.message).toMatch(
      /^schema: not a usable JSON Schema: schema\/required: Duplicate items at indexes 5 and 7000/,
    );
  });
});

describe("schemas: patterns", () => {
  const SKU = { type: "object", properties: { sku: { type: "string", pattern: "^[A-Z]{3}-\\d+$" } } };

  it("validates a call whose args match a pattern and refuses one that does not, listing the violation", async () => {
    const ws = await newWorkspace();
    const fn = await echo(ws.id, { inputSchemaId: (await newSchema(ws.id, SKU)).id });
    expect(expectStatus(await invoke(fn.id, { sku: "ABC-12" }), 200)).toMatchObject({
      ok: true,
      result: { sku: "ABC-12" },
    });
    const res = await invoke(fn.id, { sku: "abc-12" });
    const err = expectError(res, 400, "bad_request");
    expect(err.message).toBe("args do not match the function's input schema: /sku: String does not match pattern.");
    expect(res.body.error.details.violations).toEqual(["/sku: String does not match pattern."]);
  });

  it("fails a call whose result does not match a pattern of the output schema", async () => {
    const ws = await newWorkspace();
    const fn = await echo(ws.id, { outputSchemaId: (await newSchema(ws.id, SKU)).id });
    expect(expectStatus(await invoke(fn.id, { sku: "XYZ-1" }), 200)).toMatchObject({ ok: true });
    const res = expectStatus(await invoke(fn.id, { sku: "nope" }), 200);
    expect(res).toMatchObject({ ok: false, status: "failed", errorDetail: { code: "invalid_result" } });
    expect(res.error).toMatch(/^InvalidResult: .*\/sku: String does not match pattern\./);
  });
});

describe("schemas: costly validation ends in bounded time", () => {
  it("ends a superlinear validation (an enum checked against every item) at the stretch limit, as a 400", async () => {
    const ws = await newWorkspace();
    // 100,000 items each compared with 5,000 enum values: 5 x 10^8 steps of the library, all under the loop guard.
    const values = range(5_000).map((i) => `v${i}`);
    const schema = await newSchema(ws.id, { type: "array", items: { enum: values } });
    const fn = await echo(ws.id, { inputSchemaId: schema.id });
    const started = Date.now();
    const res = await invoke(
      fn.id,
      range(100_000).map(() => "v4999"),
    );
    const elapsed = Date.now() - started;
    const err = expectError(res, 400, "bad_request");
    expect(err.message).toMatch(/^args do not match the function's input schema: \(root\): /);
    expect(err.message).toMatch(TOO_COSTLY);
    expect(elapsed).toBeLessThan(5_000);

    // The validator is fine afterwards: a small value validates at once.
    expect(expectStatus(await invoke(fn.id, ["v1", "v2"]), 200)).toMatchObject({ ok: true });
    expectError(await invoke(fn.id, ["v1", "w"]), 400, "bad_request");
  });

  it("fails a call whose result is too costly to validate, with invalid_result", async () => {
    const ws = await newWorkspace();
    const values = range(5_000).map((i) => `v${i}`);
    const schema = await newSchema(ws.id, { type: "array", items: { enum: values } });
    const fn = await newFunction(ws.id, { outputSchemaId: schema.id });
    await deploy(fn.id, {
      "index.js": "export async function handle() { return Array.from({ length: 100000 }, () => 'v4999'); }",
    });
    const res = expectStatus(await invoke(fn.id), 200);
    expect(res).toMatchObject({ ok: false, status: "failed", errorDetail: { code: "invalid_result" } });
    expect(res.error).toMatch(TOO_COSTLY);
  });

  it("ends many runs of a catastrophic pattern at the stretch limit (each run short, so nothing can freeze)", async () => {
    const ws = await newWorkspace();
    const schema = await newSchema(ws.id, { type: "array", items: { type: "string", pattern: "^(a+)+$" } });
    const fn = await echo(ws.id, { inputSchemaId: schema.id });
    // 2^18 backtracking steps each: a few ms per string; 2,000 strings would take seconds without the guard.
    const evil = `${"a".repeat(18)}!`;
    const started = Date.now();
    const res = await invoke(
      fn.id,
      range(2_000).map(() => evil),
    );
    const elapsed = Date.now() - started;
    expect(expectError(res, 400, "bad_request").message).toMatch(TOO_COSTLY);
    expect(elapsed).toBeLessThan(5_000);
    // The same pattern on ordinary strings is cheap.
    expect(expectStatus(await invoke(fn.id, ["aaa", "a"]), 200)).toMatchObject({ ok: true });
    expect(expectError(await invoke(fn.id, ["aaa", "ab"]), 400, "bad_request").message).toMatch(
      /\/1: String does not match pattern\./,
    );
  });
});

describe("schemas: the validator isolate", () => {
  it("runs the library instrumented with the loop guard, and uniqueItems rewritten to the linear check", () => {
    const modules = validatorModules();
    expect(Object.keys(modules).sort()).toEqual(
      [
        "__edgefn/guard.js",
        "lib/deep-compare-strict.js",
        "lib/dereference.js",
        "lib/format.js",
        "lib/pointer.js",
        "lib/ucs2-length.js",
        "lib/validate.js",
        "lib/validator.js",
        "validator.js",
      ].sort(),
    );
    const validate = modules["lib/validate.js"] as string;
    expect(validate).toContain("__edgefn_guard()");
    expect(validate).toContain("$edgefnDuplicatePair(instance)");
    expect(validate).not.toMatch(/for \(let k = 0; k < length; k\+\+\)/);
  });

  it("gives up on a validator that does not answer within the timeout", async () => {
    const hanging = {
      validate: () => new Promise(() => {}),
      check: () => new Promise(() => {}),
    } as unknown as ValidatorEntrypoint;
    const fake = { ...env, LOADER: { get: () => ({ getEntrypoint: () => hanging }) } } as unknown as Env;
    const started = Date.now();
    const answer = await askValidator(fake, "ws_x", (v) => v.validate("scm_x", 1));
    expect(answer).toEqual({ timedOut: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(VALIDATION_TIMEOUT_MS - 50);
    const failing = {
      ...env,
      LOADER: {
        get: () => ({
          getEntrypoint: () => ({ validate: () => Promise.reject(new Error("Worker exceeded CPU time limit.")) }),
        }),
      },
    } as unknown as Env;
    const failed = await askValidator(failing, "ws_x", (v) => v.validate("scm_x", 1));
    expect(failed).toEqual({ failed: "Worker exceeded CPU time limit." });
    // What the caller reads for each.
    expect(unansweredReason({ timedOut: true }, "validated")).toBe(
      `could not be validated within ${VALIDATION_TIMEOUT_MS} ms`,
    );
    expect(unansweredReason(failed as { failed: string }, "validated")).toMatch(TOO_COSTLY);
    expect(unansweredReason({ failed: "Network connection lost." }, "checked")).toBe(
      "could not be checked: Network connection lost.",
    );
  });

  it("answers `missing` for a schema it has not compiled, and keeps compiled ones: a warm call is one RPC", async () => {
    const ws = await newWorkspace();
    let cold = performance.now();
    validatorModules();
    console.log(`building the validator's modules: ${(performance.now() - cold).toFixed(1)} ms`);
    cold = performance.now();
    expect(await askValidator(env as Env, ws.id, (v) => v.validate("scm_unknown", 1))).toEqual({ missing: true });
    console.log(`a workspace's first validator request (a new isolate): ${(performance.now() - cold).toFixed(1)} ms`);
    const schema = await newSchema(ws.id, {
      type: "object",
      properties: { sku: { type: "string", pattern: "^[A-Z]{3}-\\d+$" }, n: { type: "integer" } },
      required: ["sku"],
    });
    expect(await violations({ db: db() }, schema.id, { sku: "ABC-1", n: 2 })).toEqual([]);
    // Now compiled in the workspace's validator: it validates without the schema being sent.
    expect(await askValidator(env as Env, ws.id, (v) => v.validate(schema.id, { sku: "x" }))).toEqual({
      violations: ["/sku: String does not match pattern."],
    });
    const runs = 200;
    const started = performance.now();
    for (let i = 0; i < runs; i++) await violations({ db: db() }, schema.id, { sku: `ABC-${i}`, n: i });
    const perCall = (performance.now() - started) / runs;
    console.log(`warm validation: ${perCall.toFixed(3)} ms per call`);
    expect(perCall).toBeLessThan(50);
  });
});
