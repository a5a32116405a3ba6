/**
 * The DPoP `jti` replay cache shared through Redis (RFC 9449 section 11.1): a proof accepted by one
 * resource server (a node) is refused as replayed by another sharing the Redis cache; each key has a
 * TTL; and the cache refuses to answer (the request fails) when Redis is unreachable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, oauthResourceServer } from '../src/auth/index.js';
import type { AuthRequest } from '../src/protocol/auth.js';
import type { RedisClient } from '../src/redis/connection.js';
import { createRedisClient } from '../src/redis/connection.js';
import { RedisReplayCache } from '../src/redis/replay-cache.js';
import { dpopProof, newDpopKey, startAuthServer } from './auth-provider.js';
import type { DpopKey, TestAuthServer } from './auth-provider.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the Redis DPoP replay tests: ${missing}`);

const RESOURCE = 'https://mcp.example.test/mcp';

describe.skipIf(!!missing)('RedisReplayCache (DPoP jti)', () => {
  let as: TestAuthServer;
  let key: DpopKey;
  let token: string;
  let redis: RedisInstance;
  let raw: RedisClient;
  const caches: RedisReplayCache[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    raw = createRedisClient({ url: redis.url });
    await raw.connect();
    as = await startAuthServer();
    key = await newDpopKey();
    token = await as.token({ resource: RESOURCE, scope: 'mcp:read', dpop: key });
  }, 60_000);
  afterAll(async () => {
    for (const c of caches) await c.close();
    await raw?.close();
    await redis?.close();
    await as?.[Symbol.asyncDispose]();
  });

  /** A resource server (a node) with its own Redis connection for the replay cache. */
  const node = (url = redis.url) => {
    const replayCache = new RedisReplayCache({ url, onerror: () => {} }, { keyPrefix: 'dpop:' });
    caches.push(replayCache);
    return oauthResourceServer({
      issuer: as.issuer,
      resource: RESOURCE,
      jwksUri: `${as.issuer}/jwks`,
      dpop: { replayCache },
    });
  };
  const request = (proof: string): AuthRequest => ({
    binding: 'http',
    headers: { authorization: `DPoP ${token}`, dpop: proof },
    httpMethod: 'POST',
    url: RESOURCE,
  });

  it('a proof accepted by one node is refused as replayed by another sharing Redis', async () => {
    const one = node();
    const two = node();
    const proof = await dpopProof(key, { htm: 'POST', htu: RESOURCE, token });
    expect(await one.authenticate(request(proof))).toMatchObject({ confirmation: { jkt: key.jkt } });
    const error = await two.authenticate(request(proof)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).challenge.error_description).toMatch(/replayed/);
    // A fresh proof is accepted by the second node.
    const fresh = await dpopProof(key, { htm: 'POST', htu: RESOURCE, token });
    expect(await two.authenticate(request(fresh))).toMatchObject({ subject: 'machine' });
    // Each recorded jti has a TTL (the proof's acceptance window, at most iat + 300 s + 1 s).
    const keys = await raw.keys('dpop:replay:*');
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      const ttl = await raw.pTTL(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(301_000 + 5_000);
    }
  });

  it('checkAndStore: true once, then false; anything already under the key counts as seen', async () => {
    const cache = new RedisReplayCache(raw, { keyPrefix: 'unit:' });
    expect(await cache.checkAndStore('k', Date.now() + 10_000)).toBe(true);
    expect(await cache.checkAndStore('k', Date.now() + 10_000)).toBe(false);
    await raw.hSet(cache.keyOf('garbage'), 'x', 'y');
    expect(await cache.checkAndStore('garbage', Date.now() + 10_000)).toBe(false);
  });

  it('fails the request with a clear error (never accepts) when Redis is unreachable', async () => {
    const own = await startRedis();
    const server = node(own.url);
    const first = await dpopProof(key, { htm: 'POST', htu: RESOURCE, token });
    await server.authenticate(request(first));
    await own.kill();
    const proof = await dpopProof(key, { htm: 'POST', htu: RESOURCE, token });
    const error = await server.authenticate(request(proof)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/anywire\/redis: dpopReplayCache failed/);
    await own.close();
  }, 30_000);
});
