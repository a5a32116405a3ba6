/**
 * The 2025-11-25 experimental Tasks on tools/call (basic/utilities/tasks): task-augmented calls,
 * tasks/get, tasks/result, tasks/list, tasks/cancel, and the taskSupport modes.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryNotificationBus } from '../src/protocol/notification-bus.js';
import { InMemoryTaskStore } from '../src/protocol/task-store.js';
import { McpServer } from '../src/server/mcp-server.js';
import { connectPair, sleep, waitFor } from './helpers.js';

const aborted: string[] = [];

function server() {
  const s = new McpServer({ name: 'tasks', version: '1.0.0' }, { tasks: { pollIntervalMs: 50 } });
  s.registerTool(
    'slow',
    { description: 'takes 100 ms', execution: { taskSupport: 'optional' } },
    async () => {
      await sleep(100);
      return 'slow done';
    },
  );
  s.registerTool(
    'must',
    { description: 'only as a task', execution: { taskSupport: 'required' } },
    () => 'as a task',
  );
  s.registerTool('never', { description: 'never as a task' }, () => 'plain');
  s.registerTool(
    'forever',
    { description: 'waits until cancelled', execution: { taskSupport: 'optional' } },
    (_a, ctx) => {
      return new Promise((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          aborted.push(String(ctx.requestId));
          resolve('stopped');
        }),
      );
    },
  );
  return s;
}

describe('experimental tasks (2025-11-25)', () => {
  it('runs a task-augmented call and serves get, result and list', async () => {
    const client = await connectPair(server(), { era: 'legacy' });
    expect(client.serverCapabilities.tasks).toEqual({
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
    const created = (await client.request('tools/call', {
      name: 'slow',
      arguments: {},
      task: { ttl: 60_000 },
    })) as any;
    expect(created.task).toMatchObject({ status: 'working', ttl: 60_000, pollInterval: 50 });
    expect(typeof created.task.taskId).toBe('string');
    const { taskId } = created.task;
    expect(await client.request('tasks/get', { taskId })).toMatchObject({ taskId, status: 'working' });
    const result = (await client.request('tasks/result', { taskId })) as any;
    expect(result.content).toEqual([{ type: 'text', text: 'slow done' }]);
    expect(result._meta['io.modelcontextprotocol/related-task']).toEqual({ taskId });
    expect(await client.request('tasks/get', { taskId })).toMatchObject({ status: 'completed' });
    expect(((await client.request('tasks/list')) as any).tasks.map((t: any) => t.taskId)).toContain(taskId);
    await client.close();
  });

  it('cancels a running task: its handler sees the abort; finished tasks cannot be cancelled', async () => {
    const client = await connectPair(server(), { era: 'legacy' });
    const { task } = (await client.request('tools/call', {
      name: 'forever',
      arguments: {},
      task: {},
    })) as any;
    expect(await client.request('tasks/cancel', { taskId: task.taskId })).toMatchObject({
      status: 'cancelled',
    });
    await expect(client.request('tasks/cancel', { taskId: task.taskId })).rejects.toMatchObject({
      code: -32602,
    });
    await expect(client.request('tasks/get', { taskId: 'nope' })).rejects.toMatchObject({ code: -32602 });
    await client.close();
  });

  it('honours taskSupport: required needs a task, forbidden refuses one', async () => {
    const client = await connectPair(server(), { era: 'legacy' });
    await expect(client.callTool('must')).rejects.toMatchObject({ code: -32601 });
    await expect(
      client.request('tools/call', { name: 'never', arguments: {}, task: {} }),
    ).rejects.toMatchObject({ code: -32601 });
    expect(await client.callTool('never')).toMatchObject({ content: [{ text: 'plain' }] });
    await client.close();
  });

  it('keeps the 2025 tasks capability out of 2026-07-28 discovery', async () => {
    const client = await connectPair(server(), { era: 'modern' });
    expect(client.serverCapabilities.tasks).toBeUndefined();
    await client.close();
  });
});

describe('tasks across processes and failures', () => {
  it('a cancel on one server aborts the task running on another (shared store and bus)', async () => {
    const store = new InMemoryTaskStore();
    const bus = new InMemoryNotificationBus();
    const stopped: string[] = [];
    const make = () => {
      const s = new McpServer({ name: 'node', version: '1' }, { tasks: { store }, notificationBus: bus });
      s.registerTool('forever', { execution: { taskSupport: 'optional' } }, (_a, ctx) => {
        return new Promise((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            stopped.push('aborted');
            resolve('stopped');
          }),
        );
      });
      return s;
    };
    const a = await connectPair(make(), { era: 'legacy' });
    const b = await connectPair(make(), { era: 'legacy' });
    const { task } = (await a.request('tools/call', { name: 'forever', arguments: {}, task: {} })) as any;
    expect(await b.request('tasks/cancel', { taskId: task.taskId })).toMatchObject({ status: 'cancelled' });
    await waitFor(
      'the cancelled task’s handler to stop',
      () => stopped.length,
      (n) => n > 0,
    );
    expect(stopped).toEqual(['aborted']);
    expect(await a.request('tasks/get', { taskId: task.taskId })).toMatchObject({ status: 'cancelled' });
    await a.close();
    await b.close();
  });

  it('a cancel racing a completion: the first terminal state stays', async () => {
    const s = new McpServer({ name: 'race', version: '1' }, { tasks: true });
    s.registerTool('quick', { execution: { taskSupport: 'optional' } }, () => 'done');
    const client = await connectPair(s, { era: 'legacy' });
    for (let i = 0; i < 10; i++) {
      const { task } = (await client.request('tools/call', {
        name: 'quick',
        arguments: {},
        task: {},
      })) as any;
      const cancel = await client.request('tasks/cancel', { taskId: task.taskId }).then(
        (r: any) => r.status as string,
        (e: { code: number }) => e.code,
      );
      await sleep(5);
      const final = (await client.request('tasks/get', { taskId: task.taskId })) as any;
      if (cancel === 'cancelled') expect(final.status).toBe('cancelled');
      else {
        expect(cancel).toBe(-32602);
        expect(final.status).toBe('completed');
      }
    }
    await client.close();
  });

  it('tasks/list pages with nextCursor', async () => {
    const s = new McpServer({ name: 'pages', version: '1' }, { tasks: { pageSize: 2 } });
    s.registerTool('quick', { execution: { taskSupport: 'optional' } }, () => 'done');
    const client = await connectPair(s, { era: 'legacy' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        ((await client.request('tools/call', { name: 'quick', arguments: {}, task: {} })) as any).task.taskId,
      );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await client.request('tasks/list', cursor === undefined ? {} : { cursor })) as any;
      seen.push(...page.tasks.map((t: any) => t.taskId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    await expect(client.request('tasks/list', { cursor: 'bogus' })).rejects.toMatchObject({ code: -32602 });
    await client.close();
  });

  it('a bus whose publish rejects or throws is reported to onerror; the server keeps serving', async () => {
    const errors: Error[] = [];
    const failing = {
      publish: async () => {
        throw new Error('bus down');
      },
      subscribe: () => () => {},
    };
    const s = new McpServer(
      { name: 'bus', version: '1' },
      { notificationBus: failing, resourceSubscriptions: true, onerror: (e) => errors.push(e) },
    );
    s.registerTool('a', {}, () => 'a');
    s.registerResource('x', 'test://x', {}, () => [{ uri: 'test://x', text: '' }]);
    const client = await connectPair(s, { era: 'legacy' });
    s.registerTool('b', {}, () => 'b'); // publishes list_changed
    s.notifyResourceUpdated('test://x');
    // Four publishes: registering a, registering x, registering b, the resource update.
    await waitFor(
      'four failed publishes',
      () => errors.length,
      (n) => n >= 4,
    );
    expect(errors.map((e) => e.message)).toEqual(['bus down', 'bus down', 'bus down', 'bus down']);
    expect(await client.callTool('b')).toMatchObject({ content: [{ text: 'b' }] });
    await client.close();
  });
});
