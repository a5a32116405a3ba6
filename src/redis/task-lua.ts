/**
 * What the Redis task store and task leases share: the connection they use (the `anywire/redis`
 * one: a node-redis client given to them, or made from a URL or connection options and owned),
 * Lua scripts run by SHA with a fallback to EVAL, and reply helpers. Internal to `anywire/redis`.
 * @module
 */
import { createHash } from 'node:crypto';
import type { RedisClient, RedisConnectionOptions } from './connection.js';
import {
  closeClient,
  connectionReporter,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  isClient,
  storeConnection,
  whenReady,
} from './connection.js';

/** Where a task store or lease set finds Redis: a URL, a node-redis client, or connection options. */
export type RedisTarget = string | RedisClient | RedisConnectionOptions;

/** A store's connection: commands wait for the first connection of an owned client (bounded). */
export class CommandLink {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #connectTimeoutMs: number;
  #closed = false;

  /**
   * @param target a URL or connection options (a client is made and owned) or your client
   * @param owner the store's name, for error messages
   * @throws TypeError without a URL or client
   */
  constructor(target: RedisTarget, owner: string) {
    const { client, owned } = storeConnection(owner, target, connectionReporter(target));
    this.#client = client;
    this.#owned = owned;
    this.#connectTimeoutMs =
      (typeof target === 'object' && !isClient(target) ? target.connectTimeoutMs : undefined) ??
      DEFAULT_REDIS_CONNECT_TIMEOUT_MS;
  }

  /**
   * The client; an owned one not connected yet is waited for (at most `connectTimeoutMs`). Once
   * connected, commands fail at once while Redis is unreachable (`disableOfflineQueue`).
   * @throws Error `anywire/redis: Redis is not reachable within <n> ms`, or when closed
   */
  async client(): Promise<RedisClient> {
    if (this.#closed) throw new Error('anywire/redis: the store is closed');
    if (this.#owned && !this.#client.isReady) await whenReady(this.#client, this.#connectTimeoutMs);
    return this.#client;
  }

  /** Closes the owned client (a client given to the store stays open: its owner closes it). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#owned) await closeClient(this.#client);
  }
}

/** A Lua script, run by SHA-1 (`EVALSHA`), loaded with `EVAL` when Redis does not know it yet. */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  /** @param source the Lua source (its SHA-1 is computed once) */
  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script with `keys` (KEYS) and `args` (ARGV); rejects with Redis's error. */
  async run(client: RedisClient, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await client.sendCommand(['EVALSHA', this.#sha, ...tail]);
    } catch (error) {
      if (!String((error as Error)?.message ?? error).startsWith('NOSCRIPT')) throw error;
      return client.sendCommand(['EVAL', this.#source, ...tail]);
    }
  }
}

/**
 * Lua: `reset(key, type)` deletes `key` when it holds another type than `type` (garbage under our
 * keys is treated as absent); `keep(key, ms, before)` makes sure `key` lives at least `ms`
 * more (`before` is its PTTL before the script wrote to it: a key that was persistent stays so, a
 * new one gets the TTL; `ms` = -1 makes it persistent); `nowms()` is the Redis server's clock in ms.
 */
export const LUA_HELPERS = `
local function reset(key, kind)
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= kind then redis.call('DEL', key) end
end
local function keep(key, ms, before)
  if ms < 0 then redis.call('PERSIST', key) return end
  if before == -1 then return end
  local left = redis.call('PTTL', key)
  if left < ms then redis.call('PEXPIRE', key, ms) end
end
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** A reply as an array (a nil or other reply as an empty one). */
export function asArray(reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : [];
}

/** A reply as a string, or `undefined` (nil, or not a bulk string). */
export function asString(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return undefined;
}
