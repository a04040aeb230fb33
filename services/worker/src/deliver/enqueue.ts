import { DeliveryStore } from '@pixelmill/core';
import type { WorkerDeps } from '../deps.js';

/**
 * Records a delivery and queues its first attempt. The delivery id is derived from the webhook id, so
 * a finalize step that runs twice queues one delivery, not two.
 */
export async function enqueueDelivery(
  deps: WorkerDeps,
  input: {
    tenantId: string;
    batchId: string;
    eventType: string;
    webhookId: string;
    url: string;
    payload: unknown;
  },
): Promise<void> {
  const id = `dlv_${input.webhookId.slice('msg_'.length)}`;
  const body = JSON.stringify({
    type: input.eventType,
    timestamp: new Date().toISOString(),
    data: input.payload,
  });
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);
  await deliveries.create({
    id,
    tenantId: input.tenantId,
    batchId: input.batchId,
    eventType: input.eventType,
    webhookId: input.webhookId,
    url: input.url,
    body,
  });
  await deps.queues.deliver.add(
    'deliver',
    { delivery_id: id, tenant_id: input.tenantId },
    { jobId: id, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 } },
  );
}
