/**
 * The {@link SessionStore} contract as a reusable suite: call `sessionStoreContract(name, factory)`
 * with a factory of fresh stores (the in-memory store, the Redis store). It checks what the
 * interface docstring promises: records read back as written, TTL set and reset, updates of the
 * mutable fields only, idempotent deletes, the size bound, garbage read as absent, and (when the
 * store has one) the router's per-session channel.
 */
import { describe, expect, it } from 'vitest';
import { SessionRecordTooLargeError } from '../../src/protocol/session-store.js';
import type { SessionRecord, SessionSignal, SessionStore } from '../../src/protocol/session-store.js';

/** What a test needs of one store under test. */
export interface SessionStoreUnderTest {
  store: SessionStore;
  /** Writes each kind of garbage it can under the key of `sessionId` (the variants are the store's). */
  garbage: ((sessionId: string) => Promise<void>)[];
  /** Writes each kind of garbage it can under the POST stream record of `sessionId`/`streamId`. */
  postGarbage?: ((sessionId: string, streamId: string) => Promise<void>)[];
}

export type SessionStoreFactory = (options: {
  maxSessionRecordBytes?: number;
}) => Promise<SessionStoreUnderTest>;

const record = (sessionId: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({
  sessionId,
  protocolVersion: '2025-11-25',
  clientCapabilities: { sampling: {}, elicitation: { form: {} } },
  clientInfo: { name: 'contract', version: '1.0.0' },
  principal: 'alice',
  createdAt: 1_760_000_000_000,
  ...extra,
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function sessionStoreContract(name: string, factory: SessionStoreFactory): void {
  describe(`SessionStore contract: ${name}`, () => {
    it('reads a record back as written, and nothing for an unknown id', async () => {
      const { store } = await factory({});
      const r = record('s-read', { logLevel: 'warning', subscriptions: ['file:///a', 'file:///b'] });
      await store.create(r, 60_000);
      expect(await store.touch('s-read', 60_000)).toEqual(r);
      expect(await store.touch('s-unknown', 60_000)).toBeUndefined();
      const bare = record('s-bare');
      delete bare.clientInfo;
      await store.create(bare, 60_000);
      expect(await store.touch('s-bare', 60_000)).toEqual(bare);
    });

    it('expires a record after its TTL, and touch resets the TTL', async () => {
      const { store } = await factory({});
      await store.create(record('s-ttl'), 400);
      await store.create(record('s-kept'), 400);
      const started = Date.now();
      // s-kept is touched (TTL reset) while s-ttl runs out.
      while (Date.now() - started < 900) {
        expect(await store.touch('s-kept', 400)).toBeDefined();
        await new Promise((r) => setTimeout(r, 100));
      }
      await until('s-ttl to expire', async () => (await store.touch('s-ttl', 400)) === undefined);
      expect(await store.touch('s-kept', 400)).toBeDefined();
    });

    it('updates the mutable fields only, and only of an existing record', async () => {
      const { store } = await factory({});
      await store.create(record('s-up', { subscriptions: ['file:///a'] }), 60_000);
      const after = await store.update('s-up', { logLevel: 'error' }, 60_000);
      expect(after).toEqual(record('s-up', { subscriptions: ['file:///a'], logLevel: 'error' }));
      await store.update('s-up', { subscriptions: [] }, 60_000);
      expect(await store.touch('s-up', 60_000)).toEqual(
        record('s-up', { subscriptions: [], logLevel: 'error' }),
      );
      expect(await store.update('s-none', { logLevel: 'debug' }, 60_000)).toBeUndefined();
      expect(await store.touch('s-none', 60_000)).toBeUndefined();
    });

    it('deletes idempotently', async () => {
      const { store } = await factory({});
      await store.create(record('s-del'), 60_000);
      await store.delete('s-del');
      await store.delete('s-del');
      await store.delete('s-never');
      expect(await store.touch('s-del', 60_000)).toBeUndefined();
    });

    it('refuses a record larger than maxSessionRecordBytes, writing nothing', async () => {
      const { store } = await factory({ maxSessionRecordBytes: 2048 });
      const big = record('s-big', { clientInfo: { name: 'x'.repeat(4096), version: '1' } });
      const refused = await store.create(big, 60_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(SessionRecordTooLargeError);
      expect((refused as SessionRecordTooLargeError).limitBytes).toBe(2048);
      expect((refused as Error).message).toMatch(/exceeds maxSessionRecordBytes \(2048\)/);
      expect(await store.touch('s-big', 60_000)).toBeUndefined();
      // Growing past the bound by subscriptions is refused too, and the record stays as it was.
      await store.create(record('s-grow'), 60_000);
      const uris = Array.from({ length: 100 }, (_, i) => `file:///${'d'.repeat(40)}/${i}`);
      await expect(store.update('s-grow', { subscriptions: uris }, 60_000)).rejects.toBeInstanceOf(
        SessionRecordTooLargeError,
      );
      expect(await store.touch('s-grow', 60_000)).toEqual(record('s-grow'));
    });

    it('reads garbage under a session key as absent, and a fresh record replaces it', async () => {
      const { store, garbage } = await factory({});
      expect(garbage.length).toBeGreaterThan(0);
      for (const [i, write] of garbage.entries()) {
        const id = `s-garbage-${i}`;
        await write(id);
        expect(await store.touch(id, 60_000)).toBeUndefined();
        expect(await store.update(id, { logLevel: 'debug' }, 60_000)).toBeUndefined();
        await store.create(record(id), 60_000);
        expect(await store.touch(id, 60_000)).toEqual(record(id));
      }
    });

    it('routes signals per session to the listeners subscribed, and stops after unsubscribe', async () => {
      const { store } = await factory({});
      const router = store.router;
      if (!router) return;
      const heard: SessionSignal[] = [];
      const other: SessionSignal[] = [];
      const stop = await router.subscribe('s-ch', (s) => heard.push(s));
      const stopOther = await router.subscribe('s-other', (s) => other.push(s));
      const message = { jsonrpc: '2.0' as const, id: 'abcdefabcdef.1', result: { ok: true } };
      expect(await router.publish('s-ch', { type: 'response', message })).toBe(1);
      await router.publish('s-ch', { type: 'wake' });
      await until('two signals', async () => heard.length === 2);
      expect(heard).toEqual([{ type: 'response', message }, { type: 'wake' }]);
      expect(other).toEqual([]);
      await stop();
      expect(await router.publish('s-ch', { type: 'state' })).toBe(0);
      await stopOther();
    });

    it('holds a process lease for its TTL, renews and releases it', async () => {
      const { store } = await factory({});
      const reg = store.postStreams;
      if (!reg) return;
      expect(await reg.leaseHeld('never-seen')).toBe(false);
      await reg.renewLease('p1', 300);
      expect(await reg.leaseHeld('p1')).toBe(true);
      expect(await reg.leaseHeld('p2')).toBe(false);
      await reg.renewLease('p1', 60_000);
      await reg.releaseLease('p1');
      expect(await reg.leaseHeld('p1')).toBe(false);
      await reg.releaseLease('p1');
      await reg.renewLease('p3', 150);
      await until('the lease of p3 to lapse', async () => !(await reg.leaseHeld('p3')));
      await expect(reg.renewLease('p4', 0)).rejects.toThrow(RangeError);
    });

    it('keeps POST stream records per session for their TTL, deletes idempotently, reads garbage as absent', async () => {
      const { store, postGarbage } = await factory({});
      const reg = store.postStreams;
      if (!reg) return;
      const rec = { owner: 'p1', requestIds: [1, 'two'] };
      await reg.putStream('s-post', 'st1', rec, 60_000);
      expect(await reg.getStream('s-post', 'st1')).toEqual(rec);
      expect(await reg.getStream('s-post-other', 'st1')).toBeUndefined();
      expect(await reg.getStream('s-post', 'st2')).toBeUndefined();
      await reg.deleteStream('s-post', 'st1');
      await reg.deleteStream('s-post', 'st1');
      expect(await reg.getStream('s-post', 'st1')).toBeUndefined();
      await reg.putStream('s-post', 'st3', rec, 150);
      await until(
        'the record of st3 to expire',
        async () => (await reg.getStream('s-post', 'st3')) === undefined,
      );
      for (const [i, write] of (postGarbage ?? []).entries()) {
        await write('s-post', `g${i}`);
        expect(await reg.getStream('s-post', `g${i}`)).toBeUndefined();
        await reg.putStream('s-post', `g${i}`, rec, 60_000);
        expect(await reg.getStream('s-post', `g${i}`)).toEqual(rec);
      }
    });
  });
}
