// The receiver examples that docs/webhooks.md shows, run for real: a signed delivery is accepted, a
// tampered one or one signed with another secret is refused.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { expressReceiver } from '../examples/express-receiver.js';
import { honoReceiver } from '../examples/hono-receiver.js';
import { nodeReceiver } from '../examples/node-receiver.js';
import type { WebhookEvent } from './events/webhook-event.js';
import { generateWebhookSecret } from './secret.js';
import { signWebhook } from './sign.js';

const secret = generateWebhookSecret();
const body = JSON.stringify({
  type: 'batch.completed',
  timestamp: '2026-01-01T00:00:00Z',
  data: { id: 'batch_1' },
});

type Start = (onEvent: (e: WebhookEvent, id: string) => void) => Promise<Server>;
const listen = (server: Server) =>
  new Promise<Server>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));

const receivers: [string, Start][] = [
  ['plain node:http', (onEvent) => listen(nodeReceiver(secret, onEvent))],
  ['Express', (onEvent) => listen(expressReceiver(secret, onEvent).listen(0, '127.0.0.1'))],
  [
    'Hono',
    (onEvent) =>
      new Promise((resolve) => {
        const server = serve(
          { fetch: honoReceiver(secret, onEvent).fetch, port: 0, hostname: '127.0.0.1' },
          () => resolve(server as Server),
        );
      }),
  ],
];

let open: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => open?.close(resolve));
  open = undefined;
});

describe.each(receivers)('the %s receiver example', (_, start) => {
  async function post(payload: string, headers: Record<string, string>) {
    const { port } = (open as Server).address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/hooks/pixelmill`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json', ...headers },
    });
    return res.status;
  }

  it('accepts a signed delivery and hands over the event and its webhook-id', async () => {
    const seen: [WebhookEvent, string][] = [];
    open = await start((e, id) => seen.push([e, id]));
    const headers = signWebhook({ secret, msgId: 'msg_1', timestamp: new Date(), body });
    expect(await post(body, headers)).toBe(204);
    expect(seen).toEqual([[JSON.parse(body), 'msg_1']]);
  });

  it('refuses a tampered body and a delivery signed with another secret', async () => {
    const seen: WebhookEvent[] = [];
    open = await start((e) => seen.push(e));
    const headers = signWebhook({ secret, msgId: 'msg_1', timestamp: new Date(), body });
    expect(await post(body.replace('batch_1', 'batch_2'), headers)).toBe(400);
    const other = signWebhook({
      secret: generateWebhookSecret(),
      msgId: 'msg_1',
      timestamp: new Date(),
      body,
    });
    expect(await post(body, other)).toBe(400);
    expect(seen).toEqual([]);
  });
});
