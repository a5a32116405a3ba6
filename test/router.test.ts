/**
 * The router: built-in methods in a method table, `server.use` middleware around every method in
 * both eras, `setRequestHandler` wrapping a built-in, `server.extend` (methods, capabilities,
 * settings, start/stop), and the same middleware and extension over Streamable HTTP in both eras.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { ErrorCode, JsonRpcError } from '../src/jsonrpc/errors.js';
import { AuthError } from '../src/protocol/auth.js';
import { InboundCall } from '../src/protocol/peer.js';
import type { RequestScope } from '../src/server/context.js';
import { McpServer } from '../src/server/mcp-server.js';
import type { RouteContext } from '../src/server/router.js';
import { serveHttp, StreamableHttpClientTransport } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';
import {
  PROBE_CAPABILITY,
  PROBE_EXTENSION,
  PROBE_METHOD,
  installRouterProbe,
} from './fixtures/router-probe.js';
import { connectPair } from './helpers.js';

function echoServer(): McpServer {
  const server = new McpServer({ name: 'router', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo' }, () => 'echoed');
  return server;
}

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A bare scope for calling `server.dispatch` directly, as a binding would. */
function scope(binding = 'test'): RequestScope {
  return { call: new InboundCall(1, 'x'), context: { binding }, notify: async () => {} };
}

describe('server.use', () => {
  it('runs middleware in order around every method, built-in, custom and unknown, in both eras', async () => {
    const server = echoServer();
    const order: string[] = [];
    const seen: Pick<RouteContext, 'era' | 'method' | 'binding'>[] = [];
    server.setRequestHandler('custom/thing', () => ({ ok: true }));
    server
      .use(async (ctx, next) => {
        order.push(`a>${ctx.method}`);
        seen.push({ era: ctx.era, method: ctx.method, binding: ctx.binding });
        const r = await next();
        order.push(`a<${ctx.method}`);
        return r;
      })
      .use(async (ctx, next) => {
        order.push(`b>${ctx.method}`);
        return next();
      });
    for (const era of ['legacy', 'modern'] as const) {
      const client = await connectPair(server, { era });
      await client.callTool('echo');
      expect(await client.request('custom/thing')).toMatchObject({ ok: true });
      await expect(client.request('nope/nothing')).rejects.toMatchObject({ code: -32601 });
      await client.close();
    }
    const methods = (era: string) => seen.filter((s) => s.era === era).map((s) => s.method);
    expect(methods('legacy')).toEqual(['initialize', 'tools/call', 'custom/thing', 'nope/nothing']);
    expect(methods('modern')).toEqual(['server/discover', 'tools/call', 'custom/thing', 'nope/nothing']);
    expect(seen.every((s) => s.binding === 'in-memory')).toBe(true);
    expect(order.slice(0, 4)).toEqual(['a>initialize', 'b>initialize', 'a<initialize', 'a>tools/call']);
  });

  it('can change a result, refuse with a JSON-RPC error, or throw an AuthError that reaches the binding unchanged', async () => {
    const server = echoServer();
    const refusal = new AuthError(403, 'needs scope', { error: 'insufficient_scope', scope: 'tools:call' });
    server.use(async (ctx, next) => {
      if (ctx.method === 'tools/call' && ctx.params.name === 'secret') throw refusal;
      if (ctx.method === 'tools/call' && ctx.params.name === 'denied')
        throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: denied by policy');
      const result = await next();
      return ctx.method === 'tools/list' ? { ...result, stamped: true } : result;
    });
    const modern = (name: string) => ({
      jsonrpc: '2.0' as const,
      id: 1,
      method: 'tools/call',
      params: { name, _meta: MODERN_META },
    });
    await expect(server.dispatch(modern('secret'), scope())).rejects.toBe(refusal);
    await expect(server.dispatch(modern('denied'), scope())).rejects.toMatchObject({ code: -32602 });
    expect(
      await server.dispatch(
        { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: MODERN_META } },
        scope(),
      ),
    ).toMatchObject({ stamped: true, resultType: 'complete' });
  });

  it('calling next() twice is an error', async () => {
    const server = echoServer();
    server.use(async (_ctx, next) => {
      await next();
      return next();
    });
    await expect(
      server.dispatch(
        { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: MODERN_META } },
        scope(),
      ),
    ).rejects.toThrow(/next\(\) twice/);
  });
});

describe('setRequestHandler', () => {
  it('wraps a built-in method (the third argument is the built-in) and can be undone', async () => {
    const server = echoServer();
    const undo = server.setRequestHandler('tools/list', async (params, ctx, builtin) => {
      const result = await builtin(params, ctx);
      return { ...result, wrapped: ctx.era };
    });
    const client = await connectPair(server, { era: 'modern' });
    expect(await client.request('tools/list')).toMatchObject({
      wrapped: 'modern',
      tools: [{ name: 'echo' }],
    });
    undo();
    expect(await client.request('tools/list')).not.toHaveProperty('wrapped');
    await client.close();
  });

  it('replaces a built-in method', async () => {
    const server = echoServer();
    server.setRequestHandler('tools/call', () => ({ content: [{ type: 'text', text: 'replaced' }] }));
    const client = await connectPair(server, { era: 'legacy' });
    expect(await client.callTool('echo')).toMatchObject({ content: [{ text: 'replaced' }] });
    await client.close();
  });
});

describe('server.extend', () => {
  it('adds methods and capabilities in its eras only, and refuses a duplicate name', async () => {
    const server = echoServer();
    server.extend({
      name: 'io.example/legacy-only',
      eras: ['legacy'],
      capabilities: { experimental: { legacyOnly: {} } },
      methods: { 'legacy/only': () => ({ ok: true }) },
    });
    expect(() => server.extend({ name: 'io.example/legacy-only' })).toThrow(/already installed/);
    const legacy = await connectPair(server, { era: 'legacy' });
    expect(legacy.serverCapabilities.experimental).toEqual({ legacyOnly: {} });
    expect(await legacy.request('legacy/only')).toEqual({ ok: true });
    const modern = await connectPair(server, { era: 'modern' });
    expect(modern.serverCapabilities.experimental).toBeUndefined();
    await expect(modern.request('legacy/only')).rejects.toMatchObject({ code: -32601 });
    await legacy.close();
    await modern.close();
  });

  it('starts before the first request and stops on close, in reverse order; a failing stop is reported', async () => {
    const events: string[] = [];
    const errors: Error[] = [];
    const server = new McpServer({ name: 'x', version: '1' }, { onerror: (e) => errors.push(e) });
    for (const name of ['one', 'two']) {
      server.extend({
        name,
        start: async () => {
          events.push(`start ${name}`);
        },
        stop: async () => {
          events.push(`stop ${name}`);
          if (name === 'two') throw new Error('stop failed');
        },
      });
    }
    expect(events).toEqual([]);
    const client = await connectPair(server, { era: 'modern' });
    expect(events).toEqual(['start one', 'start two']);
    await client.close();
    await server.close();
    expect(events).toEqual(['start one', 'start two', 'stop two', 'stop one']);
    expect(errors.map((e) => e.message)).toEqual(['stop failed']);
  });

  it('an extension added to a running server starts before the next request', async () => {
    const server = echoServer();
    const client = await connectPair(server, { era: 'modern' });
    let started = 0;
    server.extend({
      name: 'late',
      start: () => {
        started++;
      },
      methods: { 'late/hello': () => ({ started }) },
    });
    expect(await client.request('late/hello')).toMatchObject({ started: 1 });
    await client.close();
  });
});

describe('middleware and extension over Streamable HTTP, both eras', () => {
  let handle: HttpServerHandle;
  const server = echoServer();
  const probe = installRouterProbe(server);
  beforeAll(async () => {
    handle = await serveHttp(server, { port: 0 });
  });
  afterAll(() => handle?.close());

  for (const era of ['legacy', 'modern'] as const) {
    it(era, async () => {
      const client = new Client({ name: 'router-http', version: '1.0.0' }, { era });
      await client.connect(new StreamableHttpClientTransport({ url: handle.url }));
      expect(client.serverCapabilities).toMatchObject({
        ...PROBE_CAPABILITY,
        extensions: { [PROBE_EXTENSION]: { version: 1 } },
      });
      expect(await client.request(PROBE_METHOD, { name: 'http' })).toMatchObject({ hello: 'http', era });
      await client.callTool('echo');
      await client.close();
      const first = era === 'legacy' ? 'initialize' : 'server/discover';
      for (const m of [first, PROBE_METHOD, 'tools/call']) expect(probe.seen).toContain(`http|${era}|${m}`);
    });
  }

  it('stop() runs on server.close()', async () => {
    await handle.close();
    await server.close();
    expect(probe).toMatchObject({ starts: 1, stops: 1 });
  });
});
