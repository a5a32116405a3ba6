/**
 * RedisKeyRing against a private redis-server: a multi round-trip request sealed on one server opens
 * on another sharing the ring through Redis, and keeps opening across a rotation; the ring's hash
 * has a TTL; garbage in it is dropped; configured keys bypass Redis; the last keys read stay in use
 * while Redis is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openState, sealState } from '../src/protocol/request-state.js';
import type { RedisClient } from '../src/redis/connection.js';
import { createRedisClient } from '../src/redis/connection.js';
import { RedisKeyRing } from '../src/redis/key-ring.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import { askServer, roundTripAcross } from './fixtures/mrtr-across.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the Redis key ring tests: ${missing}`);

const expectFor = { sub: 'alice', dig: 'd' };
const payload = () => ({ exp: Date.now() + 60_000, sub: 'alice', dig: 'd', data: { round: 1 } });

describe.skipIf(!!missing)('RedisKeyRing', () => {
  let redis: RedisInstance;
  let raw: RedisClient;
  const rings: RedisKeyRing[] = [];
  let n = 0;
  /** A ring with its own connection (a node), on the test's own prefix. */
  const ring = (prefix: string, refreshMs = 5000) => {
    const r = new RedisKeyRing(redis.url, { keyPrefix: prefix, refreshMs });
    rings.push(r);
    return r;
  };

  beforeAll(async () => {
    redis = await startRedis();
    raw = createRedisClient({ url: redis.url });
    await raw.connect();
  }, 30_000);
  afterAll(async () => {
    for (const r of rings) await r.close();
    await raw?.close();
    await redis?.close();
  });

  it('a round sealed on one node opens on another node sharing the ring', async () => {
    const prefix = `ring${++n}:`;
    const one = askServer({ stores: { keyRing: ring(prefix) } });
    const two = askServer({ stores: { keyRing: ring(prefix) } });
    expect(await roundTripAcross(one, two)).toMatchObject({ content: [{ text: 'hello ada' }] });
    expect(await roundTripAcross(two, one)).toMatchObject({ content: [{ text: 'hello ada' }] });
    // Both nodes use the one key the first read created.
    const keys = await raw.hKeys(`${prefix}keyring`);
    expect(keys).toHaveLength(1);
  });

  it('survives a rotation: rounds sealed before still open everywhere, the new key signs once every node read it', async () => {
    const prefix = `ring${++n}:`;
    // 2 x refreshMs (3 s) is the slack the "at once" checks below have on a loaded machine.
    const refreshMs = 1500;
    const a = ring(prefix, refreshMs);
    const b = ring(prefix, refreshMs);
    const before = await sealState(a, payload());
    const oldId = (await a.keys())[0]!.id;
    const newId = await b.rotate();
    expect(newId).not.toBe(oldId);
    // At once: the old key still signs (nobody may have read the new one yet) and both verify.
    expect((await b.keys())[0]!.id).toBe(oldId);
    expect((await openState(b, before, expectFor)).ok).toBe(true);
    await a.refresh();
    expect((await openState(a, before, expectFor)).ok).toBe(true);
    // After 2 x refreshMs the new key signs on every node; the old one still verifies.
    await expect.poll(async () => (await a.keys())[0]!.id, { timeout: 15_000, interval: 100 }).toBe(newId);
    const after = await sealState(a, payload());
    expect((await openState(b, after, expectFor)).ok).toBe(true);
    expect((await openState(b, before, expectFor)).ok).toBe(true);
    expect((await b.keys()).map((k) => k.id).sort()).toEqual([oldId, newId].sort());
  });

  it('a rotation in the same millisecond as the first key: the retired key still signs', async () => {
    const prefix = `ring${++n}:`;
    const [sec, usec] = (await raw.sendCommand(['TIME'])) as [string, string];
    const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const secret = Buffer.alloc(32, 7).toString('base64url');
    // Ids chosen so that the retired key sorts first by id: only its being retired may order it.
    await raw.hSet(`${prefix}keyring`, {
      aaaa: JSON.stringify({ s: secret, c: now, r: now }),
      zzzz: JSON.stringify({ s: secret, c: now, r: 0 }),
    });
    const r = ring(prefix, 5000);
    expect((await r.keys()).map((k) => k.id)).toEqual(['aaaa', 'zzzz']);
  });

  it('the ring hash has a TTL; garbage in it (another type, foreign fields) is dropped', async () => {
    const prefix = `ring${++n}:`;
    const key = `${prefix}keyring`;
    await raw.set(key, 'not a hash');
    const r = ring(prefix);
    const keys = await r.keys();
    expect(keys).toHaveLength(1);
    expect(await raw.type(key)).toBe('hash');
    const ttl = await raw.pTTL(key);
    expect(ttl).toBeGreaterThan(0);
    await raw.hSet(key, { junk: 'not json', half: '{"s":"x"}' });
    expect((await r.refresh()).map((k) => k.id)).toEqual([keys[0]!.id]);
    expect((await raw.hKeys(key)).sort()).toEqual([keys[0]!.id]);
  });

  it('configured keys are used as given, without Redis; rotate() then throws', async () => {
    const configured = [{ id: 'k1', secret: 'a configured secret of 32 bytes!!' }];
    const r = new RedisKeyRing(undefined, { keys: configured });
    expect(await r.keys()).toEqual(configured);
    await expect(r.rotate()).rejects.toThrow(/configuration/);
    expect(() => new RedisKeyRing(undefined)).toThrow(TypeError);
    expect(() => new RedisKeyRing(redis.url, { refreshMs: 0 })).toThrow(/refreshMs/);
  });

  it('keeps the last keys read while Redis is down; rejects clearly before any was read', async () => {
    const own = await startRedis();
    const errors: Error[] = [];
    const r = new RedisKeyRing(
      { url: own.url, onerror: () => {} },
      { refreshMs: 50, onerror: (e) => errors.push(e) },
    );
    try {
      await expect
        .poll(
          () =>
            r.keys().then(
              (k) => k.length,
              () => 0,
            ),
          { timeout: 10_000 },
        )
        .toBe(1);
      const sealed = await sealState(r, payload());
      await own.kill();
      await new Promise((resolve) => setTimeout(resolve, 100)); // past refreshMs: a read is due
      expect((await openState(r, sealed, expectFor)).ok).toBe(true);
      expect(errors[0]?.message).toMatch(/anywire\/redis: keyRing failed/);
      const fresh = new RedisKeyRing({ url: own.url, onerror: () => {} });
      await expect(fresh.keys()).rejects.toThrow(/anywire\/redis: keyRing failed/);
      await fresh.close();
    } finally {
      await r.close();
      await own.close();
    }
  }, 30_000);
});
