// A pixelmill webhook receiver in Express 5.
// Run: WEBHOOK_SECRET=whsec_... PORT=3000 pnpm exec tsx --conditions=@pixelmill/source examples/express-receiver.ts
import { fileURLToPath } from 'node:url';
import { verifyNodeRequest, type WebhookEvent, WebhookVerificationError } from '@pixelmill/webhooks';
import express, { type Express } from 'express';

export function expressReceiver(
  secret: string | string[],
  onEvent: (event: WebhookEvent, id: string) => void,
): Express {
  const app = express();
  // express.raw, not express.json: a re-serialised body no longer matches the signature.
  app.post('/hooks/pixelmill', express.raw({ type: 'application/json' }), async (req, res) => {
    try {
      const event = await verifyNodeRequest<WebhookEvent>(req, secret);
      onEvent(event, String(req.headers['webhook-id']));
      res.sendStatus(204);
    } catch (err) {
      res.sendStatus(err instanceof WebhookVerificationError ? 400 : 500);
    }
  });
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const secret = process.env.WEBHOOK_SECRET ?? '';
  expressReceiver(secret, (event, id) => console.log(id, event.type)).listen(
    Number(process.env.PORT ?? 3000),
  );
}
