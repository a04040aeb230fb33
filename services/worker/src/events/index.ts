/**
 * Webhook events in the worker: the scripts that end items and batches record the ends in the outbox,
 * and the relay here turns them into deliveries (and the finalize job of a batch's last item).
 */
export { startOutboxRelay } from './outbox-relay.js';
