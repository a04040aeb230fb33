/**
 * @module A process's resident memory from /proc (Linux): the current resident set and its peak since
 * the last reset. Tests and benchmarks measure a spawned worker's growth with it.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** VmRSS and VmHWM (the peak resident set) of a process, in MB. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 'NaN');
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Resets the process's peak (VmHWM) to its current resident set; false where the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Peak resident set growth of a process from now on: the baseline is its resident set at start();
 * the peak is VmHWM (reset at start) where the kernel allows, and the highest sample otherwise.
 */
export function watchPeakGrowth(pid: number): {
  sample: () => void;
  growthMb: () => number;
  baselineMb: number;
} {
  const peakReset = resetPeak(pid);
  const baselineMb = memoryMb(pid).rss;
  let peak = baselineMb;
  const sample = () => {
    peak = Math.max(peak, memoryMb(pid).rss);
  };
  return {
    sample,
    baselineMb,
    growthMb: () => {
      sample();
      return (peakReset ? Math.max(memoryMb(pid).hwm, peak) : peak) - baselineMb;
    },
  };
}
