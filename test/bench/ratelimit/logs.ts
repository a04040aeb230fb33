/**
 * What pixelmill's own processes logged during a run: error-level lines, BullMQ's "Missing lock"
 * and stalled jobs. A healthy run has none of them (issue 14).
 */
import type { Service } from '../../support/processes.js';

export interface LogCounts {
  /** pino level >= 50 (error, fatal). */
  error: number;
  missingLock: number;
  stalled: number;
}

/** A JSON log line's level and its text (message and error message), or the raw line. */
function parse(line: string): { level: number; text: string } {
  try {
    const o = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    return {
      level: typeof o.level === 'number' ? o.level : 0,
      text: `${String(o.msg ?? '')} ${String(o.err?.message ?? '')}`,
    };
  } catch {
    return { level: 0, text: line };
  }
}

function offends(line: string): boolean {
  const { level, text } = parse(line);
  return level >= 50 || text.includes('Missing lock') || /stalled/i.test(text);
}

function offendingLines(output: string): string[] {
  return output.split('\n').filter(offends);
}

function countLogLines(output: string): LogCounts {
  const counts: LogCounts = { error: 0, missingLock: 0, stalled: 0 };
  for (const line of output.split('\n')) {
    const { level, text } = parse(line);
    if (level >= 50) counts.error += 1;
    if (text.includes('Missing lock')) counts.missingLock += 1;
    // The text only: the start-up line's stalled_interval_ms field is no stall.
    if (/stalled/i.test(text)) counts.stalled += 1;
  }
  return counts;
}

/** Per process (api, worker 1, worker 2, ...) and in total. */
export function logReport(services: Service[]): {
  total: LogCounts;
  byProcess: Record<string, LogCounts>;
  /** The first few such lines of each process, to read what happened. */
  lines: string[];
} {
  const byProcess: Record<string, LogCounts> = {};
  const lines: string[] = [];
  const total: LogCounts = { error: 0, missingLock: 0, stalled: 0 };
  let workers = 0;
  for (const s of services) {
    const name = s.name === 'worker' ? `worker ${++workers}` : s.name;
    const c = countLogLines(s.output());
    byProcess[name] = c;
    lines.push(
      ...offendingLines(s.output())
        .slice(0, 5)
        .map((l) => `${name}: ${l.slice(0, 6000)}`),
    );
    total.error += c.error;
    total.missingLock += c.missingLock;
    total.stalled += c.stalled;
  }
  return { total, byProcess, lines };
}

/** One Markdown table row per process and a total. */
export function logTable(report: ReturnType<typeof logReport>): string {
  const rows = Object.entries(report.byProcess).map(
    ([name, c]) => `| ${name} | ${c.error} | ${c.missingLock} | ${c.stalled} |`,
  );
  const t = report.total;
  return [
    '| pixelmill process | error-level lines | "Missing lock" lines | "stalled" lines |',
    '|---|---|---|---|',
    ...rows,
    `| **total** (target 0 / 0 / 0) | ${t.error} | ${t.missingLock} | ${t.stalled} |`,
    ...(report.lines.length > 0
      ? ['', 'Those lines (first 5 per process):', '', ...report.lines.map((l) => `    ${l}`)]
      : []),
  ].join('\n');
}
