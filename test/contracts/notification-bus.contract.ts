/**
 * The {@link NotificationBus} contract as a reusable suite: call `notificationBusContract(name,
 * factory)` with a factory of fresh buses (in-memory now, Redis later). Delivery to every listener
 * in publish order, unsubscribe, and isolation: one throwing listener never stops the others and its
 * error goes to `onerror`.
 */
import { describe, expect, it } from 'vitest';
import type { NotificationBus, ServerEvent } from '../../src/protocol/notification-bus.js';

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const updated = (uri: string): ServerEvent => ({ type: 'resource_updated', uri });

export function notificationBusContract(
  name: string,
  factory: () => NotificationBus | Promise<NotificationBus>,
): void {
  describe(`NotificationBus contract: ${name}`, () => {
    it('delivers every event to every listener, in publish order', async () => {
      const bus = await factory();
      const a: string[] = [];
      const b: string[] = [];
      bus.subscribe((e) => e.type === 'resource_updated' && a.push(e.uri));
      bus.subscribe((e) => e.type === 'resource_updated' && b.push(e.uri));
      for (let i = 0; i < 5; i++) await bus.publish(updated(`u${i}`));
      await until(() => a.length === 5 && b.length === 5, 'five events on both listeners');
      expect(a).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
      expect(b).toEqual(a);
    });

    it('stops delivering after unsubscribe (twice is harmless)', async () => {
      const bus = await factory();
      const seen: string[] = [];
      const marker: string[] = [];
      const off = bus.subscribe((e) => e.type === 'resource_updated' && seen.push(e.uri));
      bus.subscribe((e) => e.type === 'resource_updated' && marker.push(e.uri));
      await bus.publish(updated('before'));
      await until(() => seen.length === 1, 'the first event');
      off();
      off();
      await bus.publish(updated('after'));
      await until(() => marker.length === 2, 'the second event on the other listener');
      expect(seen).toEqual(['before']);
    });

    it('isolates listeners: one that throws does not stop the others, and its error goes to onerror', async () => {
      const bus = await factory();
      const errors: unknown[] = [];
      bus.onerror = (e) => errors.push(e);
      const seen: string[] = [];
      bus.subscribe(() => {
        throw new Error('listener failed');
      });
      bus.subscribe((e) => e.type === 'resource_updated' && seen.push(e.uri));
      await bus.publish(updated('x'));
      await bus.publish(updated('y'));
      await until(() => seen.length === 2 && errors.length === 2, 'both events and both errors');
      expect(seen).toEqual(['x', 'y']);
      expect((errors[0] as Error).message).toBe('listener failed');
    });
  });
}
