/**
 * The {@link EventStore} contract as a reusable suite: call `eventStoreContract(name, factory)` with
 * a factory of fresh, empty stores (the in-memory store now, a Redis store later). It checks what
 * the interface docstring promises: unguessable session-bound ids, order, priming events never
 * replayed, deletion of a stream and of a session, and idempotent deletes.
 */
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from '../../src/jsonrpc/types.js';
import type { EventStore } from '../../src/protocol/event-store.js';

const note = (i: number): JsonRpcMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/progress',
  params: { progressToken: 't', progress: i },
});

async function replay(store: EventStore, sessionId: string, lastEventId: string) {
  const sent: { id: string; message: JsonRpcMessage }[] = [];
  const stream = await store.replayEventsAfter(sessionId, lastEventId, (id, message) => {
    sent.push({ id, message });
  });
  return { stream, sent };
}

/** Bits an id can carry at most, from its length and the alphabet seen across all ids. */
function maxBits(id: string, alphabet: number): number {
  return id.length * Math.log2(Math.max(alphabet, 2));
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

export function eventStoreContract(name: string, factory: () => EventStore | Promise<EventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    it('replays the events after an id, in order, skipping priming events, and names the stream', async () => {
      const store = await factory();
      const prime = await store.storeEvent('s1', 'a', null);
      const ids = [];
      for (let i = 1; i <= 5; i++) ids.push(await store.storeEvent('s1', 'a', note(i)));
      expect(new Set([prime, ...ids]).size).toBe(6);
      const fromPrime = await replay(store, 's1', prime);
      expect(fromPrime.stream).toBe('a');
      expect(fromPrime.sent.map((e) => e.message)).toEqual([1, 2, 3, 4, 5].map(note));
      expect(fromPrime.sent.map((e) => e.id)).toEqual(ids);
      const fromThird = await replay(store, 's1', ids[2]!);
      expect(fromThird.sent.map((e) => e.message)).toEqual([note(4), note(5)]);
      const fromLast = await replay(store, 's1', ids[4]!);
      expect(fromLast).toEqual({ stream: 'a', sent: [] });
    });

    it('keeps streams apart: a replay never crosses into another stream', async () => {
      const store = await factory();
      const a = await store.storeEvent('s1', 'a', note(1));
      await store.storeEvent('s1', 'b', note(2));
      await store.storeEvent('s1', 'a', note(3));
      const r = await replay(store, 's1', a);
      expect(r.stream).toBe('a');
      expect(r.sent.map((e) => e.message)).toEqual([note(3)]);
    });

    it('ids carry at least 128 bits and are unique across sessions and streams', async () => {
      const store = await factory();
      const ids = new Set<string>();
      for (let s = 0; s < 20; s++)
        for (let t = 0; t < 5; t++) ids.add(await store.storeEvent(`session-${s}`, `stream-${t}`, note(t)));
      expect(ids.size).toBe(100);
      const alphabet = new Set([...ids].join('')).size;
      for (const id of ids) expect(maxBits(id, alphabet)).toBeGreaterThanOrEqual(128);
      // Not a prefix plus a counter: ids of different streams share no long prefix.
      const list = [...ids].sort();
      for (let i = 1; i < list.length; i++)
        if (list[i]!.split('.')[0] !== list[i - 1]!.split('.')[0])
          expect(commonPrefix(list[i]!, list[i - 1]!)).toBeLessThan(12);
    });

    it('an id is answered like an unknown one for any other session, and for none', async () => {
      const store = await factory();
      const prime = await store.storeEvent('owner', 'a', null);
      await store.storeEvent('owner', 'a', note(1));
      const sent: unknown[] = [];
      for (const other of ['intruder', '', 'owner ', 'OWNER'])
        expect(await store.replayEventsAfter(other, prime, (_i, m) => void sent.push(m))).toBeUndefined();
      expect(sent).toEqual([]);
      for (const bogus of [
        '',
        '.',
        'nope',
        `${prime}x`,
        `${prime}.1`,
        (prime.startsWith('0') ? '1' : '0') + prime.slice(1),
        '__proto__',
      ])
        expect(await replay(store, 'owner', bogus)).toEqual({
          stream: bogus === prime ? 'a' : undefined,
          sent: [],
        });
    });

    it('deleteStream forgets one stream; deleteSession forgets every stream of a session; both idempotent', async () => {
      const store = await factory();
      const a = await store.storeEvent('s1', 'a', null);
      await store.storeEvent('s1', 'a', note(1));
      const b = await store.storeEvent('s1', 'b', null);
      await store.storeEvent('s1', 'b', note(2));
      const other = await store.storeEvent('s2', 'a', null);
      await store.storeEvent('s2', 'a', note(3));
      await store.deleteStream('s1', 'a');
      await store.deleteStream('s1', 'a');
      await store.deleteStream('s2', 'no-such-stream');
      expect((await replay(store, 's1', a)).stream).toBeUndefined();
      expect((await replay(store, 's1', b)).sent.map((e) => e.message)).toEqual([note(2)]);
      await store.deleteStream('s2', 'b'); // another session's stream id: s1's 'b' stays
      expect((await replay(store, 's1', b)).stream).toBe('b');
      await store.deleteSession('s1');
      await store.deleteSession('s1');
      await store.deleteSession('never-existed');
      expect((await replay(store, 's1', b)).stream).toBeUndefined();
      expect((await replay(store, 's2', other)).sent.map((e) => e.message)).toEqual([note(3)]);
    });

    it('a stream written again after its session was deleted starts afresh: old ids stay unknown', async () => {
      const store = await factory();
      const old = await store.storeEvent('s1', 'a', null);
      await store.storeEvent('s1', 'a', note(1));
      await store.deleteSession('s1');
      const fresh = await store.storeEvent('s1', 'a', null);
      await store.storeEvent('s1', 'a', note(2));
      expect((await replay(store, 's1', old)).stream).toBeUndefined();
      expect((await replay(store, 's1', fresh)).sent.map((e) => e.message)).toEqual([note(2)]);
    });

    it('storeEventOnce (when implemented): once per key and session, only on a stream that exists', async (ctx) => {
      const store = await factory();
      if (!store.storeEventOnce) {
        console.warn(`${name}: storeEventOnce not implemented (optional): skipped`);
        return ctx.skip();
      }
      // No stream yet: nothing stored, and the key is not spent.
      expect(await store.storeEventOnce('s1', 'g', note(0), 'k0')).toBeUndefined();
      const prime = await store.storeEvent('s1', 'g', null);
      const first = await store.storeEventOnce('s1', 'g', note(1), 'k1');
      expect(first).toEqual(expect.any(String));
      // The same key again (another replica hearing the same broadcast): not stored.
      expect(await store.storeEventOnce('s1', 'g', note(1), 'k1')).toBeUndefined();
      expect(await store.storeEventOnce('s1', 'g', note(0), 'k0')).toEqual(expect.any(String));
      // Keys are per session: s2's stream takes k1 too.
      await store.storeEvent('s2', 'g', null);
      expect(await store.storeEventOnce('s2', 'g', note(1), 'k1')).toEqual(expect.any(String));
      const r = await replay(store, 's1', prime);
      expect(r.sent.map((e) => e.message)).toEqual([note(1), note(0)]);
      expect(r.sent[0]!.id).toBe(first);
      // A deleted stream takes no more broadcasts.
      await store.deleteSession('s1');
      expect(await store.storeEventOnce('s1', 'g', note(2), 'k2')).toBeUndefined();
    });

    it('replays a snapshot: an event stored during a replay does not disturb it', async () => {
      const store = await factory();
      const prime = await store.storeEvent('s1', 'a', null);
      await store.storeEvent('s1', 'a', note(1));
      await store.storeEvent('s1', 'a', note(2));
      const sent: JsonRpcMessage[] = [];
      await store.replayEventsAfter('s1', prime, async (_id, m) => {
        sent.push(m);
        if (sent.length === 1) await store.storeEvent('s1', 'a', note(3));
      });
      expect(sent.slice(0, 2)).toEqual([note(1), note(2)]);
    });
  });
}
