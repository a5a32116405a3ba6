/**
 * The {@link TaskStore} contract as a reusable suite: call `taskStoreContract(name, factory)` with a
 * factory of fresh, empty stores (the in-memory store now, a Redis store later). It checks what the
 * interface docstring promises: idempotency, compare-and-set with the terminal-state guard (a cancel
 * racing a completion: the first terminal state wins, once), TTL and sweeping, creation-order
 * pagination that survives deletions, copies on read, and how failures are reported.
 */
import { describe, expect, it } from 'vitest';
import type { TaskRecord, TaskStore } from '../../src/protocol/task-store.js';

let counter = 0;

function task(overrides: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date().toISOString();
  return {
    taskId: `t${++counter}-${Math.random()}`,
    status: 'working',
    createdAt: now,
    lastUpdatedAt: now,
    ttl: 60_000,
    ...overrides,
  };
}

async function until(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function taskStoreContract(name: string, factory: () => TaskStore | Promise<TaskStore>): void {
  describe(`TaskStore contract: ${name}`, () => {
    it('creates and reads back a copy at version 1; a second create of the same id rejects', async () => {
      const store = await factory();
      const t = task({ owner: 'alice' });
      await store.create(t);
      const read = await store.get(t.taskId);
      expect(read).toMatchObject({ ...t, version: 1 });
      read!.status = 'failed';
      expect((await store.get(t.taskId))!.status).toBe('working');
      await expect(store.create({ ...t, status: 'completed' })).rejects.toThrow();
      expect((await store.get(t.taskId))!.status).toBe('working');
      expect(await store.get('no-such-task')).toBeUndefined();
    });

    it('updates by compare-and-set: the version moves on, a stale ifVersion changes nothing', async () => {
      const store = await factory();
      const t = task();
      await store.create(t);
      const first = await store.update(t.taskId, { statusMessage: 'step 1' }, { ifVersion: 1 });
      expect(first).toMatchObject({ ok: true, record: { statusMessage: 'step 1', version: 2 } });
      const stale = await store.update(t.taskId, { statusMessage: 'lost' }, { ifVersion: 1 });
      expect(stale).toMatchObject({ ok: false, reason: 'conflict', record: { version: 2 } });
      expect((await store.get(t.taskId))!.statusMessage).toBe('step 1');
      expect(await store.update('no-such-task', { statusMessage: 'x' })).toEqual({
        ok: false,
        reason: 'missing',
      });
    });

    it('never changes a terminal task: a cancel racing a completion stores one terminal state, once', async () => {
      for (let round = 0; round < 20; round++) {
        const store = await factory();
        const t = task();
        await store.create(t);
        const [completed, cancelled] = await Promise.all([
          store.update(t.taskId, { status: 'completed', outcome: { result: { content: [] } } }),
          store.update(t.taskId, { status: 'cancelled', statusMessage: 'Cancelled by the client' }),
        ]);
        expect([completed.ok, cancelled.ok].filter(Boolean)).toHaveLength(1);
        const winner = completed.ok ? completed.record : cancelled.ok ? cancelled.record : undefined;
        const loser = completed.ok ? cancelled : completed;
        expect(loser).toMatchObject({ ok: false, reason: 'terminal', record: { status: winner!.status } });
        const stored = (await store.get(t.taskId))!;
        expect(stored.status).toBe(winner!.status);
        expect(stored.version).toBe(2);
        expect(await store.update(t.taskId, { status: 'working' })).toMatchObject({
          ok: false,
          reason: 'terminal',
        });
      }
    });

    it('does not let an update change the id, owner, creation time or version', async () => {
      const store = await factory();
      const t = task({ owner: 'alice' });
      await store.create(t);
      await store.update(t.taskId, {
        statusMessage: 'x',
        owner: 'mallory',
        taskId: 'other',
        version: 99,
      } as never);
      expect(await store.get(t.taskId)).toMatchObject({
        taskId: t.taskId,
        owner: 'alice',
        createdAt: t.createdAt,
        version: 2,
      });
      expect(await store.get('other')).toBeUndefined();
    });

    it('expires tasks after their ttl; sweep deletes them; ttl null keeps a task', async () => {
      const store = await factory();
      const short = task({ ttl: 30 });
      const forever = task({ ttl: null });
      await store.create(short);
      await store.create(forever);
      await until(async () => (await store.get(short.taskId)) === undefined, 'the 30 ms task to expire');
      expect(await store.update(short.taskId, { statusMessage: 'late' })).toMatchObject({
        ok: false,
        reason: 'missing',
      });
      const gone = task({ ttl: 1, createdAt: new Date(Date.now() - 60_000).toISOString() });
      await store.create(gone);
      expect(await store.sweep()).toBeGreaterThanOrEqual(0);
      expect(await store.sweep(Date.now() + 1000)).toBe(0);
      expect(await store.get(gone.taskId)).toBeUndefined();
      expect(await store.get(forever.taskId)).toMatchObject({ ttl: null });
      expect((await store.list({ limit: 10 })).tasks.map((x) => x.taskId)).toEqual([forever.taskId]);
    });

    it('lists in creation order, a page at a time, by owner; cursors survive deletions', async () => {
      const store = await factory();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const t = task({ owner: i % 2 ? 'bob' : 'alice' });
        ids.push(t.taskId);
        await store.create(t);
      }
      const all: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ limit: 3, cursor });
        expect(page.tasks.length).toBeLessThanOrEqual(3);
        all.push(...page.tasks.map((t) => t.taskId));
        cursor = page.nextCursor;
        if (pages === 0) await store.delete(ids[3]!); // deleted before the listing reaches it
        pages++;
      } while (cursor !== undefined && pages < 10);
      expect(all).toEqual(ids.filter((_, i) => i !== 3));
      expect(new Set(all).size).toBe(all.length);
      const alice = await store.list({ owner: 'alice', limit: 10 });
      expect(alice.tasks.map((t) => t.taskId)).toEqual(ids.filter((_, i) => i % 2 === 0));
      expect(alice.nextCursor).toBeUndefined();
      await expect(store.list({ limit: 3, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(RangeError);
    });

    it('deletes idempotently', async () => {
      const store = await factory();
      const t = task();
      await store.create(t);
      await store.delete(t.taskId);
      await store.delete(t.taskId);
      await store.delete('never-existed');
      expect(await store.get(t.taskId)).toBeUndefined();
    });
  });
}
