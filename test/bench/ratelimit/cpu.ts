/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
import { readFileSync } from 'node:fs';

const TICKS_PER_S = 100;

export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return null;
  }
}

export function totalCpu(pids: (number | undefined)[]): number | null {
  const each = pids.map(cpuSeconds);
  return each.some((c) => c === null) ? null : each.reduce<number>((s, c) => s + (c ?? 0), 0);
}
