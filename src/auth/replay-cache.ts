/**
 * The in-memory {@link ReplayCache}: the DPoP verifier's default (one process).
 * @module
 */
import type { ReplayCache } from '../protocol/replay-cache.js';
import { ExpiringCache } from './expiring-cache.js';

/**
 * A bounded in-memory {@link ReplayCache}. When full, the oldest entry is evicted, and from then on
 * keys that would expire before that evicted entry are refused (it can no longer tell whether it
 * saw them).
 */
export class InMemoryReplayCache implements ReplayCache {
  readonly #cache: ExpiringCache<true>;

  /**
   * @param maxEntries entries kept (>= 1)
   * @param now the clock, ms since the epoch
   */
  constructor(maxEntries: number, now: () => number = Date.now) {
    this.#cache = new ExpiringCache(maxEntries, now);
  }

  checkAndStore(key: string, untilMs: number): boolean {
    if (this.#cache.get(key) || untilMs <= this.#cache.evictedUntilMs) return false;
    this.#cache.set(key, true, untilMs);
    return true;
  }
}
