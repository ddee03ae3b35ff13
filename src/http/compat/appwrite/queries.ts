/**
 * Appwrite's `queries[]` as the list engine's ListQuery objects: pure functions, the query half of the surface's
 * mapping (./mapping has the models).
 */
import { badRequest } from "../../../lib/errors";
import type { ListQuery } from "../../../lib/list/page";

interface Query {
  method: string;
  attribute?: string;
  values?: unknown[];
}

/** The queries[] of a list request, as the current SDKs send them (each a JSON string). */
export function parseQueries(url: string): Query[] {
  const out: Query[] = [];
  for (const [key, value] of new URL(url).searchParams) {
    if (!/^queries(\[\d*\])?$/.test(key)) continue;
    let q: unknown;
    try {
      q = JSON.parse(value);
    } catch {
      throw badRequest(`Invalid query: ${value.slice(0, 100)}: send queries as JSON (an Appwrite SDK >= 1.5 does)`);
    }
    if (!q || typeof q !== "object" || typeof (q as Query).method !== "string") {
      throw badRequest(`Invalid query: ${value.slice(0, 100)}`);
    }
    out.push(q as Query);
  }
  if (out.length > 100) throw badRequest("At most 100 queries are allowed");
  return out;
}

export interface QueryMapping {
  /** Appwrite attribute -> the native list field (filters) */
  fields: Record<string, string>;
  /** Value translation for some attributes (e.g. deployment status names) */
  values?: Record<string, (v: unknown) => unknown>;
}

const OPS: Record<string, string> = {
  notEqual: "nin",
  lessThan: "lt",
  lessThanEqual: "lte",
  greaterThan: "gt",
  greaterThanEqual: "gte",
};

/**
 * Appwrite queries as the list engine's query; what has no equivalent is a 400 that names it. A cursor
 * (cursorAfter/cursorBefore, by Appwrite id) comes back apart: the caller resolves it and adds it with `withCursor`.
 */
export function toListQuery(
  queries: Query[],
  mapping: QueryMapping,
): { query: ListQuery; cursor?: { id: string; after: boolean } } {
  const filters: unknown[] = [];
  const orders: Record<string, string>[] = [];
  let limit: number | undefined;
  let cursor: { id: string; after: boolean } | undefined;
  const field = (q: Query) => {
    const attribute = q.attribute ?? "";
    const native = mapping.fields[attribute];
    if (!native) {
      throw badRequest(
        `Query ${q.method}("${attribute}"): the attribute is not supported here; supported: ${Object.keys(mapping.fields).join(", ")}`,
      );
    }
    return { native, conv: mapping.values?.[attribute] ?? ((v: unknown) => v) };
  };
  for (const q of queries) {
    const values = q.values ?? [];
    switch (q.method) {
      case "limit": {
        const n = Number(values[0]);
        if (!Number.isInteger(n) || n < 1) throw badRequest("Query limit: a positive integer");
        limit = Math.min(n, 100);
        break;
      }
      case "offset":
        if (Number(values[0]) !== 0) throw badRequest("Query offset is not supported: page with cursorAfter instead");
        break;
      case "cursorAfter":
      case "cursorBefore":
        cursor = { id: String(values[0]), after: q.method === "cursorAfter" };
        break;
      case "orderAsc":
      case "orderDesc":
        orders.push({ [field(q).native]: q.method === "orderAsc" ? "asc" : "desc" });
        break;
      case "equal": {
        const { native, conv } = field(q);
        filters.push({ [native]: { in: values.map(conv) } });
        break;
      }
      case "isNull":
      case "isNotNull":
        filters.push({ [field(q).native]: { isNull: q.method === "isNull" } });
        break;
      case "search":
      case "contains":
      case "startsWith":
      case "endsWith": {
        const text = String(values[0] ?? "").replace(/[%_\\]/g, (c) => `\\${c}`);
        const like = q.method === "startsWith" ? `${text}%` : q.method === "endsWith" ? `%${text}` : `%${text}%`;
        filters.push({ [field(q).native]: { ilike: like } });
        break;
      }
      case "between": {
        const { native, conv } = field(q);
        filters.push({ [native]: { gte: conv(values[0]), lte: conv(values[1]) } });
        break;
      }
      default: {
        const op = OPS[q.method];
        if (!op) throw badRequest(`Query method ${q.method} is not supported by edgefn`);
        const { native, conv } = field(q);
        filters.push({ [native]: op === "nin" ? { nin: values.map(conv) } : { [op]: conv(values[0]) } });
      }
    }
  }
  // Ids are time-sortable, so a cursor row is a bound on the id in the list's (time) order.
  if (cursor && orders.length > 0) {
    throw badRequest("cursorAfter/cursorBefore cannot be combined with orderAsc/orderDesc");
  }
  const query: ListQuery = { limit, filter: andOf(filters), orderBy: orders.length > 0 ? orders : undefined };
  return cursor ? { query, cursor } : { query };
}

const andOf = (filters: unknown[]) =>
  filters.length === 0 ? undefined : filters.length === 1 ? filters[0] : { and: filters };

/** The query with a resolved cursor (a native id): rows after it (or before it) in the newest-first order. */
export function withCursor(query: ListQuery, cursor: { id: string; after: boolean }): ListQuery {
  const bound = { id: { [cursor.after ? "lt" : "gt"]: cursor.id } };
  const f = query.filter as { and?: unknown[] } | undefined;
  const filters = f === undefined ? [] : f.and && Object.keys(f).length === 1 ? f.and : [f];
  return { ...query, filter: andOf([...filters, bound]) };
}
