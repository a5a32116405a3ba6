/**
 * `RedisTokenCache`: the token cache (RFC 7662 introspection answers) shared by every process, so a
 * token introspected by one node is not introspected again by the others while the answer is fresh.
 *
 * Key layout (prefix `anywire:` by default): `anywire:token:<key>`, a string holding the answer
 * (JSON written by the resource server), `PX` until the answer's end (at most the introspection
 * cache TTL, never past the token's `exp`). `<key>` is the base64url SHA-256 of the issuer and the
 * token: the token itself is never stored.
 * @module
 */
import type { TokenCache } from '../protocol/token-cache.js';
import { checkIntegerOption } from '../protocol/option-checks.js';
import type { RedisClient, RedisConnectionOptions } from './connection.js';
import { closeClient, connected, isWrongType, redisFailure, storeConnection } from './connection.js';
import { RedisKeys } from './keys.js';

/** Largest answer shared, by default: 16 KiB of JSON. */
export const DEFAULT_MAX_TOKEN_CACHE_ENTRY_BYTES = 16_384;

/** Options of {@link RedisTokenCache}. */
export interface RedisTokenCacheOptions {
  /** Prefix of every key. Default `anywire:`. */
  keyPrefix?: string;
  /**
   * Largest answer stored, in bytes (>= 256): a bigger one is not shared (the process that got it
   * still caches it). Default {@link DEFAULT_MAX_TOKEN_CACHE_ENTRY_BYTES}.
   */
  maxEntryBytes?: number;
}

/**
 * A {@link TokenCache} on Redis: `get` is one `GET`, `set` one `SET ... PX <untilMs - now>`.
 * Anything under a key that is not a string reads as a miss.
 * @throws from `get`/`set`: Error `anywire/redis: tokenCache failed: ...` when Redis is unreachable
 * (the resource server then introspects, as on a miss)
 */
export class RedisTokenCache implements TokenCache {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #keys: RedisKeys;
  readonly #maxEntryBytes: number;

  /**
   * @param target a redis:// URL, a node-redis client (you keep owning it), or connection options
   * @throws TypeError for a bad target or key prefix; RangeError for an out-of-range `maxEntryBytes`
   */
  constructor(target: string | RedisClient | RedisConnectionOptions, options: RedisTokenCacheOptions = {}) {
    checkIntegerOption('RedisTokenCache', 'maxEntryBytes', options.maxEntryBytes, 256);
    this.#maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_TOKEN_CACHE_ENTRY_BYTES;
    this.#keys = new RedisKeys('token', options.keyPrefix);
    const { client, owned } = storeConnection('RedisTokenCache', target);
    this.#client = client;
    this.#owned = owned;
  }

  /** The Redis key of one entry. */
  keyOf(key: string): string {
    return this.#keys.key(key);
  }

  async get(key: string): Promise<string | undefined> {
    await connected(this.#client);
    try {
      const value = await this.#client.get(this.keyOf(key));
      return typeof value === 'string' ? value : undefined;
    } catch (error) {
      if (isWrongType(error)) return undefined;
      throw redisFailure('tokenCache', error);
    }
  }

  async set(key: string, value: string, untilMs: number): Promise<void> {
    const ttlMs = Math.floor(untilMs - Date.now());
    if (ttlMs < 1 || Buffer.byteLength(value) > this.#maxEntryBytes) return;
    await connected(this.#client);
    try {
      await this.#client.set(this.keyOf(key), value, { expiration: { type: 'PX', value: ttlMs } });
    } catch (error) {
      throw redisFailure('tokenCache', error);
    }
  }

  /** Closes the connection when the cache made it. */
  async close(): Promise<void> {
    if (this.#owned) await closeClient(this.#client);
  }
}
