// Webhook verification, as receivers need it (Standard Webhooks; docs/webhooks.md).
export {
  type HeaderInput,
  type VerifyWebhookInput,
  verifyHonoRequest,
  verifyNodeRequest,
  verifyWebhook,
  type WebhookEvent,
  type WebhookEventType,
  WebhookVerificationError,
} from '@pixelmill/webhooks';
export {
  type Batch,
  type ClientOptions,
  type CreateBatchRequest,
  type CreateWebhookEndpoint,
  type CsvBatchOptions,
  createClient,
  type Delivery,
  type Item,
  type ItemStatus,
  type Model,
  type PixelmillClient,
  type RetryableStatus,
  type SubmitOptions,
  type Submitted,
  type UpdateWebhookEndpoint,
  type UploadBody,
  type WebhookEndpoint,
  type WebhookEndpointWithSecret,
} from './client.js';
export { type ErrorBody, type FieldProblem, PixelmillError } from './errors.js';
export type { components, operations, paths } from './openapi.js';
export { collect, type Page, paginate } from './paging.js';
