/**
 * The entry module of the validator isolate (see validator.ts): JSON Schema work on tenant data, away from the host.
 * Schemas and values are user-supplied, so everything here runs under the loop guard (the library's code is
 * instrumented) and, on Cloudflare, under the isolate's cpuMs limit. Each method answers one of
 *   { violations: string[] } | { problems: string[] | null } | { missing: true } | { tooCostly: true } | { error }
 * and never throws for anything a schema or a value can do.
 *
 * This file is plain JavaScript: the host bundles it as text (`?raw`) and hands it to the Worker Loader as is.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { StretchLimitError, takeControls } from "./__edgefn/guard.js";
import { dereference } from "./lib/dereference.js";
import { Validator } from "./lib/validator.js";

const { enter, wasTripped } = takeControls();

/**
 * The shape of a JSON Schema (draft 2020-12): every standard keyword with the type its value must have.
 * @cfworker/json-schema validates instances but never checks a schema itself, and the official meta-schema
 * needs `$dynamicRef`, which it does not implement; this one is self-contained. Unknown keywords stay allowed,
 * as the draft allows them.
 */
const self = { $ref: "#" };
const schemaArray = { type: "array", minItems: 1, items: self };
const schemaMap = { type: "object", additionalProperties: self };
const count = { type: "integer", minimum: 0 };
const number = { type: "number" };
const string = { type: "string" };
const boolean = { type: "boolean" };
const names = { type: "array", items: string, uniqueItems: true };
const typeName = { enum: ["array", "boolean", "integer", "null", "number", "object", "string"] };

const META_SCHEMA = {
  type: ["object", "boolean"],
  properties: {
    $id: string,
    $schema: string,
    $ref: string,
    $anchor: string,
    $dynamicRef: string,
    $dynamicAnchor: string,
    $comment: string,
    $defs: schemaMap,
    definitions: schemaMap,
    allOf: schemaArray,
    anyOf: schemaArray,
    oneOf: schemaArray,
    not: self,
    if: self,
    // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword, in a plain data object
    then: self,
    else: self,
    dependentSchemas: schemaMap,
    prefixItems: schemaArray,
    items: self,
    contains: self,
    properties: schemaMap,
    patternProperties: { type: "object", propertyNames: { format: "regex" }, additionalProperties: self },
    additionalProperties: self,
    propertyNames: self,
    unevaluatedItems: self,
    unevaluatedProperties: self,
    type: { anyOf: [typeName, { type: "array", items: typeName, minItems: 1, uniqueItems: true }] },
    enum: { type: "array" },
    multipleOf: { type: "number", exclusiveMinimum: 0 },
    maximum: number,
    exclusiveMaximum: number,
    minimum: number,
    exclusiveMinimum: number,
    maxLength: count,
    minLength: count,
    pattern: { type: "string", format: "regex" },
    maxItems: count,
    minItems: count,
    uniqueItems: boolean,
    maxContains: count,
    minContains: count,
    maxProperties: count,
    minProperties: count,
    required: names,
    dependentRequired: { type: "object", additionalProperties: names },
    format: string,
    title: string,
    description: string,
    deprecated: boolean,
    readOnly: boolean,
    writeOnly: boolean,
    examples: { type: "array" },
    contentEncoding: string,
    contentMediaType: string,
    contentSchema: self,
  },
};

const meta = new Validator(META_SCHEMA, "2020-12", false);

/** Keywords whose failure only says that a subschema failed; the subschema's own errors say what is wrong. */
const WRAPPERS = new Set([
  "properties",
  "additionalProperties",
  "patternProperties",
  "items",
  "prefixItems",
  "allOf",
  "$ref",
]);

/** Validation errors as short "where: what" lines, without the wrappers' "a subschema had errors". */
function describeErrors(errors, limit = 20, root = "(root)") {
  const useful = errors.filter((e) => !WRAPPERS.has(e.keyword));
  return (useful.length > 0 ? useful : errors).slice(0, limit).map((e) => {
    const where = e.instanceLocation === "#" ? root : e.instanceLocation.replace(/^#/, root === "(root)" ? "" : root);
    // The `false` schema (e.g. additionalProperties: false) fails with a message that says little.
    return `${where}: ${e.keyword === "false" ? "not allowed here." : e.error}`;
  });
}

/**
 * What makes `schema` unusable as a JSON Schema, or null when it is usable: a keyword of the wrong type, a
 * pattern that is not a regular expression, a `$ref` that points nowhere (it would otherwise fail only when a
 * call's value reaches it), or anything that makes the library throw when it compiles and runs the schema.
 */
function schemaProblems(schema) {
  const shape = meta.validate(schema);
  if (!shape.valid) return describeErrors(shape.errors, 5, "schema");
  if (typeof schema === "object" && schema !== null) {
    // A copy: dereference() marks the objects it walks, and the test compile below needs them unmarked.
    const marked = structuredClone(schema);
    const lookup = dereference(marked);
    const unresolved = [];
    const visit = (node) => {
      if (typeof node !== "object" || node === null) return;
      // dereference() marks every subschema with a $ref with the absolute URI it resolves to.
      const target = node.__absolute_ref__;
      if (typeof target === "string" && lookup[target] === undefined) unresolved.push(node.$ref);
      for (const child of Object.values(node)) visit(child);
    };
    visit(marked);
    if (unresolved.length > 0) {
      return unresolved
        .slice(0, 5)
        .map(
          (ref) =>
            `$ref ${JSON.stringify(ref)} points to no schema in this document (remote references are not fetched)`,
        );
    }
  }
  // A test compile and run: what makes the library throw makes the schema unusable (guarded() reports it).
  new Validator(schema, "2020-12", false).validate(null);
  return null;
}

function firstLine(err) {
  try {
    return String(err instanceof Error ? err.message : err)
      .split("\n")[0]
      .slice(0, 500);
  } catch {
    return "an error that could not be described";
  }
}

/**
 * uniqueItems in linear time (the library compares every pair of items): the first duplicate pair in the order
 * the library reports it (the lowest index that has a duplicate, and its first duplicate), or null. Items are
 * keyed by a canonical JSON text (object keys sorted), which is equal exactly when the library's deep comparison
 * is for JSON values. The host's build of validate.js calls this in place of the library's loop.
 */
export function duplicatePair(items) {
  const first = new Map();
  let pair = null;
  for (let i = 0; i < items.length; i++) {
    const key = canonical(items[i]);
    const j = first.get(key);
    if (j === undefined) first.set(key, i);
    else if (pair === null || j < pair[0]) pair = [j, i];
  }
  return pair;
}

function canonical(value) {
  if (typeof value !== "object" || value === null) {
    // A number by its value (0 and -0 are the same item, as === says); everything else by type and JSON.
    if (typeof value === "number") return `n${value}`;
    return `${(typeof value).slice(0, 2)}${JSON.stringify(value) ?? ""}`;
  }
  if (Array.isArray(value)) {
    const parts = [];
    for (const item of value) parts.push(canonical(item));
    return `[${parts.join(",")}]`;
  }
  const parts = [];
  for (const key of Object.keys(value).sort()) parts.push(`${JSON.stringify(key)}:${canonical(value[key])}`);
  return `{${parts.join(",")}}`;
}

/** Compiled schemas by the host's key (a schema id: schemas never change), the oldest dropped first. */
const compiled = new Map();
const MAX_COMPILED = 200;

/** Runs one piece of work as a fresh stretch of the guard; a stretch the guard cut short is `tooCostly`. */
function guarded(work) {
  enter();
  try {
    const answer = work();
    return wasTripped() ? { tooCostly: true } : answer;
  } catch (err) {
    if (wasTripped() || err instanceof StretchLimitError) return { tooCostly: true };
    return { error: firstLine(err) };
  }
}

export default class extends WorkerEntrypoint {
  /**
   * The violations of `value` against the schema the host knows as `key` ([] when valid). `schema` comes only
   * when the host thinks this isolate has not compiled it yet; without it, an unknown key answers `missing`.
   */
  validate(key, value, schema) {
    return guarded(() => {
      const id = String(key);
      let validator = compiled.get(id);
      if (validator === undefined) {
        if (schema === undefined) return { missing: true };
        validator = new Validator(schema, "2020-12", false);
        if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value);
        compiled.set(id, validator);
      }
      const result = validator.validate(value);
      return { violations: result.valid ? [] : describeErrors(result.errors) };
    });
  }

  /** Why `schema` is not a usable JSON Schema (`problems`), or `problems: null`. */
  check(schema) {
    return guarded(() => ({ problems: schemaProblems(schema) }));
  }
}
