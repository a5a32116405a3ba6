/**
 * The {@link TaskLeases} contract as a reusable suite: `taskLeasesContract(name, factory)` with a
 * factory of fresh, empty lease sets (two calls may return two views of one shared set: `pair`).
 * It checks what the interface docstring promises: one holder, renewal only by the holder, release,
 * expiry, and exactly one claimer of an expired lease when many sweep at once.
 */
import { describe, expect, it } from 'vitest';
import type { TaskLeases } from '../../src/protocol/task-leases.js';

async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * @param factory returns `count` views of one fresh lease set (one per "node"; for an in-memory set
 *   the same object `count` times)
 */
export function taskLeasesContract(
  name: string,
  factory: (count: number) => TaskLeases[] | Promise<TaskLeases[]>,
): void {
  describe(`TaskLeases contract: ${name}`, () => {
    it('the holder renews and releases; nobody else can; an unknown lease is not ours', async () => {
      const [a, b] = await factory(2);
      await a!.acquire('t1', 'node-a', { leaseMs: 60_000 });
      expect(await a!.renew('t1', 'node-a', 60_000)).toBe(true);
      expect(await b!.renew('t1', 'node-b', 60_000)).toBe(false);
      await b!.release('t1', 'node-b'); // not the holder: nothing happens
      expect(await a!.renew('t1', 'node-a', 60_000)).toBe(true);
      expect(await b!.claimExpired('node-b', 60_000, 10)).toEqual([]); // not expired
      await a!.release('t1', 'node-a');
      expect(await a!.renew('t1', 'node-a', 60_000)).toBe(false);
      expect(await a!.renew('never', 'node-a', 60_000)).toBe(false);
      await a!.release('never', 'node-a');
    });

    it('an expired lease is claimed once, with its request and the attempt moved on', async () => {
      const [a, b] = await factory(2);
      const request = { tool: 'sum', arguments: { x: 1, list: [] }, auth: { subject: 'alice' } };
      await a!.acquire('t2', 'node-a', { leaseMs: 40, request, retainMs: 60_000 });
      await a!.acquire('t3', 'node-a', { leaseMs: 60_000 });
      let claims: Awaited<ReturnType<TaskLeases['claimExpired']>> = [];
      await until(async () => {
        claims = await b!.claimExpired('node-b', 60_000, 10);
        return claims.length > 0;
      }, 'the 40 ms lease to be claimable');
      expect(claims).toEqual([{ taskId: 't2', previousHolder: 'node-a', attempt: 2, request }]);
      expect(await b!.claimExpired('node-b', 60_000, 10)).toEqual([]);
      expect(await a!.renew('t2', 'node-a', 60_000)).toBe(false); // lost to node-b
      expect(await b!.renew('t2', 'node-b', 60_000)).toBe(true);
      await a!.release('t2', 'node-a');
      expect(await b!.renew('t2', 'node-b', 60_000)).toBe(true);
      // the claimer's lease runs out in turn: the next claim counts a third attempt
      expect(await b!.renew('t2', 'node-b', 30)).toBe(true);
      await until(async () => {
        claims = await a!.claimExpired('node-a', 60_000, 10);
        return claims.length > 0;
      }, 'the renewed 30 ms lease to be claimable');
      expect(claims).toMatchObject([{ taskId: 't2', previousHolder: 'node-b', attempt: 3 }]);
    });

    it('a released lease is never claimed; a lease without a request is claimed without one', async () => {
      const [a, b] = await factory(2);
      await a!.acquire('gone', 'node-a', { leaseMs: 20, request: { tool: 'x', arguments: {} } });
      await a!.release('gone', 'node-a');
      await a!.acquire('bare', 'node-a', { leaseMs: 20 });
      let claims: Awaited<ReturnType<TaskLeases['claimExpired']>> = [];
      await until(async () => {
        claims = await b!.claimExpired('node-b', 60_000, 10);
        return claims.length > 0;
      }, 'the 20 ms lease to be claimable');
      expect(claims).toEqual([{ taskId: 'bare', previousHolder: 'node-a', attempt: 2 }]);
    });

    it('many sweepers racing: each expired lease goes to exactly one of them', async () => {
      const nodes = await factory(4);
      const ids = Array.from({ length: 30 }, (_, i) => `race-${i}`);
      for (const id of ids) await nodes[0]!.acquire(id, 'dead-node', { leaseMs: 30 });
      await new Promise((r) => setTimeout(r, 60));
      const won = new Map<string, string[]>();
      await Promise.all(
        nodes.map(async (n, i) => {
          for (let round = 0; round < 10; round++) {
            for (const c of await n.claimExpired(`node-${i}`, 60_000, 4)) {
              won.set(c.taskId, [...(won.get(c.taskId) ?? []), `node-${i}`]);
            }
          }
        }),
      );
      expect([...won.keys()].sort()).toEqual([...ids].sort());
      for (const [id, winners] of won) expect(winners, id).toHaveLength(1);
    });

    it('a renewal for 0 ms hands the lease over at once (graceful shutdown)', async () => {
      const [a, b] = await factory(2);
      await a!.acquire('handover', 'node-a', { leaseMs: 60_000, request: { tool: 't', arguments: {} } });
      expect(await b!.claimExpired('node-b', 60_000, 10)).toEqual([]);
      expect(await a!.renew('handover', 'node-a', 0)).toBe(true);
      expect(await b!.claimExpired('node-b', 60_000, 10)).toMatchObject([
        { taskId: 'handover', previousHolder: 'node-a', attempt: 2, request: { tool: 't' } },
      ]);
    });

    it('claims at most `limit` at a time', async () => {
      const [a] = await factory(1);
      for (let i = 0; i < 5; i++) await a!.acquire(`lim-${i}`, 'dead', { leaseMs: 1 });
      await new Promise((r) => setTimeout(r, 20));
      expect(await a!.claimExpired('me', 60_000, 2)).toHaveLength(2);
      expect(await a!.claimExpired('me', 60_000, 10)).toHaveLength(3);
    });
  });
}
