/**
 * Task outcomes by signed webhook (the server-to-server pattern): a client subscribes to the
 * reserved `mcp.task.updated` event with a webhook, starts a long task over HTTP and closes every
 * connection; its receiver (built on the standardwebhooks library) gets `working`, then
 * `completed` with the result. A task parked in `input_required` is answered with `tasks/update`
 * from a fresh connection. Another principal's receiver hears nothing of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { createEventsExtension, TASK_UPDATED_EVENT } from '../src/events/index.js';
import type { JsonObject } from '../src/protocol/types.js';
import { McpServer } from '../src/server/mcp-server.js';
import { createTaskExtension } from '../src/tasks/index.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import { generateWebhookSecret } from '../src/webhooks/index.js';
import { startWebhookReceiver } from './fixtures/webhook-receiver.js';
import { sleep } from './helpers.js';

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A standardwebhooks endpoint; `tasks` are the task states of the deliveries it accepted. */
async function receiver(secret: string) {
  const hook = await startWebhookReceiver([secret]);
  closers.push(hook.close);
  return {
    url: hook.url,
    get tasks() {
      return hook.got.map((d) => d.body.data as JsonObject);
    },
  };
}

async function waitFor(what: string, probe: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

describe('task outcomes by webhook (mcp.task.updated)', () => {
  it('pushes working then completed to the owner after every connection closed; input from a fresh connection', async () => {
    const server = new McpServer({ name: 'jobs', version: '1.0.0' });
    server.extend(createTaskExtension({ pollIntervalMs: 100 }));
    server.extend(
      createEventsExtension({
        taskEvents: true,
        webhooks: { senderOptions: { allowInsecureWebhookTargets: true, retry: { initialDelayMs: 10 } } },
      }),
    );
    server.registerTool('deep_analysis', { taskSupport: 'required' }, async (_a, ctx) => {
      for (let i = 1; i <= 4; i++) {
        await ctx.progress(i, 4, `step ${i} of 4`);
        await sleep(500);
      }
      return 'analysis: 42';
    });
    server.registerTool('approve_then_run', { taskSupport: 'required' }, async (_a, ctx) => {
      const r = await ctx.elicit(
        { message: 'Approve?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } },
        { key: 'approval' },
      );
      return r.action === 'accept' ? 'approved and done' : 'declined';
    });
    const http = await serveHttp(server, {
      port: 0,
      authenticate: (h) => (h['x-user'] ? { subject: h['x-user'] } : undefined),
    });
    closers.push(() => http.close());
    const connectAs = async (user: string) => {
      const c = new Client({ name: user, version: '1' });
      await c.connect(new StreamableHttpClientTransport({ url: http.url, headers: { 'x-user': user } }));
      return c;
    };
    const secret = generateWebhookSecret();
    const mine = await receiver(secret);
    const otherSecret = generateWebhookSecret();
    const theirs = await receiver(otherSecret);

    // Mallory watches every task update she may see; she must see none of Alice's.
    const mallory = await connectAs('mallory');
    await mallory.request('events/subscribe', {
      name: TASK_UPDATED_EVENT,
      arguments: {},
      delivery: { mode: 'webhook', url: theirs.url, secret: otherSecret },
    });
    await mallory.close();

    const alice = await connectAs('alice');
    await alice.request('events/subscribe', {
      name: TASK_UPDATED_EVENT,
      arguments: {},
      delivery: { mode: 'webhook', url: mine.url, secret },
    });
    const job = await alice.startTask('deep_analysis', {});
    const ask = await alice.startTask('approve_then_run', {});
    await alice.close(); // no socket stays open

    await waitFor('the approval request by webhook', () =>
      mine.tasks.some((t) => t.taskId === ask.taskId && t.status === 'input_required'),
    );
    const parked = mine.tasks.find((t) => t.taskId === ask.taskId && t.status === 'input_required')!;
    expect(Object.keys(parked.inputRequests as object)).toEqual(['approval']);
    const fresh = await connectAs('alice');
    await fresh.request('tasks/update', {
      taskId: ask.taskId!,
      inputResponses: { approval: { action: 'accept', content: { ok: true } } },
    });
    await fresh.close();

    const done = (id: string) => mine.tasks.find((t) => t.taskId === id && t.status === 'completed');
    await waitFor('both tasks completed by webhook', () => !!done(job.taskId!) && !!done(ask.taskId!));
    const statuses = mine.tasks.filter((t) => t.taskId === job.taskId).map((t) => t.status);
    expect(statuses[0]).toBe('working');
    expect(statuses.at(-1)).toBe('completed');
    expect(done(job.taskId!)!.result).toMatchObject({ content: [{ type: 'text', text: 'analysis: 42' }] });
    expect(done(ask.taskId!)!.result).toMatchObject({
      content: [{ type: 'text', text: 'approved and done' }],
    });
    expect(theirs.tasks).toEqual([]);
  }, 60_000);
});
