/**
 * Appwrite's `queries[]` as the list engine's ListQuery: pure functions, the query half of the surface's mapping.
 * Queries come as the JSON strings of Appwrite 1.5+ (`{"method":"equal","attribute":"name","values":["a"]}`) or in
 * the older form (`equal("name", ["a"])`); each attribute a list can be queried on (Appwrite's own list of them) is
 * translated into the list language, on the entity's fields or its `appwrite` relation (Appwrite's settings and
 * derived values). What has no translation is Appwrite's 400.
 */
import { appwriteFailure } from "../../../domain/compat/appwrite/failures";
import { badRequest } from "../../../lib/errors";
import type { ListQuery } from "../../../lib/list/page";

export interface Query {
  method: string;
  attribute?: string;
  values?: unknown[];
}

type Node = Record<string, unknown>;

const MAX_QUERIES = 100;
const MAX_QUERY_CHARS = 4096;

const invalid = (message: string) =>
  appwriteFailure("bad_request", "general_query_invalid", `Invalid query: ${message}`);

/** A query in the older string form: `method(arg, ...)`, whose arguments are JSON values. */
function parseLegacy(text: string): Query {
  const m = /^\s*([A-Za-z]+)\(([\s\S]*)\)\s*$/.exec(text);
  if (!m) throw invalid("Syntax error");
  let args: unknown[];
  try {
    args = JSON.parse(`[${m[2]}]`) as unknown[];
  } catch {
    throw invalid("Syntax error");
  }
  const method = m[1] as string;
  if (/^(limit|offset|cursorAfter|cursorBefore)$/.test(method)) return { method, values: args.slice(0, 1) };
  if (/^order(Asc|Desc)$/.test(method)) return { method, attribute: String(args[0] ?? "") };
  const [attribute, value, ...rest] = args;
  const values =
    method === "between" ? [value, rest[0]] : Array.isArray(value) ? value : value === undefined ? [] : [value];
  return { method, attribute: String(attribute ?? ""), values };
}

function asQuery(value: unknown): Query {
  if (!value || typeof value !== "object" || typeof (value as Query).method !== "string") {
    throw invalid("Syntax error");
  }
  const q = value as Query;
  if (q.values !== undefined && !Array.isArray(q.values)) throw invalid(`values of ${q.method} must be an array`);
  return q;
}

/** The queries[] of a list request (`queries[]=`, `queries[0]=`, or `queries=`). */
export function parseQueries(url: string): Query[] {
  const out: Query[] = [];
  for (const [key, value] of new URL(url).searchParams) {
    if (!/^queries(\[\d*\])?$/.test(key)) continue;
    if (out.length >= MAX_QUERIES) throw badRequest(`Invalid \`queries\` param: at most ${MAX_QUERIES} queries`);
    if (value.length > MAX_QUERY_CHARS) throw invalid(`a query is at most ${MAX_QUERY_CHARS} characters`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      out.push(parseLegacy(value));
      continue;
    }
    out.push(asQuery(parsed));
  }
  return out;
}

/** How one Appwrite attribute of a list maps onto the list language. */
export interface Attribute {
  /** The field (`name`) or the relation field (`appwrite.runtime`) it is; absent: only `custom` filters it. */
  field?: string;
  /** Turns an Appwrite value into the field's (deployment status names, seconds to ms, ...). */
  value?: (v: unknown) => unknown;
  /** A filter node for `equal(attribute, [value])` when no single field holds it (an execution's status). */
  custom?: (value: unknown) => Node;
  /** Whether it can be sorted on (a field of the entity itself). */
  sortable?: boolean;
}

export type Attributes = Record<string, Attribute>;

const OPS: Record<string, string> = {
  lessThan: "lt",
  lessThanEqual: "lte",
  greaterThan: "gt",
  greaterThanEqual: "gte",
};

/** `{field: {op: value}}`, nested under its relation for `relation.field`. */
function on(field: string, condition: Node): Node {
  const dot = field.indexOf(".");
  return dot < 0 ? { [field]: condition } : { [field.slice(0, dot)]: { [field.slice(dot + 1)]: condition } };
}

const escapeLike = (v: unknown) => String(v ?? "").replace(/[%_\\]/g, (c) => `\\${c}`);
const anyOf = (nodes: Node[]): Node => (nodes.length === 1 ? (nodes[0] as Node) : { or: nodes });
const allOf = (nodes: Node[]): Node | undefined =>
  nodes.length === 0 ? undefined : nodes.length === 1 ? nodes[0] : { and: nodes };

export interface Translated {
  query: ListQuery;
  /** A cursor by Appwrite id, for the caller to resolve and add with `withCursor`. */
  cursor?: { id: string; after: boolean };
}

/**
 * Appwrite queries as the list engine's query. `attributes` are those the list can be queried on; `$id`,
 * `$createdAt` and `$updatedAt` are among them for every list, as on Appwrite.
 */
export function toListQuery(queries: Query[], attributes: Attributes): Translated {
  const attrOf = (q: Query): Attribute => {
    const name = q.attribute ?? "";
    const a = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
    if (!a) {
      throw appwriteFailure(
        "bad_request",
        "general_argument_invalid",
        `Invalid \`queries\` param: Invalid query: Attribute not found in schema: ${name}`,
      );
    }
    return a;
  };
  const filters: Node[] = [];
  const orders: Record<string, string>[] = [];
  const state: Translated & { limit?: number; offset?: number } = { query: {} };

  const filter = (q: Query, depth: number): Node | undefined => {
    const values = q.values ?? [];
    switch (q.method) {
      case "and":
      case "or": {
        if (depth > 4) throw invalid("queries are nested too deep");
        const inner = values.map((v) => filter(asQuery(v), depth + 1)).filter((n): n is Node => n !== undefined);
        if (inner.length === 0) throw invalid(`${q.method} needs at least one filter`);
        return q.method === "and" ? allOf(inner) : anyOf(inner);
      }
      case "select":
        return undefined;
      case "isNull":
      case "isNotNull": {
        const a = attrOf(q);
        if (!a.field) throw unsupported(q);
        return on(a.field, { isNull: q.method === "isNull" });
      }
    }
    const negated = /^not(Equal|Search|Contains|StartsWith|EndsWith|Between)$/.test(q.method);
    const method = negated && q.method !== "notEqual" ? q.method[3]?.toLowerCase() + q.method.slice(4) : q.method;
    const a = attrOf(q);
    const conv = a.value ?? ((v: unknown) => v);
    let node: Node;
    if (method === "equal" || method === "notEqual") {
      if (values.length === 0) throw invalid(`${q.method} needs at least one value`);
      if (a.custom) node = anyOf(values.map((v) => (a.custom as (v: unknown) => Node)(v)));
      else if (a.field) node = on(a.field, { in: values.map(conv) });
      else throw unsupported(q);
      return method === "notEqual" ? { not: node } : node;
    }
    if (!a.field) throw unsupported(q);
    const field = a.field;
    switch (method) {
      case "between":
        node = on(field, { gte: conv(values[0]), lte: conv(values[1]) });
        break;
      case "search":
      case "contains":
        node = on(field, { ilike: `%${escapeLike(values[0])}%` });
        break;
      case "startsWith":
        node = on(field, { ilike: `${escapeLike(values[0])}%` });
        break;
      case "endsWith":
        node = on(field, { ilike: `%${escapeLike(values[0])}` });
        break;
      default: {
        const op = OPS[method];
        if (!op) throw invalid(`Invalid query method: ${q.method}`);
        node = on(field, { [op]: conv(values[0]) });
      }
    }
    return negated ? { not: node } : node;
  };

  for (const q of queries) {
    const values = q.values ?? [];
    switch (q.method) {
      case "limit": {
        const n = Number(values[0]);
        if (!Number.isInteger(n) || n < 1 || n > 5000) throw invalid("limit must be an integer from 1 to 5000");
        state.limit = Math.min(n, 100);
        break;
      }
      case "offset": {
        const n = Number(values[0]);
        if (!Number.isInteger(n) || n < 0 || n > 5000) throw invalid("offset must be an integer from 0 to 5000");
        state.offset = n;
        break;
      }
      case "cursorAfter":
      case "cursorBefore":
        if (typeof values[0] !== "string" || values[0] === "") throw invalid(`${q.method} needs a document id`);
        state.cursor = { id: values[0], after: q.method === "cursorAfter" };
        break;
      case "orderAsc":
      case "orderDesc": {
        // No attribute (or Appwrite's internal sequence): the list's own order, oldest or newest first.
        const name = q.attribute || String(values[0] ?? "");
        const direction = q.method === "orderAsc" ? "asc" : "desc";
        if (name === "" || name === "$sequence" || name === "$internalId") {
          orders.push({ createdAt: direction });
          break;
        }
        const a = attrOf({ ...q, attribute: name });
        if (!a.sortable || !a.field) throw unsupported({ ...q, attribute: name }, "sorting");
        orders.push({ [a.field]: direction });
        break;
      }
      case "orderRandom":
        throw unsupported(q, "random order");
      default: {
        const node = filter(q, 0);
        if (node) filters.push(node);
      }
    }
  }
  if (state.cursor && orders.length > 0) {
    throw badRequest(
      "cursorAfter/cursorBefore cannot be combined with orderAsc/orderDesc here: page by offset instead",
    );
  }
  if (state.cursor && state.offset) throw badRequest("Pass either a cursor or an offset, not both");
  const query: ListQuery = {
    limit: state.limit,
    offset: state.offset,
    filter: allOf(filters),
    orderBy: orders.length > 0 ? orders : undefined,
  };
  return state.cursor ? { query, cursor: state.cursor } : { query };
}

function unsupported(q: Query, what = q.method) {
  return appwriteFailure(
    "bad_request",
    "general_argument_invalid",
    `Invalid \`queries\` param: ${what} on "${q.attribute ?? ""}" is not supported by edgefn`,
  );
}

/** The query with a resolved cursor (a native id): rows after it (or before it) in the newest-first order. */
export function withCursor(query: ListQuery, cursor: { id: string; after: boolean }): ListQuery {
  const bound = { id: { [cursor.after ? "lt" : "gt"]: cursor.id } };
  const f = query.filter as { and?: unknown[] } | undefined;
  const filters = f === undefined ? [] : f.and && Object.keys(f).length === 1 ? f.and : [f];
  return { ...query, filter: allOf([...(filters as Node[]), bound]) };
}

/** The attributes every Appwrite list has. */
export const DOCUMENT: Attributes = {
  $id: { field: "id", sortable: true },
  $createdAt: { field: "createdAt", sortable: true },
  $updatedAt: { field: "updatedAt", sortable: true },
};
