/**
 * `anywire/events`: the Events extension (`io.modelcontextprotocol/events`, SEP-3415) for servers:
 * poll, push and signed webhook delivery, and its stores (occurrence log, webhook subscriptions,
 * delivery queue) with in-memory defaults. Node (webhook delivery uses `anywire/webhooks/sender`).
 * @module
 */
export type { EventsExtension, EventsOptions } from './extension.js';
export { createEventsExtension, TASK_UPDATED_EVENT } from './extension.js';
export { InMemoryWebhookDeliveryQueue } from './memory-deliveries.js';
export { InMemoryEventLog } from './memory-log.js';
export type { InMemoryEventLogOptions } from './memory-log.js';
export { InMemoryWebhookSubscriptionStore } from './memory-subscriptions.js';
export type {
  EventLog,
  EventLogEntry,
  EventLogStart,
  EventsStores,
  StoredWebhookSubscription,
  WebhookDeliveryJob,
  WebhookDeliveryOutcome,
  WebhookDeliveryQueue,
  WebhookDeliveryState,
  WebhookDeliveryWorker,
  WebhookSubscriptionStore,
} from './stores.js';
export type { DeliveryMode, EmitReceipt, EmittedEvent, EventConfig, EventHooks } from './types.js';
export { EVENTS_EXTENSION_ID, EventsErrorCode } from './types.js';
export type { EventWebhookSender, WebhookSubscription } from './webhook-subscriptions.js';
