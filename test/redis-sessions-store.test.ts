/**
 * RedisSessionStore against a private redis-server: the SessionStore contract (the same suite as
 * the in-memory store), garbage of every shape under its keys read as absent, a TTL on every key it
 * writes, and the router's subscriptions released.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSessionStore } from '../src/redis/session-store.js';
import { redisStores } from '../src/redis/stores.js';
import type { RedisClient as AnyRedisClient } from '../src/redis/connection.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { sessionStoreContract } from './contracts/session-store.contract.js';

const missing = redisMissing();
if (missing) console.warn(`skipping RedisSessionStore tests: ${missing}`);

describe.skipIf(missing !== undefined)('RedisSessionStore', () => {
  let redis: RedisInstance;
  let raw: AnyRedisClient;
  const stores: RedisSessionStore[] = [];
  let n = 0;

  beforeAll(async () => {
    redis = await startRedis();
    raw = createClient({ url: redis.url }) as unknown as AnyRedisClient;
    await raw.connect();
  }, 30_000);

  afterAll(async () => {
    for (const s of stores) await s.close();
    await raw?.close();
    await redis?.close();
  });

  sessionStoreContract('RedisSessionStore', async (options) => {
    const keyPrefix = `t${++n}:`;
    const store = new RedisSessionStore(redis.url, { ...options, keyPrefix });
    stores.push(store);
    const key = (id: string) => store.key(id);
    const post = (id: string, streamId: string) => store.postStreams.streamKey(id, streamId);
    return {
      store,
      postGarbage: [
        async (id, st) => void (await raw.set(post(id, st), '{not json')),
        async (id, st) => void (await raw.set(post(id, st), JSON.stringify({ owner: '', requestIds: [] }))),
        async (id, st) =>
          void (await raw.set(post(id, st), JSON.stringify({ owner: 'p', requestIds: [{}] }))),
        async (id, st) => void (await raw.hSet(post(id, st), { owner: 'p' })),
      ],
      garbage: [
        async (id) => void (await raw.set(key(id), 'not a hash')),
        async (id) => void (await raw.rPush(key(id), ['a', 'b'])),
        async (id) => void (await raw.hSet(key(id), { rec: '{not json' })),
        async (id) => void (await raw.hSet(key(id), { rec: JSON.stringify({ sessionId: id }) })),
        async (id) => void (await raw.hSet(key(id), { level: 'debug' })),
        async (id) =>
          void (await raw.hSet(key(id), {
            rec: JSON.stringify({
              sessionId: 'another',
              protocolVersion: '2025-11-25',
              clientCapabilities: {},
              principal: '',
              createdAt: 1,
            }),
          })),
        async (id) =>
          void (await raw.hSet(key(id), {
            rec: JSON.stringify({
              sessionId: id,
              protocolVersion: '2025-11-25',
              clientCapabilities: {},
              principal: '',
              createdAt: 1,
            }),
            subs: '{"__proto__": 1}',
          })),
      ],
    };
  });

  it('puts a TTL on the record key and uses the key prefix and a hash tag', async () => {
    const store = new RedisSessionStore(raw, { keyPrefix: 'ttl:' });
    await store.create(
      {
        sessionId: 'abc',
        protocolVersion: '2025-11-25',
        clientCapabilities: {},
        principal: '',
        createdAt: Date.now(),
      },
      30_000,
    );
    expect(store.key('abc')).toBe('ttl:session:{abc}');
    const ttl = Number(await raw.pTTL('ttl:session:{abc}'));
    expect(ttl).toBeGreaterThan(20_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await store.router.close();
  });

  it('keys POST stream records in the session hash slot and leases by owner tag, each with a TTL', async () => {
    const store = new RedisSessionStore(raw, { keyPrefix: 'ps:' });
    await store.postStreams.putStream('s{1}', 'st:1', { owner: 'o1', requestIds: [7] }, 30_000);
    await store.postStreams.renewLease('o1', 5000);
    expect(store.postStreams.streamKey('s{1}', 'st:1')).toBe('ps:session:{s%7B1%7D}:post:st%3A1');
    expect(store.postStreams.leaseKey('o1')).toBe('ps:session:owner:{o1}');
    const streamTtl = Number(await raw.pTTL('ps:session:{s%7B1%7D}:post:st%3A1'));
    expect(streamTtl).toBeGreaterThan(20_000);
    expect(streamTtl).toBeLessThanOrEqual(30_000);
    const leaseTtl = Number(await raw.pTTL('ps:session:owner:{o1}'));
    expect(leaseTtl).toBeGreaterThan(0);
    expect(leaseTtl).toBeLessThanOrEqual(5000);
    await store.router.close();
  });

  it('releases a channel when its last listener stops', async () => {
    const store = new RedisSessionStore(redis.url, { keyPrefix: 'ch:' });
    stores.push(store);
    const stopA = await store.router.subscribe('s', () => {});
    const stopB = await store.router.subscribe('s', () => {});
    expect(store.router.channels).toBe(1);
    const count = async () =>
      Number((await raw.sendCommand(['PUBSUB', 'NUMSUB', 'ch:session:{s}:signal']))?.[1 as never]);
    expect(await count()).toBe(1);
    await stopA();
    expect(await count()).toBe(1);
    await stopB();
    expect(store.router.channels).toBe(0);
    expect(await count()).toBe(0);
  });

  it('is part of redisStores(url), sharing its client, unless left out', async () => {
    const stores = await redisStores({ url: redis.url, keyPrefix: 'rs:' });
    expect(stores.sessionStore).toBeInstanceOf(RedisSessionStore);
    expect(stores.sessionStore!.client).toBe(stores.client);
    expect(stores.sessionStore!.key('x')).toBe('rs:session:{x}');
    await stores.close();
    const without = await redisStores({ url: redis.url, sessionStore: false });
    expect(without.sessionStore).toBeUndefined();
    await without.close();
  });
});
