/**
 * The Tasks extension (io.modelcontextprotocol/tasks, 2026-07-28) on every binding of the interop
 * matrix: a task created by tools/call and polled with tasks/get to completion, notifications/tasks
 * on a subscriptions/listen stream filtered by taskIds, input_required answered with tasks/update,
 * cooperative cancellation (the handler's signal aborts), expiry after ttlMs, another principal
 * refused (identities as each binding carries them: a header, gRPC metadata, an MQTT user property,
 * the first message's _meta), bad input, and the Client following a task by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import type { JsonRpcNotification } from '../src/jsonrpc/types.js';
import { AuthError } from '../src/protocol/auth.js';
import type { Authenticator } from '../src/protocol/auth.js';
import type { JsonObject } from '../src/protocol/types.js';
import type { RunningBinding, StartOptions } from './bindings/types.js';
import { matrixBindings, waitFor } from './fixtures/matrix-bindings.js';
import { createMatrixExtensionsServer, TASK_TTL_ENV } from './fixtures/matrix-extensions-server.js';
import { ROOT } from './helpers.js';

const MODULE = `${ROOT}test/fixtures/matrix-extensions-server.ts`;
const TTL_MS = 500;

/** Admits `Bearer <name>` (header, metadata, user property or first-message _meta) as principal <name>. */
const bearer: Authenticator = {
  authenticate(request) {
    const meta = request.meta?.authorization;
    const value = request.headers.authorization ?? (typeof meta === 'string' ? meta : '');
    const name = /^Bearer ([a-z]+)$/.exec(value)?.[1];
    if (!name) throw new AuthError(401, 'a Bearer name is required');
    return { subject: name };
  },
};

const elicitation = async () => ({ action: 'accept' as const, content: { confirm: true } });

async function connect(running: RunningBinding, who?: string): Promise<Client> {
  const client = new Client(
    { name: who ?? 'matrix-tasks', version: '1.0.0' },
    { era: 'modern', handlers: { elicitation }, requestTimeoutMs: 20_000, probeTimeoutMs: 20_000 },
  );
  await client.connect(await running.connect(who ? `Bearer ${who}` : undefined));
  return client;
}

const call = async (c: Client, name: string, args: JsonObject = {}) => {
  const created = await c.request('tools/call', { name, arguments: args });
  expect(created).toMatchObject({ resultType: 'task', status: 'working' });
  return created.taskId as string;
};
const get = (c: Client, taskId: string) => c.request('tasks/get', { taskId });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (e: { code?: unknown }) => e.code,
  );
const aborts = async (c: Client) =>
  Number(((await c.callTool('task_aborts')).content[0] as { text: string }).text);

const bindings = matrixBindings.filter((b) => b.eras.includes('modern'));

for (const binding of bindings) {
  const why = await binding.unavailable?.();
  describe.skipIf(why !== undefined)(`${binding.name}${why ? ` (skipped: ${why})` : ''}`, () => {
    if (why) console.warn(`matrix-tasks: ${binding.name} skipped: ${why}`);
    const server = createMatrixExtensionsServer();
    const options: StartOptions = {
      module: MODULE,
      ...(binding.identities ? { authenticator: bearer } : {}),
    };
    const who = binding.identities ? 'alice' : undefined;
    let running: RunningBinding;
    let alice: Client;
    beforeAll(async () => {
      running = await binding.start(server, options);
      alice = await connect(running, who);
    });
    afterAll(async () => {
      await alice?.close();
      await running?.stop();
      await server.close();
    });

    it('creates a task and polls tasks/get to completion', async () => {
      const taskId = await call(alice, 'task_echo', { text: `task over ${binding.name}` });
      const done = await waitFor(
        `task ${taskId} to complete`,
        () => get(alice, taskId),
        (t) => t.status === 'completed',
      );
      expect(done).toMatchObject({
        resultType: 'complete',
        taskId,
        pollIntervalMs: 50,
        result: { content: [{ type: 'text', text: `task over ${binding.name}` }] },
      });
    });

    it('notifies on a listen stream filtered by taskIds; input_required is answered with tasks/update', async () => {
      const taskId = await call(alice, 'task_confirm');
      const seen: JsonObject[] = [];
      const sub = await alice.listen({ taskIds: [taskId, 'not-a-task'] }, (n: JsonRpcNotification) => {
        if (n.method === 'notifications/tasks') seen.push(n.params as JsonObject);
      });
      try {
        expect(sub.granted.taskIds).toEqual([taskId]);
        const parked = await waitFor(
          `task ${taskId} to wait for input`,
          () => get(alice, taskId),
          (t) => t.status === 'input_required',
        );
        expect(parked.inputRequests).toMatchObject({ confirm: { method: 'elicitation/create' } });
        expect(
          await alice.request('tasks/update', {
            taskId,
            inputResponses: { confirm: { action: 'accept', content: { confirm: true } } },
          }),
        ).toMatchObject({ resultType: 'complete' });
        const completed = await waitFor(
          'notifications/tasks with status completed',
          () => seen.find((t) => t.status === 'completed'),
          (t) => t !== undefined,
        );
        expect(completed).toMatchObject({
          taskId,
          result: { content: [{ type: 'text', text: 'action=accept content={"confirm":true}' }] },
        });
        expect(seen.every((t) => t.taskId === taskId)).toBe(true);
      } finally {
        await sub.close();
      }
    });

    it("cancels: the handler's signal aborts and the task is cancelled", async () => {
      const before = await aborts(alice);
      const taskId = await call(alice, 'task_wait');
      expect(await alice.request('tasks/cancel', { taskId })).toMatchObject({ resultType: 'complete' });
      expect((await get(alice, taskId)).status).toBe('cancelled');
      await waitFor(
        "the handler's signal to abort",
        () => aborts(alice),
        (n) => n === before + 1,
      );
      expect((await get(alice, taskId)).status).toBe('cancelled');
    });

    it('forgets a task after its ttlMs: tasks/get then answers -32602', async () => {
      const shortLived = createMatrixExtensionsServer({ taskTtlMs: TTL_MS });
      const ttlRunning = await binding.start(shortLived, {
        ...options,
        env: { [TASK_TTL_ENV]: String(TTL_MS) },
      });
      const client = await connect(ttlRunning, who);
      try {
        const created = await client.request('tools/call', {
          name: 'task_echo',
          arguments: { text: 'brief' },
        });
        expect(created).toMatchObject({ resultType: 'task', ttlMs: TTL_MS });
        await waitFor(
          'the task to expire',
          () => codeOf(get(client, created.taskId as string)),
          (code) => code === -32602,
        );
      } finally {
        await client.close();
        await ttlRunning.stop();
        await shortLived.close();
      }
    });

    it("refuses another principal's task as if it did not exist (-32602)", async (ctx) => {
      if (!binding.identities && !binding.serverPerClient) {
        console.warn(`matrix-tasks: ${binding.name} has no caller identities; principal case skipped`);
        ctx.skip();
      }
      const taskId = await call(alice, 'task_wait');
      // Over stdio every client has its own server process: bob's is another server altogether.
      const bob = await connect(running, binding.identities ? 'bob' : undefined);
      try {
        for (const [method, params] of [
          ['tasks/get', { taskId }],
          ['tasks/update', { taskId, inputResponses: {} }],
          ['tasks/cancel', { taskId }],
        ] as const)
          expect(await codeOf(bob.request(method, params)), `${method} as bob`).toBe(-32602);
        const sub = await bob.listen({ taskIds: [taskId] }, () => {});
        expect(sub.granted.taskIds ?? []).toEqual([]);
        await sub.close();
        expect((await get(alice, taskId)).status).toBe('working');
      } finally {
        await bob.close();
        await alice.request('tasks/cancel', { taskId });
      }
    });

    it('bad input: an unknown task id, tasks/update for a task not waiting for input', async () => {
      expect(await codeOf(get(alice, 'no-such-task'))).toBe(-32602);
      expect(await codeOf(alice.request('tasks/get', {}))).toBe(-32602);
      const working = await call(alice, 'task_wait');
      // A working task has no outstanding requests: the answer is acknowledged and ignored (SEP-2663).
      await alice.request('tasks/update', {
        taskId: working,
        inputResponses: { confirm: { action: 'accept', content: {} } },
      });
      expect((await get(alice, working)).status).toBe('working');
      await alice.request('tasks/cancel', { taskId: working });
      // A task that ended takes no input.
      expect(await codeOf(alice.request('tasks/update', { taskId: working, inputResponses: {} }))).toBe(
        -32602,
      );
    });

    it('the Client follows a task by itself: polling, input through its handler, the final result', async () => {
      const states: string[] = [];
      const result = await alice.callTool('task_confirm', {}, { ontask: (t) => states.push(t.status) });
      expect(result.content).toEqual([{ type: 'text', text: 'action=accept content={"confirm":true}' }]);
      expect(states[0]).toBe('working');
      expect(states.at(-1)).toBe('completed');
    });
  });
}
