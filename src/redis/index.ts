/**
 * `anywire/redis`: the shared stores of a multi-process deployment on Redis 7 (node-redis client),
 * switched at once with `stores: await redisStores('redis://…')`. Node-only; never imported by the
 * root entry. Every key starts with a prefix (default `anywire:`) and carries a TTL; keys used
 * together share a Redis Cluster slot through a hash tag.
 * @module
 */
export type { RedisClient, RedisConnectionOptions } from './connection.js';
export {
  createRedisClient,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  DEFAULT_REDIS_RECONNECT_MAX_DELAY_MS,
  isWrongType,
  redisFailure,
} from './connection.js';
export type {
  EventsRedisClient,
  EventsRedisOptions,
  RedisEventLogOptions,
  RedisEventsStoresOptions,
  RedisWebhookDeliveryQueueOptions,
  RedisWebhookSubscriptionStoreOptions,
} from './events.js';
export {
  RedisEventLog,
  redisEventsStores,
  RedisWebhookDeliveryQueue,
  RedisWebhookSubscriptionStore,
} from './events.js';
export { DEFAULT_KEY_PREFIX, escapeKeyPart, RedisKeys } from './keys.js';
export type { RedisEventStoreOptions, StoredEventEntry } from './event-store.js';
export {
  DEFAULT_REDIS_EVENT_TTL_MS,
  DEFAULT_REDIS_MAX_EVENT_BYTES,
  DEFAULT_REDIS_MAX_EVENTS_PER_STREAM,
  DEFAULT_REDIS_MAX_STREAM_BYTES,
  DEFAULT_REDIS_MAX_STREAMS_PER_SESSION,
  RedisEventStore,
} from './event-store.js';
export type { RedisReplayCacheOptions } from './replay-cache.js';
export { RedisReplayCache } from './replay-cache.js';
export type { RedisTokenCacheOptions } from './token-cache.js';
export { DEFAULT_MAX_TOKEN_CACHE_ENTRY_BYTES, RedisTokenCache } from './token-cache.js';
export type { RedisKeyRingOptions } from './key-ring.js';
export {
  DEFAULT_KEY_RING_REFRESH_MS,
  DEFAULT_KEY_RING_RETIRE_AFTER_MS,
  DEFAULT_KEY_RING_TTL_MS,
  RedisKeyRing,
} from './key-ring.js';
export type { RedisNotificationBusOptions } from './notification-bus.js';
export { DEFAULT_MAX_BUS_EVENT_BYTES, parseBusMessage, RedisNotificationBus } from './notification-bus.js';
export { RedisPostStreamRegistry } from './post-streams.js';
export type { RedisSessionStoreOptions } from './session-store.js';
export { RedisSessionRouter, RedisSessionStore } from './session-store.js';
export type { RedisStores, RedisStoresOptions } from './stores.js';
export { DEFAULT_REDIS_READY_TIMEOUT_MS, redisStores } from './stores.js';
export type { RedisTarget } from './task-lua.js';
export type { RedisTaskLeasesOptions } from './task-leases.js';
export { DEFAULT_LEASE_QUEUE_TTL_MS, RedisTaskLeases } from './task-leases.js';
export type { RedisTaskStoreOptions } from './task-store.js';
export {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_MAX_TASK_ID_CHARS,
  DEFAULT_MAX_TASK_RECORD_BYTES,
  RedisTaskStore,
} from './task-store.js';
