/**
 * CPU time of a process tree, read from /proc (Linux): the user and system time (utime + stime, every thread's,
 * plus that of the children it reaped) of a process and of all its descendants alive at the moment of reading. A server's CPU per request is the
 * difference of two readings around a run, divided by the requests answered in between.
 */
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ: the unit of /proc/<pid>/stat's times on Linux

/** [pid, ppid, utime + stime in ticks] of every process, or null when /proc cannot be read. */
function processes() {
  const out = [];
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // The command name (field 2) is in parentheses and may hold spaces: the fields after its last ")" are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, and cutime 16, cstime 17 (the children
    // it has waited for: a server that runs a process per request is charged for it).
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    out.push([Number(name), Number(fields[1]), ticks]);
  }
  return out;
}

/** The pids of a process and of all its descendants. */
export function processTree(root) {
  const all = processes() ?? [];
  const children = new Map();
  for (const [pid, ppid] of all) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const tree = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * CPU milliseconds the process `root` and its descendants have used so far (per pid, so that a process that
 * came or went between two readings is counted for what it did meanwhile only). Null where /proc is missing.
 */
export function treeCpu(root) {
  const all = processes();
  if (!all) return null;
  const children = new Map();
  const ticks = new Map();
  for (const [pid, ppid, t] of all) {
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    ticks.set(pid, t);
  }
  const perPid = new Map();
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    if (ticks.has(pid)) perPid.set(pid, (ticks.get(pid) * 1000) / TICKS_PER_SECOND);
    stack.push(...(children.get(pid) ?? []));
  }
  return perPid;
}

/** CPU ms used between two readings of treeCpu (a process new in `after` counts from zero). */
export function cpuBetween(before, after) {
  if (!before || !after) return null;
  let ms = 0;
  for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0);
  return ms;
}
