/**
 * The {@link EventLog} contract (the occurrence log behind `events/poll` cursors) as a reusable
 * suite: `eventLogContract(name, factory)` with a factory of fresh, empty logs bounded to
 * `maxEventsPerName`. The in-memory log runs it in stores.test.ts, the Redis log in
 * redis-events.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { EventLog } from '../../src/events/stores.js';
import type { EmittedEvent } from '../../src/events/types.js';

let counter = 0;
const ev = (name: string, data: Record<string, unknown> = {}, eventId?: string): EmittedEvent => ({
  eventId: eventId ?? `evt_${++counter}_${Math.random().toString(36).slice(2)}`,
  name,
  timestamp: new Date().toISOString(),
  data: data as EmittedEvent['data'],
});

/** Runs the contract; `factory` makes a fresh, empty log keeping `maxEventsPerName` per name. */
export function eventLogContract(
  name: string,
  factory: (options: { maxEventsPerName: number }) => EventLog | Promise<EventLog>,
): void {
  describe(`EventLog contract: ${name}`, () => {
    it('appends and reads back in order after a cursor, per name, with limits and the head', async () => {
      const log = await factory({ maxEventsPerName: 100 });
      const start = await log.start('a', null);
      expect(start.truncated).toBe(false);
      expect(await log.read('a', start.cursor, 10)).toEqual([]);
      const cursors: string[] = [];
      for (let i = 0; i < 5; i++) cursors.push((await log.append(ev('a', { i })))!);
      await log.append(ev('b', { other: true }));
      expect(new Set(cursors).size).toBe(5);
      const all = await log.read('a', start.cursor, 10);
      expect(all.map((e) => e.event.data.i)).toEqual([0, 1, 2, 3, 4]);
      expect(all.map((e) => e.cursor)).toEqual(cursors);
      expect(all[0]!.principal).toBeUndefined();
      expect((await log.read('a', start.cursor, 2)).map((e) => e.event.data.i)).toEqual([0, 1]);
      expect((await log.read('a', cursors[2]!, 10)).map((e) => e.event.data.i)).toEqual([3, 4]);
      expect(await log.read('a', cursors[4]!, 10)).toEqual([]);
      const head = await log.head('a');
      expect(await log.read('a', head, 10)).toEqual([]);
      await log.append(ev('a', { i: 5 }));
      expect((await log.read('a', head, 10)).map((e) => e.event.data.i)).toEqual([5]);
      const resumed = await log.start('a', cursors[1]);
      expect(resumed).toEqual({ cursor: cursors[1], truncated: false });
      const b = await log.read('b', start.cursor, 10);
      expect(b.map((e) => e.event.data)).toEqual([{ other: true }]);
    });

    it('logs an eventId once: a second append returns undefined', async () => {
      const log = await factory({ maxEventsPerName: 100 });
      const { cursor } = await log.start('a', null);
      const e = ev('a', { n: 1 }, 'evt_same');
      expect(await log.append(e)).toBeTypeOf('string');
      expect(await log.append({ ...e, data: { n: 2 } })).toBeUndefined();
      expect((await log.read('a', cursor, 10)).map((x) => x.event.data)).toEqual([{ n: 1 }]);
    });

    it('keeps the principal of a targeted emit', async () => {
      const log = await factory({ maxEventsPerName: 100 });
      const { cursor } = await log.start('t', null);
      await log.append(ev('t'), { principal: 'alice' });
      await log.append(ev('t'), { principal: '' });
      expect((await log.read('t', cursor, 10)).map((e) => e.principal)).toEqual(['alice', '']);
    });

    it('bounds each name by count and says truncated to a cursor behind the dropped ones', async () => {
      const log = await factory({ maxEventsPerName: 3 });
      const { cursor } = await log.start('a', null);
      for (let i = 0; i < 6; i++) await log.append(ev('a', { i }));
      const start = await log.start('a', cursor);
      expect(start.truncated).toBe(true);
      expect((await log.read('a', start.cursor, 10)).map((e) => e.event.data.i)).toEqual([3, 4, 5]);
      const recent = (await log.read('a', start.cursor, 10))[0]!.cursor;
      expect(await log.start('a', recent)).toEqual({ cursor: recent, truncated: false });
    });

    it('starts a malformed or unknown cursor at the head with truncated', async () => {
      const log = await factory({ maxEventsPerName: 10 });
      await log.append(ev('a'));
      const head = await log.head('a');
      for (const bad of ['deadbeef.1', 'garbage', 42, { x: 1 }, '99999999999999-0', '']) {
        const s = await log.start('a', bad);
        expect(s, String(bad)).toEqual({ cursor: head, truncated: true });
        expect(await log.read('a', s.cursor, 10)).toEqual([]);
      }
    });

    it('skips occurrences older than maxAgeMs with truncated', async () => {
      const log = await factory({ maxEventsPerName: 10 });
      const { cursor } = await log.start('a', null);
      await log.append(ev('a', { age: 'old' }));
      await new Promise((r) => setTimeout(r, 120));
      await log.append(ev('a', { age: 'new' }));
      const s = await log.start('a', cursor, 60);
      expect(s.truncated).toBe(true);
      expect((await log.read('a', s.cursor, 10)).map((e) => e.event.data.age)).toEqual(['new']);
      const all = await log.start('a', cursor, 60_000);
      expect(all.truncated).toBe(false);
      expect(await log.read('a', all.cursor, 10)).toHaveLength(2);
    });
  });
}
