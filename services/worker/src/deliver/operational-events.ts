/**
 * @module Operational events: `message.attempt.exhausted` (a delivery gave up after its last attempt)
 * and `endpoint.disabled` (410 Gone, or 5 days of failures). They go to the tenant's enabled endpoints
 * that subscribe to them, never to the endpoint they are about, signed and retried like any delivery.
 * An operational event that exhausts its own attempts raises no further event (no loops).
 */
import {
  type DeliveryAttempt,
  type DeliveryInternal,
  type EndpointDisabledReason,
  EndpointStore,
  isOperationalEvent,
  messageIdFor,
  type OperationalEventType,
} from '@pixelmill/core';
import { enqueueDelivery } from '@pixelmill/webhooks';
import type { WorkerDeps } from '../deps.js';

export interface ExhaustedEventData {
  delivery_id: string;
  /** The `webhook-id` of the message that was not delivered. */
  webhook_id: string;
  event_type: string;
  batch_id: string;
  /** null for a batch's own webhook. */
  endpoint_id: string | null;
  /** Attempts made in the series that gave up. */
  attempts: number;
  last_attempt: { at: string; status_code: number | null; error: string | null };
}

export interface EndpointDisabledEventData {
  endpoint_id: string;
  reason: Extract<EndpointDisabledReason, 'gone' | 'failing'>;
  /** Start of the run of failures that disabled it (null after a 410 with no failures before). */
  failing_since: string | null;
  disabled_at: string;
  /** The delivery whose attempt disabled it. */
  delivery_id: string;
}

/**
 * Records one delivery per subscribed endpoint. Idempotent: the webhook id follows from `subject`, so a
 * retried job records nothing twice. Returns how many endpoints it was sent to.
 */
async function emit(
  deps: WorkerDeps,
  source: DeliveryInternal,
  type: OperationalEventType,
  subject: string,
  data: ExhaustedEventData | EndpointDisabledEventData,
  aboutEndpoint: string | null,
): Promise<number> {
  const endpoints = await new EndpointStore(deps.redis, deps.queues.prefix).listInternal(source.tenant_id);
  const targets = endpoints.filter(
    (e) => e.endpoint.enabled && e.endpoint.id !== aboutEndpoint && e.endpoint.events.includes(type),
  );
  if (targets.length === 0) return 0;
  const webhookId = messageIdFor(type, subject);
  const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
  for (const e of targets) {
    await enqueueDelivery(deps, {
      tenantId: source.tenant_id,
      // Listed in the log of the batch whose delivery it reports.
      batchId: source.batch_id,
      target: { id: e.endpoint.id, endpointId: e.endpoint.id },
      url: e.endpoint.url,
      eventType: type,
      webhookId,
      body,
    });
  }
  return targets.length;
}

/** After `delivery`'s last attempt (`last`) failed; nothing for operational events themselves. */
export async function emitExhausted(
  deps: WorkerDeps,
  delivery: DeliveryInternal,
  last: DeliveryAttempt,
): Promise<number> {
  if (isOperationalEvent(delivery.event_type)) return 0;
  const data: ExhaustedEventData = {
    delivery_id: delivery.id,
    webhook_id: delivery.webhook_id,
    event_type: delivery.event_type,
    batch_id: delivery.batch_id,
    endpoint_id: delivery.endpoint_id,
    attempts: delivery.series_attempts + 1,
    last_attempt: { at: last.at, status_code: last.status_code, error: last.error },
  };
  return emit(
    deps,
    delivery,
    'message.attempt.exhausted',
    `${delivery.id}\0${delivery.redeliveries}`,
    data,
    delivery.endpoint_id,
  );
}

/** After `delivery`'s attempt disabled tenant endpoint `endpointId`. */
export async function emitEndpointDisabled(
  deps: WorkerDeps,
  delivery: DeliveryInternal,
  endpointId: string,
  reason: EndpointDisabledEventData['reason'],
): Promise<number> {
  const found = await new EndpointStore(deps.redis, deps.queues.prefix).getInternal(endpointId);
  const data: EndpointDisabledEventData = {
    endpoint_id: endpointId,
    reason,
    failing_since: found?.endpoint.failing_since ?? null,
    disabled_at: found?.endpoint.updated_at ?? new Date().toISOString(),
    delivery_id: delivery.id,
  };
  // One event per attempt that disabled it: the attempt's position identifies it across job retries.
  const subject = `${endpointId}\0${delivery.id}\0${delivery.attempts.length}`;
  return emit(deps, delivery, 'endpoint.disabled', subject, data, endpointId);
}
