/**
 * The WebSocket binding over real sockets on 127.0.0.1 port 0: the anywire client in both eras,
 * the official SDK v1 WebSocket client, attach-by-upgrade, auth, cancellation on disconnect,
 * keep-alive, bad input, backpressure, Origin checks and close codes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport as V1WebSocket } from '@modelcontextprotocol/sdk/client/websocket.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { Client } from '../src/client/client.js';
import { McpError } from '../src/protocol/errors.js';
import type { Authenticator } from '../src/protocol/auth.js';
import { AuthError } from '../src/protocol/auth.js';
import type { McpServer } from '../src/server/mcp-server.js';
import {
  attachWebSocket,
  serveWebSocket,
  WebSocketClientTransport,
  WS_CLOSE,
} from '../src/transports/websocket/index.js';
import type { ServeWebSocketOptions, WebSocketServerHandle } from '../src/transports/websocket/index.js';
import { sleep, waitFor } from './helpers.js';
import { elicited, exercise, sampled } from './sdk-exercise.js';
import type { AnyClient } from './sdk-exercise.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * The everything server plus probes: who called (binding, auth) and a tool that waits for abort
 * (`started` grows when its handler runs, `aborted` when its signal aborts).
 */
function testServer() {
  const server = createEverythingServer();
  const started: string[] = [];
  const aborted: string[] = [];
  server.registerTool('whoami', { description: 'The caller as the binding saw it' }, (_a, ctx) =>
    JSON.stringify({
      binding: ctx.binding,
      authInfo: ctx.authInfo ?? null,
      authorization: ctx.headers?.authorization ?? null,
    }),
  );
  server.registerTool('wait_for_abort', { description: 'Resolves when its signal aborts' }, (_a, ctx) => {
    started.push('started');
    return new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        aborted.push('aborted');
        resolve('aborted');
      });
    });
  });
  server.registerTool('big', { description: 'Returns 256 KiB of text' }, () => 'x'.repeat(256 * 1024));
  return { server, started, aborted };
}

async function serve(server: McpServer, options: ServeWebSocketOptions = {}): Promise<WebSocketServerHandle> {
  const handle = await serveWebSocket(server, { port: 0, ...options });
  cleanups.push(() => handle.close());
  return handle;
}

async function connect(
  url: string,
  options: ConstructorParameters<typeof Client>[1] = {},
  headers?: Record<string, string>,
) {
  const client = new Client({ name: 'ws-test', version: '1.0.0' }, { requestTimeoutMs: 20_000, ...options });
  await client.connect(new WebSocketClientTransport(url, headers ? { headers } : {}));
  cleanups.push(() => client.close());
  return client;
}

/** A raw `ws` peer: queued inbound messages, close code. */
function rawPeer(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}) {
  const ws = new WebSocket(url, options.protocols ?? ['mcp'], options);
  const inbox: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  cleanups.push(() => ws.terminate());
  return {
    ws,
    opened,
    closed,
    next: (): Promise<any> =>
      inbox.length ? Promise.resolve(inbox.shift()) : new Promise((resolve) => waiters.push(resolve)),
    send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
  };
}

/** The HTTP status a refused upgrade answered with. */
function refusedStatus(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}) {
  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? ['mcp'], options);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('upgrade accepted')));
    ws.on('error', () => {});
  });
}

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

/** A modern tools/call of `echo`, and its expected answer. */
const echo = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: 'ok' }, _meta: MODERN_META },
});
const ECHOED = (id: number) => ({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'ok' }] } });

const handlers = {
  sampling: async () => sampled,
  elicitation: async () => elicited,
};

describe('anywire client <-> serveWebSocket', () => {
  for (const era of ['legacy', 'modern'] as const) {
    it(`${era}: tools, progress, sampling, elicitation`, async () => {
      const { server } = testServer();
      const handle = await serve(server, { path: '/mcp' });
      expect(handle.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const client = await connect(handle.url, { era, handlers });
      expect(client.era).toBe(era);
      const names = (await client.listTools()).map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['echo', 'test_simple_text', 'whoami']));
      expect((await client.callTool('echo', { text: 'héllo ws' })).content).toEqual([
        { type: 'text', text: 'héllo ws' },
      ]);
      const seen: number[] = [];
      await client.callTool('test_tool_with_progress', {}, { onprogress: (p) => seen.push(p.progress) });
      expect(seen).toEqual([0, 50, 100]);
      expect((await client.callTool('test_sampling', { prompt: 'Say hi' })).content).toEqual([
        { type: 'text', text: 'LLM response: sampled by the client' },
      ]);
      expect((await client.callTool('test_elicitation', { message: 'Who?' })).content).toEqual([
        {
          type: 'text',
          text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}',
        },
      ]);
      const who = JSON.parse(((await client.callTool('whoami')).content[0] as { text: string }).text);
      expect(who).toEqual({ binding: 'websocket', authInfo: null, authorization: null });
      expect(handle.attachment.connections).toBe(1);
    });
  }

  it('client errors: nothing listening, and a server closing says why (1001 on shutdown)', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dead = new WebSocketClientTransport(`ws://127.0.0.1:${port}/`);
    await expect(dead.start()).rejects.toMatchObject({ code: 'NOT_CONNECTED' });

    const { server } = testServer();
    const handle = await serveWebSocket(server, { port: 0 });
    const transport = new WebSocketClientTransport(handle.url);
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(transport);
    const closed = new Promise<void>((r) => {
      const prev = transport.onclose;
      transport.onclose = () => {
        prev?.();
        r();
      };
    });
    await handle.close();
    await closed;
    expect(transport.closeCode).toBe(WS_CLOSE.GOING_AWAY);
    expect(transport.closeReason).toBe('server shutting down');
  });
});

describe('official SDK v1 WebSocketClientTransport', () => {
  it('connects with subprotocol mcp and exercises the everything server', async () => {
    const g = globalThis as { WebSocket?: unknown };
    const had = 'WebSocket' in g;
    const previous = g.WebSocket;
    // The SDK uses the global WebSocket (Node 22+); on Node 20 lend it ws's.
    if (!previous) g.WebSocket = WebSocket;
    cleanups.push(() => {
      if (had) g.WebSocket = previous;
      else delete g.WebSocket;
    });
    const { server } = testServer();
    const handle = await serve(server);
    const client = new V1Client(
      { name: 'sdk-v1', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {} } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, async () => sampled);
    client.setRequestHandler(ElicitRequestSchema, async () => elicited);
    await client.connect(new V1WebSocket(new URL(handle.url)));
    cleanups.push(() => client.close());
    expect(client.getServerVersion()).toEqual({ name: 'anywire-everything', version: '0.1.0' });
    await exercise(client as unknown as AnyClient, (name, args, opts) =>
      client.callTool({ name, arguments: args as any }, undefined, opts),
    );
    expect(await client.ping()).toEqual({});
  });
});

describe('attachWebSocket', () => {
  it('shares a port with a plain HTTP handler by upgrade', async () => {
    const { server } = testServer();
    const httpServer = http.createServer((_req, res) => res.end('plain http'));
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => httpServer.close(() => r())));
    const attachment = attachWebSocket(server, httpServer, { path: '/mcp' });
    cleanups.push(() => attachment.close());
    const port = (httpServer.address() as AddressInfo).port;
    expect(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()).toBe('plain http');
    const client = await connect(`ws://127.0.0.1:${port}/mcp?x=1`, { era: 'modern' });
    expect((await client.callTool('echo', { text: 'shared' })).content).toEqual([
      { type: 'text', text: 'shared' },
    ]);
    expect(attachment.connections).toBe(1);
    expect(await refusedStatus(`ws://127.0.0.1:${port}/elsewhere`)).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${port}/mcp`)).text()).toBe('plain http');
  });

  it('answers plain HTTP on its own port with 426', async () => {
    const handle = await serve(testServer().server);
    const res = await fetch(handle.url.replace('ws://', 'http://'));
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
  });
});

describe('auth and security', () => {
  const authenticator: Authenticator = {
    authenticate: ({ headers: h }) => {
      if (h.authorization === 'Bearer good') return { token: 'good', clientId: 'c1', scopes: ['tools'] };
      if (h.authorization === 'Bearer banned')
        throw new AuthError(403, 'banned', { error: 'insufficient_scope' });
      throw new AuthError(401, 'missing or invalid token');
    },
  };

  it('the upgrade Authorization header reaches ctx.authInfo in both eras', async () => {
    const { server } = testServer();
    const handle = await serve(server, { authenticator });
    for (const era of ['legacy', 'modern'] as const) {
      const client = await connect(handle.url, { era }, { authorization: 'Bearer good' });
      const who = JSON.parse(((await client.callTool('whoami')).content[0] as { text: string }).text);
      expect(who).toEqual({
        binding: 'websocket',
        authInfo: { token: 'good', clientId: 'c1', scopes: ['tools'] },
        authorization: 'Bearer good',
      });
    }
    const anonymous = new WebSocketClientTransport(handle.url);
    const err = await anonymous.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect(err).toMatchObject({ code: 'HTTP_ERROR', status: 401 });
    expect(await refusedStatus(handle.url, { headers: { authorization: 'Bearer banned' } })).toBe(403);
  });

  it('closes with 4001 when the credentials expire', async () => {
    const { server } = testServer();
    const handle = await serve(server, {
      authenticator: { authenticate: () => ({ token: 't', expiresAt: Date.now() / 1000 + 0.3 }) },
    });
    const peer = rawPeer(handle.url);
    await peer.opened;
    const { code, reason } = await peer.closed;
    expect(code).toBe(WS_CLOSE.CREDENTIALS_EXPIRED);
    expect(reason).toBe('credentials expired');
  });

  it('rejects foreign Origins with 403, accepts loopback and allowed ones', async () => {
    const handle = await serve(testServer().server);
    expect(await refusedStatus(handle.url, { origin: 'http://evil.example' })).toBe(403);
    expect(await refusedStatus(handle.url, { headers: { host: 'evil.example' } })).toBe(403);
    const local = rawPeer(handle.url, { origin: 'http://localhost:5173' });
    await local.opened;
    expect(local.ws.protocol).toBe('mcp');
    const strict = await serve(testServer().server, { allowedOrigins: ['https://app.example'] });
    expect(await refusedStatus(strict.url, { origin: 'http://localhost:5173' })).toBe(403);
    await rawPeer(strict.url, { origin: 'https://app.example' }).opened;
  });

  it('refuses subprotocols without mcp (400) and closes over maxConnections with 1013', async () => {
    const handle = await serve(testServer().server, { maxConnections: 1 });
    expect(await refusedStatus(handle.url, { protocols: ['graphql-ws'] })).toBe(400);
    const first = rawPeer(handle.url);
    await first.opened;
    const second = rawPeer(handle.url);
    expect((await second.closed).code).toBe(WS_CLOSE.TRY_AGAIN_LATER);
    // A client without a subprotocol (curl, raw tools) is served.
    first.ws.close();
    await first.closed;
    await waitFor(
      'the server to count the first connection closed',
      () => handle.attachment.connections,
      (n) => n === 0,
    );
    const bare = rawPeer(handle.url, { protocols: [] });
    await bare.opened;
    bare.send(echo(1));
    expect(await bare.next()).toMatchObject(ECHOED(1));
  });
});

describe('connection life', () => {
  it('a peer that disconnects mid-request aborts the handler (legacy and modern)', async () => {
    const { server, started, aborted } = testServer();
    const handle = await serve(server);
    // modern: a raw peer drops the TCP connection
    const peer = rawPeer(handle.url);
    await peer.opened;
    peer.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'wait_for_abort', arguments: {}, _meta: MODERN_META },
    });
    await waitFor(
      'the raw peer’s call to reach its handler',
      () => started.length,
      (n) => n === 1,
    );
    peer.ws.terminate();
    await waitFor(
      'the handler to be aborted after the peer dropped',
      () => aborted.length,
      (n) => n >= 1,
    );
    expect(aborted).toHaveLength(1);
    // legacy: the anywire client closes its session
    const client = await connect(handle.url, { era: 'legacy' });
    const pending = client.callTool('wait_for_abort').catch((e: unknown) => e);
    await waitFor(
      'the legacy call to reach its handler',
      () => started.length,
      (n) => n === 2,
    );
    await client.close();
    expect(await pending).toBeInstanceOf(McpError);
    await waitFor(
      'the handler to be aborted after the session closed',
      () => aborted.length,
      (n) => n >= 2,
    );
    expect(aborted).toHaveLength(2);
    await waitFor(
      'the server to count no open connections',
      () => handle.attachment.connections,
      (n) => n === 0,
    );
  });

  it('keep-alive closes a peer that stops answering pings within 2 x keepAliveIntervalMs', async () => {
    const interval = 200;
    const handle = await serve(testServer().server, { keepAliveIntervalMs: interval });
    const live = rawPeer(handle.url);
    const dead = rawPeer(handle.url);
    await Promise.all([live.opened, dead.opened]);
    await sleep(20);
    expect(handle.attachment.connections).toBe(2);
    const before = [...handle.attachment.transports];
    const t0 = Date.now();
    dead.ws.pause(); // stops reading: pings go unanswered
    while (handle.attachment.connections > 1 && Date.now() - t0 < 10 * interval) await sleep(10);
    const elapsed = Date.now() - t0;
    expect(handle.attachment.connections).toBe(1);
    expect(elapsed).toBeLessThanOrEqual(2 * interval + 200);
    expect(before.map((t) => t.closeCode)).toContain(WS_CLOSE.KEEP_ALIVE_TIMEOUT);
    // The live peer (ws answers pings itself) survives several rounds and still gets answers.
    await sleep(3 * interval);
    live.send(echo(7));
    expect(await live.next()).toMatchObject(ECHOED(7));
  });

  it('answers bad frames and keeps serving; closes 1009 beyond the hard frame cap', async () => {
    const errors: Error[] = [];
    const handle = await serve(testServer().server, {
      maxMessageBytes: 1024,
      onerror: (e) => errors.push(e),
    });
    const peer = rawPeer(handle.url);
    await peer.opened;
    peer.send('{not json');
    expect(await peer.next()).toMatchObject({ id: null, error: { code: -32700 } });
    peer.send({ jsonrpc: '2.0', id: 1 });
    expect(await peer.next()).toMatchObject({ id: 1, error: { code: -32600 } });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'ping', params: { pad: 'x'.repeat(1500) } });
    expect(await peer.next()).toMatchObject({
      id: null,
      error: { code: -32600, message: expect.stringContaining('exceeds maxMessageBytes (1024)') },
    });
    peer.ws.send(Buffer.from('{"jsonrpc":"2.0","id":3,"method":"ping"}'), { binary: true });
    expect(await peer.next()).toMatchObject({ id: null, error: { code: -32600 } });
    peer.send(echo(4));
    expect(await peer.next()).toMatchObject(ECHOED(4));
    expect(errors.length).toBeGreaterThanOrEqual(4);
    peer.send('y'.repeat(200 * 1024));
    expect((await peer.closed).code).toBe(WS_CLOSE.MESSAGE_TOO_BIG);
  });

  it('backpressure: stops reading a peer that does not drain, then closes it with 1008', async () => {
    const handle = await serve(testServer().server, {
      maxBufferedBytes: 256 * 1024,
      drainTimeoutMs: 400,
      closeTimeoutMs: 200,
      maxMessageBytes: 8 * 1024 * 1024,
    });
    const peer = rawPeer(handle.url);
    await peer.opened;
    for (let i = 1; i <= 200; i++) {
      peer.send({
        jsonrpc: '2.0',
        id: i,
        method: 'tools/call',
        params: { name: 'big', arguments: {}, _meta: MODERN_META },
      });
    }
    await sleep(10);
    peer.ws.pause();
    let transport = [...handle.attachment.transports][0]!;
    const t0 = Date.now();
    while (!transport.paused && Date.now() - t0 < 5000) await sleep(5);
    expect(transport.paused).toBe(true);
    transport = [...handle.attachment.transports][0]!;
    while (handle.attachment.connections > 0 && Date.now() - t0 < 5000) await sleep(20);
    expect(handle.attachment.connections).toBe(0);
    expect(transport.closeCode).toBe(WS_CLOSE.POLICY_VIOLATION);
  });

  it('a slow peer that drains is resumed, not closed', async () => {
    const handle = await serve(testServer().server, { maxBufferedBytes: 128 * 1024, drainTimeoutMs: 5000 });
    const peer = rawPeer(handle.url);
    await peer.opened;
    for (let i = 1; i <= 60; i++) {
      peer.send({
        jsonrpc: '2.0',
        id: i,
        method: 'tools/call',
        params: { name: 'big', arguments: {}, _meta: MODERN_META },
      });
    }
    peer.ws.pause();
    await sleep(300);
    expect([...handle.attachment.transports][0]!.paused).toBe(true);
    peer.ws.resume();
    const ids = new Set<number>();
    for (let i = 0; i < 60; i++) ids.add((await peer.next()).id);
    expect(ids.size).toBe(60);
    expect(handle.attachment.connections).toBe(1);
  });
});

describe('framing details', () => {
  it('a 2025-03-26 session may batch; the answer is one frame with an array', async () => {
    const handle = await serve(testServer().server);
    const peer = rawPeer(handle.url);
    await peer.opened;
    peer.send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(await peer.next()).toMatchObject({ id: 0, result: { protocolVersion: '2025-03-26' } });
    peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    peer.send([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'b' } } },
    ]);
    const answer = await peer.next();
    expect(answer).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'b' }] } },
    ]);
  });

  it('client maxMessageBytes: an oversized response fails its request at once', async () => {
    const handle = await serve(testServer().server);
    const errors: Error[] = [];
    const transport = new WebSocketClientTransport(handle.url, { maxMessageBytes: 200 * 1024 });
    const client = new Client({ name: 'c', version: '1' }, { era: 'modern', onerror: (e) => errors.push(e) });
    await client.connect(transport);
    cleanups.push(() => client.close());
    const t0 = Date.now();
    await expect(client.callTool('big')).rejects.toMatchObject({
      code: -32603,
      data: { localError: 'MESSAGE_TOO_LARGE', maxMessageBytes: 204800 },
    });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(errors.some((e) => e instanceof McpError && e.code === 'MESSAGE_TOO_LARGE')).toBe(true);
    expect((await client.callTool('echo', { text: 'still here' })).content).toEqual([
      { type: 'text', text: 'still here' },
    ]);
  });

  it('the client entry stays browser-safe: no node: imports and no static ws import', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const f of ['client-index.ts', 'client.ts', 'codec.ts', 'close-codes.ts']) {
      const src = await readFile(new URL(`../src/transports/websocket/${f}`, import.meta.url), 'utf8');
      expect(src).not.toMatch(/from ['"]node:/);
      expect(src).not.toMatch(/from ['"]ws['"]/);
      expect(src).not.toMatch(/from ['"]\.\/server/);
    }
  });
});
