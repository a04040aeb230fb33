/**
 * @module The delivery pump: claims due deliveries (DeliveryStore.claim) as this process has free
 * slots and runs one attempt for each. A claim takes as many as there are free slots in one round
 * trip, the deliveries' fields included, and their endpoints are read together after it. With nothing
 * due it blocks on the store's wake-up key until a delivery is created or made due, or until the next
 * one is due or a lease lapses (at most a second). A claim holds a lease longer than any attempt; a
 * delivery whose worker died mid-attempt is claimed again once its lease lapses and sent again under
 * the same `webhook-id` (at least once).
 */
import {
  DeliveryStore,
  type DeliveryToSend,
  duplicateConnection,
  EndpointStore,
  type EndpointToSend,
} from '@pixelmill/core';
import type { WorkerDeps } from '../deps.js';
import type { DeliverReport } from './processor.js';

/** Longest block while nothing is due: a bound on how late a missed wake-up is noticed. */
const IDLE_WAIT_MS = 1000;
/** After an attempt threw (Redis away mid-attempt), the delivery is due again this much later. */
const AFTER_ERROR_MS = 1000;
/** After a failed claim (Redis away), wait this long before claiming again. */
const ERROR_PAUSE_MS = 1000;

export interface DeliveryPump {
  /** Attempts running in this process now. */
  inFlight(): number;
  /** Stops claiming and waits for the running attempts to end. */
  stop(): Promise<void>;
  /** Makes every running attempt's delivery due again now (shutdown out of time); returns how many. */
  handBack(): Promise<number>;
}

export function startDeliveryPump(
  deps: WorkerDeps,
  opts: {
    concurrency: number;
    leaseMs: number;
    deliver: (delivery: DeliveryToSend, endpoint?: EndpointToSend | null) => Promise<DeliverReport>;
    onReport?: (report: DeliverReport) => void;
    onError?: () => void;
  },
): DeliveryPump {
  const redis = deps.deliveryRedis ?? deps.redis;
  const deliveries = new DeliveryStore(redis, deps.queues.prefix);
  const endpoints = new EndpointStore(redis, deps.queues.prefix);
  const blocking = duplicateConnection(deps.redis);
  blocking.on('error', () => undefined);
  const running = new Map<string, Promise<void>>();
  let stopping = false;
  let slotFreed: (() => void) | undefined;

  const run = async (delivery: DeliveryToSend, endpoint: EndpointToSend | null | undefined) => {
    try {
      // Not `onReport?.(await ...)`: that skips the attempt itself when there is no onReport.
      const report = await opts.deliver(delivery, endpoint);
      opts.onReport?.(report);
    } catch (err) {
      opts.onError?.();
      deps.logger.warn(
        { err, delivery_id: delivery.id, batch_id: delivery.batch_id },
        'webhook delivery attempt did not finish; due again shortly',
      );
      // If this fails too, the lease lapses and any worker claims the delivery again.
      await deliveries.defer(delivery.id, Date.now() + AFTER_ERROR_MS).catch(() => undefined);
    }
  };

  const start = (delivery: DeliveryToSend, endpoint: EndpointToSend | null | undefined) => {
    const done = run(delivery, endpoint).finally(() => {
      running.delete(delivery.id);
      slotFreed?.();
    });
    running.set(delivery.id, done);
  };

  /** The claimed deliveries' endpoints, each read once. */
  const readEndpoints = async (claimed: DeliveryToSend[]) => {
    const ids = [...new Set(claimed.map((d) => d.endpoint_id).filter((id): id is string => id !== null))];
    const read = await Promise.all(ids.map((id) => endpoints.getToSend(id)));
    return new Map(ids.map((id, i) => [id, read[i] ?? null]));
  };

  const loop = (async () => {
    while (!stopping) {
      const free = opts.concurrency - running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
        slotFreed = undefined;
        // Attempts that end together free their slots in one claim.
        await new Promise((r) => setImmediate(r));
        continue;
      }
      try {
        const claim = await deliveries.claim(Date.now(), opts.leaseMs, free);
        if (claim.recovered > 0)
          deps.logger.warn(
            { deliveries: claim.recovered },
            'webhook deliveries whose attempt was cut off (its worker stopped) are sent again',
          );
        const read = await readEndpoints(claim.deliveries);
        for (const d of claim.deliveries)
          start(d, d.endpoint_id === null ? undefined : (read.get(d.endpoint_id) ?? null));
        if (claim.deliveries.length >= free || stopping) continue;
        const waitMs =
          claim.nextAtMs === null ? IDLE_WAIT_MS : Math.min(IDLE_WAIT_MS, claim.nextAtMs - Date.now());
        if (waitMs > 0) await deliveries.waitForDue(blocking, waitMs);
      } catch (err) {
        if (stopping) break;
        deps.logger.warn({ err }, 'could not claim webhook deliveries; trying again');
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
    }
  })();

  return {
    inFlight: () => running.size,
    async stop() {
      stopping = true;
      // A wait blocks for up to IDLE_WAIT_MS; disconnecting ends it at once.
      blocking.disconnect();
      slotFreed?.();
      await loop;
      await Promise.all(running.values());
    },
    async handBack() {
      const ids = [...running.keys()];
      await Promise.all(ids.map((id) => deliveries.defer(id, Date.now())));
      return ids.length;
    },
  };
}
