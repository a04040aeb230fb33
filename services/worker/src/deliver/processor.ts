import {
  type DeliveryInternal,
  DeliveryRateLimit,
  DeliveryStore,
  type DeliveryToSend,
  EndpointStore,
  type EndpointToSend,
} from '@pixelmill/core';
import { deliverWebhook, signWebhook } from '@pixelmill/webhooks';
import type { WorkerDeps } from '../deps.js';
import { crashPoint } from '../test-crash.js';
import { FairShare } from './fair-share.js';
import { emitEndpointDisabled, emitExhausted } from './operational-events.js';
import { attemptOutcome } from './outcome.js';
import { sendTarget } from './send-target.js';

/** Enough of a receiver's answer to debug it from the log, without storing whatever it sends. */
const RESPONSE_EXCERPT_BYTES = 1024;

export type WaitReason = 'slots' | 'rate_limit';

/** What one claim of a delivery did, for metrics. */
export interface DeliverReport {
  /**
   * `retry_scheduled`: the attempt failed and the next one is due later; `waiting`: put back without
   * an attempt (`waited` says why).
   */
  outcome: 'succeeded' | 'failed' | 'skipped' | 'retry_scheduled' | 'waiting';
  waited?: WaitReason;
  /** The delivery gave up after its last attempt. */
  exhausted?: true;
  /** This attempt disabled a tenant endpoint, and why. */
  disabled?: 'gone' | 'failing';
}

/**
 * One attempt of a claimed delivery (DeliveryStore.claim): the claim holds its lease, and every path
 * here ends it. Failures are rescheduled on the webhook schedule, so the schedule, Retry-After and the
 * delivery log stay in one place. A 2xx ends the delivery; 410 ends it and disables the endpoint. A
 * target whose slots in this process (`FairShare`) or whose `rate_limit` is used up puts the delivery
 * back, due again shortly, spending no attempt.
 */
export function createDeliveryAttempt(
  deps: WorkerDeps,
  share = new FairShare(deps.options.webhookTargetConcurrency),
) {
  const redis = deps.deliveryRedis ?? deps.redis;
  const deliveries = new DeliveryStore(redis, deps.queues.prefix);
  const endpoints = new EndpointStore(redis, deps.queues.prefix);
  const rates = new DeliveryRateLimit(redis, deps.queues.prefix);

  /** The whole record, before this attempt is recorded (the operational events report from it). */
  const wholeRecord = async (id: string): Promise<DeliveryInternal> => {
    const found = await deliveries.getInternal(id);
    // Only a record deleted during the attempt is missing: the attempt fails, and the next claim drops it.
    if (found === null) throw new Error(`delivery ${id} vanished during its attempt`);
    return found;
  };

  const wait = async (id: string, ms: number, why: WaitReason): Promise<DeliverReport> => {
    await deliveries.defer(id, Date.now() + ms);
    return { outcome: 'waiting', waited: why };
  };

  /**
   * `endpoint`: the delivery's endpoint as read right after the claim (undefined: not read, so
   * sendTarget reads it). The whole record is read only when an attempt fails for good (its events
   * need it).
   */
  return async function deliverOnce(
    delivery: DeliveryToSend,
    endpoint?: EndpointToSend | null,
  ): Promise<DeliverReport> {
    // Built only when there is something to log: most attempts log nothing.
    const log = () => deps.logger.child({ delivery_id: delivery.id, batch_id: delivery.batch_id });

    const target = await sendTarget(deps, delivery, new Date(), endpoint);
    if (target.kind === 'skip') {
      await deliveries.finish(delivery.id, target.reason);
      log().info({ reason: target.reason }, 'webhook delivery not sent');
      return { outcome: 'skipped' };
    }
    const ticket = share.tryTake(target.targetKey);
    if (ticket === null) return wait(delivery.id, share.deferMs(target.targetKey), 'slots');
    let latencyMs: number | undefined;
    try {
      if (target.rateLimit !== null) {
        const waitMs = await rates.admit(target.targetKey, target.rateLimit);
        if (waitMs > 0) return await wait(delivery.id, waitMs, 'rate_limit');
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
      latencyMs = result.latencyMs;
      crashPoint('PIXELMILL_TEST_CRASH_AFTER_WEBHOOK_POST');
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
        // Independent writes, sent together: one round trip. Only an endpoint with failures on record
        // needs them cleared.
        await Promise.all([
          deliveries.recordAttempt(delivery.id, attempt, { status: 'succeeded', nextAttemptAt: null }),
          target.endpointId !== null && target.failing
            ? endpoints.recordSuccess(target.endpointId)
            : undefined,
        ]);
        return { outcome: 'succeeded' };
      }
      const report: DeliverReport = { outcome: 'failed' };
      if (outcome.kind === 'failed') {
        if (outcome.reason === 'gone') {
          if (target.endpointId !== null) {
            await endpoints.disable(target.endpointId, 'gone');
            report.disabled = 'gone';
          } else await endpoints.disableBatchWebhook(delivery.batch_id, 'gone');
        } else if (target.endpointId !== null && (await endpoints.recordFailure(target.endpointId))) {
          report.disabled = 'failing';
        }
        // Events first, then the record: a crash in between retries the job, which finds the same
        // attempt number and so records the same (idempotent) events. Both events report from one read.
        let whole: Promise<DeliveryInternal> | undefined;
        const record = () => (whole ??= wholeRecord(delivery.id));
        if (report.disabled !== undefined && target.endpointId !== null)
          await emitEndpointDisabled(deps, await record(), target.endpointId, report.disabled);
        if (outcome.reason === 'exhausted') {
          report.exhausted = true;
          await emitExhausted(deps, await record(), attempt);
        }
        await deliveries.recordAttempt(delivery.id, attempt, {
          status: 'failed',
          nextAttemptAt: null,
          failureReason: outcome.reason,
        });
        log().warn({ status: result.status, reason: outcome.reason }, 'webhook delivery failed for good');
        return report;
      }
      // Five days of failures without a success disable a tenant endpoint (api.md).
      if (target.endpointId !== null && (await endpoints.recordFailure(target.endpointId))) {
        await emitEndpointDisabled(deps, await wholeRecord(delivery.id), target.endpointId, 'failing');
        await deliveries.recordAttempt(delivery.id, attempt, {
          status: 'failed',
          nextAttemptAt: null,
          failureReason: 'endpoint_disabled',
        });
        log().warn({ endpoint_id: target.endpointId }, 'webhook endpoint disabled after failing for 5 days');
        return { outcome: 'failed', disabled: 'failing' };
      }
      const next = new Date(Date.now() + outcome.delayMs);
      await deliveries.recordAttempt(delivery.id, attempt, {
        status: 'pending',
        nextAttemptAt: next.toISOString(),
      });
      log().info(
        { status: result.status, error: result.error, next_attempt_at: next },
        'webhook delivery failed; will retry',
      );
      return { outcome: 'retry_scheduled' };
    } finally {
      share.release(target.targetKey, ticket, latencyMs);
    }
  };
}
