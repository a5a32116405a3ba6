/**
 * A bounded map whose entries expire: the verified-token cache, the introspection cache and the
 * DPoP `jti` replay cache. Insertion-ordered (`Map`), so the oldest entry is evicted first when
 * the cache is full; expired entries are swept from the front on every insert. Null-prototype
 * semantics come from `Map` (keys never reach a prototype).
 * @module
 */

/** A bounded cache of values that expire at a given time (ms since the epoch, on `now()`'s clock). */
export class ExpiringCache<V> {
  readonly #map = new Map<string, { value: V; expiresAtMs: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** The latest expiry among entries evicted before they expired (0: none). */
  #evictedUntilMs = 0;

  /** `maxEntries` 0 disables caching (every `set` is dropped). `now` returns ms since the epoch. */
  constructor(maxEntries: number, now: () => number) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** The live value for `key`, or `undefined` (an expired entry is dropped). */
  get(key: string): V | undefined {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` until `expiresAtMs`; evicts the oldest entry when full. */
  set(key: string, value: V, expiresAtMs: number): void {
    if (this.#maxEntries === 0 || expiresAtMs <= this.#now()) return;
    this.#map.delete(key);
    this.#sweep();
    while (this.#map.size >= this.#maxEntries) {
      const oldest = this.#map.entries().next().value;
      if (!oldest) break;
      this.#map.delete(oldest[0]);
      this.#evictedUntilMs = Math.max(this.#evictedUntilMs, oldest[1].expiresAtMs);
    }
    this.#map.set(key, { value, expiresAtMs });
  }

  delete(key: string): void {
    this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }

  /**
   * The latest expiry of any entry evicted while still live. A replay cache refuses items that
   * would have expired by then: it can no longer tell whether it saw them.
   */
  get evictedUntilMs(): number {
    return this.#evictedUntilMs;
  }

  /** Drops expired entries from the front (entries are roughly in expiry order). */
  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#map) {
      if (entry.expiresAtMs > now) break;
      this.#map.delete(key);
    }
  }
}
