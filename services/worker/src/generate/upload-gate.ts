/**
 * Back-pressure between generation and the bucket. Every generated image holds its size here until it
 * is stored; new generations wait while the held bytes reach the cap, or while the bucket is failing
 * and uploads are still retrying, so an S3 outage pauses paid calls instead of piling bytes up in memory.
 */
export class UploadGate {
  private held = 0;
  private retrying = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly maxPendingBytes: number) {}

  /** Bytes generated but not yet stored. */
  get pendingBytes(): number {
    return this.held;
  }

  /** True while at least one upload is retrying after a failure. */
  get storageFailing(): boolean {
    return this.retrying > 0;
  }

  /** Counts bytes as pending until the returned release is called (idempotent). */
  hold(bytes: number): () => void {
    this.held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
      this.wake();
    };
  }

  /** An upload failed and will be retried: generation pauses until it succeeds or gives up. */
  uploadRetrying(): () => void {
    this.retrying += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.retrying -= 1;
      this.wake();
    };
  }

  get open(): boolean {
    return this.held < this.maxPendingBytes && this.retrying === 0;
  }

  /** Resolves once a new generation may start. */
  async ready(): Promise<void> {
    while (!this.open) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
