/**
 * RedisTaskLeases against a private redis-server: the TaskLeases contract (the same suite as the
 * in-memory set), each "node" on its own connection; then its keys' TTLs and garbage under them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTaskLeases } from '../src/redis/task-leases.js';
import { taskLeasesContract } from './contracts/task-leases.contract.js';
import type { RedisClient } from '../src/redis/connection.js';
import { createRedisClient } from '../src/redis/connection.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the RedisTaskLeases tests: ${missing}`);

let redis: RedisInstance;
let client: RedisClient;
const opened: RedisTaskLeases[] = [];
let prefixes = 0;
const fresh = () => `leases${++prefixes}-${Math.random().toString(36).slice(2)}:`;

describe.skipIf(!!missing)('RedisTaskLeases', () => {
  beforeAll(async () => {
    redis = await startRedis();
    client = createRedisClient({ url: redis.url, onerror: () => {} });
    await client.connect();
  });
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    await client?.close();
    await redis?.close();
  });

  taskLeasesContract('RedisTaskLeases', (count) => {
    const keyPrefix = fresh();
    return Array.from({ length: count }, () => {
      const l = new RedisTaskLeases(redis.url, { keyPrefix });
      opened.push(l);
      return l;
    });
  });

  it('keeps its keys at most queueTtlMs after the last write, the request at most the task ttl', async () => {
    const keyPrefix = fresh();
    const leases = new RedisTaskLeases(client, { keyPrefix, queueTtlMs: 60_000 });
    await leases.acquire('t', 'a', { leaseMs: 1000, request: { tool: 'x', arguments: {} }, retainMs: 5000 });
    for (const k of ['due', 'holders']) {
      const left = Number(await client.sendCommand(['PTTL', `${keyPrefix}leases:{queue}:${k}`]));
      expect(left, k).toBeGreaterThan(50_000);
      expect(left, k).toBeLessThanOrEqual(60_000);
    }
    const req = Number(await client.sendCommand(['PTTL', `${keyPrefix}task:{t}:request`]));
    expect(req).toBeGreaterThan(0);
    expect(req).toBeLessThanOrEqual(5000);
    await leases.release('t', 'a');
    expect(await client.exists(`${keyPrefix}task:{t}:request`)).toBe(0);
  });

  it('treats garbage under its keys as absent', async () => {
    const keyPrefix = fresh();
    const leases = new RedisTaskLeases(client, { keyPrefix });
    await client.set(`${keyPrefix}leases:{queue}:due`, 'garbage');
    await client.set(`${keyPrefix}leases:{queue}:holders`, 'garbage');
    expect(await leases.renew('t', 'a', 1000)).toBe(false);
    expect(await leases.claimExpired('a', 1000, 10)).toEqual([]);
    await leases.release('t', 'a');
    await leases.acquire('t', 'a', { leaseMs: 1 });
    await client.hSet(`${keyPrefix}leases:{queue}:holders`, 't', 'not-a-holder');
    await client.set(`${keyPrefix}task:{t}:request`, '{"tool": 3}');
    await new Promise((r) => setTimeout(r, 10));
    expect(await leases.claimExpired('b', 1000, 10)).toEqual([
      { taskId: 't', previousHolder: '', attempt: 1 },
    ]);
    await client.hSet(`${keyPrefix}task:{u}:request`, 'x', 'y');
    await leases.acquire('u', 'a', { leaseMs: 1 });
    await new Promise((r) => setTimeout(r, 10));
    expect(await leases.claimExpired('b', 1000, 10)).toMatchObject([{ taskId: 'u', attempt: 2 }]);
  });
});
