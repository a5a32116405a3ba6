/**
 * Legacy (2025-era) Streamable HTTP sessions shared by several serveHttp nodes through Redis: a
 * session initialized on one node is served by another (tools, the GET stream, DELETE), bound to its
 * principal; the log level follows the session; broadcasts reach the GET stream once; a message
 * produced on a node that does not hold the GET stream reaches it; an oversized record is refused
 * and garbage under a session key is an unknown session.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { McpServer } from '../src/server/mcp-server.js';
import type { RedisClient as AnyRedisClient } from '../src/redis/connection.js';
import { redisMissing } from './fixtures/redis-server.js';
import { RawClient, readSse, sessionCluster, until } from './fixtures/session-nodes.js';
import type { Node, SseEvent } from './fixtures/session-nodes.js';

const missing = redisMissing();
if (missing) console.warn(`skipping shared legacy session tests: ${missing}`);

/** Tools that saw their request cancelled, by node. */
const cancelled: string[] = [];

function define(server: McpServer, name: string): void {
  server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => `${name}:${text}`);
  server.registerTool('slow', {}, async (_args, ctx) => {
    const aborted = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    cancelled.push(`${name}:${aborted}`);
    return 'finished';
  });
  server.registerResource('doc', 'test://doc', {}, () => [{ uri: 'test://doc', text: 'doc' }]);
  server.registerTool('log', {}, async (_args, ctx) => {
    await ctx.log('info', `info from ${name}`);
    await ctx.log('error', `error from ${name}`);
    return 'logged';
  });
  // Answers at once, then asks the client something: a request that belongs to no open POST, so
  // it goes on the session's GET stream, wherever that stream is held.
  server.registerTool('ask-later', { inputSchema: { n: z.number() } }, ({ n }, ctx) => {
    setTimeout(() => {
      ctx
        .elicit({ message: `q${n}@${name}`, requestedSchema: { type: 'object', properties: {} } })
        .catch(() => {});
    }, 5);
    return 'asked';
  });
}

const text = (body: any): string => body?.result?.content?.[0]?.text;

describe.skipIf(missing !== undefined)('legacy sessions shared by several nodes', () => {
  const c = sessionCluster(define, 'c');
  const nodes = c.nodes;
  let raw: AnyRedisClient;

  beforeAll(async () => {
    raw = createClient({ url: c.redis.url }) as unknown as AnyRedisClient;
    raw.on('error', () => {});
    await raw.connect();
  });

  afterAll(async () => {
    await raw?.close();
  });

  const cluster = (count: number, extra: { maxSessionRecordBytes?: number } = {}) =>
    c.start(['A', 'B', 'C'].slice(0, count), extra);

  it('serves a session initialized on A on B: tools/call, GET stream, DELETE; another principal gets 404', async () => {
    await cluster(2);
    const [a, b] = nodes as [Node, Node];
    const alice = new RawClient('alice');
    const init = await alice.initialize(a);
    expect(init.status).toBe(200);
    expect((await init.json()).result.protocolVersion).toBe('2025-11-25');
    expect(alice.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await alice.post(b, { jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
    // B never saw initialize: it rebuilds the session from the record, without replaying it.
    const called = await alice.call(b, 1, 'tools/call', { name: 'echo', arguments: { text: 'hi' } });
    expect(called.status).toBe(200);
    expect(text(called.body)).toBe('B:hi');
    expect(b.handle.http.sessions.has(alice.sessionId)).toBe(true);
    const listed = await alice.call(b, 2, 'tools/list');
    expect(listed.body.result.tools.map((t: { name: string }) => t.name)).toContain('echo');

    // Another principal presenting the id: 404 on every node, for every method.
    const mallory = new RawClient('mallory');
    mallory.sessionId = alice.sessionId;
    for (const node of [a, b]) {
      const r = await mallory.post(node, { jsonrpc: '2.0', id: 9, method: 'tools/list' });
      expect(r.status).toBe(404);
      expect((await mallory.get(node)).status).toBe(404);
      expect((await mallory.delete(node)).status).toBe(404);
    }
    const anonymous = await fetch(b.url, {
      method: 'POST',
      headers: { ...alice.headers(), authorization: '' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'tools/list' }),
    });
    expect(anonymous.status).toBe(404);

    // The GET stream on B.
    const ac = new AbortController();
    const get = await alice.get(b, undefined, ac.signal);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('text/event-stream');
    ac.abort();

    // DELETE on B ends the session everywhere, A's replica included.
    expect((await alice.delete(b)).status).toBe(200);
    expect(Number(await raw.exists(`${nodes[0]!.store.key(alice.sessionId)}`))).toBe(0);
    expect((await alice.post(a, { jsonrpc: '2.0', id: 3, method: 'tools/list' })).status).toBe(404);
    expect((await alice.post(b, { jsonrpc: '2.0', id: 4, method: 'tools/list' })).status).toBe(404);
    await until('A to drop its replica', () => !a.handle.http.sessions.has(alice.sessionId));
  });

  it('keeps the log level set on one node for requests on the others', async () => {
    await cluster(3);
    const [a, b, c] = nodes as [Node, Node, Node];
    const alice = new RawClient('alice');
    await alice.initialize(a);
    // Every node has a replica before the level changes.
    for (const [i, node] of [a, b, c].entries()) await alice.call(node, 100 + i, 'ping');
    expect((await alice.call(b, 1, 'logging/setLevel', { level: 'error' })).body.result).toEqual({});
    for (const [i, node] of [a, c].entries()) {
      const res = await alice.post(node, {
        jsonrpc: '2.0',
        id: 10 + i,
        method: 'tools/call',
        params: { name: 'log', arguments: {} },
      });
      const logs: string[] = [];
      await readSse(res, (e) => {
        const m = e.data ? JSON.parse(e.data) : undefined;
        if (m?.method === 'notifications/message') logs.push(m.params.data);
      });
      expect(logs).toEqual([`error from ${node.name}`]);
    }
    const record = (await raw.hGetAll(a.store.key(alice.sessionId))) as Record<string, string>;
    expect(record.level).toBe('error');
  });

  it('delivers a broadcast once, on the GET stream, and a message produced elsewhere too', async () => {
    await cluster(2);
    const [a, b] = nodes as [Node, Node];
    const alice = new RawClient('alice');
    await alice.initialize(a);
    await alice.call(a, 1, 'ping'); // A has a replica
    const ac = new AbortController();
    const get = await alice.get(b, undefined, ac.signal);
    expect(get.status).toBe(200);
    const seen: SseEvent[] = [];
    const reading = readSse(get, (e) => seen.push(e)).catch(() => {});
    await until('the priming event', () => seen.length >= 1);
    // A tool registered on A: list_changed goes over the (shared) bus to both nodes; only the
    // node holding the GET stream (B) delivers it.
    a.server.registerTool('late', {}, () => 'late');
    await until('list_changed', () => seen.some((e) => e.data.includes('tools/list_changed')));
    // A request produced on A, which does not hold the stream, reaches it through the event store.
    expect(
      text((await alice.call(a, 2, 'tools/call', { name: 'ask-later', arguments: { n: 1 } })).body),
    ).toBe('asked');
    await until('the elicitation from A', () => seen.some((e) => e.data.includes('q1@A')));
    await new Promise((r) => setTimeout(r, 200));
    const messages = seen.filter((e) => e.data).map((e) => JSON.parse(e.data));
    expect(messages.map((m) => m.method)).toEqual(['notifications/tools/list_changed', 'elicitation/create']);
    // Its id names A's replica: the client's answer can go to any node.
    expect(messages[1].id).toMatch(/^[0-9a-f]{12}\.[0-9]+$/);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    ac.abort();
    await reading;
  });

  it('stores each broadcast once while the GET stream moves between nodes and while its holder is dead', async () => {
    await cluster(3);
    const [a, b, c] = nodes as [Node, Node, Node];
    const alice = new RawClient('alice');
    await alice.initialize(a);
    await alice.post(a, { jsonrpc: '2.0', method: 'notifications/initialized' });
    // A replica on every node: each of them hears every broadcast.
    for (const [i, node] of [a, b, c].entries()) await alice.call(node, 100 + i, 'ping');

    const seen: SseEvent[] = [];
    const heard = () => seen.filter((e) => e.data.includes('tools/list_changed')).length;
    const open = async (node: Node, last?: string) => {
      const ac = new AbortController();
      const res = await alice.get(node, last, ac.signal);
      expect(res.status).toBe(200);
      const reading = readSse(res, (e) => seen.push(e)).catch(() => {});
      return { ac, reading };
    };
    let live = await open(a);
    await until('the priming event', () => seen.length >= 1);

    // Broadcasts from every live node, one every 5 ms, while the client moves its GET stream
    // A -> B -> C -> A -> B -> C -> A -> B, each time resuming after the last event it saw.
    let fired = 0;
    let firing = true;
    const alive = [a, b, c];
    const firer = (async () => {
      while (firing) {
        alive[fired % alive.length]!.server.notifyListChanged('tools');
        fired++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const route = [b, c, a, b, c, a, b];
    for (const [i, node] of route.entries()) {
      const before = heard();
      await until(`a broadcast on connection ${i}`, () => heard() > before);
      live.ac.abort();
      await live.reading;
      live = await open(node, seen.at(-1)!.id!);
    }
    firing = false;
    await firer;
    await until(`all ${fired} broadcasts on the stream held by B`, () => heard() >= fired);

    // B (holding the stream) dies; broadcasts fired meanwhile on A and C are stored by their
    // replicas of the session, once, and replayed when the client resumes on C.
    const lastSeen = seen.at(-1)!.id!;
    await b.kill();
    await live.reading;
    alive.splice(alive.indexOf(b), 1);
    for (let i = 0; i < 6; i++) {
      alive[i % 2]!.server.notifyListChanged('tools');
      fired++;
    }
    live = await open(c, lastSeen);
    await until(`all ${fired} broadcasts after resuming on C`, () => heard() >= fired);
    await new Promise((r) => setTimeout(r, 300));
    expect(heard(), 'list_changed heard (duplicates would exceed the count)').toBe(fired);
    const ids = seen.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    console.log(
      `shared GET stream: ${fired} broadcasts over ${route.length} handovers and a holder's death, each heard once`,
    );
    live.ac.abort();
    await live.reading;
  });

  it('delivers resources/updated to the GET stream by a subscription made on another node', async () => {
    await cluster(3);
    const [a, b, c] = nodes as [Node, Node, Node];
    const alice = new RawClient('alice');
    await alice.initialize(a);
    const ac = new AbortController();
    const get = await alice.get(b, undefined, ac.signal);
    const seen: SseEvent[] = [];
    const reading = readSse(get, (e) => seen.push(e)).catch(() => {});
    await until('the priming event', () => seen.length >= 1);
    // Subscribed through C: the record changes, and B (holding the GET stream) re-reads it.
    const subscribed = await alice.call(c, 1, 'resources/subscribe', { uri: 'test://doc' });
    expect(subscribed.body, JSON.stringify(subscribed)).toHaveProperty('result', {});
    expect(
      JSON.parse(
        ((await raw.hGetAll(a.store.key(alice.sessionId))) as Record<string, string>).subs ?? 'null',
      ),
    ).toEqual(['test://doc']);
    await until(
      'B to hear the subscription',
      () =>
        (
          b.handle.http.sessions.get(alice.sessionId)?.connection?.session as { subscriptions?: Set<string> }
        )?.subscriptions?.has('test://doc') === true,
    );
    a.server.notifyResourceUpdated('test://doc');
    a.server.notifyResourceUpdated('test://other');
    await until('resources/updated', () => seen.some((e) => e.data.includes('resources/updated')));
    await new Promise((r) => setTimeout(r, 200));
    const updates = seen.filter((e) => e.data.includes('notifications/resources/updated'));
    expect(updates.map((e) => JSON.parse(e.data).params.uri)).toEqual(['test://doc']);
    ac.abort();
    await reading;
  });

  it('forwards a cancellation POSTed to another node to the node running the request', async () => {
    await cluster(2);
    const [a, b] = nodes as [Node, Node];
    const alice = new RawClient('alice');
    await alice.initialize(a);
    cancelled.length = 0;
    const started = Date.now();
    const running = alice.post(a, {
      jsonrpc: '2.0',
      id: 77,
      method: 'tools/call',
      params: { name: 'slow', arguments: {} },
    });
    // Long enough for A to listen for a cancellation (200 ms after the request started).
    await new Promise((r) => setTimeout(r, 600));
    const cancel = await alice.post(b, {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 77, reason: 'changed my mind' },
    });
    expect(cancel.status).toBe(202);
    await until('the tool on A to see the cancellation', () => cancelled.length === 1);
    expect(cancelled).toEqual(['A:true']);
    const res = await running;
    // A cancelled request gets no response (basic/utilities/cancellation).
    expect([202, 204, 200]).toContain(res.status);
    expect(await res.text()).not.toContain('finished');
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('refuses an oversized session record, and treats garbage under a session key as an unknown session', async () => {
    const { keyPrefix } = await cluster(2, { maxSessionRecordBytes: 2048 });
    const [a, b] = nodes as [Node, Node];
    const big = new RawClient('alice');
    const res = await big.initialize(a, { name: 'x'.repeat(5000), version: '1' });
    const body = await res.json();
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toMatch(/session record of \d+ bytes exceeds maxSessionRecordBytes \(2048\)/);
    if (big.sessionId) {
      expect((await big.post(b, { jsonrpc: '2.0', id: 1, method: 'ping' })).status).toBe(404);
      expect((await big.post(a, { jsonrpc: '2.0', id: 2, method: 'ping' })).status).toBe(404);
    }
    // Garbage of several shapes under session keys: 404, and the nodes keep serving.
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    await raw.set(`${keyPrefix}session:{${ids[0]}}`, 'garbage');
    await raw.hSet(`${keyPrefix}session:{${ids[1]}}`, { rec: '{"sessionId":' });
    for (const id of ids) {
      const g = new RawClient('alice');
      g.sessionId = id;
      expect((await g.post(b, { jsonrpc: '2.0', id: 1, method: 'ping' })).status).toBe(404);
      expect((await g.get(a)).status).toBe(404);
    }
    const ok = new RawClient('alice');
    await ok.initialize(a);
    expect((await ok.call(b, 1, 'ping')).body.result).toEqual({});
  });

  it('fails fast with a clear error while Redis is away, and serves new sessions once it is back', async () => {
    await cluster(2);
    const [a, b] = nodes as [Node, Node];
    const alice = new RawClient('alice');
    await alice.initialize(a);
    expect((await alice.call(b, 1, 'ping')).body.result).toEqual({});
    await c.redis.kill();
    const started = Date.now();
    const failed = await alice.post(b, { jsonrpc: '2.0', id: 2, method: 'ping' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(failed.status).toBe(500);
    expect((await failed.json()).error.message).toMatch(/anywire\/redis: session touch failed/);
    await c.redis.restart();
    // Nothing is persisted by the test's Redis: the old session is gone (404), a new one works.
    await until('a new session on the restarted Redis', async () => {
      const fresh = new RawClient('alice');
      const res = await fresh.initialize(a).catch(() => undefined);
      if (res?.status !== 200 || !fresh.sessionId) return false;
      return (await fresh.call(b, 1, 'ping')).body?.result !== undefined;
    });
    expect((await alice.post(b, { jsonrpc: '2.0', id: 3, method: 'ping' })).status).toBe(404);
  });
});
