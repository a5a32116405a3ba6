/**
 * The `Stores` aggregate (issue 11 item 1): a store given through `stores` (the option or
 * `useStores`) is the one the server, its extensions and serveHttp use; an explicit per-component
 * option still wins; `useStores` after serving throws. In-memory stores only (no Redis needed).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../src/protocol/event-store.js';
import type { ServerEvent } from '../src/protocol/notification-bus.js';
import { InMemoryNotificationBus } from '../src/protocol/notification-bus.js';
import { StaticKeyRing } from '../src/protocol/stores.js';
import { InMemoryTaskStore } from '../src/protocol/task-store.js';
import { McpServer } from '../src/server/mcp-server.js';
import { createTaskExtension } from '../src/tasks/extension.js';
import { createNodeHandler } from '../src/transports/streamable-http/node.js';
import { connectPair, openLegacySession } from './helpers.js';
import { askServer, roundTripAcross } from './fixtures/mrtr-across.js';

const INFO = { name: 'stores', version: '1.0.0' };

describe('Stores: notification bus', () => {
  it('uses stores.notificationBus for its events, given as an option or through useStores', async () => {
    const bus = new InMemoryNotificationBus();
    const heard: ServerEvent[] = [];
    bus.subscribe((e) => heard.push(e));
    const server = new McpServer(INFO, { stores: { notificationBus: bus } });
    expect(server.bus).toBe(bus);
    expect(server.stores.notificationBus).toBe(bus);
    server.registerTool('late', {}, () => 'x');
    await expect
      .poll(() => heard, { timeout: 5000 })
      .toContainEqual({ type: 'list_changed', list: 'tools', id: expect.stringMatching(/^[0-9a-f]{32}$/) });

    // useStores switches the bus: the server hears the new one and no longer the old one.
    const other = new InMemoryNotificationBus();
    const later = new McpServer(INFO);
    later.registerTool('one', {}, () => 'x');
    const before = later.bus;
    later.useStores({ notificationBus: other });
    expect(later.bus).toBe(other);
    const client = await connectPair(later, { era: 'modern' });
    const seen: string[] = [];
    const sub = await client.listen({ toolsListChanged: true }, (n) => seen.push(n.method));
    before.publish({ type: 'list_changed', list: 'prompts' });
    other.publish({ type: 'list_changed', list: 'tools' });
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['notifications/tools/list_changed']);
    await sub.close();
    await client.close();
    await later.close();
  });

  it('an explicit notificationBus option wins over stores', () => {
    const mine = new InMemoryNotificationBus();
    const server = new McpServer(INFO, {
      notificationBus: mine,
      stores: { notificationBus: new InMemoryNotificationBus() },
    });
    expect(server.bus).toBe(mine);
  });
});

describe('Stores: requestState key ring', () => {
  it('a round sealed on one server opens on another sharing stores.keyRing, and not without it', async () => {
    const keyRing = new StaticKeyRing([{ id: 'shared', secret: 'a shared secret of at least 32 bytes' }]);
    const one = askServer({ stores: { keyRing } });
    const two = askServer();
    two.useStores({ keyRing });
    expect(await roundTripAcross(one, two)).toMatchObject({ content: [{ text: 'hello ada' }] });
    const stranger = askServer();
    expect(await roundTripAcross(one, stranger)).toMatchObject({ code: -32602 });
    // requestState.keyRing wins over stores.keyRing.
    const own = askServer({ requestState: { keyRing: new StaticKeyRing() }, stores: { keyRing } });
    expect(await roundTripAcross(one, own)).toMatchObject({ code: -32602 });
  });
});

describe('Stores: task store', () => {
  it('the 2026-07-28 Tasks extension built without a store uses stores.taskStore, resolved at start', async () => {
    const taskStore = new InMemoryTaskStore();
    const server = new McpServer(INFO);
    const ext = createTaskExtension(); // built before the stores are known, as a module does
    server.extend(ext);
    server.useStores({ taskStore });
    await server.start();
    expect(ext.runner.store).toBe(taskStore);

    const own = new InMemoryTaskStore();
    const explicit = createTaskExtension({ store: own });
    await new McpServer(INFO, { stores: { taskStore } }).extend(explicit).start();
    expect(explicit.runner.store).toBe(own);
  });

  it('the 2025-11-25 tasks use stores.taskStore: a task-augmented call is stored there', async () => {
    const taskStore = new InMemoryTaskStore();
    const server = new McpServer(INFO, { tasks: true });
    server.registerTool('slow', { execution: { taskSupport: 'optional' } }, () => 'done');
    server.useStores({ taskStore });
    const client = await connectPair(server, { era: 'legacy' });
    expect(server.taskRunner!.store).toBe(taskStore);
    const created = (await client.request('tools/call', { name: 'slow', arguments: {}, task: {} })) as {
      task: { taskId: string };
    };
    expect(await taskStore.get(created.task.taskId)).toMatchObject({ taskId: created.task.taskId });
    await client.close();
    await server.close();
  });
});

describe('Stores: serveHttp event store', () => {
  it('serveHttp without eventStore stores the legacy SSE events in the server stores.eventStore', async () => {
    const eventStore = new InMemoryEventStore();
    const server = new McpServer(INFO);
    server.registerTool('progress', {}, async (_a, ctx) => {
      await ctx.progress(1, 1, 'working');
      return 'done';
    });
    const handler = createNodeHandler(server);
    server.useStores({ eventStore }); // after the handler was built, before it served
    const listener = http.createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/mcp`;
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    try {
      const session = await openLegacySession(url);
      const call = await fetch(url, {
        method: 'POST',
        headers: { ...headers, ...session },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'progress', arguments: {}, _meta: { progressToken: 'p' } },
        }),
      });
      expect(await call.text()).toMatch(/^id: /m);
      expect(eventStore.streamCount).toBeGreaterThan(0);
      expect(eventStore.bytes).toBeGreaterThan(0);
    } finally {
      await handler.http.close();
      listener.closeAllConnections();
      await new Promise((r) => listener.close(r));
    }
  });
});

describe('Stores: useStores', () => {
  it('throws a clear Error once the server was connected or served', async () => {
    const server = new McpServer(INFO);
    const client = await connectPair(server);
    expect(() => server.useStores({})).toThrow(/already started or served/);
    await client.close();
    await server.close();
  });

  it('extensions see host.stores in start', async () => {
    const stores = { taskStore: new InMemoryTaskStore() };
    let seen: unknown;
    const server = new McpServer(INFO, { stores });
    server.extend({ name: 'probe', start: (host) => void (seen = host.stores) });
    await server.start();
    expect(seen).toBe(stores);
    expect(server.stores).toBe(stores);
  });
});
