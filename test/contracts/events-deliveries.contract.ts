/**
 * The {@link WebhookDeliveryQueue} contract as a reusable suite: `deliveryQueueContract(name,
 * factory)` with a factory of one or more queues over one fresh backend (a shared queue: several,
 * as several processes would hold; in memory: one), whose lease is `leaseMs`. Every queue made is
 * stopped by the suite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookDeliveryJob, WebhookDeliveryQueue } from '../../src/events/stores.js';

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const job = (i: number): WebhookDeliveryJob => ({
  name: 'alert.raised',
  subscriptionId: `sub_${i}`,
  webhookId: `evt_${i}`,
  body: JSON.stringify({ i, text: 'ünïcode ✓' }),
});

/** Runs the contract; `factory` makes queues over one fresh backend with the given lease. */
export function deliveryQueueContract(
  name: string,
  factory: (options: { leaseMs: number }) => Promise<WebhookDeliveryQueue[]>,
): void {
  describe(`WebhookDeliveryQueue contract: ${name}`, () => {
    const made: WebhookDeliveryQueue[] = [];
    const make = async (leaseMs = 30_000) => {
      const queues = await factory({ leaseMs });
      made.push(...queues);
      return queues;
    };
    afterEach(async () => {
      for (const q of made.splice(0)) await q.stop();
    });

    it('hands every job to one worker, once, intact, across every consumer', async () => {
      const queues = await make();
      const seen = new Map<string, { job: WebhookDeliveryJob; by: number; times: number }>();
      queues.forEach((q, by) =>
        q.start(async (j) => {
          const s = seen.get(j.webhookId);
          if (s) s.times++;
          else seen.set(j.webhookId, { job: j, by, times: 1 });
        }),
      );
      await Promise.all(Array.from({ length: 60 }, (_, i) => queues[i % queues.length]!.enqueue(job(i))));
      await until('60 jobs', () => seen.size === 60);
      for (const q of queues) await q.settled();
      await new Promise((r) => setTimeout(r, 100));
      expect([...seen.values()].every((s) => s.times === 1)).toBe(true);
      expect(seen.get('evt_7')!.job).toEqual(job(7));
    });

    it('keeps jobs enqueued before start', async () => {
      const [q] = await make();
      await q!.enqueue(job(1));
      const got: string[] = [];
      q!.start(async (j) => void got.push(j.webhookId));
      await until('the early job', () => got.length === 1);
      expect(got).toEqual(['evt_1']);
    });

    it('stop aborts the workers and resolves after they returned', async () => {
      const [q] = await make();
      let aborted = false;
      let returned = false;
      let began = false;
      q!.start(async (_j, signal) => {
        began = true;
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        aborted = true;
        await new Promise((r) => setTimeout(r, 20));
        returned = true;
      });
      await q!.enqueue(job(1));
      await until('the worker to begin', () => began);
      await q!.stop();
      expect(aborted && returned).toBe(true);
    });

    it('hands a job whose worker never finished to another consumer after the lease', async (ctx) => {
      const queues = await make(400);
      if (queues.length < 2) return ctx.skip('one process only: no other consumer to take over');
      const [a, b] = queues as [WebhookDeliveryQueue, WebhookDeliveryQueue];
      let taken = false;
      a.start(async (_j, signal) => {
        taken = true;
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      });
      await a.enqueue(job(9));
      await until('consumer A to take the job', () => taken);
      await a.stop(); // aborted: not finished
      const got: string[] = [];
      const t0 = Date.now();
      b.start(async (j) => void got.push(j.webhookId));
      await until('consumer B to reclaim the job', () => got.length === 1);
      expect(got).toEqual(['evt_9']);
      expect(Date.now() - t0).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 800));
      expect(got).toHaveLength(1);
    });

    it('keeps the lease of a worker that works longer than the lease', async (ctx) => {
      const queues = await make(300);
      if (queues.length < 2) return ctx.skip('one process only: no other consumer to take over');
      const [a, b] = queues as [WebhookDeliveryQueue, WebhookDeliveryQueue];
      const got: string[] = [];
      a.start(async (j) => {
        await new Promise((r) => setTimeout(r, 1200));
        got.push(`a:${j.webhookId}`);
      });
      b.start(async (j) => void got.push(`b:${j.webhookId}`));
      await a.enqueue(job(3));
      await a.enqueue(job(4));
      await until('both jobs', () => got.length >= 2);
      await new Promise((r) => setTimeout(r, 600));
      expect(got.map((g) => g.slice(2)).sort()).toEqual(['evt_3', 'evt_4']);
    });
  });
}
