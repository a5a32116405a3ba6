import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode, JsonRpcError } from '../src/jsonrpc/errors.js';
import { McpError } from '../src/protocol/errors.js';
import { McpServer } from '../src/server/mcp-server.js';
import { ResourceTemplate } from '../src/server/resources.js';
import { connectPair, sleep } from './helpers.js';

function makeServer() {
  const server = new McpServer(
    { name: 'unit', version: '1.2.3' },
    { instructions: 'be nice', resourceSubscriptions: true },
  );
  server.registerTool(
    'echo',
    { description: 'echo', inputSchema: z.object({ text: z.string() }) },
    ({ text }) => text,
  );
  server.registerTool(
    'add',
    { inputSchema: { a: z.number(), b: z.number().optional() }, outputSchema: z.object({ sum: z.number() }) },
    ({ a, b }) => ({ content: [], structuredContent: { sum: a + (b ?? 0) } }),
  );
  server.registerTool(
    'raw',
    { inputSchema: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] } },
    (args) => String(args.n),
  );
  server.registerTool('boom', {}, () => {
    throw new Error('it broke');
  });
  server.registerTool('slow', {}, async (_args, ctx) => {
    for (let i = 1; i <= 3; i++) {
      await sleep(20);
      await ctx.progress(i, 3, `step ${i}`);
      await ctx.log('info', { step: i });
    }
    return 'done';
  });
  server.registerTool(
    'wait',
    {},
    (_args, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted'))),
  );
  server.registerTool('ask', {}, async (_args, ctx) => {
    const e = await ctx.elicit({
      message: 'name?',
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
    });
    const s = await ctx.sample({
      messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }],
      maxTokens: 5,
    });
    const r = await ctx.listRoots();
    return `${e.action}:${(e.content as { name: string }).name}|${(s.content as { text: string }).text}|${r.roots.map((x) => x.uri).join(',')}`;
  });
  server.registerTool('ask-both', {}, async (_args, ctx) => {
    const [a, b] = await Promise.all([
      ctx.elicit({ message: 'a', requestedSchema: { type: 'object', properties: {} } }),
      ctx.elicit({ message: 'b', requestedSchema: { type: 'object', properties: {} } }),
    ]);
    return `${a.action}+${b.action}`;
  });
  server.registerResource('static', 'test://static', { mimeType: 'text/plain' }, (uri) => [
    { uri: String(uri), text: 'static text' },
  ]);
  server.registerResource(
    'tmpl',
    new ResourceTemplate('test://item/{id}', {
      list: undefined,
      complete: { id: (v) => ['1', '2', '10'].filter((x) => x.startsWith(v)) },
    }),
    {},
    (uri, vars) => [{ uri: String(uri), text: `item ${vars.id}` }],
  );
  server.registerPrompt(
    'greet',
    {
      arguments: [
        { name: 'who', required: true, complete: (v) => ['world', 'wide'].filter((x) => x.startsWith(v)) },
      ],
    },
    ({ who }) => [{ role: 'user', content: { type: 'text', text: `hello ${who}` } }],
  );
  return server;
}

const handlers = {
  elicitation: async () => ({ action: 'accept' as const, content: { name: 'ada' } }),
  sampling: async () => ({
    role: 'assistant' as const,
    content: { type: 'text', text: 'sampled' },
    model: 'm',
  }),
  roots: async () => [{ uri: 'file:///tmp' }],
};

describe.each(['legacy', 'modern'] as const)('%s era over in-memory', (era) => {
  it('negotiates and lists', async () => {
    const client = await connectPair(makeServer(), {
      era: 'auto',
      legacyProtocolVersion: '2025-11-25',
      ...(era === 'legacy' ? { era: 'legacy' } : {}),
    });
    expect(client.era).toBe(era);
    expect(client.protocolVersion).toBe(era === 'modern' ? '2026-07-28' : '2025-11-25');
    expect(client.serverInfo).toEqual({ name: 'unit', version: '1.2.3' });
    expect(client.instructions).toBe('be nice');
    const tools = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'echo',
      'add',
      'raw',
      'boom',
      'slow',
      'wait',
      'ask',
      'ask-both',
    ]);
    expect(tools[0]!.inputSchema).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
    });
    expect(tools[1]!.inputSchema).toMatchObject({ required: ['a'] });
    await client.close();
  });

  it('calls tools with validation, structured output and execution errors', async () => {
    const client = await connectPair(makeServer(), { era });
    expect(await client.callTool('echo', { text: 'hi' })).toMatchObject({
      content: [{ type: 'text', text: 'hi' }],
    });
    const bad = await client.callTool('echo', { text: 5 });
    expect(bad.isError).toBe(true);
    expect((bad.content[0] as { text: string }).text).toMatch(/Input validation error/);
    expect(await client.callTool('add', { a: 2, b: 3 })).toMatchObject({
      structuredContent: { sum: 5 },
      content: [{ type: 'text', text: '{"sum":5}' }],
    });
    expect((await client.callTool('raw', { n: 0 })).isError).toBe(true);
    expect(await client.callTool('raw', { n: 7 })).toMatchObject({ content: [{ text: '7' }] });
    expect(await client.callTool('boom')).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'it broke' }],
    });
    const unknown = await client.callTool('nope').catch((e) => e);
    expect(unknown).toBeInstanceOf(JsonRpcError);
    expect(unknown.code).toBe(ErrorCode.InvalidParams);
    const r = (await client.request('tools/call', { name: 'echo', arguments: { text: 'x' } })) as Record<
      string,
      unknown
    >;
    if (era === 'modern') {
      expect(r.resultType).toBe('complete');
      expect((r._meta as Record<string, unknown>)['io.modelcontextprotocol/serverInfo']).toEqual({
        name: 'unit',
        version: '1.2.3',
      });
    } else expect(r.resultType).toBeUndefined();
    await client.close();
  });

  it('reads resources, renders prompts and completes', async () => {
    const client = await connectPair(makeServer(), { era });
    expect((await client.readResource('test://static')).contents).toEqual([
      { uri: 'test://static', text: 'static text' },
    ]);
    expect((await client.readResource('test://item/9')).contents[0]).toMatchObject({ text: 'item 9' });
    const missing = await client.readResource('test://missing').catch((e) => e);
    expect(missing.code).toBe(era === 'modern' ? -32602 : -32002);
    expect(missing.data).toEqual({ uri: 'test://missing' });
    expect((await client.listResourceTemplates()).map((t) => t.uriTemplate)).toEqual(['test://item/{id}']);
    expect((await client.getPrompt('greet', { who: 'you' })).messages[0]!.content).toEqual({
      type: 'text',
      text: 'hello you',
    });
    expect((await client.getPrompt('greet', {}).catch((e) => e)).code).toBe(-32602);
    expect(
      (await client.complete({ type: 'ref/prompt', name: 'greet' }, { name: 'who', value: 'w' })).completion
        .values,
    ).toEqual(['world', 'wide']);
    expect(
      (await client.complete({ type: 'ref/resource', uri: 'test://item/{id}' }, { name: 'id', value: '1' }))
        .completion.values,
    ).toEqual(['1', '10']);
    if (era === 'modern') {
      const list = await client.request('tools/list');
      expect(list).toMatchObject({ ttlMs: expect.any(Number), cacheScope: 'public' });
    }
    await client.close();
  });

  it('delivers progress and logs, and cancels', async () => {
    const logs: unknown[] = [];
    const client = await connectPair(makeServer(), {
      era,
      logLevel: 'info',
      onlog: (p) => logs.push(p.data),
    });
    const progress: number[] = [];
    const r = await client.callTool('slow', {}, { onprogress: (p) => progress.push(p.progress) });
    expect(r.content[0]).toEqual({ type: 'text', text: 'done' });
    expect(progress).toEqual([1, 2, 3]);
    expect(logs).toEqual([{ step: 1 }, { step: 2 }, { step: 3 }]);
    const controller = new AbortController();
    const pending = client.callTool('wait', {}, { signal: controller.signal });
    await sleep(20);
    controller.abort();
    const err = await pending.catch((e) => e);
    expect(err).toBeInstanceOf(McpError);
    expect(err.code).toBe('REQUEST_CANCELLED');
    const timeout = await client.callTool('wait', {}, { timeoutMs: 30 }).catch((e) => e);
    expect(timeout.code).toBe('REQUEST_TIMEOUT');
    expect(await client.callTool('echo', { text: 'still here' })).toMatchObject({
      content: [{ text: 'still here' }],
    });
    await client.close();
  });

  it('answers elicitation, sampling and roots through the same handlers', async () => {
    const client = await connectPair(makeServer(), { era, handlers });
    expect(await client.callTool('ask')).toMatchObject({
      content: [{ text: 'accept:ada|sampled|file:///tmp' }],
    });
    expect(await client.callTool('ask-both')).toMatchObject({ content: [{ text: 'accept+accept' }] });
    await client.close();
  });

  it('refuses client features the client did not declare', async () => {
    const client = await connectPair(makeServer(), { era });
    if (era === 'modern') {
      const e = await client.callTool('ask').catch((x) => x);
      expect(e.code).toBe(ErrorCode.MissingRequiredClientCapability);
      expect(e.data).toEqual({ requiredCapabilities: { elicitation: { form: {} } } });
    } else {
      expect(await client.callTool('ask')).toMatchObject({ isError: true });
    }
    await client.close();
  });

  it('announces list changes at runtime', async () => {
    const server = makeServer();
    const client = await connectPair(server, { era });
    const seen: string[] = [];
    const sub = await client.listen(
      { toolsListChanged: true, resourceSubscriptions: ['test://static'] },
      (n) => seen.push(n.method),
    );
    expect(sub.granted).toMatchObject({ toolsListChanged: true });
    const added = server.registerTool('late', {}, () => 'late');
    await sleep(20);
    expect((await client.listTools()).some((t) => t.name === 'late')).toBe(true);
    server.notifyResourceUpdated('test://static');
    added.remove();
    await sleep(20);
    expect(seen).toEqual([
      'notifications/tools/list_changed',
      'notifications/resources/updated',
      'notifications/tools/list_changed',
    ]);
    await sub.close();
    await client.close();
  });
});

describe('modern era specifics', () => {
  it('rejects a tampered requestState and unsupported versions', async () => {
    const server = makeServer();
    const client = await connectPair(server, { era: 'modern' });
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
    };
    const first = (await client.request(
      'tools/call',
      { name: 'ask', arguments: {}, _meta: meta },
      { fulfilInputs: false },
    )) as Record<string, any>;
    expect(first.resultType).toBe('input_required');
    expect(Object.values(first.inputRequests)[0]).toMatchObject({ method: 'elicitation/create' });
    const tampered = `${first.requestState.slice(0, -4)}AAAA`;
    const e = await client
      .request(
        'tools/call',
        { name: 'ask', arguments: {}, requestState: tampered, inputResponses: {}, _meta: meta },
        { fulfilInputs: false },
      )
      .catch((x) => x);
    expect(e.code).toBe(-32602);
    const old = await client
      .request('tools/list', { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '1999-01-01' } })
      .catch((x) => x);
    expect(old.code).toBe(-32022);
    expect(old.data.requested).toBe('1999-01-01');
    expect(old.data.supported).toContain('2026-07-28');
    const noCaps = await client
      .request('tools/list', {
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': null,
        },
      })
      .catch((x) => x);
    expect(noCaps.code).toBe(-32602);
    for (const m of ['ping', 'logging/setLevel', 'initialize']) {
      expect((await client.request(m, { level: 'info' }).catch((x) => x)).code).toBe(-32601);
    }
    await client.close();
  });

  it('serves a legacy session and modern requests on one connection', async () => {
    const server = makeServer();
    const legacy = await connectPair(server, { era: 'legacy' });
    const r = (await legacy.request('tools/call', {
      name: 'echo',
      arguments: { text: 'modern on legacy conn' },
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    })) as Record<string, unknown>;
    expect(r.resultType).toBe('complete');
    expect(await legacy.callTool('echo', { text: 'legacy' })).toMatchObject({
      content: [{ text: 'legacy' }],
    });
    await legacy.close();
  });
});
