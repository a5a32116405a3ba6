/**
 * Events across two in-process servers sharing a private Redis (`redisStores`): an occurrence
 * emitted on node A is polled through node B with a cursor; a webhook subscription made through
 * node A receives occurrences emitted on both nodes exactly once, both nodes running delivery
 * workers (an independent receiver on the standardwebhooks library counts by webhook-id); a node
 * stopped in the middle of a delivery loses nothing: the other node delivers it after the lease.
 * Webhook targets are loopback, allowed by `allowInsecureWebhookTargets`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { streamEvents } from '../src/client/events.js';
import { createEventsExtension } from '../src/events/index.js';
import type { EventsExtension } from '../src/events/index.js';
import type { JsonObject } from '../src/protocol/types.js';
import { redisStores } from '../src/redis/index.js';
import { McpServer } from '../src/server/mcp-server.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import { generateWebhookSecret } from '../src/webhooks/index.js';
import { registerEventFixtures } from '../examples/everything/events.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { startWebhookReceiver } from './fixtures/webhook-receiver.js';
import type { WebhookDelivery } from './fixtures/webhook-receiver.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import { connectPair } from './helpers.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the two-node Redis Events tests: ${missing}`);

let redis: RedisInstance;
beforeAll(async () => {
  if (!missing) redis = await startRedis();
}, 30_000);
afterAll(async () => {
  if (!missing) await redis.close();
});

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function waitFor(what: string, probe: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let testNo = 0;

/** One node: a server with the Events extension on redisStores, served over HTTP. */
async function node(keyPrefix: string, consumer: string, deliveryLeaseMs = 1000, url = redis.url) {
  const stores = await redisStores({
    url,
    keyPrefix,
    events: { consumer, deliveryLeaseMs, pollBlockMs: 200 },
  });
  const server = new McpServer({ name: `node-${consumer}`, version: '1.0.0' }, { stores });
  const events = createEventsExtension({
    pollIntervalMs: 1000,
    webhooks: { senderOptions: { allowInsecureWebhookTargets: true, retry: { initialDelayMs: 5 } } },
  });
  server.extend(events);
  events.registerEvent('alert.raised', {
    inputSchema: { type: 'object', properties: { level: { type: 'string' } } },
    match: (e, args) => args.level === undefined || e.data.level === args.level,
  });
  await server.start(); // this node's delivery worker runs before its first request
  const http = await serveHttp(server, {
    port: 0,
    authenticate: (h) => (h['x-user'] ? { subject: String(h['x-user']) } : undefined),
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await http.close();
    await server.close();
    await stores.close();
  };
  closers.push(close);
  const client = async (user: string) => {
    const c = new Client({ name: user, version: '1' });
    await c.connect(new StreamableHttpClientTransport({ url: http.url, headers: { 'x-user': user } }));
    closers.push(() => c.close());
    return c;
  };
  return { events, client, close };
}

/** A webhook endpoint on the standardwebhooks library (test/fixtures/webhook-receiver.ts), closed after the test. */
async function receiver(secret: string, hold?: (delivery: WebhookDelivery) => boolean) {
  const hook = await startWebhookReceiver([secret], { hold });
  closers.push(() => hook.close()); // also ends held deliveries
  return hook;
}

const emitAndLog = async (events: EventsExtension, data: JsonObject, eventId?: string) => {
  const e = await events.emitEvent('alert.raised', data, eventId ? { eventId } : {});
  await events.settled();
  return e;
};

describe.skipIf(missing)('Events on two nodes sharing Redis', () => {
  it('polls through node B what node A emitted, with cursors valid on both nodes', async () => {
    const prefix = `n${++testNo}:`;
    const a = await node(prefix, 'node-a');
    const b = await node(prefix, 'node-b');
    const onB = await b.client('alice');
    const onA = await a.client('alice');
    const first = await onB.request('events/poll', { name: 'alert.raised', arguments: {}, cursor: null });
    expect(first).toMatchObject({ events: [], truncated: false });
    await emitAndLog(a.events, { level: 'high', text: 'from A' });
    await emitAndLog(b.events, { level: 'low', text: 'from B' });
    const polled = await onB.request('events/poll', {
      name: 'alert.raised',
      arguments: {},
      cursor: first.cursor,
    });
    expect((polled.events as JsonObject[]).map((e) => (e.data as JsonObject).text)).toEqual([
      'from A',
      'from B',
    ]);
    expect(polled.truncated).toBe(false);
    // The cursor node B handed out is valid on node A.
    await emitAndLog(b.events, { level: 'high', text: 'later' });
    const onward = await onA.request('events/poll', {
      name: 'alert.raised',
      arguments: { level: 'high' },
      cursor: polled.cursor,
    });
    expect(onward).toMatchObject({ truncated: false, events: [{ data: { text: 'later' } }] });
    // The same eventId emitted on both nodes is one occurrence.
    await emitAndLog(a.events, { level: 'x' }, 'evt_both');
    await emitAndLog(b.events, { level: 'x' }, 'evt_both');
    const both = await onA.request('events/poll', {
      name: 'alert.raised',
      arguments: { level: 'x' },
      cursor: onward.cursor,
    });
    expect((both.events as JsonObject[]).map((e) => e.eventId)).toEqual(['evt_both']);
  });

  it('pushes to an events/stream on node B what node A emitted (over the shared bus)', async () => {
    const prefix = `n${++testNo}:`;
    const a = await node(prefix, 'node-a');
    const b = await node(prefix, 'node-b');
    const got: JsonObject[] = [];
    const stream = await streamEvents(await b.client('alice'), 'alert.raised', { level: 'high' }, (e) =>
      got.push(e as unknown as JsonObject),
    );
    await emitAndLog(a.events, { level: 'low', text: 'filtered' });
    await emitAndLog(a.events, { level: 'high', text: 'from A' });
    await emitAndLog(b.events, { level: 'high', text: 'from B' });
    await waitFor('two pushed events', () => got.length === 2);
    expect(got.map((e) => (e.data as JsonObject).text).sort()).toEqual(['from A', 'from B']);
    await stream.close();
  });

  it('delivers every occurrence emitted on either node exactly once to a subscription made through node A', async () => {
    const prefix = `n${++testNo}:`;
    const a = await node(prefix, 'node-a');
    const b = await node(prefix, 'node-b');
    const secret = generateWebhookSecret();
    const hook = await receiver(secret);
    const alice = await a.client('alice');
    const sub = await alice.request('events/subscribe', {
      name: 'alert.raised',
      arguments: { level: 'high' },
      delivery: { mode: 'webhook', url: hook.url, secret },
      ttlMs: 120_000,
    });
    expect(sub.id).toMatch(/^sub_/);
    const total = 200;
    const t0 = Date.now();
    for (let i = 0; i < total; i++) {
      const on = i % 2 ? a.events : b.events;
      on.emitEvent('alert.raised', { level: 'high', i });
      on.emitEvent('alert.raised', { level: 'low', i }); // not matched: never delivered
    }
    await Promise.all([a.events.settled(), b.events.settled()]);
    await waitFor(`${total} deliveries`, () => hook.answeredById().size === total);
    const ms = Date.now() - t0;
    // Give a duplicate time to show up, were there one.
    await new Promise((r) => setTimeout(r, 1500));
    expect(hook.answeredById().size).toBe(total);
    expect([...hook.answeredById().values()].every((n) => n === 1)).toBe(true);
    expect(hook.arrivedIds()).toHaveLength(total);
    console.log(
      `two nodes: ${total} webhook deliveries (of ${2 * total} emits), each exactly once, in ${ms} ms (${Math.round((total * 1000) / ms)}/s)`,
    );
    // Delivery state is shared: a refresh through node B reports it.
    const bob = await b.client('alice');
    const refreshed = await bob.request('events/subscribe', {
      name: 'alert.raised',
      arguments: { level: 'high' },
      delivery: { mode: 'webhook', url: hook.url, secret },
    });
    expect(refreshed.id).toBe(sub.id);
    expect(refreshed.deliveryStatus).toMatchObject({ active: true, lastError: null });
    expect(typeof (refreshed.deliveryStatus as JsonObject).lastDeliveryAt).toBe('string');
  });

  it('loses nothing when a node stops mid-delivery: the other node delivers it after the lease', async () => {
    const prefix = `n${++testNo}:`;
    const leaseMs = 1000;
    const a = await node(prefix, 'node-a', leaseMs);
    const secret = generateWebhookSecret();
    let holdFirst = true;
    const hook = await receiver(secret, () => {
      const hold = holdFirst;
      holdFirst = false;
      return hold;
    });
    const alice = await a.client('alice');
    await alice.request('events/subscribe', {
      name: 'alert.raised',
      arguments: {},
      delivery: { mode: 'webhook', url: hook.url, secret },
    });
    a.events.emitEvent('alert.raised', { level: 'high', text: 'in flight' }, { eventId: 'evt_inflight' });
    await waitFor('node A to start the delivery', () => hook.arrivedIds().length === 1);
    await a.close(); // aborts node A's attempt; the job stays pending under consumer node-a
    const stoppedAt = Date.now();
    await node(prefix, 'node-b', leaseMs);
    await waitFor('node B to take over the delivery', () => hook.answeredById().get('evt_inflight') === 1);
    const after = Date.now() - stoppedAt;
    expect(after).toBeGreaterThanOrEqual(leaseMs - 100);
    await new Promise((r) => setTimeout(r, 1500));
    expect(hook.answeredById().get('evt_inflight')).toBe(1);
    expect(hook.arrivedIds()).toEqual(['evt_inflight', 'evt_inflight']);
    console.log(
      `node stopped mid-delivery: delivered by the other node ${after} ms later (lease ${leaseMs} ms)`,
    );
  });

  it('rejects an emit Redis did not record, and post_note fails with that error instead of answering', async () => {
    const own = await startRedis(); // killed below: not the one the other tests share
    closers.push(() => own.close());
    const a = await node('down:', 'node-a', 1000, own.url);
    const up = await a.events.emitEvent('alert.raised', { level: 'high', text: 'while up' });
    expect(up).toMatchObject({ name: 'alert.raised', data: { text: 'while up' } });
    const stores = await redisStores({ url: own.url, keyPrefix: 'down:', events: { consumer: 'notes' } });
    closers.push(() => stores.close());
    const server = new McpServer({ name: 'notes', version: '1.0.0' }, { stores });
    registerEventFixtures(server, { tickIntervalMs: 3_600_000 });
    closers.push(() => server.close());
    const c = await connectPair(server, { era: 'modern' }); // in memory: goes with the server
    const posted = await c.callTool('post_note', { text: 'while up' });
    expect(posted.isError).toBeFalsy();
    expect(posted.content).toEqual([{ type: 'text', text: expect.stringMatching(/^posted evt_/) }]);

    await own.kill();
    const t0 = Date.now();
    const emit = a.events.emitEvent('alert.raised', { level: 'high', text: 'while down' });
    expect(emit.eventId).toMatch(/^evt_/); // the event's fields are readable at once, as before
    await expect(emit).rejects.toThrow(/^anywire: event "alert\.raised" \(evt_[^)]+\) was not recorded: /);
    const failed = await c.callTool('post_note', { text: 'while down' });
    const ms = Date.now() - t0;
    expect(failed.isError).toBe(true);
    expect(failed.content).toEqual([
      {
        type: 'text',
        text: expect.stringMatching(/^anywire: event "everything\.note" \(evt_[^)]+\) was not recorded: /),
      },
    ]);
    console.log(
      `Redis killed: emitEvent rejected and post_note failed with "${(failed.content[0] as { text: string }).text}" within ${ms} ms`,
    );
    expect(ms, 'a failed emit is reported at once, not after a hang').toBeLessThan(5000);

    // Redis back (empty: no persistence): notes are recorded again without a restart of the node.
    await own.restart();
    const t1 = Date.now();
    await waitFor('post_note and emitEvent to record again after Redis came back', async () => {
      const r = await c.callTool('post_note', { text: 'after' });
      const e = await a.events.emitEvent('alert.raised', { level: 'high', text: 'after' }).then(
        () => true,
        () => false,
      );
      return !r.isError && e;
    });
    console.log(`Redis restarted: post_note recorded again after ${Date.now() - t1} ms`);
  });

  it('closes a node at once when its Redis died right after it started (the delivery reader was still connecting)', async () => {
    const own = await startRedis();
    closers.push(() => own.close());
    const a = await node('gone:', 'node-a', 1000, own.url);
    await a.events.emitEvent('alert.raised', { level: 'high', text: 'before' });
    await own.kill();
    const t0 = Date.now();
    const closed = await Promise.race([
      a.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still closing'), 10_000).unref()),
    ]);
    console.log(`node closed ${Date.now() - t0} ms after its Redis died`);
    expect(closed, 'the node closes without waiting for Redis').toBe('closed');
  });
});
