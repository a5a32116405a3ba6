/**
 * The 2025-11-25 experimental Tasks on tools/call (basic/utilities/tasks): task-augmented calls,
 * tasks/get, tasks/result, tasks/list, tasks/cancel, and the taskSupport modes.
 */
import { describe, expect, it } from 'vitest';
import { McpServer } from '../src/server/mcp-server.js';
import { connectPair, sleep } from './helpers.js';

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
