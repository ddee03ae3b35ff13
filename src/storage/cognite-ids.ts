import type { CogniteKind } from "./schema";

/**
 * The Cognite surface's integer ids (table cognite_ids): raw SQL, spelled here and nowhere else. Each edgefn id gets
 * a number the first time the surface shows it (AUTOINCREMENT: never reused); a function created through the surface
 * also keeps Cognite's `owner` and the file it was made from there. Lists of ids travel as one JSON parameter read
 * with json_each.
 */

export interface CogniteNumber {
  id: number;
  owner: string | null;
  fileId: number | null;
}

/** What the surface keeps of a function it created: Cognite's `owner` and the `fileId` of its code. */
export interface CogniteFacts {
  owner: string | null;
  fileId: number | null;
}

/** The number of each edgefn id, assigned on first sight, and each one's facts (setting `facts` first): one batch. */
export async function numbersOf(
  d1: D1Database,
  kind: CogniteKind,
  refs: string[],
  facts?: Map<string, CogniteFacts>,
): Promise<Map<string, CogniteNumber>> {
  const unique = [...new Set(refs)];
  const found = new Map<string, CogniteNumber>();
  if (unique.length === 0) return found;
  const json = JSON.stringify(unique);
  const statements: D1PreparedStatement[] = [];
  for (const [ref, { owner, fileId }] of facts ?? []) {
    statements.push(
      d1
        .prepare(
          "INSERT INTO cognite_ids (kind, ref, owner, file_id) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, ref) DO UPDATE SET owner = ?3, file_id = ?4",
        )
        .bind(kind, ref, owner, fileId),
    );
  }
  statements.push(
    d1
      .prepare(
        "INSERT INTO cognite_ids (kind, ref) SELECT ?1, value FROM json_each(?2) WHERE true ON CONFLICT (kind, ref) DO NOTHING",
      )
      .bind(kind, json),
    d1
      .prepare(
        "SELECT id, ref, owner, file_id FROM cognite_ids WHERE kind = ?1 AND ref IN (SELECT value FROM json_each(?2))",
      )
      .bind(kind, json),
  );
  const results = await d1.batch<{ id: number; ref: string; owner: string | null; file_id: number | null }>(statements);
  for (const row of results[results.length - 1]?.results ?? []) {
    found.set(row.ref, { id: row.id, owner: row.owner, fileId: row.file_id });
  }
  return found;
}

/** The numbers of ids of several kinds at once (assigned on first sight): one batch. Keyed by `kind:ref`. */
export async function numbersOfEach(
  d1: D1Database,
  items: { kind: CogniteKind; ref: string }[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (items.length === 0) return found;
  const json = JSON.stringify(items.map((i) => [i.kind, i.ref]));
  const results = await d1.batch<{ kind: string; ref: string; id: number }>([
    d1
      .prepare(
        "INSERT INTO cognite_ids (kind, ref) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1) WHERE true ON CONFLICT (kind, ref) DO NOTHING",
      )
      .bind(json),
    d1
      .prepare(
        "SELECT c.kind, c.ref, c.id FROM cognite_ids c JOIN json_each(?1) j ON c.kind = json_extract(j.value, '$[0]') AND c.ref = json_extract(j.value, '$[1]')",
      )
      .bind(json),
  ]);
  for (const row of results[1]?.results ?? []) found.set(`${row.kind}:${row.ref}`, row.id);
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
