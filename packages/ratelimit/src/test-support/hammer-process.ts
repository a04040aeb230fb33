/**
 * @module Child process for the two-process test. Usage: hammer-process.ts <prefix> <resourceId>.
 * Prints "ready", waits for "go <endAtMs>" on stdin (a start barrier, so both processes run over
 * the same period), hammers, then prints the grant times as one JSON line.
 */
import { createInterface } from 'node:readline';
import { createLimiter } from '../limiter.js';
import { hammer } from './hammer.js';
import { connectRedis } from './redis.js';

const [prefix, resourceId] = process.argv.slice(2);
if (!prefix || !resourceId) throw new Error('usage: hammer-process.ts <prefix> <resourceId>');

const redis = connectRedis();
await redis.ping();
const limiter = createLimiter(redis, { prefix });
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  const endAt = Number(line.replace(/^go /, ''));
  const grants = await hammer(limiter, resourceId, { endAt, loops: 4, holder: `child-${process.pid}` });
  process.stdout.write(`${JSON.stringify({ grants })}\n`);
  break;
}
lines.close();
redis.disconnect();
