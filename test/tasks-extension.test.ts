/**
 * The Tasks extension (io.modelcontextprotocol/tasks, SEP-2663) on 2026-07-28: creation only for
 * clients that declare it, tasks/get with the inlined outcome, input_required answered with
 * tasks/update, cooperative cancellation, TTL expiry, notifications/tasks on listen streams, and
 * tasks bound to the principal that created them (over HTTP, with two identities).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { JsonRpcError } from '../src/jsonrpc/errors.js';
import type { JsonObject } from '../src/protocol/types.js';
import { McpServer } from '../src/server/mcp-server.js';
import { createTaskExtension, startTask, TASKS_EXTENSION_ID } from '../src/tasks/index.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { connectPair, sleep, waitFor } from './helpers.js';

const WITH_TASKS = { extensions: { [TASKS_EXTENSION_ID]: {} }, elicitation: {} };

const signals: AbortSignal[] = [];

function makeServer(options: Parameters<typeof createTaskExtension>[0] = {}) {
  const s = new McpServer({ name: 'tasks-ext', version: '1.0.0' });
  s.extend(createTaskExtension({ pollIntervalMs: 25, ...options }));
  s.registerTool('plain', { description: 'never a task' }, () => 'plain');
  s.registerTool('quick', { description: 'optional task', taskSupport: 'optional' }, async () => {
    await sleep(30);
    return 'quick done';
  });
  s.registerTool('must', { description: 'required task', taskSupport: 'required' }, () => 'must done');
  s.registerTool('boom', { description: 'JSON-RPC error', taskSupport: 'optional' }, () => {
    throw new JsonRpcError(-32603, 'Internal error: boom');
  });
  s.registerTool('oops', { description: 'tool error', taskSupport: 'optional' }, () => {
    throw new Error('tool failed');
  });
  s.registerTool('forever', { description: 'until cancelled', taskSupport: 'optional' }, (_a, ctx) => {
    signals.push(ctx.signal);
    return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('stopped')));
  });
  s.registerTool('ask', { description: 'asks twice', taskSupport: 'optional' }, async (_a, ctx) => {
    await ctx.progress(1, 2, 'asking');
    const [a, b] = await Promise.all([
      ctx.elicit({ message: 'a?', requestedSchema: { type: 'object', properties: {} } }, { key: 'a' }),
      ctx.elicit({ message: 'b?', requestedSchema: { type: 'object', properties: {} } }, { key: 'b' }),
    ]);
    return `a=${a.action} b=${b.action}`;
  });
  s.registerTool(
    'gather',
    { description: 'MRTR first, then a task', taskSupport: 'required', taskCreation: 'handler' },
    async (_a, ctx) => {
      const r = await ctx.elicit(
        { message: 'name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } },
        { key: 'user_name' },
      );
      await startTask(ctx);
      return `hello ${(r.content as { name?: string }).name}`;
    },
  );
  return s;
}

const modern = (capabilities: JsonObject = WITH_TASKS) => ({ era: 'modern' as const, capabilities });
const get = (c: Client, taskId: string) => c.request('tasks/get', { taskId });
const until = (c: Client, taskId: string, status: string) =>
  waitFor(
    `task ${taskId} to be ${status}`,
    () => get(c, taskId),
    (t) => t.status === status,
  );

describe('Tasks extension (2026-07-28)', () => {
  it('is advertised and creates a task only for clients that declare it', async () => {
    const c = await connectPair(makeServer(), modern());
    expect((c.serverCapabilities as JsonObject).extensions).toMatchObject({ [TASKS_EXTENSION_ID]: {} });
    const created = await c.request('tools/call', { name: 'quick', arguments: {} });
    expect(created).toMatchObject({
      resultType: 'task',
      status: 'working',
      ttlMs: 3_600_000,
      pollIntervalMs: 25,
    });
    // Stored before it was returned: tasks/get right away succeeds.
    expect(await get(c, created.taskId as string)).toMatchObject({
      resultType: 'complete',
      status: 'working',
    });
    const done = await until(c, created.taskId as string, 'completed');
    expect(done.result).toMatchObject({ content: [{ type: 'text', text: 'quick done' }] });
    expect(await c.request('tools/call', { name: 'plain', arguments: {} })).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'plain' }],
    });

    const bare = await connectPair(makeServer(), { ...modern({ elicitation: {} }), tasks: false });
    expect(await bare.request('tools/call', { name: 'quick', arguments: {} })).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'quick done' }],
    });
    await expect(bare.request('tools/call', { name: 'must', arguments: {} })).rejects.toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
    });
    await expect(bare.request('tasks/get', { taskId: 'x' })).rejects.toMatchObject({ code: -32021 });
    for (const m of ['tasks/result', 'tasks/list'])
      await expect(c.request(m, { taskId: 'x' })).rejects.toMatchObject({ code: -32601 });
  });

  it('reports a tool error as completed and a JSON-RPC error as failed', async () => {
    const c = await connectPair(makeServer(), modern());
    const oops = await c.request('tools/call', { name: 'oops', arguments: {} });
    expect((await until(c, oops.taskId as string, 'completed')).result).toMatchObject({ isError: true });
    const boom = await c.request('tools/call', { name: 'boom', arguments: {} });
    const failed = await until(c, boom.taskId as string, 'failed');
    expect(failed.error).toEqual({ code: -32603, message: 'Internal error: boom' });
    expect(failed).not.toHaveProperty('result');
  });

  it('parks in input_required; tasks/update answers part, then all; bad updates are refused', async () => {
    const c = await connectPair(makeServer(), modern());
    const { taskId } = (await c.request('tools/call', { name: 'ask', arguments: {} })) as { taskId: string };
    const parked = await waitFor(
      'two input requests',
      () => get(c, taskId),
      (t) => Object.keys((t.inputRequests as object | undefined) ?? {}).length === 2,
    );
    expect(parked).toMatchObject({ status: 'input_required', statusMessage: 'asking' });
    expect(Object.keys(parked.inputRequests as object).sort()).toEqual(['a', 'b']);
    expect(
      await c.request('tasks/update', { taskId, inputResponses: { a: { action: 'accept', content: {} } } }),
    ).toEqual(expect.objectContaining({ resultType: 'complete' }));
    const partial = await waitFor(
      'one input left',
      () => get(c, taskId),
      (t) => Object.keys((t.inputRequests as object | undefined) ?? {}).join() === 'b',
    );
    expect(partial.status).toBe('input_required');
    // An unknown key and a prototype key are ignored, never answered.
    await c.request('tasks/update', {
      taskId,
      inputResponses: JSON.parse('{"__proto__":{"action":"accept"},"zz":{}}'),
    });
    expect((await get(c, taskId)).status).toBe('input_required');
    await c.request('tasks/update', { taskId, inputResponses: { b: { action: 'decline' } } });
    const done = await until(c, taskId, 'completed');
    expect(done.result).toMatchObject({ content: [{ type: 'text', text: 'a=accept b=decline' }] });
    await expect(c.request('tasks/update', { taskId, inputResponses: {} })).rejects.toMatchObject({
      code: -32602,
    });
    await expect(c.request('tasks/update', { taskId, inputResponses: [] })).rejects.toMatchObject({
      code: -32602,
    });
    await expect(get(c, 'no-such-task')).rejects.toMatchObject({ code: -32602 });
  });

  it('cancels cooperatively: the handler signal aborts and a late completion does not win', async () => {
    const c = await connectPair(makeServer(), modern());
    const { taskId } = (await c.request('tools/call', { name: 'forever', arguments: {} })) as {
      taskId: string;
    };
    await waitFor(
      'the handler to start',
      async () => signals.length,
      (n) => n > 0,
    );
    expect(await c.request('tasks/cancel', { taskId })).toEqual(
      expect.objectContaining({ resultType: 'complete' }),
    );
    expect(signals.at(-1)!.aborted).toBe(true);
    await sleep(50); // the handler resolved 'stopped' after the abort
    expect((await get(c, taskId)).status).toBe('cancelled');
    expect(await c.request('tasks/cancel', { taskId })).toEqual(
      expect.objectContaining({ resultType: 'complete' }),
    );
  });

  it('forgets a task after its ttlMs', async () => {
    const c = await connectPair(makeServer({ ttlMs: 150 }), modern());
    const { taskId } = (await c.request('tools/call', { name: 'quick', arguments: {} })) as {
      taskId: string;
    };
    await until(c, taskId, 'completed');
    await waitFor(
      'the task to expire',
      () =>
        get(c, taskId).then(
          () => 'alive',
          (e: JsonRpcError) => String(e.code),
        ),
      (v) => v === '-32602',
    );
  });

  it('gathers input over MRTR, then becomes a task that carries the answer', async () => {
    const answers: string[] = [];
    const c = await connectPair(makeServer(), {
      ...modern(),
      handlers: {
        elicitation: async () => {
          answers.push('asked');
          return { action: 'accept', content: { name: 'Ada' } };
        },
      },
    });
    const created = await c.request('tools/call', { name: 'gather', arguments: {} });
    expect(answers).toEqual(['asked']);
    expect(created).toMatchObject({ resultType: 'task' });
    expect(created).not.toHaveProperty('requestState');
    const done = await until(c, created.taskId as string, 'completed');
    expect(done.result).toMatchObject({ content: [{ type: 'text', text: 'hello Ada' }] });
  });

  it('sends notifications/tasks on a listen stream that names the task', async () => {
    const c = await connectPair(makeServer(), modern());
    const { taskId } = (await c.request('tools/call', { name: 'forever', arguments: {} })) as {
      taskId: string;
    };
    const seen: JsonObject[] = [];
    const sub = await c.listen({ taskIds: [taskId, 'not-mine'] }, (n) => {
      if (n.method === 'notifications/tasks') seen.push(n.params as JsonObject);
    });
    expect(sub.granted.taskIds).toEqual([taskId]);
    await c.request('tasks/cancel', { taskId });
    await waitFor(
      'a cancelled notification',
      async () => seen.length,
      (n) => n > 0,
    );
    expect(seen[0]).toMatchObject({ taskId, status: 'cancelled' });
    await sub.close();
  });
});

describe('Client following tasks', () => {
  it('callTool follows a task to its result, reporting each state', async () => {
    const c = await connectPair(makeServer(), { era: 'modern' });
    const states: string[] = [];
    const r = await c.callTool('quick', {}, { ontask: (t) => states.push(t.status) });
    expect(r).toMatchObject({ content: [{ type: 'text', text: 'quick done' }] });
    expect(states[0]).toBe('working');
    expect(states.at(-1)).toBe('completed');
  });

  it('answers input_required through the handlers, each key once', async () => {
    const asked: string[] = [];
    const c = await connectPair(makeServer(), {
      era: 'modern',
      handlers: {
        elicitation: async (p) => {
          asked.push(p.message);
          return { action: 'accept', content: {} };
        },
      },
    });
    const r = await c.callTool('ask', {});
    expect(r).toMatchObject({ content: [{ type: 'text', text: 'a=accept b=accept' }] });
    expect(asked.sort()).toEqual(['a?', 'b?']);
  });

  it('turns an aborted signal into tasks/cancel, and a failed task into its JSON-RPC error', async () => {
    const c = await connectPair(makeServer(), { era: 'modern' });
    const controller = new AbortController();
    const before = signals.length;
    const call = c.callTool('forever', {}, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(
      'the handler to start',
      async () => signals.length,
      (n) => n > before,
    );
    controller.abort();
    expect(await call).toMatchObject({ code: 'REQUEST_CANCELLED' });
    await waitFor(
      'the handler signal to abort',
      async () => signals.at(-1)!.aborted,
      (a) => a,
    );
    await expect(c.callTool('boom', {})).rejects.toMatchObject({
      code: -32603,
      message: 'Internal error: boom',
    });
  });

  it('startTask gives a handle; a server that answers at once gives a settled one', async () => {
    const c = await connectPair(makeServer(), { era: 'modern' });
    const handle = await c.startTask('quick', {});
    expect(handle.taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await handle.get()).taskId).toBe(handle.taskId);
    expect(await handle.wait()).toMatchObject({ content: [{ type: 'text', text: 'quick done' }] });
    const plain = await c.startTask('plain', {});
    expect(plain.taskId).toBeUndefined();
    expect(await plain.wait()).toMatchObject({ content: [{ type: 'text', text: 'plain' }] });
    const off = await connectPair(makeServer(), { era: 'modern', tasks: false });
    expect(await off.callTool('quick', {})).toMatchObject({
      content: [{ type: 'text', text: 'quick done' }],
    });
    await expect(off.callTool('must', {})).rejects.toMatchObject({ code: -32021 });
  });
});

describe('Tasks extension over HTTP, two principals', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('refuses another principal every task method, as if the task did not exist', async () => {
    const server = makeServer();
    const http = await serveHttp(server, {
      port: 0,
      authenticate: (h) => (h['x-user'] ? { subject: h['x-user'] } : undefined),
    });
    closers.push(() => http.close());
    const as = async (user: string) => {
      const c = new Client({ name: user, version: '1' }, { capabilities: WITH_TASKS });
      await c.connect(new StreamableHttpClientTransport({ url: http.url, headers: { 'x-user': user } }));
      closers.push(() => c.close());
      return c;
    };
    const alice = await as('alice');
    const bob = await as('bob');
    const { taskId } = (await alice.request('tools/call', { name: 'forever', arguments: {} })) as {
      taskId: string;
    };
    for (const [m, p] of [
      ['tasks/get', { taskId }],
      ['tasks/update', { taskId, inputResponses: {} }],
      ['tasks/cancel', { taskId }],
    ] as const)
      await expect(bob.request(m, p as JsonObject)).rejects.toMatchObject({ code: -32602 });
    const sub = await bob.listen({ taskIds: [taskId] }, () => {});
    expect(sub.granted).toEqual({}); // nothing of hers is granted: the listen ends at once
    await sub.close();
    expect((await alice.request('tasks/get', { taskId })).status).toBe('working');
    await alice.request('tasks/cancel', { taskId });
  });
});
