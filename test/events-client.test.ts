/**
 * The client side of the Events extension (SEP-3415) against anywire's own server over Streamable
 * HTTP: listEvents/pollEvents, streamEvents (push, routed by subscription id), and
 * subscribeEvents/unsubscribeEvents with anywire's WebhookReceiver on a real node:http endpoint;
 * and the `anywire events` CLI as a child process.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import {
  listEvents,
  pollEvents,
  streamEvents,
  subscribeEvents,
  unsubscribeEvents,
} from '../src/client/events.js';
import type { EventOccurrence } from '../src/client/events.js';
import { createEventsExtension } from '../src/events/index.js';
import type { EventsExtension } from '../src/events/index.js';
import { McpServer } from '../src/server/mcp-server.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import { generateWebhookSecret, WebhookReceiver } from '../src/webhooks/index.js';
import { anywire, start } from './cli-run.js';
import { sleep } from './helpers.js';

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function waitFor(what: string, probe: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

async function setup(): Promise<{
  events: EventsExtension;
  url: URL;
  as: (user?: string) => Promise<Client>;
}> {
  const server = new McpServer({ name: 'events', version: '1.0.0' });
  const events = createEventsExtension({
    pollIntervalMs: 1000,
    heartbeatIntervalMs: 50,
    webhooks: { senderOptions: { allowInsecureWebhookTargets: true, retry: { initialDelayMs: 5 } } },
  });
  server.extend(events);
  events.registerEvent('alert.raised', {
    description: 'An alert',
    inputSchema: { type: 'object', properties: { level: { type: 'string' } } },
    match: (e, args) => args.level === undefined || e.data.level === args.level,
  });
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
  return { events, url: new URL(http.url), as };
}

describe('events client: list and poll', () => {
  it('lists types and polls with cursors, filters and maxEvents', async () => {
    const { events, as } = await setup();
    const c = await as();
    expect(await listEvents(c)).toEqual([
      expect.objectContaining({
        name: 'alert.raised',
        description: 'An alert',
        delivery: ['poll', 'push', 'webhook'],
      }),
    ]);
    const first = await pollEvents(c, 'alert.raised');
    expect(first).toMatchObject({ events: [], truncated: false, hasMore: false, nextPollMs: 1000 });
    for (const level of ['high', 'low', 'high']) events.emitEvent('alert.raised', { level });
    const highs = await pollEvents(c, 'alert.raised', { level: 'high' }, { cursor: first.cursor });
    expect(highs.events.map((e) => e.data)).toEqual([{ level: 'high' }, { level: 'high' }]);
    const one = await pollEvents(c, 'alert.raised', {}, { cursor: first.cursor, maxEvents: 1 });
    expect(one).toMatchObject({ hasMore: true });
    expect(one.events).toHaveLength(1);
    const rest = await pollEvents(c, 'alert.raised', {}, { cursor: one.cursor });
    expect(rest.events.map((e) => e.data.level)).toEqual(['low', 'high']);
    await expect(pollEvents(c, 'nope')).rejects.toMatchObject({ code: -32023 });
  });
});

describe('events client: push', () => {
  it('resolves on active, routes two streams by subscription id, tracks the cursor, closes', async () => {
    const { events, as } = await setup();
    const c = await as();
    const high: EventOccurrence[] = [];
    const all: EventOccurrence[] = [];
    const s1 = await streamEvents(c, 'alert.raised', { level: 'high' }, (e) => high.push(e));
    const s2 = await streamEvents(c, 'alert.raised', {}, (e) => all.push(e));
    expect(s1.subscriptionId).not.toBe(s2.subscriptionId);
    expect(s1.truncated).toBe(false);
    events.emitEvent('alert.raised', { level: 'low' });
    events.emitEvent('alert.raised', { level: 'high' });
    await waitFor('two events on the unfiltered stream', () => all.length === 2);
    await waitFor('one event on the filtered stream', () => high.length === 1);
    expect(high[0]).toMatchObject({ name: 'alert.raised', data: { level: 'high' } });
    expect(s2.cursor).toBe(all[1]!.cursor);
    await s1.close();
    await s1.closed;
    events.emitEvent('alert.raised', { level: 'high' });
    await waitFor('the third event on the open stream', () => all.length === 3);
    expect(high).toHaveLength(1);
    // Resume from a cursor: the missed events are replayed.
    const replay: EventOccurrence[] = [];
    const s3 = await streamEvents(c, 'alert.raised', {}, (e) => replay.push(e), { cursor: all[0]!.cursor! });
    await waitFor('two replayed events', () => replay.length === 2);
    expect(replay.map((e) => e.eventId)).toEqual([all[1]!.eventId, all[2]!.eventId]);
    await s3.close();
    await s2.close();
    await expect(streamEvents(c, 'nope', {}, () => {})).rejects.toMatchObject({ code: -32023 });
  });
});

describe('events client: webhooks', () => {
  it('subscribes with a WebhookReceiver endpoint, receives verified events, unsubscribes', async () => {
    const { events, as } = await setup();
    const alice = await as('alice');
    const secret = generateWebhookSecret();
    const got: EventOccurrence[] = [];
    const receiver = new WebhookReceiver({
      secrets: [secret],
      onEvent: (e) => void got.push(e as unknown as EventOccurrence),
    });
    const hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void receiver
          .handle(Buffer.concat(chunks), req.headers)
          .then((r) => res.writeHead(r.status, r.headers).end(r.body));
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => hooks.close(r)));
    const url = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`;
    const sub = await subscribeEvents(
      alice,
      'alert.raised',
      { level: 'high' },
      { url, secret, ttlMs: 120_000 },
    );
    expect(sub.id).toMatch(/^sub_/);
    expect(Date.parse(sub.refreshBefore!)).toBeGreaterThan(Date.now());
    events.emitEvent('alert.raised', { level: 'low' });
    events.emitEvent('alert.raised', { level: 'high' });
    await events.settled();
    await waitFor('one verified delivery', () => got.length === 1);
    expect(got[0]).toMatchObject({ name: 'alert.raised', data: { level: 'high' } });
    const again = await subscribeEvents(alice, 'alert.raised', { level: 'high' }, { url, secret });
    expect(again.id).toBe(sub.id);
    expect(again.deliveryStatus).toMatchObject({ active: true });
    await unsubscribeEvents(alice, 'alert.raised', { level: 'high' }, { url });
    events.emitEvent('alert.raised', { level: 'high' });
    await events.settled();
    expect(got).toHaveLength(1);
    await expect(unsubscribeEvents(alice, 'alert.raised', { level: 'high' }, { url })).rejects.toMatchObject({
      code: -32023,
    });
    const anon = await as();
    await expect(subscribeEvents(anon, 'alert.raised', {}, { url, secret })).rejects.toMatchObject({
      code: -32024,
    });
  });
});

describe('anywire events (CLI)', () => {
  it('lists event types and polls with --cursor and typed key=value arguments', async () => {
    const { events, url } = await setup();
    const list = await anywire(['events', 'list', url.href]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^alert\.raised \[poll, push, webhook\]\s+An alert$/m);
    const json = await anywire(['events', 'list', url.href, '--json']);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ name: 'alert.raised' })]);
    const first = await anywire(['events', 'poll', url.href, 'alert.raised']);
    expect(first.code, first.stderr).toBe(0);
    const { cursor } = JSON.parse(first.stdout) as { cursor: string };
    events.emitEvent('alert.raised', { level: 'low' });
    events.emitEvent('alert.raised', { level: 'high' });
    const next = await anywire([
      'events',
      'poll',
      url.href,
      'alert.raised',
      'level=high',
      '--cursor',
      cursor,
    ]);
    expect(next.code, next.stderr).toBe(0);
    const r = JSON.parse(next.stdout) as { events: { data: unknown }[]; hasMore: boolean };
    expect(r.events.map((e) => e.data)).toEqual([{ level: 'high' }]);
    expect(r.hasMore).toBe(false);
    const bad = await anywire(['events', 'poll', url.href, 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not found/i);
  });

  it('streams events as JSON lines until SIGINT', async () => {
    const { events, url } = await setup();
    const s = await start(['events', 'stream', url.href, 'alert.raised'], /Ctrl-C to stop/);
    let out = '';
    s.child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    events.emitEvent('alert.raised', { level: 'high', n: 1 });
    events.emitEvent('alert.raised', { level: 'low', n: 2 });
    await waitFor('two JSON lines on stdout', () => out.split('\n').filter(Boolean).length === 2);
    // Await the exit SIGINT causes: s.stop() would add a SIGTERM, which kills the CLI outright
    // (exit code null) when it arrives after the SIGINT handler has run and been removed.
    const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
    s.child.kill('SIGINT');
    expect(await exited).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { data: unknown });
    expect(lines.map((l) => l.data)).toEqual([
      { level: 'high', n: 1 },
      { level: 'low', n: 2 },
    ]);
    expect(s.stderr()).toMatch(/resume with --cursor \S+/);
  });

  it('subscribes a webhook with a generated secret, then unsubscribes', async () => {
    const { url } = await setup();
    let secret = '';
    const receiver = new WebhookReceiver({ secrets: () => [secret] });
    const hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void receiver
          .handle(Buffer.concat(chunks), req.headers)
          .then((r) => res.writeHead(r.status, r.headers).end(r.body));
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => hooks.close(r)));
    const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`;
    secret = generateWebhookSecret();
    const sub = await anywire([
      'events',
      'subscribe',
      url.href,
      'alert.raised',
      '--webhook',
      hookUrl,
      '--secret',
      secret,
      '-H',
      'x-user: alice',
      '--ttl-ms',
      '120000',
    ]);
    expect(sub.code, sub.stderr).toBe(0);
    expect(JSON.parse(sub.stdout)).toMatchObject({ id: expect.stringMatching(/^sub_/) });
    const gen = await anywire([
      'events',
      'subscribe',
      url.href,
      'alert.raised',
      '--webhook',
      hookUrl,
      '-H',
      'x-user: bob',
    ]);
    // The generated secret is printed on stderr; the receiver does not know it, so verification fails.
    expect(gen.stderr).toMatch(/webhook secret .*: whsec_[A-Za-z0-9+/=]+/);
    expect(gen.code).toBe(1);
    const un = await anywire([
      'events',
      'unsubscribe',
      url.href,
      'alert.raised',
      '--webhook',
      hookUrl,
      '-H',
      'x-user: alice',
    ]);
    expect(un.code, un.stderr).toBe(0);
    const again = await anywire([
      'events',
      'unsubscribe',
      url.href,
      'alert.raised',
      '--webhook',
      hookUrl,
      '-H',
      'x-user: alice',
    ]);
    expect(again.code).toBe(1);
  });
});
