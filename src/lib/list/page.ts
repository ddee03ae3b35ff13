import { and, count, type SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../../storage/db";
import { badRequest } from "../errors";
import { decodeCursor, encodeCursor } from "./cursor";
import type { EntityDef, OrderKey } from "./entity";
import { compileFilter } from "./filter";
import { afterCondition, compileOrderBy, orderByClause, resolveSort, reverseSort, sortSignature } from "./order";

export interface PageInfo {
  total: number;
  /** Present when the list counts only up to a cap: true when there are at least `total` rows. */
  totalCapped?: boolean;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface PageQuery {
  limit: number;
  /** Rows to skip first (no cursor then): for clients that page by offset; a deep offset costs what it skips. */
  offset?: number;
  after?: string;
  before?: string;
  order: OrderKey[];
}

type Value = string | number | null;

/**
 * One page by keyset: the boundary row's sort values bound the query, so a page deep in the list costs
 * what the first page costs. Rows, total and the has-previous probe go to D1 in one batch.
 */
export async function paginate<Row extends Record<string, unknown>>(
  db: Db,
  table: SQLiteTable,
  entity: EntityDef,
  where: SQL | undefined,
  query: PageQuery,
  /** Count at most this many rows (a huge list is not counted row by row on every page). */
  countCap?: number,
): Promise<{ rows: Row[]; pageInfo: PageInfo }> {
  if (query.after && query.before) throw badRequest("pass either after or before, not both");
  if (query.offset && (query.after || query.before)) throw badRequest("pass either an offset or a cursor, not both");
  const keys = resolveSort(entity, query.order);
  const signature = sortSignature(keys);
  const cursorName = query.after ? "after" : "before";
  const cursor = query.after ?? query.before;
  const boundary = cursor ? decodeCursor(cursor, signature, keys, cursorName) : undefined;
  const backwards = Boolean(query.before);
  const scanKeys = backwards ? reverseSort(keys) : keys;

  const bound = boundary ? afterCondition(scanKeys, boundary) : undefined;
  const rowsQuery = db
    .select()
    .from(table)
    .where(and(where, bound))
    .orderBy(...orderByClause(scanKeys))
    .limit(query.limit + 1)
    .offset(query.offset ?? 0);
  const totalQuery = countCap
    ? db.select({ n: count() }).from(
        db
          .select({ one: sql`1`.as("one") })
          .from(table)
          .where(where)
          .limit(countCap)
          .as("capped"),
      )
    : db.select({ n: count() }).from(table).where(where);
  // Is there anything on the other side of the cursor (the cursor row included)? Asked as a range in the
  // opposite direction, so SQLite seeks to the cursor in the index instead of walking up to it.
  const otherSide = boundary
    ? db
        .select({ one: sql<number>`1` })
        .from(table)
        .where(and(where, afterCondition(reverseSort(scanKeys), boundary, true)))
        .orderBy(...orderByClause(reverseSort(scanKeys)))
        .limit(1)
    : undefined;

  const [fetched, totals, other] = otherSide
    ? await db.batch([rowsQuery, totalQuery, otherSide])
    : [...(await db.batch([rowsQuery, totalQuery])), []];

  const rows = fetched as Row[];
  const more = rows.length > query.limit;
  if (more) rows.pop();
  if (backwards) rows.reverse();

  const cursorOf = (row: Row) =>
    encodeCursor(
      signature,
      keys.map((k) => toCursorValue(row[k.property])),
    );
  const first = rows[0];
  const last = rows[rows.length - 1];
  const total = (totals as { n: number }[])[0]?.n ?? 0;
  const beyondCursor = (other as unknown[]).length > 0;
  return {
    rows,
    pageInfo: {
      total,
      ...(countCap ? { totalCapped: total >= countCap } : {}),
      hasNextPage: backwards ? beyondCursor : more,
      hasPreviousPage: backwards ? more : beyondCursor || (query.offset ?? 0) > 0,
      startCursor: first ? cursorOf(first) : null,
      endCursor: last ? cursorOf(last) : null,
    },
  };
}

function toCursorValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  return v as string | number;
}

/** Parses `limit` as it arrives on a query string (1..max, default max). */
export function parseLimit(raw: string | undefined, max = 100): number {
  if (raw === undefined || raw === "") return max;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`limit must be an integer from 1 to ${max}`);
  return n;
}

/**
 * A list query as services take it: parsed values, not query-string text. `filter` is a filter node of the list
 * language and `orderBy` an array of `{field: direction}`; the service compiles both against its entity.
 */
export interface ListQuery {
  limit?: number;
  /** Rows to skip (0 to MAX_OFFSET); not with a cursor. */
  offset?: number;
  after?: string;
  before?: string;
  filter?: unknown;
  orderBy?: unknown;
}

/** A JSON query parameter, parsed (undefined when absent or empty); a 400 naming it when it is not JSON. */
export function jsonParam(name: string, raw: string | undefined, expected = ""): unknown {
  if (raw === undefined || raw === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest(`${name} is not valid JSON${expected ? `: expected ${expected}` : ""}`);
  }
}

/** The shared list parameters as they arrive on a query string, parsed (the HTTP layer's job). */
export function listQueryOf(params: {
  limit?: string;
  after?: string;
  before?: string;
  filter?: string;
  orderBy?: string;
}): ListQuery {
  return {
    limit: parseLimit(params.limit),
    after: params.after || undefined,
    before: params.before || undefined,
    filter: jsonParam("filter", params.filter),
    orderBy: jsonParam("orderBy", params.orderBy),
  };
}

/** The deepest offset a list takes (a deeper page is reached with a cursor). */
export const MAX_OFFSET = 5000;

/** Compiles a list query against the entity; every mistake is a 400 that names it. */
export function compileListQuery(entity: EntityDef, q: ListQuery): { query: PageQuery; filter: SQL | undefined } {
  const limit = q.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badRequest("limit must be an integer from 1 to 100");
  const offset = q.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) {
    throw badRequest(`offset must be an integer from 0 to ${MAX_OFFSET}`);
  }
  return {
    query: {
      limit,
      ...(offset > 0 ? { offset } : {}),
      after: q.after || undefined,
      before: q.before || undefined,
      order: compileOrderBy(entity, q.orderBy),
    },
    filter: q.filter === undefined ? undefined : compileFilter(entity, q.filter),
  };
}
