/**
 * The token cache shared through Redis (issue 11, "DPoP `jti` replay cache and token cache,
 * shared"): RFC 7662 introspection answers got by one resource server (a node) are reused by
 * another sharing Redis, so the authorization server is asked once per token per `cacheTtlMs`
 * across the cluster, not once per node. A small introspection endpoint on 127.0.0.1 counts its
 * calls; each node has its own Redis connection; a real redis-server on a free port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, oauthResourceServer } from '../src/auth/index.js';
import type { AuthRequest } from '../src/protocol/auth.js';
import type { RedisClient } from '../src/redis/connection.js';
import { createRedisClient } from '../src/redis/connection.js';
import { redisStores } from '../src/redis/stores.js';
import { RedisTokenCache } from '../src/redis/token-cache.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import { waitFor } from './helpers.js';
import { tokenCacheContract } from './contracts/token-cache.contract.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the Redis token cache tests: ${missing}`);

const RESOURCE = 'https://mcp.example.test/mcp';

/** An RFC 7662 endpoint: answers per token from `answers`, counting calls per token. */
async function startIntrospection() {
  const answers = new Map<string, Record<string, unknown>>();
  const calls = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      calls.set(token, (calls.get(token) ?? 0) + 1);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(answers.get(token) ?? { active: false }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    answers,
    calls: (token: string) => calls.get(token) ?? 0,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.skipIf(!!missing)('RedisTokenCache (introspection answers shared by nodes)', () => {
  let redis: RedisInstance;
  let raw: RedisClient;
  let as: Awaited<ReturnType<typeof startIntrospection>>;
  const caches: RedisTokenCache[] = [];
  let tokens = 0;

  beforeAll(async () => {
    redis = await startRedis();
    raw = createRedisClient({ url: redis.url });
    await raw.connect();
    as = await startIntrospection();
  });
  afterAll(async () => {
    for (const c of caches) await c.close();
    await raw?.close();
    await redis?.close();
    await as?.close();
  });

  let prefixes = 0;
  tokenCacheContract('RedisTokenCache', () => {
    const cache = new RedisTokenCache(raw, { keyPrefix: `tcc${++prefixes}:` });
    return cache;
  });

  /** A node: a resource server with its own Redis connection for the token cache. */
  const node = (options: { cacheTtlMs?: number; url?: string; keyPrefix?: string } = {}) => {
    const tokenCache = new RedisTokenCache(
      { url: options.url ?? redis.url, onerror: () => {} },
      { keyPrefix: options.keyPrefix ?? 'tc:' },
    );
    caches.push(tokenCache);
    return oauthResourceServer({
      issuer: as.origin,
      resource: RESOURCE,
      introspection: {
        endpoint: `${as.origin}/introspect`,
        clientId: 'rs',
        clientSecret: 'rs-secret',
        cacheTtlMs: options.cacheTtlMs ?? 60_000,
      },
      tokenCache,
    });
  };
  /** A new opaque token the endpoint calls active for `expInSec` more seconds. */
  const activeToken = (expInSec = 300) => {
    const token = `opaque-${++tokens}-${Math.random().toString(36).slice(2)}`;
    as.answers.set(token, {
      active: true,
      iss: as.origin,
      aud: RESOURCE,
      sub: 'ada',
      client_id: 'cli',
      scope: 'mcp:tools',
      exp: Math.floor(Date.now() / 1000) + expInSec,
    });
    return token;
  };
  const bearer = (token: string): AuthRequest => ({
    binding: 'http',
    headers: { authorization: `Bearer ${token}` },
    httpMethod: 'POST',
    url: RESOURCE,
  });

  it('a token introspected by one node is not introspected again by another; Redis holds no raw token', async () => {
    const token = activeToken();
    const one = node();
    const two = node();
    expect(await one.authenticate(bearer(token))).toMatchObject({ subject: 'ada', token });
    expect(as.calls(token)).toBe(1);
    const second = await two.authenticate(bearer(token));
    expect(second).toMatchObject({ subject: 'ada', clientId: 'cli', scopes: ['mcp:tools'], token });
    expect(as.calls(token), 'introspection calls after both nodes').toBe(1);
    const keys = await raw.keys('tc:token:*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(token);
    expect(await raw.get(keys[0]!)).not.toContain(token);
    const ttl = await raw.pTTL(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    console.log(`2 nodes, 1 token: ${as.calls(token)} introspection call (without the shared cache: 2)`);
  });

  it("keeps an answer no longer than the token's exp, and no longer than cacheTtlMs", async () => {
    const shortLived = activeToken(5);
    await node({ keyPrefix: 'exp:' }).authenticate(bearer(shortLived));
    const [expKey] = await raw.keys('exp:token:*');
    expect(await raw.pTTL(expKey!)).toBeLessThanOrEqual(5000);

    const token = activeToken();
    await node({ keyPrefix: 'ttl:', cacheTtlMs: 300 }).authenticate(bearer(token));
    const [ttlKey] = await raw.keys('ttl:token:*');
    expect(await raw.pTTL(ttlKey!)).toBeLessThanOrEqual(300);
    await waitFor(
      'the shared answer to expire',
      () => raw.exists(ttlKey!),
      (n) => n === 0,
      5000,
    );
    // Another node then asks the authorization server again (a revocation shows within cacheTtlMs).
    await node({ keyPrefix: 'ttl:', cacheTtlMs: 300 }).authenticate(bearer(token));
    expect(as.calls(token)).toBe(2);
  });

  it('shares refusals too: an inactive token is refused by the second node without asking again', async () => {
    const revoked = `revoked-${Math.random().toString(36).slice(2)}`;
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(await refused(node({ keyPrefix: 'neg:' }).authenticate(bearer(revoked)))).toBeInstanceOf(
      AuthError,
    );
    const error = await refused(node({ keyPrefix: 'neg:' }).authenticate(bearer(revoked)));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).challenge.error).toBe('invalid_token');
    expect(as.calls(revoked)).toBe(1);
  });

  it('reads garbage under its keys as a miss, and introspects when Redis is unreachable', async () => {
    const token = activeToken();
    const one = node({ keyPrefix: 'junk:' });
    await one.authenticate(bearer(token));
    const [key] = await raw.keys('junk:token:*');
    await raw.set(key!, '{"not":"an answer"}');
    await node({ keyPrefix: 'junk:' }).authenticate(bearer(token));
    await raw.del(key!);
    await raw.hSet(key!, 'x', 'y');
    await node({ keyPrefix: 'junk:' }).authenticate(bearer(token));
    expect(as.calls(token)).toBe(3);

    const own = await startRedis();
    const lonely = node({ url: own.url, keyPrefix: 'down:' });
    await lonely.authenticate(bearer(activeToken())); // connected once
    await own.kill();
    const t0 = performance.now();
    expect(await lonely.authenticate(bearer(token))).toMatchObject({ subject: 'ada' });
    const ms = performance.now() - t0;
    expect(as.calls(token)).toBe(4);
    console.log(`Redis down: the token was introspected instead, in ${ms.toFixed(0)} ms`);
    expect(ms, 'a cache outage fails over to introspection at once').toBeLessThan(2000);
    await own.close();
  }, 30_000);

  it('redisStores includes it as stores.tokenCache', async () => {
    const stores = await redisStores({ url: redis.url, keyPrefix: 'agg:' });
    try {
      expect(stores.tokenCache).toBeInstanceOf(RedisTokenCache);
      expect(stores.tokenCache!.keyOf('k')).toBe('agg:token:k');
    } finally {
      await stores.close();
    }
  });
});
