/**
 * The {@link WebhookSubscriptionStore} contract as a reusable suite: `subscriptionStoreContract(name,
 * factory)` with a factory of fresh, empty stores. Run on the in-memory store in stores.test.ts and
 * on the Redis store in redis-events.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { StoredWebhookSubscription, WebhookSubscriptionStore } from '../../src/events/stores.js';

let counter = 0;
const sub = (overrides: Partial<StoredWebhookSubscription> = {}): StoredWebhookSubscription => ({
  id: `sub_${(++counter).toString(16).padStart(16, '0')}`,
  principal: 'alice',
  url: 'https://hooks.example.test/in',
  name: 'alert.raised',
  args: { level: 'high' },
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  expiresAt: Date.now() + 60_000,
  active: true,
  failures: 0,
  lastError: null,
  ...overrides,
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the contract; `factory` makes a fresh, empty store. */
export function subscriptionStoreContract(
  name: string,
  factory: () => WebhookSubscriptionStore | Promise<WebhookSubscriptionStore>,
): void {
  describe(`WebhookSubscriptionStore contract: ${name}`, () => {
    it('puts, gets copies, lists by name, counts, replaces by id', async () => {
      const store = await factory();
      const a = sub();
      const b = sub({ principal: 'bob', args: {} });
      const other = sub({ name: 'build.done' });
      for (const s of [a, b, other]) await store.put(s);
      const read = await store.get(a.name, a.id);
      expect(read).toEqual(a);
      read!.secret = 'changed';
      expect((await store.get(a.name, a.id))!.secret).toBe(a.secret);
      expect((await store.list('alert.raised')).map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
      expect(await store.list('nothing')).toEqual([]);
      expect(await store.count()).toBe(3);
      await store.put({
        ...a,
        secret: 'whsec_rotatedrotatedrotatedrotated00',
        previousSecret: a.secret,
        previousSecretUntil: 123,
      });
      expect(await store.count()).toBe(3);
      expect(await store.get(a.name, a.id)).toMatchObject({
        previousSecret: a.secret,
        previousSecretUntil: 123,
      });
      expect(await store.list('alert.raised')).toHaveLength(2);
      expect(await store.get('build.done', a.id)).toBeUndefined();
    });

    it('isolates principals on get and delete', async () => {
      const store = await factory();
      const a = sub();
      await store.put(a);
      expect(await store.get(a.name, a.id, 'mallory')).toBeUndefined();
      expect(await store.get(a.name, a.id, 'alice')).toEqual(a);
      expect(await store.delete(a.name, a.id, 'mallory')).toBe(false);
      expect(await store.get(a.name, a.id)).toBeDefined();
      expect(await store.delete(a.name, a.id, 'alice')).toBe(true);
      expect(await store.delete(a.name, a.id, 'alice')).toBe(false);
      expect(await store.get(a.name, a.id)).toBeUndefined();
      expect(await store.count()).toBe(0);
    });

    it('forgets a subscription once expiresAt passed; a refresh extends it', async () => {
      const store = await factory();
      const short = sub({ expiresAt: Date.now() + 150 });
      const refreshed = sub({ expiresAt: Date.now() + 150 });
      await store.put(short);
      await store.put(refreshed);
      await store.put({ ...refreshed, expiresAt: Date.now() + 60_000 });
      await wait(300);
      expect(await store.get(short.name, short.id)).toBeUndefined();
      expect((await store.list(short.name)).map((s) => s.id)).toEqual([refreshed.id]);
      expect(await store.count()).toBe(1);
      expect(await store.delete(short.name, short.id)).toBe(false);
    });

    it('records deliveries: failures count up and suspend, a success clears, a deleted one stays gone', async () => {
      const store = await factory();
      const a = sub();
      await store.put(a);
      const at = new Date().toISOString();
      await store.recordDelivery(a.name, a.id, {
        ok: false,
        reason: 'http_5xx',
        at,
        suspendAfterFailures: 3,
      });
      await store.recordDelivery(a.name, a.id, {
        ok: false,
        reason: 'timeout',
        at: new Date(Date.now() + 1000).toISOString(),
        suspendAfterFailures: 3,
      });
      expect(await store.get(a.name, a.id)).toMatchObject({
        active: true,
        failures: 2,
        lastError: 'timeout',
        failedSince: at,
      });
      await store.recordDelivery(a.name, a.id, { ok: true, at });
      const ok = (await store.get(a.name, a.id))!;
      expect(ok).toMatchObject({ active: true, failures: 0, lastError: null, lastDeliveryAt: at });
      expect(ok.failedSince).toBeUndefined();
      await Promise.all(
        [1, 2, 3].map(() =>
          store.recordDelivery(a.name, a.id, { ok: false, reason: 'http_4xx', at, suspendAfterFailures: 3 }),
        ),
      );
      expect(await store.get(a.name, a.id)).toMatchObject({ active: false, failures: 3 });
      expect((await store.list(a.name))[0]).toMatchObject({ active: false });
      await store.delete(a.name, a.id);
      await store.recordDelivery(a.name, a.id, { ok: true, at });
      expect(await store.get(a.name, a.id)).toBeUndefined();
      expect(await store.count()).toBe(0);
    });

    it('remembers a verified (principal, url) for its TTL', async () => {
      const store = await factory();
      expect(await store.isVerified('alice', 'https://a.test/')).toBe(false);
      await store.markVerified('alice', 'https://a.test/', 150);
      expect(await store.isVerified('alice', 'https://a.test/')).toBe(true);
      expect(await store.isVerified('bob', 'https://a.test/')).toBe(false);
      expect(await store.isVerified('alice', 'https://b.test/')).toBe(false);
      await wait(300);
      expect(await store.isVerified('alice', 'https://a.test/')).toBe(false);
    });
  });
}
