#!/usr/bin/env node
// Runs a command with a Redis at REDIS_URL: the one already answering there, or a private
// redis-server started for the run and stopped afterwards.
import { spawn } from 'node:child_process';
import { ensureRedis } from './local-redis.mjs';

let redis;
try {
  redis = await ensureRedis(process.env.REDIS_URL);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
if (redis.started) console.log(`with-redis: started redis-server at ${redis.url}`);
process.env.REDIS_URL = redis.url;

const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: 'inherit', env: process.env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  redis.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
