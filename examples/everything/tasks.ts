/**
 * The Tasks extension (`io.modelcontextprotocol/tasks`, 2026-07-28) on the everything server, with
 * the fixtures the conformance suite's `tasks-*` scenarios call: `greet` (never a task),
 * `slow_compute` (optional; sleeps `seconds`, cancellable), `failing_job` (required; a tool error),
 * `protocol_error_job` (a JSON-RPC error: the task fails), `confirm_delete` (parks for one
 * elicitation), `multi_input` (two elicitations at once) and `test_tool_with_task` (gathers a name
 * over multi round-trip requests, then goes asynchronous with `startTask`).
 */
import { createTaskExtension, ErrorCode, JsonRpcError, startTask } from 'anywire';
import type { McpServer } from 'anywire';
import { z } from 'zod';

/** Resolves after `ms`, or rejects when `signal` aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('cancelled'));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error('cancelled'));
      },
      { once: true },
    );
  });
}

const form = (message: string, properties: Record<string, unknown>) => ({
  message,
  requestedSchema: { type: 'object' as const, properties },
});

/** Adds the Tasks extension and its fixtures to `server`. */
export function registerTaskFixtures(server: McpServer): void {
  server.extend(createTaskExtension({ pollIntervalMs: 200 }));

  server.registerTool(
    'greet',
    { description: 'Greets someone (never runs as a task)', inputSchema: { name: z.string() } },
    ({ name }) => `Hello, ${name}!`,
  );

  server.registerTool(
    'slow_compute',
    {
      description: 'Sleeps `seconds`, then answers; runs as a task for clients that support them',
      inputSchema: { seconds: z.number().min(0).max(600), label: z.string().optional() },
      taskSupport: 'optional',
    },
    async ({ seconds, label }, ctx) => {
      for (let i = 0; i < seconds; i++) {
        await ctx.progress(i, seconds, `computing ${label ?? ''} (${i}/${seconds} s)`.replace('  ', ' '));
        await pause(1000, ctx.signal);
      }
      return `Computed ${label ?? 'result'} after ${seconds} s`;
    },
  );

  server.registerTool(
    'failing_job',
    { description: 'Fails with a tool error after about a second', taskSupport: 'required' },
    async (_args, ctx) => {
      await pause(1000, ctx.signal);
      throw new Error('The job failed: the input could not be processed');
    },
  );

  server.registerTool(
    'protocol_error_job',
    { description: 'Fails with a JSON-RPC error (the task fails)', taskSupport: 'optional' },
    async (_args, ctx) => {
      await pause(200, ctx.signal);
      throw new JsonRpcError(ErrorCode.InternalError, 'Internal error: the job crashed');
    },
  );

  server.registerTool(
    'confirm_delete',
    {
      description: 'Asks for confirmation, then deletes',
      inputSchema: { filename: z.string().optional() },
      taskSupport: 'optional',
    },
    async ({ filename }, ctx) => {
      const r = await ctx.elicit(
        form(`Delete ${filename ?? 'the file'}?`, { confirm: { type: 'boolean' } }),
        {
          key: 'confirm',
        },
      );
      const yes =
        r.action === 'accept' && (r.content as { confirm?: unknown } | undefined)?.confirm !== false;
      return yes ? `Deleted ${filename ?? 'the file'}` : `Kept ${filename ?? 'the file'}`;
    },
  );

  server.registerTool(
    'multi_input',
    { description: 'Asks two questions at once', taskSupport: 'optional' },
    async (_args, ctx) => {
      const [a, b] = await Promise.all([
        ctx.elicit(form('Your name?', { name: { type: 'string' } }), { key: 'name' }),
        ctx.elicit(form('Confirm?', { confirm: { type: 'boolean' } }), { key: 'confirm' }),
      ]);
      return `Answers: ${JSON.stringify(a.content ?? {})} ${JSON.stringify(b.content ?? {})}`;
    },
  );

  server.registerTool(
    'test_tool_with_task',
    {
      description: 'Gathers a user name over multi round-trip requests, then finishes as a task',
      taskSupport: 'required',
      taskCreation: 'handler',
    },
    async (_args, ctx) => {
      const r = await ctx.elicit(form('What is your name?', { name: { type: 'string' } }), {
        key: 'user_name',
      });
      const name = (r.content as { name?: unknown } | undefined)?.name;
      await startTask(ctx);
      await pause(300, ctx.signal);
      return `Hello, ${typeof name === 'string' ? name : 'stranger'}! (finished as a task)`;
    },
  );
}
