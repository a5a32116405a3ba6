/**
 * The Events store contracts (occurrence log, webhook subscriptions, delivery queue) on the Redis
 * stores, against a private redis-server on a free port; plus garbage under their keys, which must
 * read as absent and be replaced on write, never crash.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisWebhookDeliveryQueue } from '../src/redis/events-deliveries.js';
import { RedisEventLog } from '../src/redis/events-log.js';
import { RedisWebhookSubscriptionStore } from '../src/redis/events-subscriptions.js';
import type { EventsRedisClient } from '../src/redis/events-common.js';
import { deliveryQueueContract } from './contracts/events-deliveries.contract.js';
import { eventLogContract } from './contracts/events-log.contract.js';
import { subscriptionStoreContract } from './contracts/events-subscriptions.contract.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the Redis Events store tests: ${missing}`);

let redis: RedisInstance;
let client: EventsRedisClient;
let n = 0;
const prefix = () => `t${++n}:`;

beforeAll(async () => {
  if (missing) return;
  redis = await startRedis();
  client = createClient({ url: redis.url });
  await client.connect();
}, 30_000);

afterAll(async () => {
  if (missing) return;
  client.destroy();
  await redis.close();
});

describe.skipIf(missing)('Redis Events stores', () => {
  eventLogContract('RedisEventLog', (o) => new RedisEventLog(client, { keyPrefix: prefix(), ...o }));
  subscriptionStoreContract(
    'RedisWebhookSubscriptionStore',
    () => new RedisWebhookSubscriptionStore(client, { keyPrefix: prefix() }),
  );
  deliveryQueueContract('RedisWebhookDeliveryQueue (two consumers)', async ({ leaseMs }) => {
    const keyPrefix = prefix();
    const o = { keyPrefix, deliveryLeaseMs: leaseMs, pollBlockMs: 200 };
    return [
      new RedisWebhookDeliveryQueue(client, { ...o, consumer: 'node-a' }),
      new RedisWebhookDeliveryQueue(client, { ...o, consumer: 'node-b' }),
    ];
  });

  it('reads garbage under its keys as absent and replaces it on write', async () => {
    const keyPrefix = prefix();
    const log = new RedisEventLog(client, { keyPrefix });
    const subs = new RedisWebhookSubscriptionStore(client, { keyPrefix });
    await client.set(log.key('a'), 'not a stream');
    expect(await log.head('a')).toBe('0-0');
    expect(await log.start('a', '5-0')).toEqual({ cursor: '0-0', truncated: true });
    expect(await log.read('a', '0-0', 10)).toEqual([]);
    // A stream entry that is not ours: skipped.
    await client.del(log.key('b'));
    await client.sendCommand(['XADD', log.key('b'), '*', 'o', '{not json']);
    await client.sendCommand(['XADD', log.key('b'), '*', 'x', 'y']);
    expect(await log.read('b', '0-0', 10)).toEqual([]);
    const cursor = await log.append({
      eventId: 'e1',
      name: 'a',
      timestamp: new Date().toISOString(),
      data: {},
    });
    expect((await log.read('a', '0-0', 10)).map((e) => e.cursor)).toEqual([cursor]);

    await client.set(`${keyPrefix}events:subs:{x}`, 'garbage');
    await client.set(`${keyPrefix}events:subs-all`, 'garbage');
    await client.set(`${keyPrefix}events:sub:{x}:sub_1`, 'garbage');
    expect(await subs.list('x')).toEqual([]);
    expect(await subs.count()).toBe(0);
    expect(await subs.get('x', 'sub_1')).toBeUndefined();
    await client.hSet(`${keyPrefix}events:sub:{x}:sub_2`, { r: '{"id":"sub_2","name":"x","principal":1}' });
    expect(await subs.get('x', 'sub_2')).toBeUndefined();
    await subs.recordDelivery('x', 'sub_1', { ok: true, at: 'now' });
    const sub = {
      id: 'sub_1',
      name: 'x',
      principal: 'p',
      url: 'https://h.test/',
      args: {},
      secret: 'whsec_x',
      expiresAt: Date.now() + 60_000,
      active: true,
      failures: 0,
      lastError: null,
    };
    await subs.put(sub);
    expect(await subs.list('x')).toEqual([sub]);
    expect(await subs.count()).toBe(1);

    const queue = new RedisWebhookDeliveryQueue(client, { keyPrefix, pollBlockMs: 100 });
    await client.set(`${keyPrefix}events:deliveries`, 'garbage');
    const got: string[] = [];
    queue.start(async (j) => void got.push(j.webhookId));
    await queue.enqueue({ name: 'x', subscriptionId: 'sub_1', webhookId: 'w1', body: '{}' });
    const end = Date.now() + 10_000;
    while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await queue.stop();
    expect(got).toEqual(['w1']);
  });

  it('takes over a job a killed process had read and never acknowledged (its consumer abandoned)', async () => {
    const keyPrefix = prefix();
    const key = `${keyPrefix}events:deliveries`;
    const live = new RedisWebhookDeliveryQueue(client, {
      keyPrefix,
      consumer: 'node-b',
      deliveryLeaseMs: 500,
      pollBlockMs: 100,
    });
    await live.enqueue({ name: 'x', subscriptionId: 'sub_1', webhookId: 'w-dead', body: '{}' });
    // A process that read the job and was SIGKILLed: the read happened, nothing else ever will.
    await client.sendCommand(['XGROUP', 'CREATE', key, 'deliveries', '0', 'MKSTREAM']);
    const read = await client.sendCommand([
      'XREADGROUP',
      'GROUP',
      'deliveries',
      'node-a',
      'COUNT',
      '10',
      'STREAMS',
      key,
      '>',
    ]);
    expect(JSON.stringify(read)).toContain('w-dead');
    const got: string[] = [];
    const t0 = Date.now();
    live.start(async (j) => void got.push(j.webhookId));
    const end = Date.now() + 10_000;
    while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const after = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 700));
    await live.stop();
    expect(got).toEqual(['w-dead']);
    expect(after).toBeGreaterThanOrEqual(400);
    const pending = (await client.sendCommand(['XPENDING', key, 'deliveries'])) as unknown[];
    expect(Number(pending[0])).toBe(0);
  });

  it('puts a TTL on every key it writes', async () => {
    const keyPrefix = prefix();
    const log = new RedisEventLog(client, { keyPrefix, logTtlMs: 60_000 });
    const subs = new RedisWebhookSubscriptionStore(client, { keyPrefix });
    const queue = new RedisWebhookDeliveryQueue(client, { keyPrefix });
    await log.append({ eventId: 'e1', name: 'a', timestamp: new Date().toISOString(), data: {} });
    await subs.put({
      id: 'sub_1',
      name: 'a',
      principal: 'p',
      url: 'https://h.test/',
      args: {},
      secret: 'whsec_x',
      expiresAt: Date.now() + 60_000,
      active: true,
      failures: 0,
      lastError: null,
    });
    await subs.markVerified('p', 'https://h.test/', 60_000);
    await queue.enqueue({ name: 'a', subscriptionId: 'sub_1', webhookId: 'w', body: '{}' });
    const keys = (await client.keys(`${keyPrefix}*`)).sort();
    expect(keys.length).toBe(7);
    for (const k of keys) {
      const ttl = await client.pTTL(k);
      expect(ttl, k).toBeGreaterThan(0);
    }
  });
});
