/**
 * CPU time of a whole process tree (a Switchyard primary and its workers),
 * from /proc/PID/stat. Each live process in the tree counts its own utime +
 * stime and its reaped children's (cutime + cstime), so a worker that exits
 * and is waited for during a run still counts: its time moves into its
 * parent's cutime/cstime.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc/PID/stat counts clock ticks of 1/100 s on Linux. */
const TICKS_PER_SECOND = 100;

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly ticks: number;
}

/** Parses one /proc/PID/stat line; undefined if it is not one. */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  // Fields after the command name (which may hold spaces and parentheses),
  // from field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const num = (field: number): number => Number(fields[field - 3]);
  const ppid = num(4);
  const ticks = num(14) + num(15) + num(16) + num(17);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(ticks)) {
    return undefined;
  }
  return { pid, ppid, ticks };
}

/** `root` and every descendant of it among `stats` (empty if root is not there). */
export function processTree(stats: readonly ProcStat[], root: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const tree = stats.filter((s) => s.pid === root).slice(0, 1);
  const seen = new Set(tree.map((s) => s.pid));
  for (let i = 0; i < tree.length; i++) {
    for (const child of children.get(tree[i]?.pid ?? -1) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      tree.push(child);
    }
  }
  return tree;
}

/** The summed ticks of `root` and every descendant of it among `stats`. */
export function treeTicks(stats: readonly ProcStat[], root: number): number {
  return processTree(stats, root).reduce((sum, s) => sum + s.ticks, 0);
}

function readStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (stat !== undefined) stats.push(stat);
    } catch {
      // The process exited between readdir and read.
    }
  }
  return stats;
}

/** CPU seconds used so far by `pid` and all its descendants (live, or exited and reaped). */
export function treeCpuSeconds(pid: number): number {
  return treeTicks(readStats(), pid) / TICKS_PER_SECOND;
}

/** The pids of `pid` and its descendants right now (the primary and its workers). */
export function treePids(pid: number): number[] {
  return processTree(readStats(), pid).map((s) => s.pid);
}
