/** Output: colours only on a terminal (and never with NO_COLOR), tables, JSON, the spinner and errors. */
import { createSpinner } from "nanospinner";
import pc from "picocolors";

/** @param {NodeJS.WriteStream} stream */
const colorsFor = (stream) =>
  pc.createColors(!("NO_COLOR" in process.env) && ("FORCE_COLOR" in process.env || Boolean(stream.isTTY)));

/** Colours for stdout and for stderr. */
export const out = colorsFor(process.stdout);
export const err = colorsFor(process.stderr);

/** Exit codes: 1 an API or network error, 2 bad usage, 3 the function failed (a failed build or call). */
export const EXIT = { error: 1, usage: 2, failed: 3 };

/** An error the CLI reports as it is, with its exit code. */
export class CliError extends Error {
  /**
   * @param {string} message
   * @param {number} [exitCode]
   */
  constructor(message, exitCode = EXIT.usage) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** @param {unknown} value */
export function printJson(value) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** @param {string} line */
export function info(line) {
  process.stderr.write(`${line}\n`);
}

/**
 * A plain table on stdout: `columns` are [heading, value(row)] pairs.
 * @template T
 * @param {T[]} rows
 * @param {[string, (row: T) => unknown][]} columns
 */
export function printTable(rows, columns) {
  if (rows.length === 0) {
    info(err.dim("(none)"));
    return;
  }
  const cells = rows.map((row) => columns.map(([, get]) => text(get(row))));
  const widths = columns.map(([head], i) => Math.max(head.length, ...cells.map((r) => r[i].length)));
  const line = (/** @type {string[]} */ values) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${out.bold(line(columns.map(([head]) => head)))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

/** @param {unknown} value */
function text(value) {
  if (value === null || value === undefined) return "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * A spinner on stderr when it is a terminal; plain lines otherwise; nothing at all with `quiet`.
 * @param {string} label
 * @param {{ quiet?: boolean }} [options]
 */
export function spinner(label, { quiet = false } = {}) {
  if (quiet) return { update() {}, success() {}, error() {} };
  // nanospinner redraws by terminal width: it needs a real one (a pty without a size reports 0 columns)
  if (!process.stderr.isTTY || !(process.stderr.columns > 0)) {
    info(label);
    return {
      update(/** @type {string} */ _text) {},
      success(/** @type {string} */ t) {
        info(`${err.green("✔")} ${t}`);
      },
      error(/** @type {string} */ t) {
        info(`${err.red("✖")} ${t}`);
      },
    };
  }
  const s = createSpinner(label, { stream: process.stderr }).start();
  return {
    update(/** @type {string} */ t) {
      s.update({ text: t });
    },
    success(/** @type {string} */ t) {
      s.success({ text: t });
    },
    error(/** @type {string} */ t) {
      s.error({ text: t });
    },
  };
}

/** @param {string | null | undefined} iso */
export function ago(iso) {
  if (!iso) return "-";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(s, 0)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** @param {string} status */
export function statusColor(status) {
  if (["ready", "completed", "enabled"].includes(status)) return out.green(status);
  if (["failed", "timeout", "canceled", "deleted"].includes(status)) return out.red(status);
  return out.yellow(status);
}
