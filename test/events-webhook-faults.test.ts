/**
 * Events webhook delivery through a receiver that hangs, end to end: an `events/subscribe` in
 * webhook mode over HTTP, a receiver that holds the first delivery of an event without answering,
 * the sender giving up on it after its delivery timeout (`senderOptions.timeoutMs`), and a retry
 * newly timestamped and signed that the receiver, now answering, accepts: the event is processed
 * once per webhook-id, every request verified with the standardwebhooks library.
 */
import { afterEach, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { createEventsExtension } from '../src/events/index.js';
import { McpServer } from '../src/server/mcp-server.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import { generateWebhookSecret } from '../src/webhooks/index.js';
import { startWebhookReceiver } from './fixtures/webhook-receiver.js';
import type { WebhookDelivery } from './fixtures/webhook-receiver.js';

/** The delivery timeout of one attempt, in ms. With the first retry delay (at least 80% of
 * `RETRY_DELAY_MS`) it spans more than a second, so the retry's `webhook-timestamp` (seconds) is new. */
const DELIVERY_TIMEOUT_MS = 800;
const RETRY_DELAY_MS = 300;

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

it('a hanging receiver: the delivery times out, the retry is newly signed, the event is processed once', async () => {
  const server = new McpServer({ name: 'events-faults', version: '1.0.0' });
  const events = createEventsExtension({
    webhooks: {
      senderOptions: {
        allowInsecureWebhookTargets: true,
        timeoutMs: DELIVERY_TIMEOUT_MS,
        retry: { initialDelayMs: RETRY_DELAY_MS, maxAttempts: 3 },
      },
    },
  });
  server.extend(events);
  events.registerEvent('job.done', {
    description: 'A job finished',
    payloadSchema: { type: 'object', properties: { job: { type: 'string' } } },
  });
  const http = await serveHttp(server, {
    port: 0,
    host: '127.0.0.1',
    authenticate: (h) => (h['x-user'] ? { subject: String(h['x-user']) } : undefined),
  });
  closers.push(() => http.close());
  const client = new Client({ name: 'alice', version: '1' });
  await client.connect(new StreamableHttpClientTransport({ url: http.url, headers: { 'x-user': 'alice' } }));
  closers.push(() => client.close());

  const secret = generateWebhookSecret();
  // Holds the first event delivery without answering, accepts every later one.
  const hook = await startWebhookReceiver([secret], { hold: (d) => d === hook.got[0] });
  closers.push(hook.close);
  /** Deliveries answered (processed), by webhook-id. */
  const processed = () => {
    const byId = new Map<string, number>();
    for (const d of hook.got.filter((g) => !g.held)) {
      const id = String(d.headers['webhook-id']);
      byId.set(id, (byId.get(id) ?? 0) + 1);
    }
    return [...byId];
  };
  const sub = await client.request('events/subscribe', {
    name: 'job.done',
    arguments: {},
    delivery: { mode: 'webhook', url: hook.url, secret },
  });

  const event = events.emitEvent('job.done', { job: 'j1' }, { eventId: 'evt_hang_1' });
  await events.settled(); // the held attempt timed out, and the retry was answered

  expect(hook.got).toHaveLength(2);
  const [first, retry] = hook.got as [WebhookDelivery, WebhookDelivery];
  // The sender gave up on the held request after its delivery timeout (its timer started before
  // the receiver saw the request, so the receiver sees less than the whole timeout; half is a bound
  // that holds on a busy machine and still tells a timeout from an immediate close).
  expect(first.abandonedAt).toBeDefined();
  expect(first.abandonedAt! - first.receivedAt).toBeGreaterThanOrEqual(DELIVERY_TIMEOUT_MS / 2);
  expect(first.abandonedAt!).toBeLessThanOrEqual(retry.receivedAt);
  // Same event, same webhook-id; a new timestamp and so a new signature.
  for (const a of [first, retry]) {
    expect(a.headers['webhook-id']).toBe(event.eventId);
    expect(a.headers['x-mcp-subscription-id']).toBe(sub.id);
  }
  expect(Number(retry.headers['webhook-timestamp'])).toBeGreaterThan(
    Number(first.headers['webhook-timestamp']),
  );
  expect(retry.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
  // Processed once, by webhook-id.
  expect(processed()).toEqual([[event.eventId, 1]]);

  // The subscription is healthy again: the next event goes through at the first attempt.
  const again = await client.request('events/subscribe', {
    name: 'job.done',
    arguments: {},
    delivery: { mode: 'webhook', url: hook.url, secret },
  });
  expect(again.deliveryStatus).toMatchObject({ active: true, lastError: null });
  const next = events.emitEvent('job.done', { job: 'j2' });
  await events.settled();
  expect(hook.got).toHaveLength(3);
  expect(processed()).toEqual([
    [event.eventId, 1],
    [next.eventId, 1],
  ]);
});
