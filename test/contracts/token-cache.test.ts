/**
 * InMemoryTokenCache: the TokenCache contract (the same suite RedisTokenCache passes against a
 * real Redis), its bound, and a resource server sharing it between two instances.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryTokenCache } from '../../src/auth/token-cache.js';
import { tokenCacheContract } from './token-cache.contract.js';

tokenCacheContract('InMemoryTokenCache', () => new InMemoryTokenCache());

describe('InMemoryTokenCache', () => {
  it('holds at most maxEntries, evicting the oldest; 0 caches nothing; a bad bound is a RangeError', () => {
    const cache = new InMemoryTokenCache(2);
    const until = Date.now() + 60_000;
    cache.set('a', '1', until);
    cache.set('b', '2', until);
    cache.set('c', '3', until);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect([cache.get('b'), cache.get('c')]).toEqual(['2', '3']);
    const none = new InMemoryTokenCache(0);
    none.set('a', '1', until);
    expect(none.get('a')).toBeUndefined();
    expect(() => new InMemoryTokenCache(-1)).toThrow(RangeError);
    expect(() => new InMemoryTokenCache(1.5)).toThrow(/maxEntries/);
  });
});
