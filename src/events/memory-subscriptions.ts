/**
 * The in-memory {@link WebhookSubscriptionStore} (one process): a server that restarts loses its
 * subscriptions and clients resubscribe on their next refresh, as SEP-3415 allows for short TTLs.
 * @module
 */
import type {
  StoredWebhookSubscription,
  WebhookDeliveryOutcome,
  WebhookSubscriptionStore,
} from './stores.js';

const copy = (s: StoredWebhookSubscription): StoredWebhookSubscription => ({ ...s });

/** The in-memory {@link WebhookSubscriptionStore}. See the interface for the contract. */
export class InMemoryWebhookSubscriptionStore implements WebhookSubscriptionStore {
  /** name -> id -> record */
  readonly #byName = new Map<string, Map<string, StoredWebhookSubscription>>();
  readonly #verified = new Map<string, number>(); // principal \n url -> expiry ms
  #size = 0;

  #live(name: string, id: string): StoredWebhookSubscription | undefined {
    const subs = this.#byName.get(name);
    const s = subs?.get(id);
    if (s && s.expiresAt <= Date.now()) {
      subs!.delete(id);
      this.#size--;
      return undefined;
    }
    return s;
  }

  get(name: string, id: string, principal?: string): Promise<StoredWebhookSubscription | undefined> {
    const s = this.#live(name, id);
    return Promise.resolve(s && (principal === undefined || s.principal === principal) ? copy(s) : undefined);
  }

  put(subscription: StoredWebhookSubscription): Promise<void> {
    let subs = this.#byName.get(subscription.name);
    if (!subs) this.#byName.set(subscription.name, (subs = new Map()));
    if (!this.#live(subscription.name, subscription.id)) this.#size++;
    subs.set(subscription.id, copy(subscription));
    return Promise.resolve();
  }

  list(name: string): Promise<StoredWebhookSubscription[]> {
    const out: StoredWebhookSubscription[] = [];
    const subs = this.#byName.get(name);
    if (subs)
      for (const id of [...subs.keys()]) {
        const s = this.#live(name, id);
        if (s) out.push(copy(s));
      }
    return Promise.resolve(out);
  }

  delete(name: string, id: string, principal?: string): Promise<boolean> {
    const s = this.#live(name, id);
    if (!s || (principal !== undefined && s.principal !== principal)) return Promise.resolve(false);
    this.#byName.get(name)!.delete(id);
    this.#size--;
    return Promise.resolve(true);
  }

  count(): Promise<number> {
    const now = Date.now();
    for (const [, subs] of this.#byName)
      for (const [id, s] of subs)
        if (s.expiresAt <= now) {
          subs.delete(id);
          this.#size--;
        }
    return Promise.resolve(this.#size);
  }

  recordDelivery(name: string, id: string, outcome: WebhookDeliveryOutcome): Promise<void> {
    const s = this.#live(name, id);
    if (s) {
      if (outcome.ok) {
        s.lastDeliveryAt = outcome.at;
        s.lastError = null;
        s.failures = 0;
        delete s.failedSince;
      } else {
        s.lastError = outcome.reason;
        s.failedSince ??= outcome.at;
        if (++s.failures >= outcome.suspendAfterFailures) s.active = false;
      }
    }
    return Promise.resolve();
  }

  markVerified(principal: string, url: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    if (this.#verified.size >= 10_000)
      for (const [k, until] of this.#verified) if (until <= now) this.#verified.delete(k);
    this.#verified.set(`${principal}\n${url}`, now + ttlMs);
    return Promise.resolve();
  }

  isVerified(principal: string, url: string): Promise<boolean> {
    return Promise.resolve((this.#verified.get(`${principal}\n${url}`) ?? 0) > Date.now());
  }
}
