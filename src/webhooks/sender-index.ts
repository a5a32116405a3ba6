/**
 * `anywire/webhooks/sender`: signed, SSRF-guarded webhook delivery (Node-only).
 * @module
 */
export type { DeliveryResult, WebhookMessage, WebhookRetryOptions, WebhookSenderOptions } from './sender.js';
export { WebhookSender } from './sender.js';
export type { ResolvedAddress, Resolver } from './ssrf.js';
export { isPublicAddress, resolveTarget, systemResolver, WebhookTargetError } from './ssrf.js';
