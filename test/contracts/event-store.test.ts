/**
 * The EventStore contract on the in-memory store, plus what only the in-memory store promises: its
 * bounds in events, streams and bytes (`maxEventStoreBytes`), and RangeErrors for bad options.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../src/protocol/event-store.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('InMemoryEventStore', () => new InMemoryEventStore());
eventStoreContract(
  'InMemoryEventStore (tight bounds)',
  () => new InMemoryEventStore({ maxStreams: 200, maxEventsPerStream: 10 }),
);

const big = (i: number, size: number) => ({
  jsonrpc: '2.0' as const,
  method: 'notifications/progress',
  params: { progressToken: i, progress: i, message: 'x'.repeat(size) },
});

describe('InMemoryEventStore bounds', () => {
  it('holds at most maxEventStoreBytes: the least recently written streams go first', async () => {
    const store = new InMemoryEventStore({ maxEventStoreBytes: 10 * 1024 });
    const first = await store.storeEvent('s', 'old', null);
    await store.storeEvent('s', 'old', big(0, 4000));
    for (let i = 1; i <= 20; i++) await store.storeEvent('s', `stream-${i}`, big(i, 4000));
    expect(store.bytes).toBeLessThanOrEqual(10 * 1024);
    expect(store.bytes).toBeGreaterThan(0);
    expect(await store.replayEventsAfter('s', first, () => {})).toBeUndefined();
  });

  it('always keeps the newest event even when it alone is over the bound', async () => {
    const store = new InMemoryEventStore({ maxEventStoreBytes: 1000 });
    const prime = await store.storeEvent('s', 'a', null);
    await store.storeEvent('s', 'a', big(1, 5000));
    const sent: unknown[] = [];
    expect(await store.replayEventsAfter('s', prime, (_i, m) => void sent.push(m))).toBe('a');
    expect(sent).toHaveLength(1);
  });

  it('deleting streams and sessions gives the bytes back', async () => {
    const store = new InMemoryEventStore();
    for (let i = 0; i < 10; i++) await store.storeEvent('s1', `a${i}`, big(i, 1000));
    await store.storeEvent('s2', 'a', big(0, 1000));
    const perEvent = store.bytes / 11;
    await store.deleteStream('s1', 'a0');
    expect(store.bytes).toBeCloseTo(perEvent * 10, 0);
    await store.deleteSession('s1');
    expect(store.bytes).toBeCloseTo(perEvent, 0);
    expect(store.streamCount).toBe(1);
    await store.deleteSession('s2');
    expect(store.bytes).toBe(0);
    expect(store.streamCount).toBe(0);
  });

  it('maxEventsPerStream drops the oldest events of a stream', async () => {
    const store = new InMemoryEventStore({ maxEventsPerStream: 3 });
    const prime = await store.storeEvent('s', 'a', null);
    for (let i = 1; i <= 5; i++) await store.storeEvent('s', 'a', big(i, 1));
    const sent: unknown[] = [];
    await store.replayEventsAfter('s', prime, (_i, m) => void sent.push(m));
    expect(sent).toEqual([big(3, 1), big(4, 1), big(5, 1)]);
  });

  it('rejects bad options with a RangeError naming the option', () => {
    expect(() => new InMemoryEventStore({ maxEventStoreBytes: 0 })).toThrow(/maxEventStoreBytes/);
    expect(() => new InMemoryEventStore({ maxStreams: 1.5 })).toThrow(RangeError);
    expect(() => new InMemoryEventStore({ maxEventsPerStream: Number.NaN })).toThrow(/maxEventsPerStream/);
  });
});
