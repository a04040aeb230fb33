/**
 * @module Child process for the killed-worker test. Usage: lease-holder-process.ts <prefix>
 * <resourceId> <leaseMs>. Takes one slot the way the worker does before calling a provider, keeps
 * extending it like the worker's heartbeat, prints {"grantedAt": …} and waits to be killed.
 */
import { createLimiter } from '../limiter.js';
import { connectRedis } from './redis.js';

const [prefix, resourceId, leaseMsArg] = process.argv.slice(2);
if (!prefix || !resourceId || !leaseMsArg)
  throw new Error('usage: lease-holder-process.ts <prefix> <id> <leaseMs>');
const leaseMs = Number(leaseMsArg);

const redis = connectRedis();
const limiter = createLimiter(redis, { prefix });
const slot = await limiter.tryAcquire(resourceId, { leaseMs, holder: `child-${process.pid}` });
if (!slot.ok) throw new Error(`no slot: ${slot.reason}`);
// The "provider call" that never ends; the heartbeat keeps the lease alive while the process lives.
setInterval(() => {
  limiter.extend(resourceId, slot.leaseId, leaseMs).catch(() => undefined);
}, leaseMs / 3);
process.stdout.write(`${JSON.stringify({ grantedAt: slot.grantedAt })}\n`);
