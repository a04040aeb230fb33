import { type DeliverJob, DeliveryStore, deliverJobSchema } from '@pixelmill/core';
import { deliverWebhook, nextDelayMs, signWebhook } from '@pixelmill/webhooks';
import { DelayedError, type Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';

/**
 * One delivery attempt. Failures are rescheduled on the webhook schedule (not BullMQ attempts), so
 * the schedule, Retry-After and the delivery log stay in one place. A 2xx ends the delivery.
 */
export function createDeliverProcessor(deps: WorkerDeps) {
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);

  return async function deliver(job: Job<DeliverJob>, token?: string): Promise<void> {
    const data = deliverJobSchema.parse(job.data);
    const delivery = await deliveries.getInternal(data.delivery_id);
    if (delivery === null || delivery.status !== 'pending') return;
    const batch = await deps.store.getBatchInternal(delivery.batch_id);
    const secret = batch?.spec.webhook?.secret;
    if (secret === undefined) return;

    const headers = signWebhook({
      secret,
      msgId: delivery.webhook_id,
      timestamp: new Date(),
      body: delivery.body,
    });
    const result = await deliverWebhook({
      url: delivery.url,
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'pixelmill-webhooks/1' },
      body: delivery.body,
      timeoutMs: deps.options.webhookTimeoutMs,
      allowPrivate: deps.options.allowPrivateUrls,
    });
    const attempt = {
      at: new Date().toISOString(),
      status_code: result.status,
      latency_ms: result.latencyMs,
      response_excerpt: result.responseExcerpt,
      error: result.error ?? null,
    };
    if (result.ok) {
      await deliveries.recordAttempt(delivery.id, attempt, { status: 'succeeded', nextAttemptAt: null });
      return;
    }
    const attemptsMade = delivery.attempts.length + 1;
    const scheduled = nextDelayMs(attemptsMade, deps.options.webhookScheduleMs);
    if (scheduled === undefined) {
      await deliveries.recordAttempt(delivery.id, attempt, { status: 'failed', nextAttemptAt: null });
      deps.logger.warn({ delivery_id: delivery.id, batch_id: delivery.batch_id }, 'webhook delivery gave up');
      return;
    }
    const delay = Math.max(scheduled, result.retryAfterMs ?? 0);
    const next = new Date(Date.now() + delay);
    await deliveries.recordAttempt(delivery.id, attempt, {
      status: 'pending',
      nextAttemptAt: next.toISOString(),
    });
    deps.logger.info(
      { delivery_id: delivery.id, status: result.status, error: result.error, next_attempt_at: next },
      'webhook delivery failed; will retry',
    );
    await job.moveToDelayed(next.getTime(), token);
    throw new DelayedError();
  };
}
