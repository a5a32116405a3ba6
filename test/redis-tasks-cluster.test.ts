/**
 * Durable tasks across nodes: several McpServer instances in this process, each served by serveHttp
 * on its own loopback port and each with its own Redis connection, share a private redis-server
 * (`redisStores`: RedisTaskStore, RedisTaskLeases and the RedisNotificationBus). What a user would
 * check:
 * - a task created through node A is read and cancelled through node B, and the cancel reaches A's
 *   handler (its signal aborts); input it asks for is answered through B;
 * - node A dies mid-task (its Redis connection is destroyed: no renewal, no sweep, no outcome):
 *   once the lease runs out node B marks the task failed with a clear error;
 * - an idempotent tool's task is run again by B with the stored arguments and principal, and
 *   completes;
 * - a node shutting down gracefully hands an idempotent task over at once;
 * - two sweepers racing over the leases of a dead node: each task is claimed and run exactly once.
 * Without Redis, on the in-memory leases: the attempts limit, a failing lease store reported once per
 * outage, and an outcome the store failed to take (the lease is kept, the task claimed again).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { InMemoryNotificationBus } from '../src/protocol/notification-bus.js';
import type { Stores } from '../src/protocol/stores.js';
import { InMemoryTaskLeases } from '../src/protocol/task-leases.js';
import type { TaskLeases } from '../src/protocol/task-leases.js';
import type { TaskStore } from '../src/protocol/task-store.js';
import { InMemoryTaskStore } from '../src/protocol/task-store.js';
import type { JsonObject } from '../src/protocol/types.js';
import { redisStores } from '../src/redis/stores.js';
import { McpServer } from '../src/server/mcp-server.js';
import { createTaskExtension, TASKS_EXTENSION_ID } from '../src/tasks/index.js';
import type { TaskExtension } from '../src/tasks/index.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import { createRedisClient } from '../src/redis/connection.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import { waitFor } from './helpers.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the Redis cluster tasks tests: ${missing}`);

const WITH_TASKS = { extensions: { [TASKS_EXTENSION_ID]: {} }, elicitation: {} };
const LEASE_MS = 1000;

/** What each node's tools saw, by node. */
interface Seen {
  started: { node: string; tool: string; binding: string; subject?: string; args: JsonObject }[];
  aborted: string[];
}

interface Node {
  name: string;
  ext: TaskExtension;
  errors: Error[];
  url: string;
  as(user: string): Promise<Client>;
  /** The node dies: its Redis connection is destroyed, so it renews, sweeps and stores nothing more. */
  die(): void;
  close(): Promise<void>;
}

const seen: Seen = { started: [], aborted: [] };
const never = new Promise<never>(() => {});

function makeServer(name: string, stores: Stores, options: Parameters<typeof createTaskExtension>[0] = {}) {
  const errors: Error[] = [];
  const server = new McpServer(
    { name: `node-${name}`, version: '1.0.0' },
    { stores, onerror: (e) => errors.push(e) },
  );
  const ext = createTaskExtension({
    pollIntervalMs: 25,
    leaseMs: LEASE_MS,
    leaseSweepIntervalMs: 50,
    nodeId: name,
    ...options,
  });
  server.extend(ext);
  const note = (tool: string, args: JsonObject, ctx: { binding: string; authInfo?: { subject?: string } }) =>
    seen.started.push({ node: name, tool, binding: ctx.binding, subject: ctx.authInfo?.subject, args });
  // Runs until cancelled.
  server.registerTool('watch', { taskSupport: 'optional' }, (args, ctx) => {
    note('watch', args, ctx);
    return new Promise((resolve) =>
      ctx.signal.addEventListener('abort', () => {
        seen.aborted.push(name);
        resolve('stopped');
      }),
    );
  });
  // Asks its caller, then answers with what it heard.
  server.registerTool('ask', { taskSupport: 'optional' }, async (args, ctx) => {
    note('ask', args, ctx);
    const r = await ctx.elicit(
      { message: 'go?', requestedSchema: { type: 'object', properties: { word: { type: 'string' } } } },
      { key: 'go' },
    );
    return `${r.action} ${String((r.content as { word?: string } | undefined)?.word)} on ${name}`;
  });
  // Not idempotent: never finishes on node A (which dies), finishes elsewhere.
  server.registerTool('charge', { taskSupport: 'optional' }, async (args, ctx) => {
    note('charge', args, ctx);
    if (name === 'A') await never;
    return 'charged';
  });
  // Idempotent: may run again on another node.
  server.registerTool(
    'sum',
    {
      taskSupport: 'optional',
      annotations: { idempotentHint: true },
      inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } },
    },
    async (args, ctx) => {
      note('sum', args, ctx);
      if (name === 'A') await never;
      await ctx.progress(1, 1, 'adding');
      return `${ctx.authInfo?.subject}: ${Number(args.a) + Number(args.b)} on ${name}`;
    },
  );
  return { server, ext, errors };
}

describe.skipIf(!!missing)('durable tasks on Redis, several nodes', () => {
  let redis: RedisInstance;
  let keyPrefix: string;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
  });

  async function node(name: string, options: Parameters<typeof createTaskExtension>[0] = {}): Promise<Node> {
    const client = createRedisClient({ url: redis.url, onerror: () => {} });
    await client.connect();
    // Every store of anywire/redis on this node's own connection: the task store, the task leases
    // and the notification bus (Pub/Sub, on a connection of its own).
    const stores = await redisStores({ client, keyPrefix });
    await stores.ready();
    const { server, ext, errors } = makeServer(name, stores, options);
    // Extensions start on the first request; start now so this node sweeps even before it has one.
    await server.start();
    const http = await serveHttp(server, {
      port: 0,
      authenticate: (h) => (h['x-user'] ? { subject: h['x-user'] } : undefined),
    });
    const clients: Client[] = [];
    const n: Node = {
      name,
      ext,
      errors,
      url: http.url,
      async as(user) {
        const c = new Client({ name: user, version: '1' }, { capabilities: WITH_TASKS });
        await c.connect(new StreamableHttpClientTransport({ url: http.url, headers: { 'x-user': user } }));
        clients.push(c);
        return c;
      },
      die: () => {
        if (client.isOpen) client.destroy();
      },
      async close() {
        for (const c of clients) await c.close().catch(() => {});
        await http.close();
        await server.close();
        await stores.close();
        if (client.isOpen) client.destroy();
      },
    };
    cleanup.push(() => n.close());
    return n;
  }

  const fresh = () => {
    keyPrefix = `cluster-${Math.random().toString(36).slice(2)}:`;
    seen.started.length = 0;
    seen.aborted.length = 0;
  };

  const call = async (c: Client, tool: string, args: JsonObject = {}) => {
    const r = (await c.request('tools/call', { name: tool, arguments: args })) as JsonObject;
    expect(r.resultType).toBe('task');
    return r.taskId as string;
  };
  const status = (c: Client, taskId: string) => c.request('tasks/get', { taskId });

  it('a task created through A is read and cancelled through B; the cancel reaches A’s handler', async () => {
    fresh();
    const [a, b] = [await node('A'), await node('B')];
    const onA = await a.as('alice');
    const onB = await b.as('alice');
    const taskId = await call(onA, 'watch');
    await waitFor(
      'the handler to start on A',
      async () => seen.started.length,
      (n) => n === 1,
    );
    expect(await status(onB, taskId)).toMatchObject({ taskId, status: 'working' });
    // another principal sees nothing, on either node
    const bob = await b.as('bob');
    await expect(status(bob, taskId)).rejects.toMatchObject({ code: -32602 });
    expect(await onB.request('tasks/cancel', { taskId })).toMatchObject({ resultType: 'complete' });
    await waitFor(
      'A’s handler to see the abort',
      async () => seen.aborted,
      (x) => x.includes('A'),
    );
    expect(await status(onA, taskId)).toMatchObject({ status: 'cancelled' });
    // A's late completion ("stopped") changed nothing, and A released its lease
    await new Promise((r) => setTimeout(r, 100));
    expect(await status(onB, taskId)).toMatchObject({
      status: 'cancelled',
      statusMessage: 'Cancelled by the client',
    });
    expect(await b.ext.runner.leases!.sweep()).toBe(0);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it('input asked by a task on A is answered through B (tasks/update crosses on the bus)', async () => {
    fresh();
    const [a, b] = [await node('A'), await node('B')];
    const onA = await a.as('alice');
    const onB = await b.as('alice');
    const taskId = await call(onA, 'ask');
    const parked = await waitFor(
      'the task to ask for input',
      () => status(onB, taskId),
      (t) => t.status === 'input_required',
    );
    expect(Object.keys(parked.inputRequests as JsonObject)).toEqual(['go']);
    await onB.request('tasks/update', {
      taskId,
      inputResponses: { go: { action: 'accept', content: { word: 'yes' } } },
    });
    const done = await waitFor(
      'the task to complete on A',
      () => status(onB, taskId),
      (t) => t.status === 'completed',
    );
    expect(done.result).toMatchObject({ content: [{ type: 'text', text: 'accept yes on A' }] });
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('A dies mid-task: once its lease runs out, B marks the task failed with a clear error', async () => {
    fresh();
    const [a, b] = [await node('A'), await node('B')];
    const onA = await a.as('alice');
    const onB = await b.as('alice');
    const taskId = await call(onA, 'charge', { amount: 5 });
    await waitFor(
      'the handler to start on A',
      async () => seen.started.length,
      (n) => n === 1,
    );
    const died = Date.now();
    a.die();
    const failed = await waitFor(
      'B to fail the task of the dead node',
      () => status(onB, taskId),
      (t) => t.status === 'failed',
    );
    const tookMs = Date.now() - died;
    console.log(`a task of a dead node was failed ${tookMs} ms after the node died (leaseMs ${LEASE_MS})`);
    expect(tookMs).toBeGreaterThanOrEqual(LEASE_MS / 2);
    expect(failed).toMatchObject({
      status: 'failed',
      statusMessage: 'The node running this task stopped before it finished',
      error: {
        code: -32603,
        message: 'Internal error: the node running this task stopped before it finished',
      },
    });
    // not idempotent: B never ran it
    expect(seen.started.map((s) => s.node)).toEqual(['A']);
    expect(b.errors).toEqual([]);
  });

  it('an idempotent tool’s task is run again by B, with the stored arguments and principal', async () => {
    fresh();
    const [a, b] = [await node('A'), await node('B')];
    const onA = await a.as('alice');
    const onB = await b.as('alice');
    const taskId = await call(onA, 'sum', { a: 2, b: 3 });
    await waitFor(
      'the handler to start on A',
      async () => seen.started.length,
      (n) => n === 1,
    );
    a.die();
    const done = await waitFor(
      'B to run the task again and complete it',
      () => status(onB, taskId),
      (t) => t.status === 'completed' || t.status === 'failed',
    );
    expect(done).toMatchObject({
      status: 'completed',
      result: { content: [{ type: 'text', text: 'alice: 5 on B' }] },
    });
    expect(seen.started).toEqual([
      { node: 'A', tool: 'sum', binding: 'http', subject: 'alice', args: { a: 2, b: 3 } },
      { node: 'B', tool: 'sum', binding: 'task-rerun', subject: 'alice', args: { a: 2, b: 3 } },
    ]);
    expect(b.errors).toEqual([]);
  });

  it('a node shutting down hands an idempotent task over at once (no wait for its lease)', async () => {
    fresh();
    // A's lease would last 20 s: a takeover well before that is the hand-over, not an expiry
    const [a, b] = [await node('A', { leaseMs: 20_000 }), await node('B')];
    const onA = await a.as('alice');
    const onB = await b.as('alice');
    const taskId = await call(onA, 'sum', { a: 40, b: 2 });
    await waitFor(
      'the handler to start on A',
      async () => seen.started.length,
      (n) => n === 1,
    );
    const closing = Date.now();
    await a.close();
    const done = await waitFor(
      'B to take the task over and complete it',
      () => status(onB, taskId),
      (t) => t.status === 'completed',
      15_000,
    );
    const tookMs = Date.now() - closing;
    console.log(`a graceful shutdown handed an idempotent task over in ${tookMs} ms (lease 20 000 ms)`);
    expect(tookMs).toBeLessThan(15_000);
    expect(done.result).toMatchObject({ content: [{ type: 'text', text: 'alice: 42 on B' }] });
    expect(b.errors).toEqual([]);
  });

  it('two sweepers racing over a dead node’s leases: each task is claimed and run exactly once', async () => {
    fresh();
    // B and C sweep all along, two claims at a time each, so they race for the leases
    const [a, b, c] = [
      await node('A'),
      await node('B', { maxLeaseClaimsPerSweep: 2 }),
      await node('C', { maxLeaseClaimsPerSweep: 2 }),
    ];
    const onA = await a.as('alice');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await call(onA, i % 3 === 0 ? 'charge' : 'sum', { a: i, b: 1 }));
    await waitFor(
      'every handler to start on A',
      async () => seen.started.length,
      (n) => n === 12,
    );
    a.die();
    const onB = await b.as('alice');
    const final = await waitFor(
      'every task of the dead node to end',
      () => Promise.all(ids.map((id) => status(onB, id))),
      (ts) => ts.every((t) => t.status === 'completed' || t.status === 'failed'),
    );
    const reruns = seen.started.filter((s) => s.node !== 'A');
    const byNode = {
      B: reruns.filter((s) => s.node === 'B').length,
      C: reruns.filter((s) => s.node === 'C').length,
    };
    console.log(`12 tasks of a dead node: re-run ${reruns.length} (B ${byNode.B}, C ${byNode.C}), failed 4`);
    // the 8 idempotent ones ran again exactly once each; the 4 others were failed, never re-run
    expect(reruns.map((s) => s.args.a).sort((x, y) => Number(x) - Number(y))).toEqual(
      ids.map((_, i) => i).filter((i) => i % 3 !== 0),
    );
    expect(reruns.every((s) => s.tool === 'sum')).toBe(true);
    final.forEach((t, i) => expect(t.status, `task ${i}`).toBe(i % 3 === 0 ? 'failed' : 'completed'));
    expect([...b.errors, ...c.errors]).toEqual([]);
  });
});

describe('durable tasks without Redis (in-memory leases): attempts, outages, lost outcomes', () => {
  it('a task whose nodes keep dying is failed after maxTaskAttempts runs', async () => {
    const bus = new InMemoryNotificationBus();
    const taskStore = new InMemoryTaskStore();
    const taskLeases = new InMemoryTaskLeases();
    seen.started.length = 0;
    // Short leases, sweeps only by hand (the interval is long): each step is explicit.
    const nodes = ['A', 'B', 'C', 'D'].map((name) =>
      makeServer(
        name,
        { taskStore, taskLeases, notificationBus: bus },
        { leaseMs: 30, leaseSweepIntervalMs: 600_000 },
      ),
    );
    for (const n of nodes) {
      n.server.registerTool(
        'stuck',
        { taskSupport: 'optional', annotations: { idempotentHint: true } },
        async (_args, ctx) => {
          seen.started.push({ node: n.server.info.name, tool: 'stuck', binding: ctx.binding, args: {} });
          return never; // every run is lost with its node
        },
      );
      await n.server.start();
    }
    const runner = (i: number) => nodes[i]!.ext.runner;
    const created = await runner(0).start('', () => never, undefined, { tool: 'stuck', arguments: {} });
    const taskId = created.taskId as string;
    const dies = (i: number) => runner(i).leases!.stop(); // no more renewals (nor sweeps)
    const claims = (i: number) =>
      waitFor(
        `node ${i} to claim the task`,
        () => runner(i).leases!.sweep(),
        (n) => n === 1,
        10_000,
      );
    dies(0);
    await claims(1); // attempt 2: B runs it again
    expect((await taskStore.get(taskId))!.statusMessage).toBe(
      'Running again after its node stopped (attempt 2 of 3)',
    );
    dies(1);
    await claims(2); // attempt 3: C runs it again
    dies(2);
    await claims(3); // attempt 4 > maxTaskAttempts (3): D fails it
    expect(await taskStore.get(taskId)).toMatchObject({
      status: 'failed',
      outcome: {
        error: {
          message: 'Internal error: the node running this task stopped before it finished',
          data: { attempts: 3 },
        },
      },
    });
    expect(taskLeases.size).toBe(0);
    expect(seen.started.map((s) => s.node)).toEqual(['node-B', 'node-C']);
    for (const n of nodes) await n.server.close();
  });

  it('a failing lease store is reported once per outage, not once per renewal or sweep', async () => {
    const leases = new InMemoryTaskLeases();
    let down = false;
    let thrown = 0;
    let renewed = 0;
    const fail = () => {
      thrown++;
      throw new Error('lease store down');
    };
    const flaky: TaskLeases = {
      acquire: (...a) => leases.acquire(...a),
      release: (...a) => leases.release(...a),
      renew: async (...a) => {
        if (down) fail();
        renewed++;
        return leases.renew(...a);
      },
      claimExpired: async (...a) => (down ? fail() : leases.claimExpired(...a)),
    };
    const n = makeServer(
      'A',
      {
        taskStore: new InMemoryTaskStore(),
        taskLeases: flaky,
        notificationBus: new InMemoryNotificationBus(),
      },
      { leaseMs: 30, leaseSweepIntervalMs: 10 },
    );
    await n.server.start();
    await n.ext.runner.start('', () => never);
    down = true;
    await waitFor(
      'ten failed renewals and sweeps',
      async () => thrown,
      (x) => x >= 10,
    );
    expect(n.errors.map((e) => e.message)).toEqual(['lease store down']);
    down = false;
    const before = renewed;
    await waitFor(
      'a renewal to succeed',
      async () => renewed,
      (x) => x > before,
    );
    down = true;
    const again = thrown;
    await waitFor(
      'failures of the second outage',
      async () => thrown,
      (x) => x >= again + 5,
    );
    expect(n.errors).toHaveLength(2);
    down = false;
    await n.server.close();
  });

  it('an outcome the store failed to take keeps the lease: the task is claimed again, not left working', async () => {
    const store = new InMemoryTaskStore();
    let down = false;
    const flaky: TaskStore = {
      create: (r) => store.create(r),
      get: (id) => store.get(id),
      list: (o) => store.list(o),
      delete: (id) => store.delete(id),
      sweep: (now) => store.sweep(now),
      update: (...a) => (down ? Promise.reject(new Error('store down')) : store.update(...a)),
    };
    const taskLeases = new InMemoryTaskLeases();
    const notificationBus = new InMemoryNotificationBus();
    const [x, y] = ['X', 'Y'].map((name) =>
      makeServer(
        name,
        { taskStore: flaky, taskLeases, notificationBus },
        { leaseMs: 30, leaseSweepIntervalMs: 600_000 },
      ),
    );
    for (const n of [x!, y!]) await n.server.start();
    seen.started.length = 0;
    const created = await x!.ext.runner.start(
      '',
      async () => {
        down = true; // the work ends, and its outcome cannot be stored
        return { content: [{ type: 'text', text: 'lost' }] };
      },
      undefined,
      { tool: 'sum', arguments: { a: 1, b: 2 } },
    );
    const taskId = created.taskId as string;
    await waitFor(
      'the failed write to be reported',
      async () => x!.errors.length,
      (k) => k >= 1,
    );
    expect(x!.errors[0]!.message).toBe('store down');
    down = false;
    await waitFor(
      'Y to claim the task',
      () => y!.ext.runner.leases!.sweep(),
      (k) => k === 1,
    );
    const t = await waitFor(
      'the task to complete on Y',
      () => store.get(taskId),
      (r) => r?.status === 'completed',
    );
    expect(t!.outcome).toEqual({ result: { content: [{ type: 'text', text: 'undefined: 3 on Y' }] } });
    for (const n of [x!, y!]) await n.server.close();
  });
});
