/**
 * @module Test-only crash points for the chaos tests (test/chaos/outbox-crash.test.ts). Each one kills
 * this process with SIGKILL (as kill -9 would) at a chosen point, and only when its environment
 * variable is `1`; unset (always, outside those tests) it does nothing.
 *   PIXELMILL_TEST_CRASH_AFTER_END_ITEM  right after the script that ends an item
 *   PIXELMILL_TEST_CRASH_IN_FEED         after a feeder picked items (step 1), before their jobs are added
 *   PIXELMILL_TEST_CRASH_IN_RELAY        after the relay queued an entry's deliveries, before removing it
 *   PIXELMILL_TEST_CRASH_AFTER_WEBHOOK_POST  after a webhook POST was answered, before the attempt is recorded
 *   PIXELMILL_TEST_CRASH_AFTER_ECONOMY_SUBMIT  after a provider batch job was created, before its id is recorded
 *   PIXELMILL_TEST_CRASH_IN_ECONOMY_POLL       after a poll found the provider batch job still running
 *   PIXELMILL_TEST_CRASH_IN_ECONOMY_RESULTS    after the first image of a provider job's results was stored
 */
export type CrashPoint =
  | 'PIXELMILL_TEST_CRASH_AFTER_END_ITEM'
  | 'PIXELMILL_TEST_CRASH_IN_FEED'
  | 'PIXELMILL_TEST_CRASH_IN_RELAY'
  | 'PIXELMILL_TEST_CRASH_AFTER_WEBHOOK_POST'
  | 'PIXELMILL_TEST_CRASH_AFTER_ECONOMY_SUBMIT'
  | 'PIXELMILL_TEST_CRASH_IN_ECONOMY_POLL'
  | 'PIXELMILL_TEST_CRASH_IN_ECONOMY_RESULTS';

export function crashPoint(name: CrashPoint): void {
  if (process.env[name] === '1') process.kill(process.pid, 'SIGKILL');
}
