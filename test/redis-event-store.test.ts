/**
 * RedisEventStore against a private redis-server: the EventStore contract suite (the same as the
 * in-memory store's), its bounds in events and bytes, a TTL on every key, deleteSession leaving no
 * key behind, garbage under its keys treated as absent, a second process (store) reading a stream
 * the first one writes, and legacy SSE resumption through serveHttp with `stores.eventStore`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from '../src/jsonrpc/types.js';
import type { RedisClient } from '../src/redis/connection.js';
import { createRedisClient } from '../src/redis/connection.js';
import { RedisEventStore } from '../src/redis/event-store.js';
import type { RedisEventStoreOptions } from '../src/redis/event-store.js';
import { McpServer } from '../src/server/mcp-server.js';
import { createNodeHandler } from '../src/transports/streamable-http/node.js';
import { eventStoreContract } from './contracts/event-store.contract.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the Redis event store tests: ${missing}`);

const note = (i: number, text = ''): JsonRpcMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/progress',
  params: { progressToken: 't', progress: i, message: text },
});

const progressOf = (m: JsonRpcMessage) => (m as unknown as { params: { progress: number } }).params.progress;

async function replay(store: RedisEventStore, session: string, after: string) {
  const sent: JsonRpcMessage[] = [];
  const stream = await store.replayEventsAfter(session, after, (_id, m) => void sent.push(m));
  return { stream, sent };
}

describe.skipIf(!!missing)('RedisEventStore', () => {
  let redis: RedisInstance;
  let client: RedisClient;
  let n = 0;
  /** A store on the shared client, on a key prefix of its own. */
  const store = (options: RedisEventStoreOptions = {}) =>
    new RedisEventStore(client, { keyPrefix: `es${++n}:`, ...options });

  beforeAll(async () => {
    redis = await startRedis();
    client = createRedisClient({ url: redis.url });
    await client.connect();
  }, 30_000);
  afterAll(async () => {
    await client?.close();
    await redis?.close();
  });

  eventStoreContract('RedisEventStore', () => store());
  eventStoreContract('RedisEventStore (tight bounds)', () =>
    store({ maxEventsPerStream: 10, maxStreamBytes: 4096 }),
  );

  it('keeps maxEventsPerStream events and maxStreamBytes bytes per stream, oldest dropped first', async () => {
    const s = store({ maxEventsPerStream: 5, maxStreamBytes: 3000 });
    const first = await s.storeEvent('sess', 'a', null);
    for (let i = 1; i <= 8; i++) await s.storeEvent('sess', 'a', note(i));
    expect((await replay(s, 'sess', first)).sent.map(progressOf)).toEqual([4, 5, 6, 7, 8]);
    expect(await client.xLen(s.streamKey('sess', 'a'))).toBe(5);

    const b = await s.storeEvent('sess', 'b', null);
    for (let i = 1; i <= 4; i++) await s.storeEvent('sess', 'b', note(i, 'x'.repeat(1000)));
    const kept = (await replay(s, 'sess', b)).sent.map(progressOf);
    expect(kept).toEqual([3, 4]); // each event ~1 070 bytes: two fit in 3 000
    expect(Number(await client.hGet(s.indexKey('sess'), `b:${b.split('.')[0]}`))).toBeLessThanOrEqual(3000);
  });

  it('refuses an event above maxEventBytes, and a stream beyond maxStreamsPerSession, with clear errors', async () => {
    const s = store({ maxEventBytes: 200, maxStreamBytes: 1000, maxStreamsPerSession: 2 });
    await expect(s.storeEvent('sess', 'a', note(1, 'y'.repeat(200)))).rejects.toThrow(
      /exceeds maxEventBytes \(200\)/,
    );
    await s.storeEvent('sess', 'a', note(1));
    await s.storeEvent('sess', 'b', note(1));
    await expect(s.storeEvent('sess', 'c', note(1))).rejects.toThrow(
      /storeEvent failed: .*maxStreamsPerSession/,
    );
    await s.storeEvent('other', 'c', note(1)); // another session has its own limit
    expect(() => new RedisEventStore(client, { maxEventBytes: 10, maxStreamBytes: 5 })).toThrow(RangeError);
    expect(() => new RedisEventStore(client, { eventTtlMs: 0 })).toThrow(/eventTtlMs/);
  });

  it('puts eventTtlMs on every key it writes, and deleteSession removes every key of the session', async () => {
    const s = store({ eventTtlMs: 60_000 });
    const prefix = `es${n}:`;
    await s.storeEvent('sess{1}', 'a', null);
    await s.storeEvent('sess{1}', 'b', note(1));
    await s.storeEvent('keep', 'a', note(1));
    const keys = await client.keys(`${prefix}*`);
    expect(keys.length).toBe(5);
    for (const key of keys) {
      const ttl = await client.pTTL(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(60_000);
    }
    // The session id's braces are escaped: its keys share one hash tag, so one Cluster slot.
    expect(keys.filter((k) => k.includes('sess')).every((k) => k.includes('{sess%7B1%7D}'))).toBe(true);
    await s.deleteSession('sess{1}');
    expect((await client.keys(`${prefix}*`)).sort()).toEqual(
      [s.indexKey('keep'), s.streamKey('keep', 'a')].sort(),
    );
  });

  it('treats garbage under its keys as absent: wrong types, foreign entries, invalid JSON', async () => {
    const s = store();
    const prime = await s.storeEvent('sess', 'a', null);
    await s.storeEvent('sess', 'a', note(1));
    // Entries that are not ours, or not JSON, in the stream: skipped.
    await client.xAdd(s.streamKey('sess', 'a'), '*', { d: 'not json' });
    await client.xAdd(s.streamKey('sess', 'a'), '*', { other: 'field' });
    await client.xAdd(s.streamKey('sess', 'a'), '*', { d: '[1,2]' });
    await s.storeEvent('sess', 'a', note(2));
    expect((await replay(s, 'sess', prime)).sent).toEqual([note(1), note(2)]);
    // The index replaced by a string: unknown ids, and the next write starts afresh.
    await client.set(s.indexKey('sess'), 'garbage');
    expect(await replay(s, 'sess', prime)).toEqual({ stream: undefined, sent: [] });
    await s.deleteSession('sess');
    await client.set(s.indexKey('sess'), 'garbage');
    await client.set(s.streamKey('sess', 'a'), 'garbage');
    const fresh = await s.storeEvent('sess', 'a', null);
    await s.storeEvent('sess', 'a', note(3));
    expect((await replay(s, 'sess', fresh)).sent).toEqual([note(3)]);
    // The stream replaced by a hash: a known id replays nothing, and nothing throws.
    await client.del(s.streamKey('sess', 'a'));
    await client.hSet(s.streamKey('sess', 'a'), 'x', 'y');
    expect(await replay(s, 'sess', fresh)).toEqual({ stream: 'a', sent: [] });
    expect(await s.readEventsAfter('sess', fresh)).toEqual({ streamId: 'a', events: [] });
  });

  it('another process reads, after an id, what this one keeps writing (readEventsAfter)', async () => {
    const prefix = `es${++n}:`;
    const writer = new RedisEventStore(client, { keyPrefix: prefix });
    const reader = new RedisEventStore(redis.url, { keyPrefix: prefix }); // its own connection
    try {
      const prime = await writer.storeEvent('sess', 'get', null);
      const ids = [];
      for (let i = 1; i <= 3; i++) ids.push(await writer.storeEvent('sess', 'get', note(i)));
      const first = await reader.readEventsAfter('sess', prime);
      expect(first).toEqual({ streamId: 'get', events: ids.map((id, i) => ({ id, message: note(i + 1) })) });
      const more = await writer.storeEvent('sess', 'get', note(4));
      expect(await reader.readEventsAfter('sess', ids[2]!)).toEqual({
        streamId: 'get',
        events: [{ id: more, message: note(4) }],
      });
      expect(await reader.readEventsAfter('sess', more)).toEqual({ streamId: 'get', events: [] });
      expect((await reader.readEventsAfter('sess', prime, 2))!.events).toHaveLength(2);
      expect(await reader.readEventsAfter('intruder', prime)).toBeUndefined();
    } finally {
      await reader.close();
    }
  });

  it('storeEventOnce across processes: of four stores racing on one broadcast key, one stores it; the marker keeps onceWindowMs and garbage under it is replaced', async () => {
    const prefix = `es${++n}:`;
    const stores = [1, 2, 3, 4].map(
      () => new RedisEventStore(client, { keyPrefix: prefix, onceWindowMs: 5000 }),
    );
    const prime = await stores[0]!.storeEvent('sess', 'g', null);
    for (let round = 0; round < 20; round++) {
      const ids = await Promise.all(
        stores.map((s) => s.storeEventOnce('sess', 'g', note(round), `b${round}`)),
      );
      expect(
        ids.filter((id) => id !== undefined),
        `round ${round}`,
      ).toHaveLength(1);
    }
    expect((await replay(stores[1]!, 'sess', prime)).sent.map(progressOf)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    const marker = `${prefix}es:{sess}:o:b0`;
    const ttl = await client.pTTL(marker);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
    await client.del(marker);
    await client.hSet(marker, 'x', 'y'); // garbage of another type
    expect(await stores[2]!.storeEventOnce('sess', 'g', note(99), 'b0')).toEqual(expect.any(String));
    expect(await client.type(marker)).toBe('string');
  });

  it('rejects with a clear error when Redis is unreachable (fast, no crash)', async () => {
    const own = await startRedis();
    const s = new RedisEventStore({ url: own.url, onerror: () => {} });
    try {
      await expect
        .poll(() => s.storeEvent('sess', 'a', null).catch(() => undefined), { timeout: 10_000 })
        .toBeTruthy();
      await own.kill();
      const started = Date.now();
      await expect(s.storeEvent('sess', 'a', note(1))).rejects.toThrow(/anywire\/redis: storeEvent failed/);
      await expect(s.replayEventsAfter('sess', `${'a'.repeat(32)}.1-0`, () => {})).rejects.toThrow(
        /replayEventsAfter failed/,
      );
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await s.close();
      await own.close();
    }
  }, 30_000);

  it('serveHttp with stores.eventStore: a legacy SSE stream resumes with Last-Event-ID from Redis', async () => {
    const eventStore = store();
    const server = new McpServer({ name: 'es', version: '1' }, { stores: { eventStore } });
    server.registerTool('steps', {}, async (_a, ctx) => {
      for (let i = 1; i <= 3; i++) await ctx.progress(i, 3, `step ${i}`);
      return 'done';
    });
    const handler = createNodeHandler(server, { eventRetentionMs: 60_000 });
    const listener = http.createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/mcp`;
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    try {
      const init = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      });
      const session = init.headers.get('mcp-session-id')!;
      await init.text();
      const sessionHeaders = { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
      const call = await fetch(url, {
        method: 'POST',
        headers: sessionHeaders,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'steps', arguments: {}, _meta: { progressToken: 'p' } },
        }),
      });
      const text = await call.text();
      const ids = [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!);
      expect(ids.length).toBeGreaterThanOrEqual(4); // priming, three progress, the result
      expect(ids.every((id) => /^[0-9a-f]{32}\.\d+-\d+$/.test(id))).toBe(true);
      // Resume after the first progress event: the rest comes back from Redis, in order.
      const ac = new AbortController();
      const resumed = await fetch(url, {
        headers: { ...sessionHeaders, accept: 'text/event-stream', 'last-event-id': ids[1]! },
        signal: ac.signal,
      });
      expect(resumed.status).toBe(200);
      const reader = resumed.body!.getReader();
      let got = '';
      const deadline = setTimeout(() => ac.abort(new Error('no replay within 10 s')), 10_000);
      try {
        while (!got.includes('"result"')) {
          const { done, value } = await reader.read();
          if (done) break;
          got += new TextDecoder().decode(value);
        }
      } finally {
        clearTimeout(deadline);
        ac.abort();
      }
      expect(got).toContain('step 2');
      expect(got).toContain('step 3');
      expect(got).not.toContain('step 1');
      expect(got).toContain('"result"');
    } finally {
      await handler.http.close();
      listener.closeAllConnections();
      await new Promise((r) => listener.close(r));
    }
  });
});
