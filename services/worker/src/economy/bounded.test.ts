import { describe, expect, test } from 'vitest';
import { eachBounded } from './bounded.js';

/** A source that records how many elements were read, and resolvable work per element. */
function setup(elements: Array<{ id: number; group: string }>) {
  const read: number[] = [];
  async function* source() {
    for (const e of elements) {
      read.push(e.id);
      yield e;
    }
  }
  const started: number[] = [];
  const finish = new Map<number, () => void>();
  const fail = new Map<number, (e: Error) => void>();
  let active = 0;
  let maxActive = 0;
  const workOf = (e: { id: number; group: string }) => ({
    group: e.group,
    run: () =>
      new Promise<void>((resolve, reject) => {
        started.push(e.id);
        active++;
        maxActive = Math.max(maxActive, active);
        finish.set(e.id, () => {
          active--;
          resolve();
        });
        fail.set(e.id, (err) => {
          active--;
          reject(err);
        });
      }),
  });
  return { source, read, started, finish, fail, workOf, maxActive: () => maxActive };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('eachBounded', () => {
  test('runs at most `limit` at once and reads the next element only when a slot frees', async () => {
    const s = setup([0, 1, 2, 3, 4].map((id) => ({ id, group: `g${id}` })));
    const all = eachBounded(s.source(), 2, s.workOf);
    await tick();
    expect(s.started).toEqual([0, 1]);
    expect(s.read).toEqual([0, 1]);
    s.finish.get(1)?.();
    await tick();
    expect(s.started).toEqual([0, 1, 2]);
    expect(s.read).toEqual([0, 1, 2]);
    for (const id of [0, 2, 3, 4]) {
      await tick();
      s.finish.get(id)?.();
    }
    await all;
    expect(s.started).toEqual([0, 1, 2, 3, 4]);
    expect(s.maxActive()).toBe(2);
  });

  test('runs the elements of one group one after another, in order', async () => {
    const s = setup([
      { id: 0, group: 'a' },
      { id: 1, group: 'a' },
      { id: 2, group: 'b' },
    ]);
    const all = eachBounded(s.source(), 3, s.workOf);
    await tick();
    expect(s.started).toEqual([0, 2]);
    s.finish.get(0)?.();
    await tick();
    expect(s.started).toEqual([0, 2, 1]);
    s.finish.get(1)?.();
    s.finish.get(2)?.();
    await all;
  });

  test('stops reading at the first failure, waits for the running work, and throws that failure', async () => {
    const s = setup([0, 1, 2, 3].map((id) => ({ id, group: `g${id}` })));
    const all = eachBounded(s.source(), 2, s.workOf);
    const outcome = all.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await tick();
    s.fail.get(0)?.(new Error('upload refused'));
    await tick();
    expect(s.read).toEqual([0, 1]);
    let settled = false;
    void outcome.then(() => {
      settled = true;
    });
    await tick();
    expect(settled).toBe(false); // element 1 still runs
    s.finish.get(1)?.();
    expect(await outcome).toBe('upload refused');
    expect(s.started).toEqual([0, 1]);
  });
});
