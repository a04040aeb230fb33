import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  type: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * A customer's endpoint: verifies every delivery's Standard Webhooks signature from the raw body with
 * the `standardwebhooks` package, records verified ones, and answers 400 to anything unverifiable.
 */
export async function startWebhookReceiver(secret: string): Promise<{
  url: string;
  received: ReceivedWebhook[];
  rejected: number;
  close: () => Promise<void>;
}> {
  const verifier = new Webhook(secret);
  const state = { received: [] as ReceivedWebhook[], rejected: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        const payload = verifier.verify(
          raw,
          req.headers as Record<string, string>,
        ) as ReceivedWebhook['payload'];
        state.received.push({ id: String(req.headers['webhook-id']), type: payload.type, payload });
        res.writeHead(204).end();
      } catch {
        state.rejected += 1;
        res.writeHead(400).end('bad signature');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/pixelmill`,
    get received() {
      return state.received;
    },
    get rejected() {
      return state.rejected;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
