import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { badRequest } from "../errors";
import { DIRECTIONS, type Direction, type EntityDef, type FieldDef, type FieldType, type OrderKey } from "./entity";

const MAX_KEYS = 5;

/** A resolved sort key: the column, its direction and where its NULLs go. */
export interface SortKey {
  name: string;
  /** The row property holding the key's value. */
  property: string;
  column: SQLiteColumn | SQL;
  type: FieldType;
  desc: boolean;
  /** null: the column cannot hold NULL, so no null handling (keeps the index usable). */
  nullsFirst: boolean | null;
}

/** A map field is never a sort key; any other field unless its definition says so. */
const isSortable = (f: FieldDef) => f.sortable !== false && f.type !== "map";

export function compileOrderBy(entity: EntityDef, parsed: unknown): OrderKey[] {
  if (parsed === undefined) return entity.defaultOrder;
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length === 0 || items.length > MAX_KEYS) throw badRequest(`orderBy: expected 1 to ${MAX_KEYS} keys`);
  const seen = new Set<string>();
  return items.map((item, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item) || Object.keys(item).length !== 1) {
      throw badRequest(`orderBy[${i}]: expected an object with one field, such as {"createdAt": "desc"}`);
    }
    const [field, direction] = Object.entries(item)[0] as [string, unknown];
    const def = Object.hasOwn(entity.fields, field) ? entity.fields[field] : undefined;
    if (!def || !isSortable(def)) {
      const sortable = Object.entries(entity.fields)
        .filter(([, f]) => isSortable(f))
        .map(([n]) => n);
      throw badRequest(`orderBy[${i}]: cannot sort on '${field}'; sortable fields are ${sortable.join(", ")}`);
    }
    if (typeof direction !== "string" || !(DIRECTIONS as readonly string[]).includes(direction)) {
      throw badRequest(`orderBy[${i}].${field}: direction must be one of ${DIRECTIONS.join(", ")}`);
    }
    if (seen.has(field)) throw badRequest(`orderBy: '${field}' appears twice`);
    seen.add(field);
    return { field, direction: direction as Direction };
  });
}

/** Resolves the order keys and appends the id tie-breaker so that the order is total. */
export function resolveSort(entity: EntityDef, order: OrderKey[]): SortKey[] {
  const keys: SortKey[] = order.map(({ field, direction }) => {
    const def = entity.fields[field];
    if (!def) throw badRequest(`orderBy: unknown field '${field}'`);
    const desc = direction.startsWith("desc");
    // SQLite puts NULLs first when ascending and last when descending, unless told otherwise.
    const nullsFirst = direction.endsWith("nulls_first") ? true : direction.endsWith("nulls_last") ? false : !desc;
    return {
      name: field,
      property: def.property ?? field,
      column: def.column,
      type: def.type,
      desc,
      nullsFirst: def.nullable ? nullsFirst : null,
    };
  });
  if (!order.some((o) => entity.fields[o.field]?.column === entity.id)) {
    const last = keys[keys.length - 1];
    keys.push({
      name: "id",
      property: "id",
      column: entity.id,
      type: "string",
      desc: last?.desc ?? false,
      nullsFirst: null,
    });
  }
  return keys;
}

export function reverseSort(keys: SortKey[]): SortKey[] {
  return keys.map((k) => ({ ...k, desc: !k.desc, nullsFirst: k.nullsFirst === null ? null : !k.nullsFirst }));
}

export function orderByClause(keys: SortKey[]): SQL[] {
  return keys.map((k) => {
    const dir = k.desc ? sql`DESC` : sql`ASC`;
    if (k.nullsFirst === null || k.nullsFirst === !k.desc) return sql`${k.column} ${dir}`;
    return sql`${k.column} ${dir} ${k.nullsFirst ? sql`NULLS FIRST` : sql`NULLS LAST`}`;
  });
}

export function sortSignature(keys: SortKey[]): string {
  return keys
    .map((k) => `${k.name}:${k.desc ? "d" : "a"}${k.nullsFirst === null ? "" : k.nullsFirst ? "f" : "l"}`)
    .join(",");
}

type Value = string | number | null;

/** Rows strictly after the boundary row whose sort values are `values`, in the order of `keys`. */
export function afterCondition(keys: SortKey[], values: Value[], inclusive = false): SQL {
  const terms: SQL[] = [];
  const equal: SQL[] = [];
  keys.forEach((k, i) => {
    const v = values[i] ?? null;
    const beyond = strictlyAfter(k, v);
    if (beyond) terms.push(equal.length ? sql`(${sql.join([...equal, beyond], sql` AND `)})` : beyond);
    equal.push(v === null ? sql`${k.column} IS NULL` : sql`${k.column} = ${v}`);
  });
  // Inclusive: the boundary row itself counts as after.
  if (inclusive && equal.length) terms.push(sql`(${sql.join(equal, sql` AND `)})`);
  const disjunction = terms.length ? sql`(${sql.join(terms, sql` OR `)})` : sql`0`;
  // A plain range on the first key lets SQLite seek into its index instead of scanning from the start.
  const first = keys[0];
  const v0 = values[0] ?? null;
  if (first && first.nullsFirst === null && v0 !== null) {
    return sql`(${first.column} ${first.desc ? sql`<=` : sql`>=`} ${v0} AND ${disjunction})`;
  }
  return disjunction;
}

function strictlyAfter(k: SortKey, v: Value): SQL | null {
  const cmp = k.desc ? sql`<` : sql`>`;
  if (k.nullsFirst === null) return v === null ? null : sql`${k.column} ${cmp} ${v}`;
  if (v === null) return k.nullsFirst ? sql`${k.column} IS NOT NULL` : null;
  return k.nullsFirst ? sql`${k.column} ${cmp} ${v}` : sql`(${k.column} ${cmp} ${v} OR ${k.column} IS NULL)`;
}
