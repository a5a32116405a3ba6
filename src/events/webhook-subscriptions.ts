/**
 * Webhook subscriptions of the Events extension (SEP-3415 "Webhook-Based Delivery"): keyed by
 * `(principal, delivery.url, name, arguments)` with a derived, stable `id`; idempotent upsert that
 * refreshes the TTL, replaces the secret (dual-signing with the previous one for a grace window)
 * and reactivates delivery; endpoint verification once per `(principal, url)`; signed deliveries
 * through a `WebhookSender` with per-subscription status (`deliveryStatus`), suspension after
 * sustained failure, and expiry. In memory: a server that restarts loses them and clients
 * resubscribe on their next refresh, as the SEP allows for short TTLs.
 * @module
 */
import { canonicalJson } from '../protocol/canonical-json.js';
import type { JsonObject } from '../protocol/types.js';
import type { DeliveryResult, WebhookMessage } from '../webhooks/sender.js';
import type { DeliveryErrorCategory } from '../webhooks/types.js';

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

/** One webhook subscription. */
export interface WebhookSubscription {
  readonly id: string;
  readonly principal: string;
  readonly url: string;
  readonly name: string;
  readonly args: JsonObject;
  secret: string;
  previousSecret?: string;
  previousSecretUntil?: number;
  /** ms since the epoch, or null for no expiry. */
  expiresAt: number | null;
  active: boolean;
  lastDeliveryAt?: string;
  lastError: DeliveryErrorCategory | null;
  failedSince?: string;
  /** Consecutive failed deliveries (suspension after `suspendAfterFailures`). */
  failures: number;
}

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

/** The webhook subscriptions of one server. */
export class WebhookSubscriptions {
  readonly #sender: EventWebhookSender;
  readonly #limits: WebhookSubscriptionLimits;
  readonly #byId = new Map<string, WebhookSubscription>();
  readonly #verified = new Map<string, number>(); // principal \n url -> expiry ms
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #stopping = new AbortController();

  constructor(sender: EventWebhookSender, limits: WebhookSubscriptionLimits) {
    this.#sender = sender;
    this.#limits = limits;
  }

  /** Checks a callback URL's form; the reason when refused. */
  checkUrl(url: string): string | undefined {
    return this.#sender.checkUrl(url);
  }

  /** Subscriptions held now (expired ones dropped). */
  get size(): number {
    this.#sweep();
    return this.#byId.size;
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
    this.#sweep();
    const id = await derivedId(principal, url, name, args);
    const existing = this.#byId.get(id);
    if (!existing && this.#byId.size >= this.#limits.maxSubscriptions) return { ok: false, reason: 'limit' };
    const vkey = `${principal}\n${url}`;
    if ((this.#verified.get(vkey) ?? 0) <= Date.now()) {
      const v = await this.#sender.verifyEndpoint({ url, subscriptionId: id, secrets: [secret] });
      if (!v.ok) return { ok: false, reason: v.reason };
      this.#verified.set(vkey, Date.now() + this.#limits.verificationTtlMs);
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
    this.#byId.set(id, sub);
    return { ok: true, subscription: sub, created: true, wasActive: true };
  }

  /** Removes the subscription with this key; false when there was none. */
  async remove(principal: string, url: string, name: string, args: JsonObject): Promise<boolean> {
    return this.#byId.delete(await derivedId(principal, url, name, args));
  }

  /** Live subscriptions to `name`. */
  matching(name: string): WebhookSubscription[] {
    this.#sweep();
    return [...this.#byId.values()].filter((s) => s.name === name && s.active);
  }

  /** Delivers one body (event or control envelope) to a subscription, in the background. */
  deliver(sub: WebhookSubscription, webhookId: string, body: JsonObject): void {
    const secrets = [sub.secret];
    if (sub.previousSecret && (sub.previousSecretUntil ?? 0) > Date.now()) secrets.push(sub.previousSecret);
    const work = this.#sender
      .deliver(
        { url: sub.url, webhookId, subscriptionId: sub.id, body: JSON.stringify(body), secrets },
        { signal: this.#stopping.signal },
      )
      .then((r) => {
        if (r.ok) {
          sub.lastDeliveryAt = new Date().toISOString();
          sub.lastError = null;
          sub.failures = 0;
          delete sub.failedSince;
        } else {
          sub.lastError = r.reason;
          sub.failedSince ??= new Date().toISOString();
          if (++sub.failures >= this.#limits.suspendAfterFailures) sub.active = false;
        }
      })
      .catch(() => {})
      .finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#inFlight.size) await Promise.all([...this.#inFlight]);
  }

  /** `deliveryStatus` of a subscription (SEP-3415): categories only. */
  status(sub: WebhookSubscription, wasActive: boolean): JsonObject {
    const s: JsonObject = { active: wasActive, lastError: sub.lastError };
    if (sub.lastDeliveryAt) s.lastDeliveryAt = sub.lastDeliveryAt;
    if (sub.failedSince) s.failedSince = sub.failedSince;
    return s;
  }

  /** Stops retrying and forgets everything. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.settled();
    this.#byId.clear();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.#byId) if (s.expiresAt !== null && s.expiresAt <= now) this.#byId.delete(id);
  }
}
