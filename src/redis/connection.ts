/**
 * The Redis connection every `anywire/redis` store uses: a node-redis client (`redis` v5+) set up
 * so that an outage never crashes the process and never makes a request wait: `error` events are
 * always listened to (and reported once per outage, not once per reconnect attempt), commands are
 * refused at once while disconnected (`disableOfflineQueue`), and each command has a timeout
 * (`commandTimeoutMs`). The client reconnects by itself (backoff up to `reconnectMaxDelayMs`).
 * @module
 */
import { createClient } from 'redis';
import type { RedisClientType } from 'redis';
import { checkIntegerOption } from '../protocol/option-checks.js';

/** A node-redis client as `createClient()` makes it (RESP3, default modules: what the stores accept). */
export type RedisClient = RedisClientType;

/** Default of {@link RedisConnectionOptions.commandTimeoutMs}: 2 s. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2000;
/** Default of {@link RedisConnectionOptions.connectTimeoutMs}: 5 s. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 5000;
/** Default of {@link RedisConnectionOptions.reconnectMaxDelayMs}: 1 s. */
export const DEFAULT_REDIS_RECONNECT_MAX_DELAY_MS = 1000;

/** How to reach Redis: a URL, a client of yours, and the safety settings of a client made for you. */
export interface RedisConnectionOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]`. Ignored when `client` is given. */
  url?: string;
  /**
   * A node-redis client of yours (connected or not). You own it: `close()` leaves it open, and the
   * settings below do not apply to it (set `disableOfflineQueue` and a command timeout yourself, and
   * listen to its `error` events). Pub/sub uses `client.duplicate()`, which the store owns.
   */
  client?: RedisClient;
  /**
   * Time in ms one command may take before it is failed (node-redis `commandOptions.timeout`), so a
   * request that needs Redis never hangs on it. Default {@link DEFAULT_REDIS_COMMAND_TIMEOUT_MS}.
   */
  commandTimeoutMs?: number;
  /** Time in ms a connection attempt may take (node-redis `socket.connectTimeout`). Default 5 000. */
  connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts, in ms (exponential backoff from 50 ms). Default 1 000. */
  reconnectMaxDelayMs?: number;
  /**
   * Receives connection errors: the first of each outage (the reconnection attempts that follow are
   * not repeated), then nothing until the connection was ready again. Default: a process warning
   * (stderr).
   */
  onerror?: (error: Error) => void;
}

/** The client-side part of {@link RedisConnectionOptions} (what is needed to make a client). */
type ClientSettings = Omit<RedisConnectionOptions, 'client'>;

function warn(error: Error): void {
  const proc = (globalThis as { process?: { emitWarning?: (w: Error) => void } }).process;
  proc?.emitWarning?.(error);
}

/**
 * Listens to a client's `error` events (so none is ever unhandled) and reports the first of each
 * outage to `report`, prefixed with `what` (e.g. `anywire/redis (pub/sub)`).
 */
export function watchConnection(
  client: RedisClient,
  what: string,
  report: (error: Error) => void = warn,
): void {
  let down = false;
  client.on('error', (error: unknown) => {
    if (down) return;
    down = true;
    const e = error instanceof Error ? error : new Error(String(error));
    report(new Error(`${what}: Redis connection lost or refused (${e.message}); reconnecting`, { cause: e }));
  });
  client.on('ready', () => {
    down = false;
  });
}

/**
 * Checks the numeric connection options.
 * @throws RangeError naming the option and its range
 */
export function checkConnectionOptions(owner: string, o: ClientSettings): void {
  checkIntegerOption(owner, 'commandTimeoutMs', o.commandTimeoutMs, 1);
  checkIntegerOption(owner, 'connectTimeoutMs', o.connectTimeoutMs, 1);
  checkIntegerOption(owner, 'reconnectMaxDelayMs', o.reconnectMaxDelayMs, 1);
}

/**
 * Makes a node-redis client with the safe settings of {@link RedisConnectionOptions} (not
 * connected yet: call `connect()`, or let a store do it). Its `error` events are handled.
 * @throws RangeError for an out-of-range option; TypeError when `url` is missing
 */
export function createRedisClient(
  options: ClientSettings & { url: string },
  what = 'anywire/redis',
): RedisClient {
  checkConnectionOptions('createRedisClient', options);
  if (typeof options.url !== 'string' || !options.url)
    throw new TypeError('createRedisClient: url must be a redis:// or rediss:// URL');
  const maxDelay = options.reconnectMaxDelayMs ?? DEFAULT_REDIS_RECONNECT_MAX_DELAY_MS;
  const client = createClient({
    url: options.url,
    // Refuse commands while disconnected instead of queueing them until Redis is back.
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelay),
    },
  });
  watchConnection(client, what, options.onerror);
  return client;
}

/**
 * Starts connecting `client` when it is not open (errors are reported through its `error`
 * listeners, and the client keeps retrying); never rejects.
 */
export function connectInBackground(client: RedisClient): void {
  if (client.isOpen) return;
  client.connect().then(
    () => {},
    () => {},
  );
}

/**
 * Resolves when `client` is ready (connected), within `timeoutMs`.
 * @throws Error `Redis at <where> is not reachable within <timeoutMs> ms` otherwise
 */
export async function whenReady(client: RedisClient, timeoutMs: number, where = 'Redis'): Promise<void> {
  if (client.isReady) return;
  connectInBackground(client);
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('ready', done);
      reject(new Error(`anywire/redis: ${where} is not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on('ready', done);
    if (client.isReady) done();
  });
}

/** Clients that were ready at least once (their later outages fail commands at once). */
const everReady = new WeakSet<object>();
const firstWaits = new WeakMap<object, Promise<void>>();

/**
 * Waits for a client's first connection (up to {@link DEFAULT_REDIS_CONNECT_TIMEOUT_MS}), so the
 * first commands of a store made from a URL do not fail while it is still connecting; returns at
 * once when the client is ready or was ready before (an outage then fails commands fast, as
 * `disableOfflineQueue` wants). Never rejects: the command that follows reports the failure.
 */
export function connected(client: RedisClient): Promise<void> | undefined {
  if (client.isReady) {
    everReady.add(client);
    return undefined;
  }
  if (everReady.has(client)) return undefined;
  let wait = firstWaits.get(client);
  if (!wait) {
    wait = whenReady(client, DEFAULT_REDIS_CONNECT_TIMEOUT_MS).then(
      () => void everReady.add(client),
      () => void everReady.add(client), // never reached: later commands fail at once
    );
    firstWaits.set(client, wait);
  }
  return wait;
}

/**
 * Sends PING and resolves when PONG comes back within `timeoutMs`.
 * @throws Error `anywire/redis: Redis did not answer PING within <timeoutMs> ms (<why>)`
 */
export async function ping(client: RedisClient, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new Error(
      `anywire/redis: Redis did not answer PING within ${timeoutMs} ms (${(error as Error).message})`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wraps a failed Redis command in an Error that says which store operation failed and why (the
 * node-redis error is the `cause`): `anywire/redis: <op> failed: <reason>`.
 */
export function redisFailure(op: string, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`anywire/redis: ${op} failed: ${reason}`, { cause: error });
}

/** True for a Redis WRONGTYPE reply: something else than ours under our key (treated as absent). */
export function isWrongType(error: unknown): boolean {
  return error instanceof Error && /WRONGTYPE/.test(error.message);
}

/** A client for a store: yours (not owned) or one made from the URL (owned, closed by the store). */
export interface StoreConnection {
  client: RedisClient;
  owned: boolean;
}

/**
 * The client a store uses: `options.client`, else a new one from `options.url` (connected in the
 * background; its connection errors go to `onerror`, else `options.onerror`).
 * @throws TypeError when neither is given
 */
export function storeConnection(
  owner: string,
  target: string | RedisClient | RedisConnectionOptions,
  onerror?: (error: Error) => void,
): StoreConnection {
  const given: RedisConnectionOptions =
    typeof target === 'string' ? { url: target } : isClient(target) ? { client: target } : target;
  const options = onerror ? { ...given, onerror } : given;
  checkConnectionOptions(owner, options);
  if (options.client) return { client: options.client, owned: false };
  if (!options.url)
    throw new TypeError(`${owner}: pass a redis:// URL, a node-redis client, or { url | client }`);
  const client = createRedisClient({ ...options, url: options.url }, owner);
  connectInBackground(client);
  return { client, owned: true };
}

/** The `onerror` of connection options given as a store's target, if any. */
export function connectionReporter(
  target: string | RedisClient | RedisConnectionOptions,
): ((error: Error) => void) | undefined {
  return typeof target === 'object' && !isClient(target) ? target.onerror : undefined;
}

/** Whether `v` looks like a node-redis client (vs an options object). */
export function isClient(v: unknown): v is RedisClient {
  return (
    typeof v === 'object' && v !== null && typeof (v as { duplicate?: unknown }).duplicate === 'function'
  );
}

/** Closes a client we own; ignores one that is already closed. */
export async function closeClient(client: RedisClient): Promise<void> {
  if (!client.isOpen) return;
  // While reconnecting, a graceful close would wait for the connection: drop it instead.
  if (!client.isReady) {
    client.destroy();
    return;
  }
  try {
    await client.close();
  } catch {
    client.destroy();
  }
}
