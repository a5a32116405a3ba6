/**
 * The Events extension (io.modelcontextprotocol/events, SEP-3415) in its three modes: poll (cursors,
 * truncated, hasMore), push (events/stream notifications stamped with the subscription id), and
 * webhooks over HTTP with an authenticated principal, checked by a receiver built on the
 * standardwebhooks library (verification handshake, signatures, rotation, unsubscribe).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import type { JsonRpcNotification } from '../src/jsonrpc/types.js';
import type { JsonObject } from '../src/protocol/types.js';
import { createEventsExtension, EVENTS_EXTENSION_ID } from '../src/events/index.js';
import type { EventsExtension, EventsOptions } from '../src/events/index.js';
import { McpServer } from '../src/server/mcp-server.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import { generateWebhookSecret } from '../src/webhooks/index.js';
import { startWebhookReceiver } from './fixtures/webhook-receiver.js';
import { connectPair, sleep } from './helpers.js';

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function setup(options: EventsOptions = {}): { server: McpServer; events: EventsExtension } {
  const server = new McpServer({ name: 'events', version: '1.0.0' });
  const events = createEventsExtension({
    pollIntervalMs: 1000,
    webhooks: { senderOptions: { allowInsecureWebhookTargets: true, retry: { initialDelayMs: 5 } } },
    ...options,
  });
  server.extend(events);
  events.registerEvent('alert.raised', {
    description: 'An alert',
    inputSchema: { type: 'object', properties: { level: { type: 'string' } } },
    payloadSchema: { type: 'object', properties: { level: { type: 'string' }, text: { type: 'string' } } },
    match: (e, args) => args.level === undefined || e.data.level === args.level,
  });
  return { server, events };
}

/** Waits until `probe()` holds, for at most `ms`; the error says what it waited for. */
async function waitFor(what: string, probe: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

describe('Events: list and poll', () => {
  it('lists event types and polls with cursors, filters, truncation and limits', async () => {
    const { server, events } = setup();
    const c = await connectPair(server, { era: 'modern' });
    expect((c.serverCapabilities as JsonObject).extensions).toMatchObject({
      [EVENTS_EXTENSION_ID]: { listChanged: false },
    });
    const list = await c.request('events/list');
    expect(list.events).toEqual([
      expect.objectContaining({ name: 'alert.raised', delivery: ['poll', 'push', 'webhook'] }),
    ]);
    const first = await c.request('events/poll', { name: 'alert.raised', arguments: {}, cursor: null });
    expect(first).toMatchObject({ events: [], truncated: false, hasMore: false, nextPollMs: 1000 });
    for (const level of ['high', 'low', 'high'])
      events.emitEvent('alert.raised', { level, text: `${level}!` });
    const highs = await c.request('events/poll', {
      name: 'alert.raised',
      arguments: { level: 'high' },
      cursor: first.cursor,
    });
    expect((highs.events as JsonObject[]).map((e) => e.data)).toEqual([
      { level: 'high', text: 'high!' },
      { level: 'high', text: 'high!' },
    ]);
    const again = await c.request('events/poll', {
      name: 'alert.raised',
      arguments: {},
      cursor: highs.cursor,
    });
    expect(again.events).toEqual([]);
    const one = await c.request('events/poll', {
      name: 'alert.raised',
      arguments: {},
      cursor: first.cursor,
      maxEvents: 1,
    });
    expect(one).toMatchObject({ hasMore: true });
    expect(one.events).toHaveLength(1);
    const rest = await c.request('events/poll', { name: 'alert.raised', arguments: {}, cursor: one.cursor });
    expect(rest.events).toHaveLength(2);
    expect(await c.request('events/poll', { name: 'alert.raised', cursor: 'deadbeef.1' })).toMatchObject({
      truncated: true,
      events: [],
    });
    await expect(c.request('events/poll', { name: 'nope', cursor: null })).rejects.toMatchObject({
      code: -32023,
      data: { kind: 'event' },
    });
    await expect(
      c.request('events/poll', { name: 'alert.raised', arguments: { level: 5 }, cursor: null }),
    ).rejects.toMatchObject({ code: -32602 });
  });

  it('drops the oldest events beyond the buffer and says so with truncated', async () => {
    const { server, events } = setup({ maxBufferedEventsPerType: 2 });
    const c = await connectPair(server, { era: 'modern' });
    const { cursor } = await c.request('events/poll', { name: 'alert.raised', cursor: null });
    for (let i = 0; i < 5; i++) events.emitEvent('alert.raised', { level: 'x', text: String(i) });
    const r = await c.request('events/poll', { name: 'alert.raised', cursor });
    expect(r.truncated).toBe(true);
    expect((r.events as JsonObject[]).map((e) => (e.data as JsonObject).text)).toEqual(['3', '4']);
  });
});

describe('Events: what emitEvent returns', () => {
  it('is the event at once and a promise of it once recorded; before start it waits for the start', async () => {
    const { server, events } = setup({ maxBufferedEventsPerType: 2 });
    // Before start: held, recorded by the start; the oldest beyond the buffer is dropped (rejected).
    const dropped = events.emitEvent('alert.raised', { level: 'x', text: 'early 1' });
    const early = [2, 3].map((i) => events.emitEvent('alert.raised', { level: 'x', text: `early ${i}` }));
    await expect(dropped).rejects.toThrow(
      /^anywire: event "alert\.raised" \(evt_[^)]+\) was not recorded: dropped before the server started/,
    );
    const c = await connectPair(server, { era: 'modern' });
    for (const e of early) await expect(e).resolves.toEqual({ ...e });
    // After start (the in-memory log): recorded at once, pollable when the promise resolves.
    const head = await c.request('events/poll', { name: 'alert.raised', arguments: {}, cursor: null });
    const emitted = events.emitEvent('alert.raised', { level: 'high', text: 'now' });
    expect(emitted).toMatchObject({ name: 'alert.raised', data: { level: 'high', text: 'now' } });
    expect(emitted.eventId).toMatch(/^evt_/);
    const recorded = await emitted;
    expect(recorded).toEqual({
      eventId: emitted.eventId,
      name: 'alert.raised',
      timestamp: emitted.timestamp,
      data: { level: 'high', text: 'now' },
    });
    const polled = await c.request('events/poll', {
      name: 'alert.raised',
      arguments: {},
      cursor: head.cursor,
    });
    expect((polled.events as JsonObject[]).map((e) => e.eventId)).toEqual([recorded.eventId]);
    expect(() => events.emitEvent('no.such', {})).toThrow(/not registered/);
  });
});

describe('Events: push', () => {
  it('streams active, then matching events stamped with the subscription id, until cancelled', async () => {
    const { server, events } = setup({ heartbeatIntervalMs: 50 });
    const seen: JsonRpcNotification[] = [];
    const c = await connectPair(server, { era: 'modern', onnotification: (n) => seen.push(n) });
    const controller = new AbortController();
    const stream = c
      .request(
        'events/stream',
        { name: 'alert.raised', arguments: { level: 'high' }, cursor: null },
        {
          signal: controller.signal,
          timeoutMs: 60_000,
        },
      )
      .catch((e: unknown) => e);
    await waitFor('notifications/events/active', () =>
      seen.some((n) => n.method === 'notifications/events/active'),
    );
    events.emitEvent('alert.raised', { level: 'low', text: 'skip' });
    events.emitEvent('alert.raised', { level: 'high', text: 'take' });
    await waitFor('one event', () => seen.some((n) => n.method === 'notifications/events/event'));
    await waitFor('a heartbeat', () => seen.some((n) => n.method === 'notifications/events/heartbeat'));
    const evs = seen
      .filter((n) => n.method === 'notifications/events/event')
      .map((n) => n.params as JsonObject);
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ name: 'alert.raised', data: { text: 'take' } });
    const id = (evs[0]!._meta as JsonObject)['io.modelcontextprotocol/subscriptionId'];
    expect(id).toBeDefined();
    for (const n of seen)
      expect((n.params as JsonObject)._meta).toMatchObject({ 'io.modelcontextprotocol/subscriptionId': id });
    controller.abort();
    expect(await stream).toMatchObject({ code: 'REQUEST_CANCELLED' });
  });
});

/** A standardwebhooks endpoint for `secrets` (see the fixture). */
async function receiver(secrets: string[]) {
  const hook = await startWebhookReceiver(secrets);
  closers.push(hook.close);
  return hook;
}

async function httpSetup(options: EventsOptions = {}) {
  const { server, events } = setup(options);
  const http = await serveHttp(server, {
    port: 0,
    authenticate: (h) => (h['x-user'] ? { subject: h['x-user'] } : undefined),
  });
  closers.push(() => http.close());
  const as = async (user?: string) => {
    const c = new Client({ name: user ?? 'anon', version: '1' });
    await c.connect(
      new StreamableHttpClientTransport({ url: http.url, headers: user ? { 'x-user': user } : {} }),
    );
    closers.push(() => c.close());
    return c;
  };
  return { events, as };
}

describe('Events: webhooks', () => {
  it('verifies the endpoint, delivers signed events, rotates secrets and unsubscribes', async () => {
    const { events, as } = await httpSetup();
    const alice = await as('alice');
    const secret = generateWebhookSecret();
    const next = generateWebhookSecret();
    const hook = await receiver([secret, next]);
    const params = {
      name: 'alert.raised',
      arguments: { level: 'high' },
      delivery: { mode: 'webhook', url: hook.url, secret },
    };
    const sub = await alice.request('events/subscribe', { ...params, ttlMs: 120_000 });
    expect(sub).toMatchObject({ resultType: 'complete', truncated: false });
    expect(sub.id).toMatch(/^sub_[0-9a-f]{16}$/);
    expect(Date.parse(sub.refreshBefore as string) - Date.now()).toBeLessThanOrEqual(120_000);
    events.emitEvent('alert.raised', { level: 'low', text: 'not for alice' });
    const e = events.emitEvent('alert.raised', { level: 'high', text: 'for alice' }, { eventId: 'evt_42' });
    await events.settled();
    expect(hook.got).toHaveLength(1);
    expect(hook.got[0]!.verifiedWith).toEqual([secret]);
    expect(hook.got[0]!.headers['x-mcp-subscription-id']).toBe(sub.id);
    expect(hook.got[0]!.headers['webhook-id']).toBe('evt_42');
    expect(hook.got[0]!.body).toMatchObject({
      eventId: e.eventId,
      name: 'alert.raised',
      data: { text: 'for alice' },
    });

    // Refresh with a new secret: same id, a delivery status, both secrets sign for a while.
    const refreshed = await alice.request('events/subscribe', {
      ...params,
      delivery: { ...params.delivery, secret: next },
    });
    expect(refreshed.id).toBe(sub.id);
    expect(refreshed.deliveryStatus).toMatchObject({ active: true, lastError: null });
    events.emitEvent('alert.raised', { level: 'high', text: 'rotated' });
    await events.settled();
    expect(hook.got[1]!.verifiedWith.sort()).toEqual([secret, next].sort());

    await alice.request('events/unsubscribe', {
      name: 'alert.raised',
      arguments: { level: 'high' },
      delivery: { url: hook.url },
    });
    events.emitEvent('alert.raised', { level: 'high', text: 'after unsubscribe' });
    await events.settled();
    expect(hook.got).toHaveLength(2);
    await expect(
      alice.request('events/unsubscribe', {
        name: 'alert.raised',
        arguments: { level: 'high' },
        delivery: { url: hook.url },
      }),
    ).rejects.toMatchObject({ code: -32023, data: { kind: 'subscription' } });
  });

  it('refuses bad subscriptions with the SEP codes', async () => {
    const { as } = await httpSetup();
    const secret = generateWebhookSecret();
    const hook = await receiver([secret]);
    const base = {
      name: 'alert.raised',
      arguments: {},
      delivery: { mode: 'webhook', url: hook.url, secret },
    };
    const anon = await as();
    await expect(anon.request('events/subscribe', base)).rejects.toMatchObject({ code: -32024 });
    const bob = await as('bob');
    await expect(
      bob.request('events/subscribe', { ...base, delivery: { ...base.delivery, secret: 'whsec_short' } }),
    ).rejects.toMatchObject({ code: -32602 });
    await expect(
      bob.request('events/subscribe', { ...base, delivery: { ...base.delivery, url: 'not a url' } }),
    ).rejects.toMatchObject({ code: -32602 });
    await expect(bob.request('events/subscribe', { ...base, arguments: { level: 7 } })).rejects.toMatchObject(
      {
        code: -32602,
      },
    );
    // A receiver that does not hold the secret cannot answer the challenge.
    const stranger = await receiver([generateWebhookSecret()]);
    await expect(
      bob.request('events/subscribe', { ...base, delivery: { ...base.delivery, url: stranger.url } }),
    ).rejects.toMatchObject({ code: -32027, data: { reason: 'challenge_failed' } });
  });

  it('refuses http and private targets by default (stubbed resolver), with a configurable callback code', async () => {
    const { as } = await httpSetup({
      callbackErrorCode: -32015,
      webhooks: { senderOptions: { resolver: async () => [{ address: '10.0.0.7', family: 4 }] } },
    });
    const carol = await as('carol');
    const secret = generateWebhookSecret();
    const base = { name: 'alert.raised', arguments: {}, delivery: { mode: 'webhook', secret } };
    await expect(
      carol.request('events/subscribe', {
        ...base,
        delivery: { ...base.delivery, url: 'http://hooks.example.test/in' },
      }),
    ).rejects.toMatchObject({ code: -32602 });
    await expect(
      carol.request('events/subscribe', {
        ...base,
        delivery: { ...base.delivery, url: 'https://hooks.example.test/in' },
      }),
    ).rejects.toMatchObject({ code: -32015, data: { reason: 'connection_refused' } });
  });
});
