import {
  type DeliverJob,
  DeliveryStore,
  deliverJobSchema,
  EndpointStore,
  flushItemsJobSchema,
} from '@pixelmill/core';
import { deliverWebhook, signWebhook } from '@pixelmill/webhooks';
import { DelayedError, type Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { flushItems, isFlushJob } from '../events/flush-items.js';
import { attemptOutcome } from './outcome.js';
import { sendTarget } from './send-target.js';

/** Enough of a receiver's answer to debug it from the log, without storing whatever it sends. */
const RESPONSE_EXCERPT_BYTES = 1024;

/**
 * One delivery attempt. Failures are rescheduled on the webhook schedule (not BullMQ attempts), so the
 * schedule, Retry-After and the delivery log stay in one place. A 2xx ends the delivery; 410 ends it
 * and disables the endpoint. The `deliver` queue also runs the flushes of grouped item events.
 */
export function createDeliverProcessor(deps: WorkerDeps) {
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);
  const endpoints = new EndpointStore(deps.redis, deps.queues.prefix);

  return async function deliver(job: Job, token?: string): Promise<void> {
    if (isFlushJob(job)) {
      await flushItems(deps, flushItemsJobSchema.parse(job.data));
      return;
    }
    const data: DeliverJob = deliverJobSchema.parse(job.data);
    const delivery = await deliveries.getInternal(data.delivery_id);
    if (delivery === null || delivery.status !== 'pending') return;
    const log = deps.logger.child({ delivery_id: delivery.id, batch_id: delivery.batch_id });

    const target = await sendTarget(deps, delivery);
    if (target.kind === 'skip') {
      await deliveries.finish(delivery.id, target.reason);
      log.info({ reason: target.reason }, 'webhook delivery not sent');
      return;
    }
    const headers = signWebhook({
      secret: target.secrets,
      msgId: delivery.webhook_id,
      timestamp: new Date(),
      body: delivery.body,
    });
    const at = new Date().toISOString();
    const result = await deliverWebhook({
      url: target.url,
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'pixelmill-webhooks/1' },
      body: delivery.body,
      timeoutMs: deps.options.webhookTimeoutMs,
      allowPrivate: deps.options.allowPrivateUrls,
      maxResponseBytes: RESPONSE_EXCERPT_BYTES,
    });
    const attempt = {
      at,
      url: target.url,
      status_code: result.status,
      latency_ms: result.latencyMs,
      response_excerpt: result.responseExcerpt,
      error: result.error ?? null,
    };
    const outcome = attemptOutcome(result, delivery.series_attempts + 1, deps.options.webhookScheduleMs);

    if (outcome.kind === 'succeeded') {
      await deliveries.recordAttempt(delivery.id, attempt, { status: 'succeeded', nextAttemptAt: null });
      if (target.endpointId !== null) await endpoints.recordSuccess(target.endpointId);
      return;
    }
    if (outcome.kind === 'failed') {
      if (outcome.reason === 'gone') {
        if (target.endpointId !== null) await endpoints.disable(target.endpointId, 'gone');
        else await endpoints.disableBatchWebhook(delivery.batch_id, 'gone');
      } else if (target.endpointId !== null) {
        await endpoints.recordFailure(target.endpointId);
      }
      await deliveries.recordAttempt(delivery.id, attempt, {
        status: 'failed',
        nextAttemptAt: null,
        failureReason: outcome.reason,
      });
      log.warn({ status: result.status, reason: outcome.reason }, 'webhook delivery failed for good');
      return;
    }
    // Five days of failures without a success disable a tenant endpoint (api.md).
    if (target.endpointId !== null && (await endpoints.recordFailure(target.endpointId))) {
      await deliveries.recordAttempt(delivery.id, attempt, {
        status: 'failed',
        nextAttemptAt: null,
        failureReason: 'endpoint_disabled',
      });
      log.warn({ endpoint_id: target.endpointId }, 'webhook endpoint disabled after failing for 5 days');
      return;
    }
    const next = new Date(Date.now() + outcome.delayMs);
    await deliveries.recordAttempt(delivery.id, attempt, {
      status: 'pending',
      nextAttemptAt: next.toISOString(),
    });
    log.info(
      { status: result.status, error: result.error, next_attempt_at: next },
      'webhook delivery failed; will retry',
    );
    await job.moveToDelayed(next.getTime(), token);
    throw new DelayedError();
  };
}
