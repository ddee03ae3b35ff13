import { getTableColumns, getTableName } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";

/**
 * Raw SQL for writes in bulk (the call records of the invoke hot path), where one statement per row would cost
 * too much. Spelled here, in the storage layer, and nowhere else.
 */

/** Keeps each statement's one JSON parameter well inside D1's 2 MB value limit. */
const BULK_BYTES = 1024 * 1024;

/**
 * New rows of `table` inserted by as few statements as fit: the rows travel as one JSON parameter read with
 * json_each, so a statement stays within D1's 100 bound parameters however many rows it writes, and writing
 * 30 rows costs about what one costs. Values are mapped as drizzle would (JSON columns, booleans, defaults).
 * Each row's text is taken from json_each once (a materialized CTE): read straight from json_each, it would be
 * made again for every column (a batch of 30 call records took a fifth longer).
 */
export function insertRows(
  d1: D1Database,
  table: SQLiteTable,
  rows: Record<string, unknown>[],
  /** Only rows for which this holds (SQL over `j.value`, the row as JSON) are inserted. */
  where = "true",
): D1PreparedStatement[] {
  const columns = Object.entries(getTableColumns(table));
  const names = columns.map(([, c]) => `"${c.name}"`).join(", ");
  const values = columns.map(([, c]) => `j.value ->> '${c.name}'`).join(", ");
  const insert = d1.prepare(
    `WITH j AS MATERIALIZED (SELECT value FROM json_each(?)) INSERT OR IGNORE INTO "${getTableName(table)}" (${names}) SELECT ${values} FROM j WHERE ${where}`,
  );
  const statement = (json: string) => insert.bind(json);
  const statements: D1PreparedStatement[] = [];
  let chunk: string[] = [];
  let bytes = 0;
  for (const row of rows) {
    const driverRow: Record<string, unknown> = {};
    for (const [key, column] of columns) {
      const value = row[key] ?? (column.defaultFn ? column.defaultFn() : column.default) ?? null;
      driverRow[column.name] = value === null ? null : column.mapToDriverValue(value);
    }
    const json = JSON.stringify(driverRow);
    if (chunk.length > 0 && bytes + json.length > BULK_BYTES) {
      statements.push(statement(`[${chunk.join(",")}]`));
      chunk = [];
      bytes = 0;
    }
    chunk.push(json);
    bytes += json.length;
  }
  if (chunk.length > 0) statements.push(statement(`[${chunk.join(",")}]`));
  return statements;
}

/** lastCalledAt of each function, written at most once per `resolutionMs` (a busy function is not rewritten per call). */
export function touchLastCalled(
  d1: D1Database,
  latest: Map<string, number>,
  resolutionMs: number,
): D1PreparedStatement[] {
  const touch = d1.prepare(
    "UPDATE functions SET last_called_at = ?1 WHERE id = ?2 AND IFNULL(last_called_at, 0) < ?1 - ?3",
  );
  return [...latest].map(([functionId, at]) => touch.bind(at, functionId, resolutionMs));
}

/** Which of these functions exist (one statement, one bound JSON array, however many ids). */
export async function existingFunctions(d1: D1Database, ids: string[]): Promise<Set<string>> {
  const { results } = await d1
    .prepare("SELECT id FROM functions WHERE id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify([...new Set(ids)]))
    .all<{ id: string }>();
  return new Set(results.map((r) => r.id));
}

/** A query that touches the database and nothing else (the health check). */
export async function ping(d1: D1Database): Promise<void> {
  await d1.prepare("SELECT 1").first();
}
