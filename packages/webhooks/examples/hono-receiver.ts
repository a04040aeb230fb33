// A pixelmill webhook receiver in Hono (served here by @hono/node-server; the route works on any runtime).
// Run: WEBHOOK_SECRET=whsec_... PORT=3000 pnpm exec tsx --conditions=@pixelmill/source examples/hono-receiver.ts
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { verifyHonoRequest, type WebhookEvent, WebhookVerificationError } from '@pixelmill/webhooks';
import { Hono } from 'hono';

export function honoReceiver(
  secret: string | string[],
  onEvent: (event: WebhookEvent, id: string) => void,
): Hono {
  const app = new Hono();
  app.post('/hooks/pixelmill', async (c) => {
    try {
      // verifyHonoRequest reads c.req.text(): the raw body the signature covers.
      const event = await verifyHonoRequest<WebhookEvent>(c, secret);
      onEvent(event, c.req.header('webhook-id') ?? '');
      return c.body(null, 204);
    } catch (err) {
      return c.body(null, err instanceof WebhookVerificationError ? 400 : 500);
    }
  });
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const secret = process.env.WEBHOOK_SECRET ?? '';
  serve({
    fetch: honoReceiver(secret, (event, id) => console.log(id, event.type)).fetch,
    port: Number(process.env.PORT ?? 3000),
  });
}
