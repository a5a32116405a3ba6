/**
 * The store contracts (TaskStore, NotificationBus) on the in-memory stores. A shared store (Redis)
 * runs the same suites: import the contract functions and pass its factory.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryNotificationBus } from '../../src/protocol/notification-bus.js';
import { InMemoryTaskStore } from '../../src/protocol/task-store.js';
import { notificationBusContract } from './notification-bus.contract.js';
import { taskStoreContract } from './task-store.contract.js';

taskStoreContract('InMemoryTaskStore', () => new InMemoryTaskStore());
notificationBusContract('InMemoryNotificationBus', () => new InMemoryNotificationBus());

describe('InMemoryTaskStore', () => {
  it('sweep deletes expired tasks and counts them', async () => {
    const store = new InMemoryTaskStore();
    const old = new Date(Date.now() - 60_000).toISOString();
    await store.create({ taskId: 'a', status: 'working', createdAt: old, lastUpdatedAt: old, ttl: 10 });
    await store.create({ taskId: 'b', status: 'working', createdAt: old, lastUpdatedAt: old, ttl: null });
    expect(await store.sweep()).toBe(1);
    expect(await store.sweep()).toBe(0);
  });
});
