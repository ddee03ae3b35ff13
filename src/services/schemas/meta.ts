import { dereference, type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";

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

const meta = new Validator(META_SCHEMA as Schema, "2020-12", false);

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
export function describeErrors(errors: OutputUnit[], limit = 20, root = "(root)"): string[] {
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
 * call's value reaches it).
 */
export function schemaProblems(schema: unknown): string[] | null {
  const shape = meta.validate(schema);
  if (!shape.valid) return describeErrors(shape.errors, 5, "schema");
  if (typeof schema !== "object" || schema === null) return null;
  const lookup = dereference(schema as object);
  const unresolved: string[] = [];
  const visit = (node: unknown) => {
    if (typeof node !== "object" || node === null) return;
    // dereference() marks every subschema with a $ref with the absolute URI it resolves to.
    const target = (node as { __absolute_ref__?: unknown }).__absolute_ref__;
    if (typeof target === "string" && lookup[target] === undefined) unresolved.push((node as { $ref: string }).$ref);
    for (const child of Object.values(node)) visit(child);
  };
  visit(schema);
  if (unresolved.length > 0) {
    return unresolved
      .slice(0, 5)
      .map(
        (ref) => `$ref ${JSON.stringify(ref)} points to no schema in this document (remote references are not fetched)`,
      );
  }
  return null;
}
