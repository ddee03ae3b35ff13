import type { CogniteKind } from "./schema";

/**
 * The Cognite surface's integer ids (table cognite_ids): raw SQL, spelled here and nowhere else. Each edgefn id gets
 * a number the first time the surface shows it (AUTOINCREMENT: never reused); a function created through the surface
 * also keeps Cognite's `owner` there. Lists of ids travel as one JSON parameter read with json_each.
 */

export interface CogniteNumber {
  id: number;
  owner: string | null;
}

/** The number of each edgefn id, assigned on first sight, and each one's owner (setting `owners` first): one batch. */
export async function numbersOf(
  d1: D1Database,
  kind: CogniteKind,
  refs: string[],
  owners?: Map<string, string>,
): Promise<Map<string, CogniteNumber>> {
  const unique = [...new Set(refs)];
  const found = new Map<string, CogniteNumber>();
  if (unique.length === 0) return found;
  const json = JSON.stringify(unique);
  const statements: D1PreparedStatement[] = [];
  for (const [ref, owner] of owners ?? []) {
    statements.push(
      d1
        .prepare(
          "INSERT INTO cognite_ids (kind, ref, owner) VALUES (?1, ?2, ?3) ON CONFLICT (kind, ref) DO UPDATE SET owner = ?3",
        )
        .bind(kind, ref, owner),
    );
  }
  statements.push(
    d1
      .prepare(
        "INSERT INTO cognite_ids (kind, ref) SELECT ?1, value FROM json_each(?2) WHERE true ON CONFLICT (kind, ref) DO NOTHING",
      )
      .bind(kind, json),
    d1
      .prepare("SELECT id, ref, owner FROM cognite_ids WHERE kind = ?1 AND ref IN (SELECT value FROM json_each(?2))")
      .bind(kind, json),
  );
  const results = await d1.batch<{ id: number; ref: string; owner: string | null }>(statements);
  for (const row of results[results.length - 1]?.results ?? []) found.set(row.ref, { id: row.id, owner: row.owner });
  return found;
}

/** The edgefn ids of the numbers that exist (of any workspace: callers check what the key may see). */
export async function refsOf(d1: D1Database, kind: CogniteKind, ids: number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (ids.length === 0) return found;
  const { results } = await d1
    .prepare("SELECT id, ref FROM cognite_ids WHERE kind = ?1 AND id IN (SELECT value FROM json_each(?2))")
    .bind(kind, JSON.stringify([...new Set(ids)]))
    .all<{ id: number; ref: string }>();
  for (const row of results) found.set(row.id, row.ref);
  return found;
}
