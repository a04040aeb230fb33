/**
 * @module The simulator's close() waking every request that waits out a latency or a hang. The waiters
 * are kept in one set rather than as listeners on a shared AbortSignal: with more than 10 requests
 * waiting at once Node would print MaxListenersExceededWarning, and a hang's listener would outlive
 * its connection.
 */
export class Shutdown {
  private closed = false;
  private readonly waiters = new Set<() => void>();

  /** Calls `wake` at close (at once when already closed); the returned function cancels that. */
  onClose(wake: () => void): () => void {
    if (this.closed) {
      wake();
      return () => {};
    }
    this.waiters.add(wake);
    return () => {
      this.waiters.delete(wake);
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Requests waiting on close() now. */
  get waiting(): number {
    return this.waiters.size;
  }
}

/** Sleep that ends early when the simulator shuts down. */
export function sleep(ms: number, shutdown: Shutdown): Promise<void> {
  if (ms <= 0 || shutdown.isClosed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      cancel();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const cancel = shutdown.onClose(done);
  });
}
