/**
 * `RedisReplayCache`: the DPoP `jti` replay cache (RFC 9449 section 11.1) shared by every process,
 * so a proof replayed against another process is refused too.
 * @module
 */
import { createHash } from 'node:crypto';
import type { ReplayCache } from '../protocol/replay-cache.js';
import type { RedisClient, RedisConnectionOptions } from './connection.js';
import { closeClient, connected, redisFailure, storeConnection } from './connection.js';
import { RedisKeys } from './keys.js';

/** Options of {@link RedisReplayCache}. */
export interface RedisReplayCacheOptions {
  /** Prefix of every key. Default `anywire:`. */
  keyPrefix?: string;
}

/**
 * A {@link ReplayCache} on Redis: `checkAndStore` is one `SET <prefix>replay:<sha256(key)> 1 NX PX
 * <untilMs - now>`; its TTL is the entry's lifetime (at least 1 ms). Anything already under the key,
 * whatever it holds, counts as seen: a replay cache fails safe (the proof is refused).
 * @throws from `checkAndStore`: Error `anywire/redis: dpopReplayCache failed: ...` when Redis is
 * unreachable (the DPoP check then fails the request: it cannot tell a replay)
 */
export class RedisReplayCache implements ReplayCache {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #keys: RedisKeys;

  /**
   * @param target a redis:// URL, a node-redis client (you keep owning it), or connection options
   * @throws TypeError for a bad target or key prefix
   */
  constructor(target: string | RedisClient | RedisConnectionOptions, options: RedisReplayCacheOptions = {}) {
    this.#keys = new RedisKeys('replay', options.keyPrefix);
    const { client, owned } = storeConnection('RedisReplayCache', target);
    this.#client = client;
    this.#owned = owned;
  }

  /** The key of one recorded value. */
  keyOf(key: string): string {
    return this.#keys.key(createHash('sha256').update(key).digest('hex'));
  }

  async checkAndStore(key: string, untilMs: number): Promise<boolean> {
    const ttlMs = Math.max(1, Math.ceil(untilMs - Date.now()));
    const redisKey = this.keyOf(key);
    await connected(this.#client);
    try {
      const set = await this.#client.set(redisKey, '1', {
        condition: 'NX',
        expiration: { type: 'PX', value: ttlMs },
      });
      return set === 'OK';
    } catch (error) {
      throw redisFailure('dpopReplayCache', error);
    }
  }

  /** Closes the connection when the cache made it. */
  async close(): Promise<void> {
    if (this.#owned) await closeClient(this.#client);
  }
}
