import type { FeedStepDeps } from '@pixelmill/core';
import type { AppDeps } from '../deps.js';

/** What the API's feeds (a new or retried batch's first items) need, from its deps. */
export function feedStepDeps(deps: AppDeps): FeedStepDeps {
  return {
    redis: deps.redis,
    queues: deps.queues,
    itemAttempts: deps.options.itemAttempts,
    feeds: deps.feeds,
  };
}
