import type { SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/**
 * `map` is a JSON object of string pairs (such as a function's metadata): it takes `contains` and `isNull` only
 * and cannot be sorted on.
 */
export type FieldType = "string" | "number" | "boolean" | "datetime" | "map";

export interface FieldDef {
  column: SQLiteColumn | SQL;
  type: FieldType;
  /** Whether the column can hold NULL; non-null sort keys skip null handling so indexes stay usable. */
  nullable?: boolean;
  /** The row property holding the value, when it is not named like the field (the cursor reads it). */
  property?: string;
  sortable?: boolean;
}

export interface RelationDef {
  fields: Record<string, FieldDef>;
  /** Wraps a condition on the related row in an EXISTS subquery correlated with the main row. */
  exists: (condition: SQL) => SQL;
}

/** What a list endpoint lets a caller filter and sort on: a whitelist, compiled to parameterized SQL. */
export interface EntityDef {
  name: string;
  fields: Record<string, FieldDef>;
  relations?: Record<string, RelationDef>;
  /** The unique, non-null, sortable tie-breaker that ends every sort. */
  id: SQLiteColumn;
  defaultOrder: OrderKey[];
}

export const DIRECTIONS = [
  "asc",
  "desc",
  "asc_nulls_first",
  "asc_nulls_last",
  "desc_nulls_first",
  "desc_nulls_last",
] as const;
export type Direction = (typeof DIRECTIONS)[number];

export interface OrderKey {
  field: string;
  direction: Direction;
}
