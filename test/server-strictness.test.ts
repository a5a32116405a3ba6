/**
 * Server-side strictness (issue 7): a second `initialize` on a live session is refused; keys from the
 * wire never reach a prototype (MRTR `inputResponses`, prompt arguments, completion); a modern handler
 * parked at `input_required` sees its `ctx.signal` abort; numeric options are checked when the
 * server is built.
 */
import { describe, expect, it } from 'vitest';
import { InboundCall } from '../src/protocol/peer.js';
import type { RequestScope } from '../src/server/context.js';
import { McpServer } from '../src/server/mcp-server.js';
import { ResourceTemplate } from '../src/server/resources.js';
import { connectPair, sleep } from './helpers.js';

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
};

function scope(): RequestScope {
  return { call: new InboundCall(1, 'x'), context: { binding: 'test' }, notify: async () => {} };
}

/** Waits for `check` to hold, polling; fails with `what` after `ms`. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

describe('legacy lifecycle', () => {
  it('refuses a second initialize on a live session with -32600 and keeps serving it', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.registerTool('t', {}, () => 'ok');
    const client = await connectPair(server, { era: 'legacy' });
    await expect(
      client.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'again', version: '1' },
      }),
    ).rejects.toMatchObject({ code: -32600, message: expect.stringMatching(/already initialized/) });
    expect(await client.callTool('t')).toMatchObject({ content: [{ text: 'ok' }] });
    await client.close();
  });
});

describe('keys from the wire never reach a prototype', () => {
  function elicitingServer(aborted?: { value: boolean }) {
    const server = new McpServer({ name: 's', version: '1' });
    server.registerTool('ask', {}, async (_args, ctx) => {
      if (aborted) ctx.signal.addEventListener('abort', () => (aborted.value = true));
      const r = await ctx.elicit({ message: 'name?', requestedSchema: { type: 'object', properties: {} } });
      return `answered ${r.action}`;
    });
    return server;
  }

  it('inputResponses.__proto__ does not count as an answer', async () => {
    const server = elicitingServer();
    const params = JSON.parse(
      '{"name":"ask","arguments":{},"inputResponses":{"__proto__":{"input_1":{"action":"accept","content":{}}}}}',
    );
    params._meta = MODERN_META;
    const result = await server.dispatch({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }, scope());
    expect(result.resultType).toBe('input_required');
    expect(Object.keys(result.inputRequests as object)).toEqual(['input_1']);
    // A real answer, by its own key, still works.
    const answered = await server.dispatch(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {
          name: 'ask',
          arguments: {},
          inputResponses: { input_1: { action: 'decline' } },
          requestState: result.requestState,
          _meta: MODERN_META,
        },
      },
      scope(),
    );
    expect(answered).toMatchObject({ resultType: 'complete', content: [{ text: 'answered decline' }] });
  });

  it('a required prompt argument named like an Object.prototype member must be sent', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.registerPrompt('p', { arguments: [{ name: 'toString', required: true }] }, (args) => [
      { role: 'user', content: { type: 'text', text: String(Object.getPrototypeOf(args)) } },
    ]);
    const client = await connectPair(server, { era: 'modern' });
    await expect(client.getPrompt('p', {})).rejects.toMatchObject({ code: -32602 });
    // Handlers get a null-prototype map of the arguments.
    expect((await client.getPrompt('p', { toString: 'x' })).messages[0]!.content).toEqual({
      type: 'text',
      text: 'null',
    });
    await client.close();
  });

  it('completion of a variable named like an Object.prototype member finds no completer', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.registerResource(
      'r',
      new ResourceTemplate('test://{id}', { list: undefined, complete: { id: () => ['one'] } }),
      {},
      () => [],
    );
    const client = await connectPair(server, { era: 'legacy' });
    const complete = (name: string) =>
      client.request('completion/complete', {
        ref: { type: 'ref/resource', uri: 'test://{id}' },
        argument: { name, value: '' },
      });
    expect(await complete('id')).toMatchObject({ completion: { values: ['one'] } });
    expect(await complete('constructor')).toMatchObject({ completion: { values: [], total: 0 } });
    await client.close();
  });
});

describe('2026-07-28 MRTR', () => {
  it('aborts the signal of a handler abandoned at input_required', async () => {
    const aborted = { value: false };
    const server = (() => {
      const s = new McpServer({ name: 's', version: '1' });
      s.registerTool('ask', {}, async (_args, ctx) => {
        ctx.signal.addEventListener('abort', () => (aborted.value = true));
        await ctx.elicit({ message: 'name?', requestedSchema: { type: 'object', properties: {} } });
        return 'never';
      });
      return s;
    })();
    const result = await server.dispatch(
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'ask', arguments: {}, _meta: MODERN_META },
      },
      scope(),
    );
    expect(result.resultType).toBe('input_required');
    await until(() => aborted.value, "the parked handler's ctx.signal to abort");
  });
});

describe('numeric options are checked when the server is built', () => {
  it.each([
    [{ pageSize: 0 }, /pageSize must be an integer from 1 to 100000 \(got 0\)/],
    [{ pageSize: 1.5 }, /pageSize/],
    [{ requestTimeoutMs: 0 }, /requestTimeoutMs must be an integer from 1/],
    [{ requestState: { ttlMs: -1 } }, /requestState\.ttlMs/],
    [{ requestState: { maxRounds: 0 } }, /requestState\.maxRounds/],
    [
      { cacheHints: { 'tools/list': { ttlMs: -5, cacheScope: 'public' as const } } },
      /cacheHints\["tools\/list"\]\.ttlMs/,
    ],
    [{ tasks: { pollIntervalMs: 0 } }, /tasks\.pollIntervalMs/],
  ])('%j', (options, message) => {
    expect(() => new McpServer({ name: 's', version: '1' }, options)).toThrow(RangeError);
    expect(() => new McpServer({ name: 's', version: '1' }, options)).toThrow(message);
  });

  it('pageSize 1 pages one item at a time and ends', async () => {
    const server = new McpServer({ name: 's', version: '1' }, { pageSize: 1 });
    server.registerTool('a', {}, () => 'a');
    server.registerTool('b', {}, () => 'b');
    const client = await connectPair(server, { era: 'legacy' });
    const first = (await client.request('tools/list')) as { tools: unknown[]; nextCursor?: string };
    expect(first.tools).toHaveLength(1);
    const second = (await client.request('tools/list', { cursor: first.nextCursor })) as {
      nextCursor?: string;
    };
    expect(second.nextCursor).toBeUndefined();
    await client.close();
  });
});
