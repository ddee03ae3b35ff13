import { Cron } from "croner";
import cronstrue from "cronstrue";

const MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/** Checks a cron expression (5 fields or a macro); returns what is wrong, or null. */
export function cronProblem(expression: string): string | null {
  const trimmed = expression.trim();
  if (trimmed.startsWith("@")) {
    return MACROS.includes(trimmed.toLowerCase())
      ? null
      : `unknown macro '${trimmed}'; use one of ${MACROS.join(", ")}`;
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5)
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  try {
    new Cron(trimmed, { paused: true });
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, "");
  }
}

/** Whether the runtime knows this IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function cron(expression: string, timezone: string): Cron {
  // Croner computes in the zone's wall-clock time: a time skipped when clocks spring forward fires once, shifted
  // forward; a time repeated when they fall back fires once, at its first occurrence.
  return new Cron(expression.trim().toLowerCase().startsWith("@") ? expression.trim().toLowerCase() : expression, {
    timezone,
    paused: true,
  });
}

/** The first run strictly after `after` (epoch ms), or null when the expression never fires again. */
export function nextRun(expression: string, timezone: string, after: number): number | null {
  return cron(expression, timezone).nextRun(new Date(after))?.getTime() ?? null;
}

export function nextRuns(expression: string, timezone: string, after: number, count: number): number[] {
  return cron(expression, timezone)
    .nextRuns(count, new Date(after))
    .map((d) => d.getTime());
}

/** The latest run at or before `at`, searching forward from `from` (a due time the schedule was waiting for). */
export function lastRunAtOrBefore(expression: string, timezone: string, from: number, at: number): number {
  const c = cron(expression, timezone);
  const previous = c.previousRuns(1, new Date(at + 1))[0]?.getTime();
  return previous !== undefined && previous >= from ? previous : from;
}

/** Human-readable text for the expression ("At 02:30 AM, Monday through Friday"). */
export function describeCron(expression: string): string {
  try {
    return cronstrue.toString(expression.trim(), { use24HourTimeFormat: true, verbose: false });
  } catch {
    return expression;
  }
}
