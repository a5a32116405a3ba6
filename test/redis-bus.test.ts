/**
 * RedisNotificationBus against a private redis-server (test/fixtures/redis-server.ts): the
 * NotificationBus contract suite, two buses on one Redis delivering to each other (two processes as
 * Redis sees them), two servers whose listen streams hear each other's list changes, garbage on the
 * channel dropped, and delivery again after Redis was down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../src/protocol/notification-bus.js';
import { RedisNotificationBus } from '../src/redis/notification-bus.js';
import { redisStores } from '../src/redis/stores.js';
import { createRedisClient } from '../src/redis/connection.js';
import { McpServer } from '../src/server/mcp-server.js';
import { notificationBusContract } from './contracts/notification-bus.contract.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import { connectPair } from './helpers.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the Redis bus tests: ${missing}`);

describe.skipIf(!!missing)('RedisNotificationBus', () => {
  let redis: RedisInstance;
  const opened: { close(): Promise<void> }[] = [];
  let n = 0;
  /** A bus with its own connection, on a key prefix of its own (tests never hear each other). */
  const bus = async (prefix = `t${++n}:`) => {
    const b = new RedisNotificationBus(redis.url, { keyPrefix: prefix, onConnectionError: () => {} });
    opened.push(b);
    return b;
  };

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    for (const o of opened) await o.close();
    await redis?.close();
  });

  notificationBusContract('RedisNotificationBus', async () => {
    const b = await bus();
    await b.ready();
    return b;
  });
  // The same contract when every event comes through Redis: the listeners are on a second bus.
  notificationBusContract('RedisNotificationBus (through Redis)', async () => {
    const prefix = `t${++n}:`;
    const publisher = await bus(prefix);
    const receiver = await bus(prefix);
    await receiver.ready();
    return {
      publish: (e: ServerEvent) => publisher.publish(e),
      subscribe: (l: (e: ServerEvent) => void) => receiver.subscribe(l),
      set onerror(f: ((e: unknown) => void) | undefined) {
        receiver.onerror = f;
      },
      get onerror() {
        return receiver.onerror;
      },
    };
  });

  it('two buses on one Redis deliver to each other, once each, in publish order', async () => {
    const a = await bus('pair:');
    const b = await bus('pair:');
    const atA: string[] = [];
    const atB: string[] = [];
    a.subscribe((e) => e.type === 'resource_updated' && atA.push(e.uri));
    b.subscribe((e) => e.type === 'resource_updated' && atB.push(e.uri));
    await Promise.all([a.ready(), b.ready()]);
    for (let i = 0; i < 50; i++) await a.publish({ type: 'resource_updated', uri: `a${i}` });
    // Order is promised per publisher only: b publishes once it has heard a's 50, so that b's own
    // event (delivered to b at once) cannot overtake a's that are still on their way from Redis.
    await expect.poll(() => atB.length, { timeout: 10_000 }).toBe(50);
    await b.publish({ type: 'resource_updated', uri: 'from-b' });
    const expected = [...Array.from({ length: 50 }, (_, i) => `a${i}`), 'from-b'];
    await expect.poll(() => atB.length, { timeout: 10_000 }).toBe(51);
    await expect.poll(() => atA.length, { timeout: 10_000 }).toBe(51);
    expect(atB).toEqual(expected);
    expect(atA).toEqual(expected);
  });

  it('a list change on one server reaches a listen stream on another (two McpServers on one Redis)', async () => {
    const one = await redisStores({ url: redis.url, keyPrefix: 'servers:' });
    const two = await redisStores({ url: redis.url, keyPrefix: 'servers:' });
    opened.push(one, two);
    const a = new McpServer({ name: 'a', version: '1' }, { stores: one });
    const b = new McpServer({ name: 'b', version: '1' }, { stores: two });
    a.registerTool('x', {}, () => 'x');
    b.registerTool('y', {}, () => 'y');
    await Promise.all([one.ready(), two.ready()]);
    const client = await connectPair(b, { era: 'modern' });
    const seen: string[] = [];
    const sub = await client.listen({ toolsListChanged: true }, (m) => seen.push(m.method));
    a.registerTool('late', {}, () => 'late');
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['notifications/tools/list_changed']);
    await sub.close();
    await client.close();
    await a.close();
    await b.close();
  });

  it('drops garbage on the channel (invalid JSON, unknown types, wrong field types) without crashing', async () => {
    const b = await bus('garbage:');
    const errors: unknown[] = [];
    b.onerror = (e) => errors.push(e);
    const seen: ServerEvent[] = [];
    b.subscribe((e) => seen.push(e));
    await b.ready();
    const raw = createRedisClient({ url: redis.url });
    await raw.connect();
    for (const junk of [
      'not json',
      '[]',
      'null',
      '{"from":"x"}',
      '{"from":"x","event":{"type":"list_changed","list":"__proto__"}}',
      '{"from":"x","event":{"type":"resource_updated","uri":42}}',
      '{"from":"x","event":{"type":"task_status","taskId":"t","task":"not an object"}}',
      '{"from":"x","event":{"type":"unknown"}}',
    ])
      await raw.publish(b.channel, junk);
    await raw.publish(
      b.channel,
      JSON.stringify({ from: 'x', event: { type: 'resource_updated', uri: 'ok' } }),
    );
    // A broadcast id that is not 8 to 64 hex digits (it becomes part of a Redis key) is dropped;
    // the event is still delivered. A good one travels with it.
    await raw.publish(
      b.channel,
      JSON.stringify({ from: 'x', event: { type: 'list_changed', list: 'tools', id: '../{x}:*' } }),
    );
    await raw.publish(
      b.channel,
      JSON.stringify({ from: 'x', event: { type: 'list_changed', list: 'tools', id: 'ab12cd34ef' } }),
    );
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(3);
    expect(seen).toEqual([
      { type: 'resource_updated', uri: 'ok' },
      { type: 'list_changed', list: 'tools' },
      { type: 'list_changed', list: 'tools', id: 'ab12cd34ef' },
    ]);
    expect(errors).toEqual([]);
    await raw.close();
  });

  it('refuses to publish an event larger than maxEventBytes (local listeners still hear it)', async () => {
    const b = new RedisNotificationBus(redis.url, { keyPrefix: 'big:', maxEventBytes: 1024 });
    opened.push(b);
    const seen: ServerEvent[] = [];
    b.subscribe((e) => seen.push(e));
    await expect(b.publish({ type: 'resource_updated', uri: 'x'.repeat(2000) })).rejects.toThrow(
      /exceeds maxEventBytes \(1024\)/,
    );
    expect(seen).toHaveLength(1);
  });

  it('after Redis was down, publish fails fast with a clear error, then delivery resumes across buses', async () => {
    const own = await startRedis();
    const errors: Error[] = [];
    const a = new RedisNotificationBus(own.url, { onConnectionError: (e) => errors.push(e) });
    const b = new RedisNotificationBus({ url: own.url, onerror: (e) => errors.push(e) });
    try {
      const seen: string[] = [];
      b.subscribe((e) => e.type === 'resource_updated' && seen.push(e.uri));
      a.subscribe(() => {});
      await Promise.all([a.ready(), b.ready()]);
      await a.publish({ type: 'resource_updated', uri: 'before' });
      await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['before']);
      await own.kill();
      const started = Date.now();
      await expect(a.publish({ type: 'resource_updated', uri: 'during' })).rejects.toThrow(
        /anywire\/redis: publish failed/,
      );
      expect(Date.now() - started).toBeLessThan(3000);
      await own.restart();
      // Once both reconnected (the subscriber resubscribes by itself), events flow again.
      await expect
        .poll(
          async () => {
            await a.publish({ type: 'resource_updated', uri: 'after' }).catch(() => {});
            return seen.includes('after');
          },
          { timeout: 20_000, interval: 200 },
        )
        .toBe(true);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]!.message).toMatch(/Redis connection lost or refused/);
    } finally {
      await a.close();
      await b.close();
      await own.close();
    }
  }, 60_000);
});
