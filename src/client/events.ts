/**
 * The client side of the Events extension (`io.modelcontextprotocol/events`, SEP-3415, a draft;
 * 2026-07-28 servers): list event types, poll, stream (push) and webhook subscribe/unsubscribe,
 * over the public {@link Client.request} and {@link Client.streamRequest}. Runtime-neutral.
 *
 * ```ts
 * const { events, cursor } = await pollEvents(client, 'build.finished', { repo: 'anywire' });
 * const stream = await streamEvents(client, 'build.finished', {}, (e) => console.log(e.data));
 * await stream.close();
 * ```
 * Errors are the server's `JsonRpcError`s: -32023 not found, -32024 forbidden (webhooks need an
 * authenticated principal), -32025 resource exhausted, -32026 unsupported (delivery mode),
 * -32027 callback endpoint error, -32602 invalid arguments.
 * @module
 */
import type { JsonRpcNotification } from '../jsonrpc/types.js';
import { META } from '../protocol/constants.js';
import type { JsonObject } from '../protocol/types.js';
import type { Client } from './client.js';

/** An event type as `events/list` describes it. */
export interface EventDescription {
  name: string;
  description?: string;
  /** The modes the server offers for it. */
  delivery: ('poll' | 'push' | 'webhook')[];
  /** JSON Schema of the subscription arguments. */
  inputSchema?: JsonObject;
  /** JSON Schema of `data`. */
  payloadSchema?: JsonObject;
  _meta?: JsonObject;
}

/** One event occurrence as delivered. */
export interface EventOccurrence {
  eventId: string;
  name: string;
  /** ISO 8601. */
  timestamp: string;
  data: JsonObject;
  /** The position after this event (push and webhook deliveries). */
  cursor?: string | null;
  _meta?: JsonObject;
}

/** The answer of {@link pollEvents}. */
export interface PollResult {
  events: EventOccurrence[];
  /** Pass it to the next poll. */
  cursor: string;
  /** Events were dropped between the given cursor and this batch (buffer overflow, restart, `maxAgeMs`). */
  truncated: boolean;
  /** More events are waiting: poll again without delay. */
  hasMore: boolean;
  /** The server's suggested delay before the next poll, in ms. */
  nextPollMs: number;
}

/** An open `events/stream` (push) subscription. */
export interface EventStream {
  /** The subscription id (the request id) the server stamps on its notifications. */
  readonly subscriptionId: string | number;
  /** Whether events were dropped before the stream's start cursor. */
  readonly truncated: boolean;
  /** The latest position seen (from `active`, each event and each heartbeat): resume from it. */
  readonly cursor: string | null;
  /** Settles when the stream ends (resolves after {@link EventStream.close}, rejects if the server ends it with an error). */
  readonly closed: Promise<void>;
  /** Ends the stream (cancels the `events/stream` request). */
  close(): Promise<void>;
}

/** A webhook subscription as `events/subscribe` grants it. */
export interface WebhookSubscriptionResult {
  /** The subscription id (`X-MCP-Subscription-Id` on deliveries). */
  id: string;
  /** ISO 8601 time before which to subscribe again (refresh), or `null` for no expiry. */
  refreshBefore: string | null;
  cursor: string | null;
  truncated: boolean;
  /** On a refresh: whether delivery is active and the last error category. */
  deliveryStatus?: JsonObject;
}

/**
 * Lists the server's event types (`events/list`).
 * @throws JsonRpcError -32601 when the server does not offer the Events extension
 */
export async function listEvents(client: Client): Promise<EventDescription[]> {
  const r = await client.request('events/list');
  return (r.events ?? []) as unknown as EventDescription[];
}

/**
 * Polls an event type once (`events/poll`). Without `cursor` (or `null`) the poll starts from now
 * and returns no events, only a cursor; pass each answer's `cursor` to the next poll.
 * @param options.maxEvents the most events to return (the server may cap it lower)
 * @param options.maxAgeMs skip events older than this, in ms
 * @throws JsonRpcError -32023 unknown event type, -32026 no poll delivery, -32602 bad arguments
 */
export async function pollEvents(
  client: Client,
  name: string,
  args: JsonObject = {},
  options: { cursor?: string | null; maxEvents?: number; maxAgeMs?: number; signal?: AbortSignal } = {},
): Promise<PollResult> {
  const params: JsonObject = { name, arguments: args, cursor: options.cursor ?? null };
  if (options.maxEvents !== undefined) params.maxEvents = options.maxEvents;
  if (options.maxAgeMs !== undefined) params.maxAgeMs = options.maxAgeMs;
  const r = await client.request('events/poll', params, { signal: options.signal });
  return {
    events: (r.events ?? []) as unknown as EventOccurrence[],
    cursor: r.cursor as string,
    truncated: r.truncated === true,
    hasMore: r.hasMore === true,
    nextPollMs: typeof r.nextPollMs === 'number' ? r.nextPollMs : 5000,
  };
}

/**
 * Opens a push subscription (`events/stream`) and resolves once the server confirmed it with
 * `notifications/events/active`; then `onEvent` receives each matching event until
 * {@link EventStream.close} (or `signal`). Notifications are routed by
 * `_meta["io.modelcontextprotocol/subscriptionId"]`, so several streams share one client.
 * @param options.cursor resume after this position (`null`/absent: from now)
 * @throws JsonRpcError -32023 unknown event type, -32026 no push delivery, -32602 bad arguments
 */
export async function streamEvents(
  client: Client,
  name: string,
  args: JsonObject,
  onEvent: (event: EventOccurrence) => void,
  options: { cursor?: string | null; maxAgeMs?: number; signal?: AbortSignal } = {},
): Promise<EventStream> {
  const controller = new AbortController();
  const abort = () => controller.abort('events stream closed by the client');
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  let cursor: string | null = options.cursor ?? null;
  let truncated = false;
  let subscriptionId: string | number = '';
  let activate!: () => void;
  const active = new Promise<void>((r) => (activate = r));
  const onNotification = (n: JsonRpcNotification) => {
    const p = (n.params ?? {}) as JsonObject;
    if (typeof p.cursor === 'string') cursor = p.cursor;
    if (n.method === 'notifications/events/active') {
      truncated = p.truncated === true;
      subscriptionId = (p._meta as JsonObject | undefined)?.[META.subscriptionId] as string | number;
      activate();
    } else if (n.method === 'notifications/events/event') onEvent(p as unknown as EventOccurrence);
  };
  const params: JsonObject = { name, arguments: args, cursor: options.cursor ?? null };
  if (options.maxAgeMs !== undefined) params.maxAgeMs = options.maxAgeMs;
  const request = client.streamRequest('events/stream', params, onNotification, {
    signal: controller.signal,
    timeoutMs: 2 ** 31 - 1,
  });
  const closed = request.then(
    () => undefined,
    (e: unknown) => {
      if (!controller.signal.aborted) throw e;
    },
  );
  closed.catch(() => {});
  // The request settling before `active` means the server refused the stream.
  await Promise.race([active, request.then(() => undefined)]);
  options.signal?.removeEventListener('abort', abort);
  return {
    get subscriptionId() {
      return subscriptionId;
    },
    get truncated() {
      return truncated;
    },
    get cursor() {
      return cursor;
    },
    closed,
    async close() {
      abort();
      await closed.catch(() => {});
    },
  };
}

/** Where and how webhook deliveries go (`events/subscribe`). */
export interface WebhookTarget {
  /** The callback URL (`https`, public addresses, unless the server relaxed that). */
  url: string;
  /** The signing secret: `whsec_` and base64 of 24 to 64 bytes (`generateWebhookSecret()` of `anywire/webhooks`). */
  secret: string;
  /** Suggested lifetime in ms (the server clamps it; `null` asks for no expiry). */
  ttlMs?: number | null;
  /** Replay from this position after subscribing. */
  cursor?: string | null;
}

/**
 * Creates or refreshes a webhook subscription (`events/subscribe`); the server first verifies the
 * endpoint with a signed challenge. Subscribing again with the same name, arguments and URL
 * refreshes it (and rotates the secret when it differs).
 * @throws JsonRpcError -32024 without an authenticated principal, -32602 bad URL, secret or arguments,
 *   -32027 (or the server's configured code) when the endpoint fails verification, -32025 too many subscriptions
 */
export async function subscribeEvents(
  client: Client,
  name: string,
  args: JsonObject,
  target: WebhookTarget,
): Promise<WebhookSubscriptionResult> {
  const params: JsonObject = {
    name,
    arguments: args,
    delivery: { mode: 'webhook', url: target.url, secret: target.secret },
  };
  if (target.ttlMs !== undefined) params.ttlMs = target.ttlMs;
  if (target.cursor !== undefined) params.cursor = target.cursor;
  const r = await client.request('events/subscribe', params);
  const out: WebhookSubscriptionResult = {
    id: r.id as string,
    refreshBefore: (r.refreshBefore ?? null) as string | null,
    cursor: (r.cursor ?? null) as string | null,
    truncated: r.truncated === true,
  };
  if (r.deliveryStatus !== undefined) out.deliveryStatus = r.deliveryStatus as JsonObject;
  return out;
}

/**
 * Ends a webhook subscription (`events/unsubscribe`), named by event, arguments and callback URL.
 * @throws JsonRpcError -32023 (`data.kind: "subscription"`) when there is no such subscription
 */
export async function unsubscribeEvents(
  client: Client,
  name: string,
  args: JsonObject,
  target: { url: string },
): Promise<void> {
  await client.request('events/unsubscribe', { name, arguments: args, delivery: { url: target.url } });
}
