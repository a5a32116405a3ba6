/**
 * redisStores(): one connection, every Redis store in the Stores aggregate; ready() is a PING that
 * rejects with a clear error while Redis is down and resolves again after; a Redis unreachable at
 * start rejects (or not, with lazyConnect); close() is idempotent and leaves a client of yours open.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRedisClient } from '../src/redis/connection.js';
import { RedisEventStore } from '../src/redis/event-store.js';
import { RedisKeyRing } from '../src/redis/key-ring.js';
import { RedisNotificationBus } from '../src/redis/notification-bus.js';
import { RedisReplayCache } from '../src/redis/replay-cache.js';
import { redisStores } from '../src/redis/stores.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the redisStores tests: ${missing}`);

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(!!missing)('redisStores', () => {
  it('builds every store on one connection; ready() follows an outage; close() is idempotent', async () => {
    const redis = await startRedis();
    const errors: Error[] = [];
    const stores = await redisStores({ url: redis.url, onerror: (e) => errors.push(e) });
    try {
      expect(stores.notificationBus).toBeInstanceOf(RedisNotificationBus);
      expect(stores.eventStore).toBeInstanceOf(RedisEventStore);
      expect(stores.keyRing).toBeInstanceOf(RedisKeyRing);
      expect(stores.dpopReplayCache).toBeInstanceOf(RedisReplayCache);
      expect(stores.taskStore).toBeDefined();
      await stores.ready();
      expect((await stores.keyRing!.keys()).length).toBe(1);
      await redis.kill();
      const started = Date.now();
      await expect(stores.ready()).rejects.toThrow(
        /anywire\/redis: Redis did not answer PING within 1000 ms/,
      );
      expect(Date.now() - started).toBeLessThan(3000);
      await redis.restart();
      await expect
        .poll(
          () =>
            stores.ready().then(
              () => 'ready',
              () => 'not ready',
            ),
          { timeout: 20_000 },
        )
        .toBe('ready');
      expect(errors[0]?.message).toMatch(/Redis connection lost or refused/);
    } finally {
      await stores.close();
      await stores.close();
      await redis.close();
    }
  }, 60_000);

  it('rejects with a clear error when Redis is unreachable at start, unless lazyConnect', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    await expect(redisStores({ url, connectTimeoutMs: 300, onerror: () => {} })).rejects.toThrow(
      /anywire\/redis: Redis is not reachable within 300 ms/,
    );
    const lazy = await redisStores({ url, lazyConnect: true, onerror: () => {} });
    await expect(lazy.ready()).rejects.toThrow(/did not answer PING/);
    await lazy.close();
    await expect(redisStores('')).rejects.toThrow(TypeError);
    await expect(redisStores({ url, keyPrefix: 'bad{' })).rejects.toThrow(/keyPrefix/);
  }, 30_000);

  it('leaves your own client open on close', async () => {
    const redis = await startRedis();
    const client = createRedisClient({ url: redis.url });
    await client.connect();
    const stores = await redisStores({ client });
    await stores.ready();
    await stores.close();
    expect(await client.ping()).toBe('PONG');
    await client.close();
    await redis.close();
  }, 30_000);
});
