/**
 * The schedule dispatcher's claim, in raw SQL: one page of due schedules becomes their calls and their next run
 * times in two statements of one D1 batch (see domain/schedules/dispatch.ts). Spelled here, in the storage layer.
 */

/** The calls of the claimed schedules still holding the due time that was read, for live functions only. */
const INSERT_CALLS = `
  INSERT OR IGNORE INTO calls
    (id, function_id, workspace_id, version_id, status, "trigger", attempt, max_retries, created_at,
     schedule_id, scheduled_time, args, args_key, args_size, created_by)
  SELECT json_extract(fz.value, '$.callId'), s.function_id, s.workspace_id, f.default_version_id, 'queued',
     'schedule', 1, COALESCE(f.max_retries, ?3), ?2,
     s.id, json_extract(fz.value, '$.at'), s.data, s.data_key, s.data_size, s.created_by
  FROM json_each(?1) AS j, json_each(j.value, '$.fires') AS fz
  JOIN schedules AS s ON s.id = json_extract(j.value, '$.id')
    AND s.next_run_at = json_extract(j.value, '$.due') AND s.enabled = 1
  JOIN functions AS f ON f.id = s.function_id AND f.deleted_at IS NULL
  RETURNING id`;

/** The claim: each schedule still holding the due time moves on to its next run, noting its last call. */
const MOVE_SCHEDULES = `
  UPDATE schedules SET
    next_run_at = json_extract(j.value, '$.next'),
    last_call_id = COALESCE(
      (SELECT c.id FROM calls AS c WHERE c.schedule_id = schedules.id
         AND c.scheduled_time = json_extract(j.value, '$.fires[#-1].at')),
      schedules.last_call_id),
    last_run_at = CASE WHEN EXISTS (SELECT 1 FROM calls AS c WHERE c.schedule_id = schedules.id
         AND c.scheduled_time = json_extract(j.value, '$.fires[#-1].at'))
      THEN json_extract(j.value, '$.fires[#-1].at') ELSE schedules.last_run_at END
  FROM json_each(?1) AS j
  WHERE schedules.id = json_extract(j.value, '$.id') AND schedules.next_run_at = json_extract(j.value, '$.due')`;

/**
 * The two statements of a claim, for `claims` (the JSON of `[{id, due, next, fires: [{at, callId}]}]`): the calls
 * first, then the schedules moved on.
 */
export function claimStatements(
  d1: D1Database,
  claims: string,
  now: number,
  maxRetries: number,
): D1PreparedStatement[] {
  return [d1.prepare(INSERT_CALLS).bind(claims, now, maxRetries), d1.prepare(MOVE_SCHEDULES).bind(claims)];
}
