/**
 * The replay cache: remembers one-time values (a DPoP proof's `jti`, RFC 9449 section 11.1) until
 * they expire, so a value seen once is refused afterwards, on every process sharing the cache.
 * @module
 */

/**
 * Records one-time keys until a time. Shared between processes (Redis `SET NX PX` in
 * `anywire/redis`) so a proof replayed against another process is refused too.
 */
export interface ReplayCache {
  /**
   * Records `key` until `untilMs` (ms since the epoch) unless it is recorded already.
   * @returns true when `key` was new (accept), false when it was seen before (a replay: refuse)
   * @throws when the backend is unreachable (the caller refuses the request: it cannot tell)
   */
  checkAndStore(key: string, untilMs: number): Promise<boolean> | boolean;
}
