/** @module Recording a delivery with its first attempt due now. */
import { DeliveryStore, deliveryIdFor } from '@pixelmill/core';
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
 * delivery, due once. The record and its due entry are written in one atomic step (a worker claims it
 * from there). Returns the delivery id and whether it was new.
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
  return { id, created };
}
