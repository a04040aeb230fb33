/**
 * @module Runs the work of a stream's elements with at most `limit` running at once, reading the next
 * element only when a slot is free (backpressure on the source). Elements of one group run one after
 * another, in stream order. The first failure stops reading; the work still running is awaited and
 * that failure is thrown.
 */

export interface GroupedWork {
  /** Work of one group never overlaps (e.g. one item's lines). */
  group: string;
  run: () => Promise<void>;
}

export async function eachBounded<T>(
  source: AsyncIterable<T>,
  limit: number,
  workOf: (element: T) => GroupedWork,
): Promise<void> {
  const running = new Set<Promise<void>>();
  const lastOfGroup = new Map<string, Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const element of source) {
    const { group, run } = workOf(element);
    const before = lastOfGroup.get(group) ?? Promise.resolve();
    const done: Promise<void> = before
      .then(run)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        running.delete(done);
        if (lastOfGroup.get(group) === done) lastOfGroup.delete(group);
      });
    running.add(done);
    lastOfGroup.set(group, done);
    while (running.size >= limit && failure === undefined) await Promise.race(running);
    if (failure !== undefined) break;
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure.error;
}
