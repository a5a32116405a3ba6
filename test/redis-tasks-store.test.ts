/**
 * RedisTaskStore against a private redis-server: the TaskStore contract (the same suite as the
 * in-memory store), then what only a shared store shows: two stores (two nodes) racing a cancel
 * against a completion, TTLs on the keys, garbage under its keys read as absent, and its limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../src/protocol/task-store.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, RedisTaskStore } from '../src/redis/task-store.js';
import { taskStoreContract } from './contracts/task-store.contract.js';
import type { RedisClient } from '../src/redis/connection.js';
import { createRedisClient } from '../src/redis/connection.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the RedisTaskStore tests: ${missing}`);

let redis: RedisInstance;
let client: RedisClient;
let prefixes = 0;
const fresh = () => `test${++prefixes}-${Math.random().toString(36).slice(2)}:`;

function task(overrides: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date().toISOString();
  return {
    taskId: `t-${Math.random().toString(36).slice(2)}`,
    status: 'working',
    createdAt: now,
    lastUpdatedAt: now,
    ttl: 60_000,
    ...overrides,
  };
}

describe.skipIf(!!missing)('RedisTaskStore', () => {
  beforeAll(async () => {
    redis = await startRedis();
    client = createRedisClient({ url: redis.url, onerror: () => {} });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await redis?.close();
  });

  // The contract checks expiry at `ttl` on one clock: no skew tolerance (test/redis-clock-skew.test.ts covers it).
  taskStoreContract(
    'RedisTaskStore',
    () => new RedisTaskStore(client, { keyPrefix: fresh(), maxClockSkewMs: 0 }),
  );

  it('two nodes (two clients) racing a cancel against a completion store one terminal state', async () => {
    const prefix = fresh();
    const other = new RedisTaskStore(redis.url, { keyPrefix: prefix });
    const store = new RedisTaskStore(client, { keyPrefix: prefix });
    try {
      let wins = 0;
      for (let round = 0; round < 20; round++) {
        const t = task();
        await store.create(t);
        const [a, b] = await Promise.all([
          store.update(t.taskId, { status: 'completed', outcome: { result: { content: [] } } }),
          other.update(t.taskId, { status: 'cancelled' }),
        ]);
        expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
        wins += a.ok ? 1 : 0;
        const stored = await other.get(t.taskId);
        expect(stored!.version).toBe(2);
        expect(stored!.status).toBe(a.ok ? 'completed' : 'cancelled');
        // the empty content array survives the round trip (no Lua re-encoding of records)
        if (a.ok) expect(stored!.outcome).toEqual({ result: { content: [] } });
      }
      expect(wins).toBeGreaterThanOrEqual(0);
    } finally {
      await other.close();
    }
  });

  it('puts the task TTL on its key and keeps the indexes alive at least as long', async () => {
    const prefix = fresh();
    const store = new RedisTaskStore(client, { keyPrefix: prefix });
    const t = task({ ttl: 120_000 });
    await store.create(t);
    const pttl = Number(
      await client.sendCommand(['PTTL', `${prefix}task:{${encodeURIComponent(t.taskId)}}`]),
    );
    // ttl plus the clock skew tolerance.
    expect(pttl).toBeGreaterThan(100_000 + DEFAULT_MAX_CLOCK_SKEW_MS);
    expect(pttl).toBeLessThanOrEqual(120_000 + DEFAULT_MAX_CLOCK_SKEW_MS);
    for (const k of ['seq', 'all', 'expiry']) {
      const left = Number(await client.sendCommand(['PTTL', `${prefix}tasks:{index}:${k}`]));
      expect(left, k).toBeGreaterThanOrEqual(pttl);
    }
    // a longer ttl set by update moves the key's expiry
    await store.update(t.taskId, { ttl: 600_000 });
    expect(
      Number(await client.sendCommand(['PTTL', `${prefix}task:{${encodeURIComponent(t.taskId)}}`])),
    ).toBeGreaterThan(500_000);
  });

  it('reads garbage under its keys as absent and writes over it', async () => {
    const prefix = fresh();
    const store = new RedisTaskStore(client, { keyPrefix: prefix });
    const key = (id: string) => `${prefix}task:{${encodeURIComponent(id)}}`;
    await client.set(key('str'), 'not a hash');
    await client.hSet(key('badjson'), { v: '1', r: '{not json' });
    await client.hSet(key('badshape'), { v: '1', r: JSON.stringify({ taskId: 'other', status: 'working' }) });
    await client.hSet(key('badversion'), { v: 'x', r: JSON.stringify(task({ taskId: 'badversion' })) });
    for (const id of ['str', 'badjson', 'badshape', 'badversion']) {
      expect(await store.get(id), id).toBeUndefined();
      expect(await store.update(id, { statusMessage: 'x' }), id).toMatchObject({
        ok: false,
        reason: 'missing',
      });
      await store.create(task({ taskId: id }));
      expect(await store.get(id), id).toMatchObject({ taskId: id, version: 1 });
    }
    // garbage under the index keys: the counter and the sorted sets
    await client.set(`${prefix}tasks:{index}:all`, 'garbage');
    await client.set(`${prefix}tasks:{index}:seq`, 'garbage');
    const t = task();
    await store.create(t);
    expect((await store.list({ limit: 10 })).tasks.map((x) => x.taskId)).toEqual([t.taskId]);
    expect(await store.sweep()).toBe(0);
  });

  it('enforces its limits with clear errors', async () => {
    const store = new RedisTaskStore(client, { keyPrefix: fresh(), maxTaskIdChars: 8, maxRecordBytes: 2048 });
    await expect(store.create(task({ taskId: 'x'.repeat(9) }))).rejects.toThrow(/1\.\.8 characters/);
    expect(await store.get('x'.repeat(9))).toBeUndefined();
    const t = task({ taskId: 'small' });
    await store.create(t);
    const big = { result: { content: [{ type: 'text', text: 'x'.repeat(4096) }] } };
    await expect(store.update('small', { status: 'completed', outcome: big })).rejects.toThrow(
      /maxRecordBytes/,
    );
    expect((await store.get('small'))!.status).toBe('working');
    expect(() => new RedisTaskStore(client, { keyPrefix: 'a{b}' })).toThrow(TypeError);
    expect(() => new RedisTaskStore(client, { maxRecordBytes: 1 })).toThrow(RangeError);
  });

  it('rejects when Redis is unreachable (no hang)', async () => {
    const store = new RedisTaskStore(
      { url: 'redis://127.0.0.1:1', connectTimeoutMs: 300, onerror: () => {} },
      { keyPrefix: fresh() },
    );
    const outcome = await Promise.race([
      store.get('x').then(
        () => 'resolved',
        () => 'rejected',
      ),
      new Promise((r) => setTimeout(() => r('hung'), 10_000)),
    ]);
    expect(outcome).toBe('rejected');
    await expect(store.get('x')).rejects.toThrow(/not reachable within 300 ms/);
    await store.close();
  });
});
