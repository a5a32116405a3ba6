/**
 * `redisStores(url | options)`: every Redis store of `anywire/redis` on one shared connection, as
 * the {@link Stores} aggregate a server takes (`new McpServer(info, { stores })` or
 * `server.useStores(stores)`).
 * @module
 */
import type { Stores } from '../protocol/stores.js';
import type { RedisClient, RedisConnectionOptions } from './connection.js';
import {
  checkConnectionOptions,
  closeClient,
  createRedisClient,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  isClient,
  ping,
  whenReady,
} from './connection.js';
import type { RedisEventsStoresOptions } from './events.js';
import { redisEventsStores } from './events.js';
import type { RedisEventStoreOptions } from './event-store.js';
import { RedisEventStore } from './event-store.js';
import type { RedisReplayCacheOptions } from './replay-cache.js';
import { RedisReplayCache } from './replay-cache.js';
import type { RedisTokenCacheOptions } from './token-cache.js';
import { RedisTokenCache } from './token-cache.js';
import type { RedisKeyRingOptions } from './key-ring.js';
import { RedisKeyRing } from './key-ring.js';
import type { RedisNotificationBusOptions } from './notification-bus.js';
import { RedisNotificationBus } from './notification-bus.js';
import type { RedisTaskLeasesOptions } from './task-leases.js';
import { RedisTaskLeases } from './task-leases.js';
import type { RedisTaskStoreOptions } from './task-store.js';
import { RedisTaskStore } from './task-store.js';
import type { RedisSessionStoreOptions } from './session-store.js';
import { RedisSessionStore } from './session-store.js';
import { checkIntegerOption } from '../protocol/option-checks.js';

/** Default of {@link RedisStoresOptions.readyTimeoutMs}: 1 s. */
export const DEFAULT_REDIS_READY_TIMEOUT_MS = 1000;

/**
 * Options of {@link redisStores}: the connection (see {@link RedisConnectionOptions}), the key
 * prefix shared by every store, and per-store options (`false` leaves a store out, so the server
 * keeps its in-memory default for it).
 */
export interface RedisStoresOptions extends RedisConnectionOptions {
  /** Prefix of every key and channel. Default `anywire:`. */
  keyPrefix?: string;
  /**
   * This node's name (`anywire serve --node-id`): `stores.nodeId` (the holder named on the task
   * leases this node takes) and the default `events.consumer`. Default: unset (a random holder id
   * per server, the deliveries' own default consumer name).
   */
  nodeId?: string;
  /** Time in ms `ready()` waits for PONG. Default {@link DEFAULT_REDIS_READY_TIMEOUT_MS}. */
  readyTimeoutMs?: number;
  /**
   * Resolve at once, without waiting for the first connection (it goes on in the background;
   * `ready()` says when Redis is reachable). Default false: `redisStores` waits up to
   * `connectTimeoutMs` and rejects when Redis is not reachable.
   */
  lazyConnect?: boolean;
  /** The notification bus (Pub/Sub), or `false` to leave it out. */
  notificationBus?: RedisNotificationBusOptions | false;
  /**
   * How far the clocks of the nodes (and Redis's) may differ, in ms: the task store's
   * `maxClockSkewMs` unless `taskStore` sets its own. Within it, no node sees a task expire before
   * its `ttl` has passed; leases judge time by Redis `TIME`, whatever the skew. Default
   * `DEFAULT_MAX_CLOCK_SKEW_MS` (2000).
   */
  maxClockSkewMs?: number;
  /** The task store of both Tasks implementations, or `false` to leave it out (`keyPrefix` is shared). */
  taskStore?: Omit<RedisTaskStoreOptions, 'keyPrefix'> | false;
  /**
   * The task leases of the 2026-07-28 Tasks extension (durable tasks: a task whose node died is
   * failed, or re-run when its tool is idempotent), or `false` to leave them out.
   */
  taskLeases?: Omit<RedisTaskLeasesOptions, 'keyPrefix'> | false;
  /** Legacy Streamable HTTP sessions shared by every process, or `false` to leave them out. */
  sessionStore?: Pick<RedisSessionStoreOptions, 'maxSessionRecordBytes'> | false;
  /**
   * The Events extension's stores (occurrence log, webhook subscriptions, delivery queue; see
   * `redisEventsStores`), or `false` to leave them out. Set `consumer` to the node id.
   */
  events?: Omit<RedisEventsStoresOptions, 'keyPrefix'> | false;
  /** The legacy SSE event store (Streams), or `false` to leave it out. */
  eventStore?: RedisEventStoreOptions | false;
  /**
   * The `requestState` key ring (set `retireAfterMs` to at least the server's `requestState.ttlMs`
   * when you raised it), or `false` to leave it out.
   */
  keyRing?: RedisKeyRingOptions | false;
  /** The DPoP `jti` replay cache (give it to `oauthResourceServer`'s `dpop.replayCache`), or `false`. */
  dpopReplayCache?: RedisReplayCacheOptions | false;
  /**
   * The token cache (introspection answers shared by every node; give it to `oauthResourceServer`'s
   * `tokenCache`), or `false`.
   */
  tokenCache?: RedisTokenCacheOptions | false;
}

/** The Redis-backed {@link Stores}: what {@link redisStores} resolves to. */
export interface RedisStores extends Stores {
  /** The shared node-redis client (owned by these stores unless you passed yours). */
  readonly client: RedisClient;
  notificationBus?: RedisNotificationBus;
  taskStore?: RedisTaskStore;
  taskLeases?: RedisTaskLeases;
  sessionStore?: RedisSessionStore;
  eventStore?: RedisEventStore;
  keyRing?: RedisKeyRing;
  dpopReplayCache?: RedisReplayCache;
  tokenCache?: RedisTokenCache;
  /**
   * Resolves when Redis answers PING within `readyTimeoutMs` and the bus listens on its channel.
   * @throws Error `anywire/redis: Redis did not answer PING within <n> ms (<why>)`
   */
  ready(): Promise<void>;
  /** Closes the stores' connections (your own client stays open). Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects to Redis and builds every Redis store on one client.
 * @param target a redis:// URL, or {@link RedisStoresOptions}
 * @throws TypeError for a bad URL, client or key prefix; RangeError for an out-of-range option;
 * Error `anywire/redis: Redis is not reachable within <n> ms` when the first connection fails
 * (unless `lazyConnect`)
 */
export async function redisStores(target: string | RedisStoresOptions): Promise<RedisStores> {
  const options: RedisStoresOptions = typeof target === 'string' ? { url: target } : target;
  checkConnectionOptions('redisStores', options);
  checkIntegerOption('redisStores', 'readyTimeoutMs', options.readyTimeoutMs, 1);
  if (options.nodeId !== undefined && (typeof options.nodeId !== 'string' || options.nodeId === ''))
    throw new TypeError('redisStores: nodeId must be a non-empty string');
  if (options.client !== undefined && !isClient(options.client))
    throw new TypeError('redisStores: client must be a node-redis client');
  const owned = !options.client;
  if (owned && (typeof options.url !== 'string' || !options.url))
    throw new TypeError('redisStores: pass a redis:// URL, or { url } or { client }');
  const client = options.client ?? createRedisClient({ ...options, url: options.url! }, 'anywire/redis');
  const keyPrefix = options.keyPrefix;
  const closers: (() => Promise<void>)[] = [];
  const readiness: (() => Promise<void>)[] = [];
  const stores: Partial<RedisStores> = {};

  // One block per store: add yours here (built on `client`, closed by `closers`).
  try {
    if (options.notificationBus !== false) {
      const bus = new RedisNotificationBus(client, {
        keyPrefix,
        onConnectionError: options.onerror,
        ...options.notificationBus,
      });
      stores.notificationBus = bus;
      closers.push(() => bus.close());
      readiness.push(() => bus.ready(options.readyTimeoutMs ?? DEFAULT_REDIS_READY_TIMEOUT_MS));
    }
    // Tasks: records, and the lease queue (both on the shared client, so nothing to close).
    if (options.taskStore !== false)
      stores.taskStore = new RedisTaskStore(client, {
        ...(options.maxClockSkewMs !== undefined ? { maxClockSkewMs: options.maxClockSkewMs } : {}),
        ...options.taskStore,
        keyPrefix,
      });
    if (options.taskLeases !== false)
      stores.taskLeases = new RedisTaskLeases(client, { ...options.taskLeases, keyPrefix });
    if (options.sessionStore !== false) {
      const sessionStore = new RedisSessionStore(client, {
        keyPrefix,
        onerror: options.onerror,
        ...options.sessionStore,
      });
      stores.sessionStore = sessionStore;
      closers.push(() => sessionStore.close());
    }
    if (options.nodeId !== undefined) stores.nodeId = options.nodeId;
    if (options.events !== false) {
      const consumer = options.events?.consumer ?? options.nodeId;
      const events = redisEventsStores(client, {
        ...options.events,
        ...(consumer !== undefined ? { consumer } : {}),
        keyPrefix,
      });
      stores.events = events;
      closers.push(() => events.deliveries.stop());
    }
    if (options.eventStore !== false) {
      stores.eventStore = new RedisEventStore(client, { keyPrefix, ...options.eventStore });
    }
    if (options.dpopReplayCache !== false)
      stores.dpopReplayCache = new RedisReplayCache(client, { keyPrefix, ...options.dpopReplayCache });
    if (options.tokenCache !== false)
      stores.tokenCache = new RedisTokenCache(client, { keyPrefix, ...options.tokenCache });
    if (options.keyRing !== false) {
      stores.keyRing = new RedisKeyRing(options.keyRing?.keys ? undefined : client, {
        keyPrefix,
        ...options.keyRing,
      });
    }
  } catch (error) {
    if (owned) await closeClient(client);
    throw error;
  }

  let closed: Promise<void> | undefined;
  const result: RedisStores = {
    ...stores,
    client,
    async ready() {
      const timeoutMs = options.readyTimeoutMs ?? DEFAULT_REDIS_READY_TIMEOUT_MS;
      await ping(client, timeoutMs);
      for (const check of readiness) await check();
    },
    close() {
      closed ??= (async () => {
        for (const close of closers.reverse()) await close().catch(() => {});
        if (owned) await closeClient(client);
      })();
      return closed;
    },
  };
  if (!options.lazyConnect) {
    try {
      await whenReady(client, options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS);
    } catch (error) {
      await result.close();
      throw error;
    }
  }
  return result;
}
