/** @module Where a delivery goes now and which secrets sign it, read fresh at every attempt. */
import {
  type DeliveryFailureReason,
  type DeliveryToSend,
  EndpointStore,
  type EndpointToSend,
  signingSecrets,
} from '@pixelmill/core';
import type { WorkerDeps } from '../deps.js';

export type SendTarget =
  | {
      kind: 'send';
      url: string;
      secrets: string[];
      endpointId: string | null;
      /** Whose slots and rate limit the attempt uses: the endpoint id, or `batch:<id>`. */
      targetKey: string;
      /** Deliveries per second at most; null: no limit. */
      rateLimit: number | null;
      /** The endpoint has failures since its last success: a success must clear them. */
      failing: boolean;
    }
  | { kind: 'skip'; reason: DeliveryFailureReason };

/**
 * `endpoint`: the delivery's endpoint as read right after its claim, null when it is gone (undefined:
 * not read yet, so it is read here).
 */
export async function sendTarget(
  deps: WorkerDeps,
  delivery: Pick<DeliveryToSend, 'endpoint_id' | 'batch_id'>,
  now = new Date(),
  endpoint?: EndpointToSend | null,
): Promise<SendTarget> {
  const endpoints = new EndpointStore(deps.redis, deps.queues.prefix);
  if (delivery.endpoint_id !== null) {
    const found = endpoint !== undefined ? endpoint : await endpoints.getToSend(delivery.endpoint_id);
    if (found === null) return { kind: 'skip', reason: 'endpoint_deleted' };
    if (!found.endpoint.enabled) return { kind: 'skip', reason: 'endpoint_disabled' };
    // The endpoint's URL today: a PATCHed URL takes effect for pending retries too.
    return {
      kind: 'send',
      url: found.endpoint.url,
      secrets: signingSecrets(found, now),
      endpointId: found.endpoint.id,
      targetKey: found.endpoint.id,
      rateLimit: found.endpoint.rate_limit,
      failing: found.endpoint.failing_since !== null,
    };
  }
  const batch = await deps.store.getBatchInternal(delivery.batch_id);
  const webhook = batch?.spec.webhook;
  if (webhook === null || webhook === undefined) return { kind: 'skip', reason: 'endpoint_deleted' };
  if (await endpoints.batchWebhookDisabled(delivery.batch_id))
    return { kind: 'skip', reason: 'endpoint_disabled' };
  return {
    kind: 'send',
    url: webhook.url,
    secrets: [webhook.secret],
    endpointId: null,
    targetKey: `batch:${delivery.batch_id}`,
    rateLimit: webhook.rate_limit ?? null,
    failing: false,
  };
}
