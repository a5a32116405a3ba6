/**
 * The in-memory {@link TokenCache}: one process's twin of the shared `RedisTokenCache`, for a
 * resource server that wants an explicit, bounded cache (and for the store contract suite).
 * @module
 */
import type { TokenCache } from '../protocol/token-cache.js';
import { ExpiringCache } from './expiring-cache.js';

/** Default of the `maxEntries` of {@link InMemoryTokenCache}. */
export const DEFAULT_TOKEN_CACHE_MAX_ENTRIES = 10_000;

/**
 * A bounded in-memory {@link TokenCache}: entries live until their `untilMs`; when full, the
 * oldest entry is evicted (the resource server then asks the authorization server again).
 */
export class InMemoryTokenCache implements TokenCache {
  readonly #cache: ExpiringCache<string>;

  /**
   * @param maxEntries entries kept (0 caches nothing). Default {@link DEFAULT_TOKEN_CACHE_MAX_ENTRIES}.
   * @param now the clock, ms since the epoch
   * @throws RangeError when `maxEntries` is not an integer >= 0
   */
  constructor(maxEntries = DEFAULT_TOKEN_CACHE_MAX_ENTRIES, now: () => number = Date.now) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0)
      throw new RangeError(`InMemoryTokenCache: maxEntries must be an integer >= 0 (got ${maxEntries})`);
    this.#cache = new ExpiringCache(maxEntries, now);
  }

  get(key: string): string | undefined {
    return this.#cache.get(key);
  }

  set(key: string, value: string, untilMs: number): void {
    this.#cache.set(key, value, untilMs);
  }

  /** Entries held now (expired ones may still count until the next `set`). */
  get size(): number {
    return this.#cache.size;
  }
}
