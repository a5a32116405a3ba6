/**
 * Webhook subscriptions of the Events extension (SEP-3415 "Webhook-Based Delivery"): keyed by
 * `(principal, delivery.url, name, arguments)` with a derived, stable `id`; idempotent upsert that
 * refreshes the TTL, replaces the secret (dual-signing with the previous one for a grace window)
 * and reactivates delivery; endpoint verification once per `(principal, url)`; signed deliveries
 * through a `WebhookSender` with per-subscription status (`deliveryStatus`), suspension after
 * sustained failure, and expiry. The records live in a {@link WebhookSubscriptionStore} and the
 * deliveries go through a {@link WebhookDeliveryQueue}, both shared when several processes serve.
 * @module
 */
import { canonicalJson } from '../protocol/canonical-json.js';
import type { JsonObject } from '../protocol/types.js';
import type { DeliveryResult, WebhookMessage } from '../webhooks/sender.js';
import type { DeliveryErrorCategory } from '../webhooks/types.js';
import type {
  StoredWebhookSubscription,
  WebhookDeliveryJob,
  WebhookDeliveryQueue,
  WebhookSubscriptionStore,
} from './stores.js';

/** What the subscriptions need from a sender (a `WebhookSender` fits). */
export interface EventWebhookSender {
  checkUrl(url: string): string | undefined;
  verifyEndpoint(target: {
    url: string;
    subscriptionId: string;
    secrets: readonly string[];
  }): Promise<{ ok: true } | { ok: false; reason: DeliveryErrorCategory; message: string }>;
  deliver(message: WebhookMessage, options?: { signal?: AbortSignal }): Promise<DeliveryResult>;
}

/** One webhook subscription (as stored: see {@link StoredWebhookSubscription}). */
export type WebhookSubscription = StoredWebhookSubscription;

/** Limits of {@link WebhookSubscriptions}; units in the names. */
export interface WebhookSubscriptionLimits {
  defaultTtlMs: number;
  maxTtlMs: number;
  minTtlMs: number;
  secretGraceMs: number;
  maxSubscriptions: number;
  verificationTtlMs: number;
  suspendAfterFailures: number;
}

async function derivedId(principal: string, url: string, name: string, args: JsonObject): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson([principal, url, name, args]));
  const hash = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return `sub_${Array.from(hash.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The outcome of a subscribe. */
export type UpsertOutcome =
  | { ok: true; subscription: WebhookSubscription; created: boolean; wasActive: boolean }
  | { ok: false; reason: DeliveryErrorCategory | 'limit' };

/** The webhook subscriptions of one server (over its stores). */
export class WebhookSubscriptions {
  readonly #sender: EventWebhookSender;
  readonly #limits: WebhookSubscriptionLimits;
  readonly #store: WebhookSubscriptionStore;
  readonly #queue: WebhookDeliveryQueue;
  readonly #enqueuing = new Set<Promise<unknown>>();
  #started = false;

  constructor(
    sender: EventWebhookSender,
    limits: WebhookSubscriptionLimits,
    store: WebhookSubscriptionStore,
    queue: WebhookDeliveryQueue,
  ) {
    this.#sender = sender;
    this.#limits = limits;
    this.#store = store;
    this.#queue = queue;
  }

  /** Checks a callback URL's form; the reason when refused. */
  checkUrl(url: string): string | undefined {
    return this.#sender.checkUrl(url);
  }

  /** Subscribe or refresh (idempotent on the key). Verifies the endpoint first when needed. */
  async upsert(
    principal: string,
    url: string,
    name: string,
    args: JsonObject,
    secret: string,
    ttlMs: number | null | undefined,
  ): Promise<UpsertOutcome> {
    const id = await derivedId(principal, url, name, args);
    const existing = await this.#store.get(name, id, principal);
    if (!existing && (await this.#store.count()) >= this.#limits.maxSubscriptions)
      return { ok: false, reason: 'limit' };
    if (!(await this.#store.isVerified(principal, url))) {
      const v = await this.#sender.verifyEndpoint({ url, subscriptionId: id, secrets: [secret] });
      if (!v.ok) return { ok: false, reason: v.reason };
      await this.#store.markVerified(principal, url, this.#limits.verificationTtlMs);
    }
    const { minTtlMs, maxTtlMs, defaultTtlMs } = this.#limits;
    // The grant: the suggestion clamped to [minTtlMs, maxTtlMs]; no expiry is never granted.
    const granted = Math.min(maxTtlMs, Math.max(minTtlMs, typeof ttlMs === 'number' ? ttlMs : defaultTtlMs));
    const expiresAt = Date.now() + granted;
    if (existing) {
      const wasActive = existing.active;
      if (existing.secret !== secret) {
        existing.previousSecret = existing.secret;
        existing.previousSecretUntil = Date.now() + this.#limits.secretGraceMs;
        existing.secret = secret;
      }
      existing.expiresAt = expiresAt;
      existing.active = true;
      existing.failures = 0;
      await this.#store.put(existing);
      return { ok: true, subscription: existing, created: false, wasActive };
    }
    const sub: WebhookSubscription = {
      id,
      principal,
      url,
      name,
      args,
      secret,
      expiresAt,
      active: true,
      lastError: null,
      failures: 0,
    };
    await this.#store.put(sub);
    return { ok: true, subscription: sub, created: true, wasActive: true };
  }

  /** Removes the subscription with this key; false when there was none. */
  async remove(principal: string, url: string, name: string, args: JsonObject): Promise<boolean> {
    return this.#store.delete(name, await derivedId(principal, url, name, args), principal);
  }

  /** Live, active subscriptions to `name`. */
  async matching(name: string): Promise<WebhookSubscription[]> {
    return (await this.#store.list(name)).filter((s) => s.active);
  }

  /**
   * Queues one body (event or control envelope) for a subscription.
   * @returns resolves once the job is in the delivery queue (for a shared queue: stored, so another
   * process delivers it if this one dies); rejects with the queue's error when it was not queued
   */
  deliver(sub: WebhookSubscription, webhookId: string, body: JsonObject): Promise<void> {
    const job: WebhookDeliveryJob = {
      name: sub.name,
      subscriptionId: sub.id,
      webhookId,
      body: JSON.stringify(body),
    };
    const queued = this.#queue.enqueue(job);
    const tracked: Promise<unknown> = queued.catch(() => {}).finally(() => this.#enqueuing.delete(tracked));
    this.#enqueuing.add(tracked);
    return queued;
  }

  /** Starts this process's delivery worker on the queue (once). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#queue.start((job, signal) => this.#work(job, signal));
  }

  /** One job: the subscription as stored now (gone or suspended: dropped), signed and sent. */
  async #work(job: WebhookDeliveryJob, signal: AbortSignal): Promise<void> {
    const sub = await this.#store.get(job.name, job.subscriptionId);
    if (!sub || !sub.active) return;
    const secrets = [sub.secret];
    if (sub.previousSecret && (sub.previousSecretUntil ?? 0) > Date.now()) secrets.push(sub.previousSecret);
    const r = await this.#sender.deliver(
      { url: sub.url, webhookId: job.webhookId, subscriptionId: sub.id, body: job.body, secrets },
      { signal },
    );
    if (signal.aborted) return; // unfinished: a shared queue hands it to another process
    await this.#store.recordDelivery(
      sub.name,
      sub.id,
      r.ok
        ? { ok: true, at: new Date().toISOString() }
        : {
            ok: false,
            reason: r.reason,
            at: new Date().toISOString(),
            suspendAfterFailures: this.#limits.suspendAfterFailures,
          },
    );
  }

  /** Resolves when every delivery queued or taken by this process so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#enqueuing.size) await Promise.all([...this.#enqueuing]);
    await this.#queue.settled();
  }

  /** `deliveryStatus` of a subscription (SEP-3415): categories only. */
  status(sub: WebhookSubscription, wasActive: boolean): JsonObject {
    const s: JsonObject = { active: wasActive, lastError: sub.lastError };
    if (sub.lastDeliveryAt) s.lastDeliveryAt = sub.lastDeliveryAt;
    if (sub.failedSince) s.failedSince = sub.failedSince;
    return s;
  }

  /** Stops this process's worker (aborting its retries) once what was queued here is handed over. */
  async stop(): Promise<void> {
    while (this.#enqueuing.size) await Promise.all([...this.#enqueuing]);
    await this.#queue.stop();
  }
}
