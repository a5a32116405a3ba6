/**
 * `anywire/webhooks`: the receiving side of MCP webhook deliveries (runtime-neutral) and the
 * helpers both sides share. The Node-only sender with SSRF protection is `anywire/webhooks/sender`.
 * @module
 */
export type { DeliveryInfo, ReceiverResponse, WebhookReceiverOptions } from './receiver.js';
export { WebhookReceiver } from './receiver.js';
export {
  DEFAULT_WEBHOOK_SECRET_BYTES,
  generateWebhookSecret,
  isWebhookSecret,
  WEBHOOK_SECRET_MAX_BYTES,
  WEBHOOK_SECRET_MIN_BYTES,
  WEBHOOK_SECRET_PREFIX,
} from './secret.js';
export type { ControlEnvelope, DeliveryErrorCategory, EventOccurrence } from './types.js';
export { MAX_WEBHOOK_BODY_BYTES, SUBSCRIPTION_ID_HEADER } from './types.js';
