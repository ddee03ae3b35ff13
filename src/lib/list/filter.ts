import { type SQL, sql } from "drizzle-orm";
import { badRequest } from "../errors";
import type { EntityDef, FieldDef, RelationDef } from "./entity";

export const OPERATORS = [
  "eq",
  "ne",
  "gt",
  "gte",
  "lt",
  "lte",
  "in",
  "nin",
  "like",
  "ilike",
  "startsWith",
  "contains",
  "isNull",
] as const;
type Operator = (typeof OPERATORS)[number];

/** The operators that apply to a field of this type: an unknown operator is answered with them. */
function operatorsOf(field: FieldDef): readonly string[] {
  if (field.type === "map") return ["contains", "isNull"];
  if (field.type === "string") return OPERATORS.filter((op) => op !== "contains");
  return OPERATORS.filter((op) => !["like", "ilike", "startsWith", "contains"].includes(op));
}

const MAX_DEPTH = 8;
const MAX_NODES = 100;
/**
 * D1 binds at most 100 values per statement, and the rest of a list query (scope, shorthands, cursor, limit)
 * needs up to about 35, so a filter compares against at most this many values (an in/nin list counts once).
 */
const MAX_VALUES = 50;
const MAX_LIST = 100;
const MAX_STRING = 1000;

type Scope = { fields: Record<string, FieldDef>; relations: Record<string, RelationDef>; path: string };
type Budget = { nodes: number; values: number };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses the `filter` query parameter (JSON) and compiles it against the entity's whitelist. */

export function compileFilter(entity: EntityDef, node: unknown): SQL {
  const budget: Budget = { nodes: 0, values: 0 };
  return compileNode({ fields: entity.fields, relations: entity.relations ?? {}, path: "filter" }, node, 0, budget);
}

function compileNode(scope: Scope, node: unknown, depth: number, budget: Budget): SQL {
  if (depth > MAX_DEPTH) throw badRequest(`${scope.path}: filter is nested deeper than ${MAX_DEPTH} levels`);
  if (++budget.nodes > MAX_NODES) throw badRequest(`filter has more than ${MAX_NODES} conditions`);
  if (!isPlainObject(node)) throw badRequest(`${scope.path}: expected an object`);
  const keys = Object.keys(node);
  if (keys.length === 0) throw badRequest(`${scope.path}: empty filter object`);

  const parts = keys.map((key): SQL => {
    const value = node[key];
    const path = `${scope.path}.${key}`;
    if (key === "and" || key === "or") {
      if (!Array.isArray(value) || value.length === 0) throw badRequest(`${path}: expected a non-empty array`);
      const items = value.map((item, i) => compileNode({ ...scope, path: `${path}[${i}]` }, item, depth + 1, budget));
      return sql`(${sql.join(items, key === "and" ? sql` AND ` : sql` OR `)})`;
    }
    if (key === "not") {
      return sql`(NOT IFNULL(${compileNode({ ...scope, path }, value, depth + 1, budget)}, 0))`;
    }
    const relation = Object.hasOwn(scope.relations, key) ? scope.relations[key] : undefined;
    if (relation) {
      const inner = compileNode({ fields: relation.fields, relations: {}, path }, value, depth + 1, budget);
      return relation.exists(inner);
    }
    const field = Object.hasOwn(scope.fields, key) ? scope.fields[key] : undefined;
    if (!field) {
      const known = [...Object.keys(scope.fields), ...Object.keys(scope.relations)].join(", ");
      throw badRequest(`${path}: unknown field '${key}'; filterable fields are ${known}`);
    }
    return compileField(field, value, path, budget);
  });
  return parts.length === 1 ? (parts[0] as SQL) : sql`(${sql.join(parts, sql` AND `)})`;
}

function compileField(field: FieldDef, value: unknown, path: string, budget: Budget): SQL {
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    throw badRequest(`${path}: expected an operator object such as {"eq": ...}`);
  }
  const parts = Object.entries(value).map(([op, operand]) => {
    if (!(OPERATORS as readonly string[]).includes(op)) {
      throw badRequest(`${path}: unknown operator '${op}'; operators are ${operatorsOf(field).join(", ")}`);
    }
    if (op !== "isNull" && operand !== null && ++budget.values > MAX_VALUES) {
      throw badRequest(`filter compares against more than ${MAX_VALUES} values; use in or nin for a list of values`);
    }
    return compileComparison(field, op as Operator, operand, `${path}.${op}`);
  });
  return parts.length === 1 ? (parts[0] as SQL) : sql`(${sql.join(parts, sql` AND `)})`;
}

function compileComparison(field: FieldDef, op: Operator, operand: unknown, path: string): SQL {
  const col = field.column;
  if (field.type === "map" && op !== "contains" && op !== "isNull") {
    throw badRequest(`${path}: a map field takes only contains and isNull`);
  }
  switch (op) {
    case "isNull":
      if (typeof operand !== "boolean") throw badRequest(`${path}: expected true or false`);
      return operand ? sql`(${col} IS NULL)` : sql`(${col} IS NOT NULL)`;
    case "eq":
      return operand === null ? sql`(${col} IS NULL)` : sql`(${col} = ${toDb(field, operand, path)})`;
    case "ne":
      // Null-safe: rows whose value is NULL are "not equal" to any value.
      return operand === null ? sql`(${col} IS NOT NULL)` : sql`(${col} IS NOT ${toDb(field, operand, path)})`;
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      if (field.type === "boolean") throw badRequest(`${path}: '${op}' does not apply to a boolean field`);
      const v = toDb(field, operand, path);
      const symbol = { gt: sql`>`, gte: sql`>=`, lt: sql`<`, lte: sql`<=` }[op];
      return sql`(${col} ${symbol} ${v})`;
    }
    case "in":
    case "nin": {
      if (!Array.isArray(operand) || operand.length === 0 || operand.length > MAX_LIST) {
        throw badRequest(`${path}: expected an array of 1 to ${MAX_LIST} values`);
      }
      // One bound JSON array, however long the list: D1 binds at most 100 values per statement.
      const values = sql`(SELECT value FROM json_each(${JSON.stringify(operand.map((v, i) => toDb(field, v, `${path}[${i}]`)))}))`;
      return op === "in" ? sql`(${col} IN ${values})` : sql`(${col} IS NULL OR ${col} NOT IN ${values})`;
    }
    case "like":
    case "ilike": {
      if (field.type !== "string") throw badRequest(`${path}: '${op}' applies only to text fields`);
      if (typeof operand !== "string" || operand.length > MAX_STRING) {
        throw badRequest(`${path}: expected a pattern string of at most ${MAX_STRING} characters`);
      }
      // SQLite's LIKE ignores ASCII case, so the case-sensitive `like` is compiled to GLOB.
      return op === "ilike"
        ? sql`(lower(${col}) LIKE lower(${operand}) ESCAPE '\\')`
        : sql`(${col} GLOB ${likeToGlob(operand)})`;
    }
    case "startsWith": {
      if (field.type !== "string") throw badRequest(`${path}: 'startsWith' applies only to text fields`);
      if (typeof operand !== "string" || operand.length > MAX_STRING) {
        throw badRequest(`${path}: expected a string of at most ${MAX_STRING} characters`);
      }
      // An exact, case-sensitive prefix: the operand is text, never a pattern.
      return sql`(instr(${col}, ${operand}) = 1)`;
    }
    case "contains": {
      if (field.type !== "map") throw badRequest(`${path}: 'contains' applies only to map fields`);
      const pairs = isPlainObject(operand) ? Object.entries(operand) : undefined;
      if (!pairs || pairs.length > MAX_LIST) {
        throw badRequest(`${path}: expected an object of at most ${MAX_LIST} "key": "value" pairs`);
      }
      for (const [key, value] of pairs) {
        if (key.length > MAX_STRING || typeof value !== "string" || value.length > MAX_STRING) {
          throw badRequest(`${path}.${key.slice(0, 100)}: expected a string of at most ${MAX_STRING} characters`);
        }
      }
      // Every pair must be in the map: no wanted pair is missing from it. The pairs travel as one bound JSON object.
      return sql`(NOT EXISTS (SELECT 1 FROM json_each(${JSON.stringify(Object.fromEntries(pairs))}) AS want WHERE NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(${col}) THEN ${col} END) AS have WHERE have.key = want.key AND have.type = 'text' AND have.value = want.value)))`;
    }
  }
}

/** SQL LIKE pattern (`%`, `_`, backslash escapes) to the equivalent case-sensitive GLOB pattern. */
export function likeToGlob(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\" && i + 1 < pattern.length) {
      out += globLiteral(pattern[++i] as string);
    } else if (ch === "%") out += "*";
    else if (ch === "_") out += "?";
    else out += globLiteral(ch);
  }
  return out;
}

function globLiteral(ch: string): string {
  return ch === "*" || ch === "?" || ch === "[" ? `[${ch}]` : ch;
}

/** Checks a filter or cursor value against the field's type and converts it to its stored form. */
export function toDb(field: FieldDef, value: unknown, path: string): string | number {
  switch (field.type) {
    case "string":
      if (typeof value !== "string" || value.length > MAX_STRING) {
        throw badRequest(`${path}: expected a string of at most ${MAX_STRING} characters`);
      }
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) throw badRequest(`${path}: expected a number`);
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw badRequest(`${path}: expected true or false`);
      return value ? 1 : 0;
    case "datetime": {
      const ms = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : Number.NaN;
      if (!Number.isFinite(ms)) throw badRequest(`${path}: expected an ISO 8601 time or epoch milliseconds`);
      return ms;
    }
    case "map":
      throw badRequest(`${path}: a map field takes only contains and isNull`);
  }
}

/**
 * A `{"min": t, "max": t}` query parameter on one field (both ends inclusive, each optional), compiled through
 * the filter language so its values are checked as a filter's are. `param` names it in error messages.
 */
export function rangeFilter(entity: EntityDef, field: string, param: string, range: unknown): SQL | undefined {
  if (range === undefined) return undefined;
  if (!isPlainObject(range)) throw badRequest(`${param}: expected {"min": value, "max": value}`);
  const extra = Object.keys(range).find((k) => k !== "min" && k !== "max");
  if (extra !== undefined) throw badRequest(`${param}: unknown key '${extra.slice(0, 40)}'; use min and max`);
  const parts = [
    ...(range.min === undefined ? [] : [{ [field]: { gte: range.min } }]),
    ...(range.max === undefined ? [] : [{ [field]: { lte: range.max } }]),
  ];
  if (parts.length === 0) return undefined;
  try {
    return compileFilter(entity, { and: parts });
  } catch (err) {
    throw badRequest(`${param}: ${(err as Error).message.replace(/^filter\.and\[\d\]\.\w+\.\w+: /, "")}`);
  }
}
