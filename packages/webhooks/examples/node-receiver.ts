// A pixelmill webhook receiver on plain node:http.
// Run: WEBHOOK_SECRET=whsec_... PORT=3000 pnpm exec tsx --conditions=@pixelmill/source examples/node-receiver.ts
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { verifyNodeRequest, type WebhookEvent, WebhookVerificationError } from '@pixelmill/webhooks';

export function nodeReceiver(
  secret: string | string[],
  onEvent: (event: WebhookEvent, id: string) => void,
): Server {
  return createServer(async (req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    try {
      // Reads the raw body itself: the signature covers the exact bytes.
      const event = await verifyNodeRequest<WebhookEvent>(req, secret);
      // webhook-id is the same on every retry of one event: dedupe on it.
      onEvent(event, String(req.headers['webhook-id']));
      res.writeHead(204).end();
    } catch (err) {
      res.writeHead(err instanceof WebhookVerificationError ? 400 : 500).end();
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const secret = process.env.WEBHOOK_SECRET ?? '';
  nodeReceiver(secret, (event, id) => console.log(id, event.type)).listen(Number(process.env.PORT ?? 3000));
}
