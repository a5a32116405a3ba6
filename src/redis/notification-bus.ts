/**
 * `RedisNotificationBus`: the {@link NotificationBus} over Redis Pub/Sub, so `list_changed`,
 * `resources/updated`, task status and cancel signals published on one process reach the listen
 * streams, legacy sessions and task runners of every process (2026-07-28
 * basic/patterns/subscriptions; 2025-11-25 server/utilities list changes).
 * @module
 */
import type { NotificationBus, ServerEvent } from '../protocol/notification-bus.js';
import { checkIntegerOption } from '../protocol/option-checks.js';
import type { RedisClient, RedisConnectionOptions } from './connection.js';
import {
  closeClient,
  connected,
  connectionReporter,
  redisFailure,
  storeConnection,
  watchConnection,
} from './connection.js';
import { RedisKeys } from './keys.js';
import { randomHex } from '../protocol/random-hex.js';

/** Default of {@link RedisNotificationBusOptions.maxEventBytes}: 4 MiB. */
export const DEFAULT_MAX_BUS_EVENT_BYTES = 4 * 1024 * 1024;

/** Options of {@link RedisNotificationBus}. */
export interface RedisNotificationBusOptions {
  /** Prefix of the channel name. Default `anywire:` (channel `anywire:bus:events`). */
  keyPrefix?: string;
  /**
   * Largest event published or accepted, in bytes of its JSON message (UTF-8). A larger publish
   * rejects with a RangeError (nothing is sent; local listeners still hear it); a larger incoming
   * message is dropped. Default {@link DEFAULT_MAX_BUS_EVENT_BYTES}.
   */
  maxEventBytes?: number;
  /**
   * Receives connection errors (once per outage) of the subscriber connection, and of the client
   * when the bus made it. Default: the `onerror` of the connection options, else a process warning.
   */
  onConnectionError?: (error: Error) => void;
}

const LISTS = new Set(['tools', 'prompts', 'resources']);
const BROADCAST_ID = /^[0-9a-f]{8,64}$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The {@link ServerEvent} in a bus message, or `undefined` when the message is not one of ours
 * (invalid JSON, an unknown type, a field of the wrong type): garbage is dropped, never thrown.
 */
export function parseBusMessage(text: string): { from: string; event: ServerEvent } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(v) || typeof v.from !== 'string' || !isObject(v.event)) return undefined;
  const e = v.event;
  const ok =
    (e.type === 'list_changed' && typeof e.list === 'string' && LISTS.has(e.list)) ||
    (e.type === 'resource_updated' && typeof e.uri === 'string') ||
    (e.type === 'task_status' &&
      typeof e.taskId === 'string' &&
      isObject(e.task) &&
      (e.owner === undefined || typeof e.owner === 'string')) ||
    (e.type === 'task_cancelled' && typeof e.taskId === 'string') ||
    (e.type === 'task_input' && typeof e.taskId === 'string' && isObject(e.inputResponses)) ||
    (e.type === 'event_occurred' &&
      typeof e.origin === 'string' &&
      typeof e.cursor === 'string' &&
      isObject(e.event) &&
      typeof e.event.name === 'string' &&
      typeof e.event.eventId === 'string' &&
      typeof e.event.timestamp === 'string' &&
      isObject(e.event.data) &&
      (e.principal === undefined || typeof e.principal === 'string'));
  if (!ok) return undefined;
  // A broadcast's id becomes part of a Redis key: anything but 8 to 64 hex digits is dropped.
  if ('id' in e && (typeof e.id !== 'string' || !BROADCAST_ID.test(e.id))) delete e.id;
  return { from: v.from, event: e as ServerEvent };
}

/**
 * A {@link NotificationBus} shared by every process connected to the same Redis (and key prefix).
 *
 * - **Wire.** One Pub/Sub channel, `<prefix>bus:events`; each message is the JSON text
 *   `{"from": <bus id>, "event": <ServerEvent>}`. Pub/Sub keeps no key, so nothing needs a TTL.
 * - **Delivery.** `publish` delivers to this process's listeners at once (synchronously, even when
 *   Redis is down), then publishes on the channel; each other process delivers what it receives, in
 *   the order one publisher sent it (one connection per publisher). At most once: events published
 *   while a process was disconnected are not replayed to it.
 * - **Connections.** Publishing uses the given client; receiving uses one subscriber connection
 *   (`client.duplicate()`), opened at the first `subscribe` and resubscribed after every reconnect.
 * - **Errors.** `publish` rejects (`anywire/redis: publish failed: ...`) when Redis is unreachable
 *   (McpServer reports it to its `onerror`); a listener that throws goes to `onerror`; malformed
 *   messages on the channel are dropped.
 */
export class RedisNotificationBus implements NotificationBus {
  /** This bus's id in the messages it publishes (its own messages are not delivered twice). */
  readonly id = randomHex(16);
  /** The Pub/Sub channel. */
  readonly channel: string;
  onerror?: (error: unknown) => void;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #maxBytes: number;
  readonly #onConnectionError?: (error: Error) => void;
  readonly #listeners = new Set<(event: ServerEvent) => void>();
  #sub: RedisClient | undefined;
  #subscribed = false;
  #waiters: (() => void)[] = [];
  #closed = false;

  /**
   * @param target a redis:// URL, a node-redis client (you keep owning it), or connection options
   * @throws TypeError for a bad target or key prefix; RangeError for an out-of-range option
   */
  constructor(
    target: string | RedisClient | RedisConnectionOptions,
    options: RedisNotificationBusOptions = {},
  ) {
    checkIntegerOption('RedisNotificationBus', 'maxEventBytes', options.maxEventBytes, 1);
    this.#onConnectionError = options.onConnectionError ?? connectionReporter(target);
    const { client, owned } = storeConnection('RedisNotificationBus', target, this.#onConnectionError);
    this.#client = client;
    this.#owned = owned;
    this.#maxBytes = options.maxEventBytes ?? DEFAULT_MAX_BUS_EVENT_BYTES;
    this.channel = new RedisKeys('bus', options.keyPrefix).channel('events');
  }

  /**
   * Delivers `event` to this process's listeners, then publishes it to the others.
   * @throws RangeError when its message exceeds `maxEventBytes`; Error `anywire/redis: publish
   * failed: ...` when Redis is unreachable or the bus is closed
   */
  async publish(event: ServerEvent): Promise<void> {
    this.#deliver(event);
    const text = JSON.stringify({ from: this.id, event });
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > this.#maxBytes)
      throw new RangeError(
        `RedisNotificationBus: event of ${bytes} bytes exceeds maxEventBytes (${this.#maxBytes}); not sent to other processes`,
      );
    if (this.#closed) throw redisFailure('publish', new Error('the bus is closed'));
    await connected(this.#client);
    try {
      await this.#client.publish(this.channel, text);
    } catch (error) {
      throw redisFailure('publish', error);
    }
  }

  /** Registers a listener (opening the subscriber connection at the first one); returns its remover. */
  subscribe(listener: (event: ServerEvent) => void): () => void {
    const wrapper = (event: ServerEvent) => listener(event);
    this.#listeners.add(wrapper);
    if (!this.#sub && !this.#closed) this.#openSubscriber();
    return () => {
      this.#listeners.delete(wrapper);
    };
  }

  /**
   * Resolves once the subscriber connection listens on the channel (after the first `subscribe`),
   * within `timeoutMs` (default 5 000).
   * @throws Error when it does not within `timeoutMs`
   */
  async ready(timeoutMs = 5000): Promise<void> {
    if (!this.#sub && !this.#closed) this.#openSubscriber();
    if (this.#subscribed) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        reject(new Error(`RedisNotificationBus: not subscribed to ${this.channel} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(done);
    });
  }

  /** Closes the subscriber connection, and the client when the bus made it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const sub = this.#sub;
    this.#sub = undefined;
    if (sub) await closeClient(sub);
    if (this.#owned) await closeClient(this.#client);
  }

  #openSubscriber(): void {
    const sub = this.#client.duplicate();
    this.#sub = sub;
    watchConnection(sub, 'RedisNotificationBus (subscriber)', this.#onConnectionError);
    const onMessage = (message: string) => {
      const parsed = message.length <= this.#maxBytes ? parseBusMessage(message) : undefined;
      if (parsed && parsed.from !== this.id) this.#deliver(parsed.event);
    };
    // Subscribe once the connection is ready; node-redis resubscribes by itself after reconnects.
    const trySubscribe = () => {
      if (this.#subscribed || this.#sub !== sub || !sub.isReady) return;
      sub.subscribe(this.channel, onMessage).then(
        () => {
          this.#subscribed = true;
          for (const w of this.#waiters.splice(0)) w();
        },
        () => {}, // offline again: the next 'ready' retries
      );
    };
    sub.on('ready', trySubscribe);
    sub.connect().then(trySubscribe, () => {});
  }

  #deliver(event: ServerEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch (error) {
        this.onerror?.(error);
      }
    }
  }
}
