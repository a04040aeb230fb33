/**
 * @module The outbox relay: turns outbox entries (item and batch ends, written by the Lua scripts that
 * make them) into delivery and finalize jobs, then removes them. At least once: an entry is removed
 * only after it was acted on, and one a dead or failing relay held is claimed by any relay once idle
 * for `claimIdleMs`. Acting on an entry is idempotent (relayOutboxEntry), so at least once means once
 * per `webhook-id`. Runs in every worker on a connection of its own (it blocks reading).
 */
import { duplicateConnection, type OutboxEntry, OutboxStore } from '@pixelmill/core';
import { relayOutboxEntry } from '@pixelmill/webhooks';
import type { WorkerDeps } from '../deps.js';
import { crashPoint } from '../test-crash.js';

const READ_COUNT = 100;
const BLOCK_MS = 1000;
/** After an error (Redis away), wait this long before reading again. */
const ERROR_PAUSE_MS = 1000;

export interface OutboxRelay {
  stop(): Promise<void>;
}

export function startOutboxRelay(deps: WorkerDeps, opts: { claimIdleMs: number }): OutboxRelay {
  const reader = duplicateConnection(deps.redis);
  reader.on('error', () => undefined);
  const blocking = new OutboxStore(reader, deps.queues.prefix);
  const outbox = new OutboxStore(deps.redis, deps.queues.prefix);
  const consumer = deps.options.workerId;
  let stopping = false;
  let lastClaim = 0;

  async function handle(entries: (OutboxEntry | { id: string })[]): Promise<void> {
    for (const entry of entries) {
      if (stopping) return;
      if ('kind' in entry) {
        try {
          await relayOutboxEntry(deps, entry);
        } catch (err) {
          // Kept: claimed again once idle, by this relay or another one.
          deps.logger.warn(
            { err, outbox_id: entry.id, batch_id: entry.batchId },
            'outbox entry not relayed yet',
          );
          continue;
        }
        crashPoint('PIXELMILL_TEST_CRASH_IN_RELAY');
      }
      await outbox.remove(entry.id);
    }
  }

  const loop = (async () => {
    let ready = false;
    while (!stopping) {
      try {
        if (!ready) {
          await outbox.ensureGroup();
          ready = true;
        }
        if (Date.now() - lastClaim >= Math.min(opts.claimIdleMs, 5000)) {
          lastClaim = Date.now();
          await handle(await outbox.claimIdle(consumer, opts.claimIdleMs, READ_COUNT));
        }
        await handle(await blocking.read(consumer, READ_COUNT, BLOCK_MS));
      } catch (err) {
        if (stopping) break;
        deps.logger.warn({ err }, 'outbox relay could not read; trying again');
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
    }
  })();

  return {
    async stop() {
      stopping = true;
      // A read blocks for up to BLOCK_MS; disconnecting ends it at once.
      reader.disconnect();
      await loop;
    },
  };
}
