export { type DeliverWebhookInput, type DeliveryResult, deliverWebhook } from './deliver.js';
export * from './events/index.js';
export { type HonoLikeContext, verifyHonoRequest, verifyNodeRequest } from './receivers.js';
export { deliverySchedule, nextDelayMs } from './schedule.js';
export { generateWebhookSecret } from './secret.js';
export { type SignWebhookInput, signWebhook, type WebhookHeaders } from './sign.js';
export {
  type HeaderInput,
  type VerifyWebhookInput,
  verifyWebhook,
  WebhookVerificationError,
} from './verify.js';
