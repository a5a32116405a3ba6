/**
 * The TaskLeases contract on the in-memory lease set (one object shared by every "node"), plus its
 * own clock.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryTaskLeases } from '../../src/protocol/task-leases.js';
import { taskLeasesContract } from './task-leases.contract.js';

taskLeasesContract('InMemoryTaskLeases', (count) => {
  const leases = new InMemoryTaskLeases();
  return Array.from({ length: count }, () => leases);
});

describe('InMemoryTaskLeases', () => {
  it('judges expiry by the clock it was given', async () => {
    let now = 1_000;
    const leases = new InMemoryTaskLeases(() => now);
    await leases.acquire('t', 'a', { leaseMs: 100 });
    expect(await leases.claimExpired('b', 100, 10)).toEqual([]);
    now += 100;
    expect(await leases.claimExpired('b', 100, 10)).toMatchObject([{ taskId: 't', attempt: 2 }]);
    expect(leases.size).toBe(1);
  });
});
