/**
 * The stores of the Events extension (SEP-3415), so that several processes can serve one event
 * space: the occurrence log behind poll cursors and replay, the webhook subscriptions, and the
 * webhook delivery queue. Each has an in-memory default (memory-*.ts) and a Redis implementation
 * (`anywire/redis`); the contract suites in `test/contracts/events-*.contract.ts` pin what every
 * implementation keeps. Runtime-neutral (types only).
 * @module
 */
import type { JsonObject } from '../protocol/types.js';
import type { DeliveryErrorCategory } from '../webhooks/types.js';
import type { EmittedEvent } from './types.js';

// ---------------------------------------------------------------------------------------------
// The occurrence log (poll cursors, replay on events/stream and events/subscribe).

/** One logged occurrence with its position. */
export interface EventLogEntry {
  /** The opaque cursor of this occurrence (a client resumes after it). */
  cursor: string;
  event: EmittedEvent;
  /** Set for a targeted emit: only subscriptions of this principal may see it. */
  principal?: string;
}

/** Where a read starts for a client cursor. */
export interface EventLogStart {
  /** Read occurrences after this cursor. */
  cursor: string;
  /**
   * True when occurrences the client had not seen are gone (trimmed, expired, older than
   * `maxAgeMs`) or the cursor is unknown or malformed (SEP-3415 `truncated`).
   */
  truncated: boolean;
}

/**
 * An append-only log of occurrences per event name, bounded by count (and, when shared, by a TTL).
 * The contract every implementation keeps (`test/contracts/events-log.contract.ts`):
 * - **Append.** `append` returns the new occurrence's cursor; occurrences of one name read back in
 *   append order. It is idempotent on `event.eventId` while the first occurrence is retained:
 *   a second append of the same id returns `undefined` and logs nothing (so several processes may
 *   emit the same occurrence and it is logged, pushed and delivered once).
 * - **Cursors** are opaque, valid on every process sharing the log, and never reused. `start(name,
 *   null)` is the head (what a new reader starts from); a cursor that is malformed, from another
 *   log, or past the head starts at the head with `truncated: true`; a cursor behind occurrences
 *   that were dropped (count bound, TTL, `maxAgeMs` in ms, measured by the log's clock) starts at
 *   the oldest retained one with `truncated: true`.
 * - **Read.** `read(name, after, limit)` returns at most `limit` occurrences after `after`, oldest
 *   first (an empty array at the head).
 * - **Garbage** under the log's keys reads as absent (never a crash).
 */
export interface EventLog {
  /**
   * Logs an occurrence (`principal` for a targeted emit).
   * @returns its cursor, or `undefined` when an occurrence with this `eventId` is already logged
   */
  append(event: EmittedEvent, options?: { principal?: string }): Promise<string | undefined>;
  /** The cursor of the newest occurrence of `name` (the position of a new reader). */
  head(name: string): Promise<string>;
  /** Resolves a client cursor (`null`: the head); `maxAgeMs` skips older occurrences. */
  start(name: string, cursor: unknown, maxAgeMs?: number): Promise<EventLogStart>;
  /** At most `limit` occurrences of `name` after `after`, oldest first. */
  read(name: string, after: string, limit: number): Promise<EventLogEntry[]>;
}

// ---------------------------------------------------------------------------------------------
// Webhook subscriptions.

/** The delivery state of a webhook subscription (SEP-3415 `deliveryStatus`). */
export interface WebhookDeliveryState {
  /** False once delivery is suspended (after `suspendAfterFailures` failures) until a refresh. */
  active: boolean;
  /** Consecutive failed deliveries. */
  failures: number;
  lastError: DeliveryErrorCategory | null;
  /** ISO 8601 time of the last successful delivery. */
  lastDeliveryAt?: string;
  /** ISO 8601 start of the current run of failures. */
  failedSince?: string;
}

/** One stored webhook subscription (a copy: changing it changes nothing stored). */
export interface StoredWebhookSubscription extends WebhookDeliveryState {
  /** Derived from `(principal, url, name, args)`: `sub_` and 16 hex digits. */
  readonly id: string;
  readonly principal: string;
  readonly url: string;
  readonly name: string;
  readonly args: JsonObject;
  /** The current `whsec_` secret. */
  secret: string;
  /** The replaced secret, which still signs until `previousSecretUntil` (ms since the epoch). */
  previousSecret?: string;
  previousSecretUntil?: number;
  /** When it expires, in ms since the epoch (no expiry is never granted). */
  expiresAt: number;
}

/** The outcome of one delivery, as recorded on its subscription. */
export type WebhookDeliveryOutcome =
  | { ok: true; at: string }
  | { ok: false; reason: DeliveryErrorCategory; at: string; suspendAfterFailures: number };

/**
 * The webhook subscriptions (SEP-3415 "Webhook-Based Delivery"), addressed by event name and
 * derived id. The contract (`test/contracts/events-subscriptions.contract.ts`):
 * - **Upsert.** `put` creates or replaces the record of an id (and resets nothing else: the caller
 *   passes the delivery state it wants); its lifetime is `expiresAt`. A record is gone (get,
 *   list, count, delete) once `expiresAt` has passed.
 * - **Isolation.** `get` and `delete` with a `principal` see only that principal's record (ids are
 *   derived from the principal too, this is a second guard).
 * - **Delivery state.** `recordDelivery` updates the state of an existing record atomically (a
 *   success clears the failures; a failure counts up and suspends at `suspendAfterFailures`); on a
 *   missing record it does nothing (it never revives a deleted subscription).
 * - **Verification.** `markVerified` remembers a verified `(principal, url)` for `ttlMs`.
 * - Reads return copies; garbage under the store's keys reads as absent.
 */
export interface WebhookSubscriptionStore {
  get(name: string, id: string, principal?: string): Promise<StoredWebhookSubscription | undefined>;
  /** Creates or replaces a subscription. */
  put(subscription: StoredWebhookSubscription): Promise<void>;
  /** Live (unexpired) subscriptions to `name`, active or suspended, in no particular order. */
  list(name: string): Promise<StoredWebhookSubscription[]>;
  /** Removes a subscription; false when there was none (or it belongs to another principal). */
  delete(name: string, id: string, principal?: string): Promise<boolean>;
  /** Live subscriptions in all (for `maxSubscriptions`). */
  count(): Promise<number>;
  recordDelivery(name: string, id: string, outcome: WebhookDeliveryOutcome): Promise<void>;
  /** Remembers that `(principal, url)` passed the verification handshake, for `ttlMs`. */
  markVerified(principal: string, url: string, ttlMs: number): Promise<void>;
  isVerified(principal: string, url: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// The delivery queue.

/** One delivery to make: a body for one subscription. */
export interface WebhookDeliveryJob {
  /** Event name of the subscription (with `subscriptionId`, where to find it). */
  name: string;
  subscriptionId: string;
  /** The `webhook-id` (the event id, or `msg_<type>_<random>` for a control envelope). */
  webhookId: string;
  /** The JSON body, shaped for this subscription. */
  body: string;
}

/**
 * Does one job. Resolves when the job is finished, whatever the endpoint said (retries happen
 * inside); `signal` aborts when the queue stops, and a job whose worker was aborted is not finished
 * (a shared queue hands it to another process).
 */
export type WebhookDeliveryWorker = (job: WebhookDeliveryJob, signal: AbortSignal) => Promise<void>;

/**
 * The queue of webhook deliveries. The contract (`test/contracts/events-deliveries.contract.ts`):
 * - **Once.** Every enqueued job is handed to one worker, once, across every process consuming the
 *   queue (for as long as workers finish what they were handed).
 * - **Nothing lost.** A job whose worker never finishes (the process died, or `stop` aborted it) is
 *   handed to another worker once its lease (a named option of the implementation, in ms) expired;
 *   a worker keeps its lease while it works. The receiver may then see the same `webhook-id`
 *   twice (at-least-once at the edge), which Standard Webhooks receivers deduplicate.
 * - `start` begins consuming (once per queue); `stop` stops taking jobs, aborts the workers and
 *   resolves when they returned; `settled` resolves when every job this process enqueued or took
 *   so far has finished (tests, shutdown).
 */
export interface WebhookDeliveryQueue {
  enqueue(job: WebhookDeliveryJob): Promise<void>;
  start(worker: WebhookDeliveryWorker): void;
  stop(): Promise<void>;
  settled(): Promise<void>;
}

/** The Events extension's stores (the `events` field of `Stores`); what is unset stays in memory. */
export interface EventsStores {
  log?: EventLog;
  subscriptions?: WebhookSubscriptionStore;
  deliveries?: WebhookDeliveryQueue;
}

declare module '../protocol/stores.js' {
  interface Stores {
    /**
     * The Events extension's occurrence log, webhook subscriptions and delivery queue (SEP-3415), the
     * defaults of `createEventsExtension` when its `stores` option leaves them unset.
     */
    events?: EventsStores;
  }
}
