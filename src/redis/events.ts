/**
 * The Events extension's stores on Redis, made together: `redisEventsStores(client, options)` is
 * the `events` field of `Stores` (occurrence log on Streams, webhook subscriptions in hashes and
 * sorted sets, the delivery queue on a Stream with a consumer group). Node-only.
 * @module
 */
import type { EventsStores } from '../events/stores.js';
import type { EventsRedisClient } from './events-common.js';
import { RedisWebhookDeliveryQueue } from './events-deliveries.js';
import type { RedisWebhookDeliveryQueueOptions } from './events-deliveries.js';
import { RedisEventLog } from './events-log.js';
import type { RedisEventLogOptions } from './events-log.js';
import { RedisWebhookSubscriptionStore } from './events-subscriptions.js';

export type { EventsRedisClient, EventsRedisOptions } from './events-common.js';
export { RedisWebhookDeliveryQueue } from './events-deliveries.js';
export type { RedisWebhookDeliveryQueueOptions } from './events-deliveries.js';
export { RedisEventLog } from './events-log.js';
export type { RedisEventLogOptions } from './events-log.js';
export { RedisWebhookSubscriptionStore } from './events-subscriptions.js';
export type { RedisWebhookSubscriptionStoreOptions } from './events-subscriptions.js';

/** Options of {@link redisEventsStores}: those of the three stores (one `keyPrefix`). */
export type RedisEventsStoresOptions = RedisEventLogOptions & RedisWebhookDeliveryQueueOptions;

/**
 * The three Events stores on one connected node-redis client (the caller owns the client; the
 * delivery queue opens a duplicate for blocking reads while its worker runs).
 * @throws RangeError or TypeError for a bad option
 */
export function redisEventsStores(
  client: EventsRedisClient,
  options: RedisEventsStoresOptions = {},
): Required<EventsStores> {
  return {
    log: new RedisEventLog(client, options),
    subscriptions: new RedisWebhookSubscriptionStore(client, options),
    deliveries: new RedisWebhookDeliveryQueue(client, options),
  };
}
