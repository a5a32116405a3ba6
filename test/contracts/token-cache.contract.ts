/**
 * The {@link TokenCache} contract as a reusable suite: `tokenCacheContract(name, factory)` with a
 * factory of fresh, empty caches (the in-memory one in token-cache.test.ts, the Redis one in
 * redis-token-cache.test.ts). It checks what the interface promises: a value stored until its
 * `untilMs` and gone after it, a time already past storing nothing, a later `set` replacing an
 * earlier one, keys kept apart (base64url hashes, and keys that look like prototype names).
 */
import { describe, expect, it } from 'vitest';
import type { TokenCache } from '../../src/protocol/token-cache.js';

export function tokenCacheContract(name: string, factory: () => TokenCache | Promise<TokenCache>): void {
  describe(`TokenCache contract: ${name}`, () => {
    it('keeps a value until its untilMs, then reads as a miss', async () => {
      const cache = await factory();
      expect(await cache.get('k1')).toBeUndefined();
      const until = Date.now() + 400;
      await cache.set('k1', '{"active":true}', until);
      expect(await cache.get('k1')).toBe('{"active":true}');
      await expect
        .poll(async () => cache.get('k1'), { timeout: 10_000, interval: 50, message: 'k1 to expire' })
        .toBeUndefined();
      expect(Date.now()).toBeGreaterThanOrEqual(until - 5);
    });

    it('stores nothing for a time already past; a later set replaces the value and its end', async () => {
      const cache = await factory();
      await cache.set('past', 'x', Date.now() - 1000);
      expect(await cache.get('past')).toBeUndefined();
      await cache.set('k', 'first', Date.now() + 60_000);
      await cache.set('k', 'second', Date.now() + 60_000);
      expect(await cache.get('k')).toBe('second');
    });

    it('keeps keys apart, including ones named like prototype members', async () => {
      const cache = await factory();
      const keys = ['Ab-_09', 'ab-_09', '__proto__', 'constructor', 'toString'];
      for (const [i, k] of keys.entries()) await cache.set(k, `v${i}`, Date.now() + 60_000);
      for (const [i, k] of keys.entries()) expect(await cache.get(k)).toBe(`v${i}`);
      expect(await cache.get('hasOwnProperty')).toBeUndefined();
      expect(({} as Record<string, unknown>).v0).toBeUndefined();
    });
  });
}
