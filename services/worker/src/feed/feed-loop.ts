import { type FeederDeps, feedModel } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';

/** How often each model's feeder runs without a wake-up (a batch published, a missed wake-up). */
const FEED_INTERVAL_MS = 1000;

export interface FeedLoop {
  /** A job of the model started (its queue has room): feed it now, or once more after the current run. */
  wake(model: string): void;
  /** Stops the timer; a run under way finishes. */
  stop(): void;
}

/**
 * Runs the feeder (feedModel) of each model in this process: when one of its jobs starts and every
 * second. At most one run per model at a time; wake-ups during a run make one more run after it.
 */
export function startFeedLoop(deps: FeederDeps, models: readonly string[], logger: Logger): FeedLoop {
  const state = new Map<string, { running: boolean; again: boolean }>();
  const run = (model: string): void => {
    const s = state.get(model) ?? { running: false, again: false };
    state.set(model, s);
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = true;
    s.again = false;
    feedModel(deps, model)
      .then(({ recovered }) => {
        if (recovered > 0)
          logger.info({ model, items: recovered }, 'queued the items of a feed its feeder did not finish');
      })
      .catch((err: unknown) => logger.warn({ err, model }, 'feeding the queue failed; will try again'))
      .finally(() => {
        s.running = false;
        if (s.again && !stopped) run(model);
      });
  };
  let stopped = false;
  const timer = setInterval(() => {
    for (const model of models) run(model);
  }, FEED_INTERVAL_MS);
  timer.unref();
  for (const model of models) run(model);
  return {
    wake: (model) => {
      if (!stopped) run(model);
    },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
