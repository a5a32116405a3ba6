/**
 * `anywire/events`: the Events extension (`io.modelcontextprotocol/events`, SEP-3415) for servers:
 * poll, push and signed webhook delivery. Node (webhook delivery uses `anywire/webhooks/sender`).
 * @module
 */
export type { EventsExtension, EventsOptions } from './extension.js';
export { createEventsExtension, TASK_UPDATED_EVENT } from './extension.js';
export type { DeliveryMode, EmittedEvent, EventConfig, EventHooks } from './types.js';
export { EVENTS_EXTENSION_ID, EventsErrorCode } from './types.js';
export type { EventWebhookSender, WebhookSubscription } from './webhook-subscriptions.js';
