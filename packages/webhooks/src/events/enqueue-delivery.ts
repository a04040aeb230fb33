/** @module Recording a delivery and queueing its first attempt. */
import { DeliveryStore, deliveryIdFor, enqueue, jobs } from '@pixelmill/core';
import type { EventDeps } from './event-deps.js';
import type { EventTarget } from './targets.js';

export interface EnqueueDeliveryInput {
  tenantId: string;
  batchId: string;
  target: Pick<EventTarget, 'id' | 'endpointId'>;
  /** The URL at creation, for the log; attempts go to the target's URL at send time. */
  url: string;
  eventType: string;
  webhookId: string;
  body: string;
  itemCount?: number;
}

/**
 * Idempotent: the delivery id follows from (webhook id, target), so a step that runs twice records one
 * delivery and queues one job. Returns the delivery id and whether it was new.
 */
export async function enqueueDelivery(
  deps: Pick<EventDeps, 'redis' | 'queues'>,
  input: EnqueueDeliveryInput,
): Promise<{ id: string; created: boolean }> {
  const id = deliveryIdFor(input.webhookId, input.target.id);
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);
  const created = await deliveries.create({
    id,
    tenantId: input.tenantId,
    batchId: input.batchId,
    endpointId: input.target.endpointId,
    eventType: input.eventType,
    webhookId: input.webhookId,
    url: input.url,
    body: input.body,
    ...(input.itemCount !== undefined ? { itemCount: input.itemCount } : {}),
  });
  // Added even when the record existed: a crash between the two writes must not strand it. A job with
  // this id that still exists makes this a no-op.
  await enqueue(deps.queues, jobs.deliver, {
    delivery_id: id,
    tenant_id: input.tenantId,
    endpoint_id: input.target.endpointId,
  });
  return { id, created };
}
