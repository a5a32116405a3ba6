/**
 * The Streamable HTTP client transport (both eras, HTTP+SSE fallback) with anywire's `Client`:
 * against the official SDK v2 server (modern, MRTR), `@modelcontextprotocol/server-everything` in
 * streamable HTTP mode (legacy sessions, server-to-client requests), the SDK v1 HTTP+SSE server
 * (2024-11-05 fallback), and raw node:http servers playing hostile or edge peers. Real sockets on
 * 127.0.0.1, port 0.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { acceptedContent, createMcpHandler, inputRequired, McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '../src/client/client.js';
import { JsonRpcError } from '../src/jsonrpc/errors.js';
import { McpError } from '../src/protocol/errors.js';
import { encodeHeaderValue, scanToolHeaders } from '../src/transports/streamable-http/client-headers.js';
import { readSseStream } from '../src/transports/streamable-http/client-sse.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { ROOT, waitFor } from './helpers.js';

// ---- fixtures ---------------------------------------------------------------------------------

interface Served {
  url: string;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Serves `listener` on 127.0.0.1, port 0; closing destroys every open socket. */
async function serve(listener: http.RequestListener): Promise<Served> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const served = {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  cleanups.push(served.close);
  return served;
}

function newClient(options: ConstructorParameters<typeof Client>[1] = {}): Client {
  const client = new Client({ name: 'anywire-http-test', version: '1.0.0' }, options);
  cleanups.push(() => client.close());
  return client;
}

async function readJson(req: http.IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `promise`, or fails after `ms` naming what it waited for. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- official servers -------------------------------------------------------------------------

describe('against the official SDK v2 server (modern era)', () => {
  it('discovers, lists, calls, streams progress, mirrors x-mcp-header params and fulfils MRTR', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const factory = () => {
      const s = new McpServer({ name: 'sdk2-http', version: '2.4.0' });
      s.registerTool(
        'echo',
        { description: 'echo', inputSchema: z.object({ text: z.string() }) },
        async ({ text }) => ({
          content: [{ type: 'text', text }],
        }),
      );
      s.registerTool(
        'regional',
        {
          description: 'runs in a region',
          inputSchema: z.object({ region: z.string().meta({ 'x-mcp-header': 'Region' }), query: z.string() }),
        },
        async ({ region, query }) => ({ content: [{ type: 'text', text: `${query} in ${region}` }] }),
      );
      s.registerTool(
        'count',
        { description: 'counts with progress', inputSchema: z.object({ n: z.number().int() }) },
        async ({ n }, ctx) => {
          const token = ctx.mcpReq._meta?.progressToken;
          for (let i = 1; i <= n; i++) {
            if (token !== undefined)
              await ctx.mcpReq.notify({
                method: 'notifications/progress',
                params: { progressToken: token, progress: i, total: n },
              });
            await sleep(5);
          }
          return { content: [{ type: 'text', text: `counted to ${n}` }] };
        },
      );
      s.registerTool(
        'confirm',
        { description: 'asks first (MRTR)', inputSchema: z.object({ what: z.string() }) },
        async ({ what }, ctx) => {
          const schema = z.object({ ok: z.boolean() });
          const answer = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', schema);
          if (answer === undefined)
            return inputRequired({
              inputRequests: {
                confirm: inputRequired.elicit({ message: `Really ${what}?`, requestedSchema: schema }),
              },
            });
          return { content: [{ type: 'text', text: `${what}: ${answer.ok ? 'confirmed' : 'refused'}` }] };
        },
      );
      s.registerResource('readme', 'fixture://readme', { mimeType: 'text/plain' }, async (uri) => ({
        contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'read me' }],
      }));
      s.registerPrompt('hello', { argsSchema: z.object({ who: z.string() }) }, ({ who }) => ({
        messages: [{ role: 'user', content: { type: 'text', text: `hello ${who}` } }],
      }));
      return s;
    };
    const node = toNodeHandler(createMcpHandler(factory));
    const served = await serve((req, res) => {
      seen.push(req.headers);
      void node(req, res);
    });
    const asked: string[] = [];
    const client = newClient({
      handlers: {
        elicitation: async (params) => {
          asked.push(params.message);
          return { action: 'accept', content: { ok: true } };
        },
      },
    });
    const transport = new StreamableHttpClientTransport({ url: `${served.url}/mcp` });
    await client.connect(transport);
    expect(client.era).toBe('modern');
    expect(client.protocolVersion).toBe('2026-07-28');
    expect(client.serverInfo).toMatchObject({ name: 'sdk2-http' });
    expect(seen[0]).toMatchObject({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'server/discover',
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
    });
    expect((await client.listTools()).map((t) => t.name)).toEqual(['echo', 'regional', 'count', 'confirm']);
    expect(await client.callTool('echo', { text: 'héllo' })).toMatchObject({
      content: [{ type: 'text', text: 'héllo' }],
    });
    expect(seen.at(-1)).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    // The server validates Mcp-Param-Region against the body (400/-32020 on a mismatch).
    expect(await client.callTool('regional', { region: 'Zürich', query: 'q' })).toMatchObject({
      content: [{ type: 'text', text: 'q in Zürich' }],
    });
    expect(seen.at(-1)!['mcp-param-region']).toBe(`=?base64?${Buffer.from('Zürich').toString('base64')}?=`);
    const progress: number[] = [];
    expect(
      await client.callTool('count', { n: 3 }, { onprogress: (p) => progress.push(p.progress) }),
    ).toMatchObject({ content: [{ type: 'text', text: 'counted to 3' }] });
    expect(progress).toEqual([1, 2, 3]);
    expect(await client.callTool('confirm', { what: 'deploy' })).toMatchObject({
      content: [{ type: 'text', text: 'deploy: confirmed' }],
    });
    expect(asked).toEqual(['Really deploy?']);
    expect((await client.readResource('fixture://readme')).contents).toEqual([
      { uri: 'fixture://readme', mimeType: 'text/plain', text: 'read me' },
    ]);
    expect(seen.at(-1)).toMatchObject({ 'mcp-method': 'resources/read', 'mcp-name': 'fixture://readme' });
    expect((await client.getPrompt('hello', { who: 'you' })).messages).toEqual([
      { role: 'user', content: { type: 'text', text: 'hello you' } },
    ]);
    expect(seen.every((h) => h['mcp-session-id'] === undefined)).toBe(true);
    expect(seen.every((h) => h['mcp-protocol-version'] === '2026-07-28')).toBe(true);
  });
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function startEverything(): Promise<string> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [`${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`, 'streamableHttp'],
    { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on port')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server-everything exited with ${code}: ${err}`)));
  });
  return `http://127.0.0.1:${port}/mcp`;
}

describe('against @modelcontextprotocol/server-everything over streamable HTTP (legacy era)', () => {
  it('initializes a session and serves tools, resources, prompts, progress and server requests', async () => {
    const url = await startEverything();
    const sampled: unknown[] = [];
    const rootsAsked: string[] = [];
    const client = newClient({
      handlers: {
        sampling: async (params) => {
          sampled.push(params);
          return {
            role: 'assistant',
            content: { type: 'text', text: 'a sampled answer' },
            model: 'test-model',
          };
        },
        elicitation: async () => ({ action: 'accept', content: { name: 'Ada', check: true } }),
        roots: async (ctx) => {
          rootsAsked.push(ctx.via);
          return [{ uri: 'file:///work', name: 'work' }];
        },
      },
    });
    const transport = new StreamableHttpClientTransport({ url });
    await client.connect(transport);
    expect(client.era).toBe('legacy');
    expect(client.protocolVersion).toBe('2025-11-25');
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(transport.protocolVersion).toBe('2025-11-25');
    expect(client.serverInfo?.name).toMatch(/everything/);
    const tools = (await client.listTools()).map((t) => t.name);
    expect(tools).toEqual(
      expect.arrayContaining([
        'echo',
        'trigger-long-running-operation',
        'trigger-sampling-request',
        'trigger-elicitation-request',
      ]),
    );
    expect(await client.callTool('echo', { message: 'hi' })).toMatchObject({
      content: [{ type: 'text', text: 'Echo: hi' }],
    });
    const resources = await client.listResources();
    expect(resources.length).toBeGreaterThan(0);
    const read = await client.readResource(resources[0]!.uri);
    expect(read.contents[0]!.uri).toBe(resources[0]!.uri);
    expect((await client.getPrompt('simple-prompt')).messages).toEqual([
      { role: 'user', content: { type: 'text', text: 'This is a simple prompt without arguments.' } },
    ]);
    const progress: number[] = [];
    const long = await client.callTool(
      'trigger-long-running-operation',
      { duration: 0.3, steps: 3 },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(long.isError).toBeFalsy();
    expect(progress).toEqual([1, 2, 3]);
    const s = await client.callTool('trigger-sampling-request', { prompt: 'hello', maxTokens: 10 });
    expect(JSON.stringify(s.content)).toContain('a sampled answer');
    expect(sampled).toEqual([expect.objectContaining({ maxTokens: 10 })]);
    const e = await client.callTool('trigger-elicitation-request', {});
    expect(JSON.stringify(e.content)).toContain('Ada');
    // The server asks for roots on its own 350 ms after initialization: over the GET stream.
    await waitFor(
      'the server’s roots/list request',
      () => rootsAsked.length,
      (n) => n > 0,
    );
    expect(rootsAsked).toEqual(['request']);
  });
});

describe('against the SDK v1 HTTP+SSE server (2024-11-05 fallback)', () => {
  it('falls back to HTTP+SSE after the initialize POST is refused', async () => {
    const sessions = new Map<string, SSEServerTransport>();
    const requests: string[] = [];
    const served = await serve(async (req, res) => {
      const u = new URL(req.url!, 'http://localhost');
      requests.push(`${req.method} ${u.pathname}`);
      if (req.method === 'GET' && u.pathname === '/sse') {
        const t = new SSEServerTransport('/messages', res);
        sessions.set(t.sessionId, t);
        res.on('close', () => sessions.delete(t.sessionId));
        const server = new V1McpServer({ name: 'v1-sse', version: '1.32.2' });
        server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
          content: [{ type: 'text', text: `v1: ${text}` }],
        }));
        await server.connect(t);
        return;
      }
      const t = sessions.get(u.searchParams.get('sessionId') ?? '');
      if (req.method === 'POST' && u.pathname === '/messages' && t) {
        await t.handlePostMessage(req, res);
        return;
      }
      res.writeHead(404).end('not found');
    });
    const client = newClient();
    const transport = new StreamableHttpClientTransport({ url: `${served.url}/sse` });
    await client.connect(transport);
    expect(transport.mode).toBe('http+sse');
    expect(client.era).toBe('legacy');
    expect(client.serverInfo).toMatchObject({ name: 'v1-sse' });
    expect(requests.slice(0, 4)).toEqual(['POST /sse', 'POST /sse', 'GET /sse', 'POST /messages']);
    expect((await client.listTools()).map((t) => t.name)).toEqual(['echo']);
    expect(await client.callTool('echo', { text: 'old' })).toMatchObject({
      content: [{ type: 'text', text: 'v1: old' }],
    });
  });
});

// ---- raw edge and hostile peers ---------------------------------------------------------------

interface Recorded {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/**
 * A hand-written legacy (2025-11-25) server. `onRequest` may take over any JSON-RPC request;
 * everything else gets a minimal answer. The probe gets a bare 400 (a legacy server's answer).
 */
interface LegacyServerOptions {
  /** Takes over a JSON-RPC request of a live session; true when it answered. */
  onRequest?: (r: Recorded, res: http.ServerResponse, session: string) => boolean | Promise<boolean>;
  /** Answers GETs (default 405). */
  onGet?: (r: Recorded, res: http.ServerResponse) => void;
  /** JSON body of the 400 that answers the modern probe (default: none). */
  probeBody?: unknown;
}

async function legacyServer({ onRequest, onGet, probeBody }: LegacyServerOptions = {}) {
  const log: Recorded[] = [];
  const live = new Set<string>();
  let n = 0;
  const served = await serve(async (req, res) => {
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const r: Recorded = { method: req.method!, headers: req.headers, body };
    log.push(r);
    if (req.method === 'DELETE') {
      live.delete(String(req.headers['mcp-session-id']));
      res.writeHead(200).end();
      return;
    }
    if (req.method === 'GET') {
      if (onGet) onGet(r, res);
      else res.writeHead(405).end();
      return;
    }
    if (body.method === 'initialize') {
      const sid = `s${++n}`;
      live.add(sid);
      sendJson(
        res,
        200,
        {
          jsonrpc: '2.0',
          id: body.id,
          result: {
            protocolVersion: '2025-11-25',
            capabilities: { tools: {} },
            serverInfo: { name: 'raw-legacy', version: '0' },
          },
        },
        { 'mcp-session-id': sid },
      );
      return;
    }
    const sid = String(req.headers['mcp-session-id']);
    if (!live.has(sid)) {
      if (body.method === 'server/discover' && probeBody !== undefined) sendJson(res, 400, probeBody);
      else res.writeHead(body.method === 'server/discover' ? 400 : 404).end();
      return;
    }
    if (!('id' in body)) {
      res.writeHead(202).end();
      return;
    }
    if (onRequest && (await onRequest(r, res, sid))) return;
    if (body.method === 'tools/list') {
      sendJson(res, 200, {
        jsonrpc: '2.0',
        id: body.id,
        result: { tools: [{ name: 'slow', inputSchema: { type: 'object' } }] },
      });
      return;
    }
    sendJson(res, 200, { jsonrpc: '2.0', id: body.id, error: { code: -32601, message: 'nope' } });
  });
  return { served, log, live };
}

describe('against raw edge servers', () => {
  it('re-initializes by itself when the legacy session answers 404, then retries once', async () => {
    let expired = false;
    const { served, log, live } = await legacyServer({
      onRequest: (r, res, session) => {
        if (r.body.method === 'tools/list' && !expired) {
          expired = true;
          live.delete(session); // the server forgot the session
          res.writeHead(404).end();
          return true;
        }
        return false;
      },
    });
    const client = newClient();
    const transport = new StreamableHttpClientTransport({ url: served.url });
    await client.connect(transport);
    expect(client.era).toBe('legacy');
    expect(transport.sessionId).toBe('s1');
    expect((await client.listTools()).map((t) => t.name)).toEqual(['slow']);
    expect(transport.sessionId).toBe('s2');
    const posts = log
      .filter((r) => r.method === 'POST')
      .map((r) => [r.body.method, r.headers['mcp-session-id']]);
    expect(posts).toEqual([
      ['server/discover', undefined],
      ['initialize', undefined],
      ['notifications/initialized', 's1'],
      ['tools/list', 's1'],
      ['initialize', undefined],
      ['notifications/initialized', 's2'],
      ['tools/list', 's2'],
    ]);
    const inits = log.filter((r) => r.body?.method === 'initialize');
    expect(inits[1]!.body.params).toEqual(inits[0]!.body.params);
    expect(inits[1]!.body.id).not.toBe(inits[0]!.body.id);
    const retried = log.filter((r) => r.body?.method === 'tools/list');
    expect(retried[1]!.body.id).toBe(retried[0]!.body.id); // the same request, retried once
    expect(retried[1]!.headers['mcp-protocol-version']).toBe('2025-11-25');
    await client.close();
    expect(log.at(-1)).toMatchObject({ method: 'DELETE', headers: { 'mcp-session-id': 's2' } });
  });

  it('resumes a cut SSE stream with Last-Event-ID after the retry delay, delivering each message once', async () => {
    let cutAt = 0;
    let resumedAt = 0;
    const event = (id: string, message: unknown) => `id: ${id}\ndata: ${JSON.stringify(message)}\n\n`;
    let call: any;
    const progressOf = (i: number) => ({
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: call.params._meta.progressToken, progress: i, total: 3 },
    });
    const { served, log } = await legacyServer({
      onRequest: async (r, res) => {
        if (r.body.method !== 'tools/call') return false;
        call = r.body;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('id: e0\nretry: 300\ndata: \n\n'); // priming event (2025-11-25)
        res.write(event('e1', progressOf(1)));
        res.write(event('e2', progressOf(2)));
        await sleep(20);
        cutAt = Date.now();
        res.socket!.destroy(); // the connection breaks mid-stream
        return true;
      },
      onGet: (r, res) => {
        if (!r.headers['last-event-id']) {
          res.writeHead(405).end();
          return;
        }
        resumedAt = Date.now();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(event('e2', progressOf(2))); // a replayed duplicate: must be dropped
        res.write(event('e3', progressOf(3)));
        res.end(
          event('e4', {
            jsonrpc: '2.0',
            id: call.id,
            result: { content: [{ type: 'text', text: 'finally' }] },
          }),
        );
      },
    });
    const client = newClient();
    await client.connect(
      new StreamableHttpClientTransport({
        url: served.url,
        reconnection: { initialDelayMs: 10, maxDelayMs: 1000, growFactor: 2, maxRetries: 3 },
      }),
    );
    const progress: number[] = [];
    const result = await client.callTool('slow', {}, { onprogress: (p) => progress.push(p.progress) });
    expect(result).toEqual({ content: [{ type: 'text', text: 'finally' }] });
    expect(progress).toEqual([1, 2, 3]);
    expect(resumedAt - cutAt).toBeGreaterThanOrEqual(280); // the server's retry: 300, not initialDelayMs
    const resume = log.find((r) => r.method === 'GET' && r.headers['last-event-id']);
    expect(resume!.headers).toMatchObject({
      'last-event-id': 'e2',
      'mcp-session-id': 's1',
      'mcp-protocol-version': '2025-11-25',
      accept: 'text/event-stream',
    });
  });

  it('gives up resuming after maxRetries and answers the request with a -32603 error', async () => {
    const gets: number[] = [];
    const { served } = await legacyServer({
      onRequest: (r, res) => {
        if (r.body.method !== 'tools/call') return false;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('id: p0\ndata: \n\n'); // primed, then closed without the response
        return true;
      },
      onGet: (r, res) => {
        if (r.headers['last-event-id']) gets.push(Date.now());
        res.writeHead(r.headers['last-event-id'] ? 503 : 405).end();
      },
    });
    const client = newClient();
    await client.connect(
      new StreamableHttpClientTransport({
        url: served.url,
        reconnection: { initialDelayMs: 20, maxDelayMs: 100, growFactor: 2, maxRetries: 3 },
      }),
    );
    const error = await client.callTool('slow', {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JsonRpcError);
    expect(error).toMatchObject({ code: -32603, message: expect.stringContaining('after 3 attempts') });
    expect(gets).toHaveLength(3);
    expect(gets[2]! - gets[1]!).toBeGreaterThanOrEqual(gets[1]! - gets[0]! - 5); // delays grow
  });

  it('reports a server that refuses everything with 404 as HTTP_ERROR after trying HTTP+SSE', async () => {
    const seen: string[] = [];
    const served = await serve(async (req, res) => {
      const body = await readJson(req);
      seen.push(`${req.method} ${body?.method ?? ''}`.trim());
      res.writeHead(404).end();
    });
    const error = await newClient()
      .connect(new StreamableHttpClientTransport({ url: served.url }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 404 });
    expect(seen).toEqual(['POST server/discover', 'POST initialize', 'GET']);
  });

  it('reports a network failure as CONNECTION_CLOSED, not as a legacy verdict', async () => {
    const served = await serve((_req, res) => res.end());
    await served.close(); // nothing listens there any more
    const error = await newClient()
      .connect(new StreamableHttpClientTransport({ url: served.url }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'CONNECTION_CLOSED' });
  });

  it('legacy: cancelling POSTs notifications/cancelled', async () => {
    const { served, log } = await legacyServer({
      onRequest: (r, res) => {
        if (r.body.method !== 'tools/call') return false;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('id: c0\ndata: \n\n');
        return true;
      },
    });
    const client = newClient();
    await client.connect(new StreamableHttpClientTransport({ url: served.url }));
    const controller = new AbortController();
    const pending = client.callTool('slow', {}, { signal: controller.signal });
    await sleep(50);
    controller.abort('changed my mind');
    await expect(pending).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
    for (let i = 0; i < 50 && !log.some((r) => r.body?.method === 'notifications/cancelled'); i++)
      await sleep(10);
    const call = log.find((r) => r.body?.method === 'tools/call')!;
    const cancel = log.find((r) => r.body?.method === 'notifications/cancelled')!;
    expect(cancel.body.params).toMatchObject({ requestId: call.body.id });
    expect(cancel.headers).toMatchObject({ 'mcp-session-id': 's1', 'mcp-protocol-version': '2025-11-25' });
  });

  it('treats 401 as an error, not as a legacy verdict', async () => {
    const log: string[] = [];
    const served = await serve(async (req, res) => {
      const body = await readJson(req);
      log.push(body?.method);
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="mcp"' }).end();
    });
    const client = newClient();
    const error = await client.connect(new StreamableHttpClientTransport({ url: served.url })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 401 });
    expect(log).toEqual(['server/discover']);
  });

  it('mirrors request metadata into headers and drops tools with invalid x-mcp-header', async () => {
    const calls: Recorded[] = [];
    const tools = [
      {
        name: 'regional',
        inputSchema: {
          type: 'object',
          properties: {
            region: { type: 'string', 'x-mcp-header': 'Region' },
            opts: { type: 'object', properties: { level: { type: 'integer', 'x-mcp-header': 'Level' } } },
            dry: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
            query: { type: 'string' },
          },
        },
      },
      {
        name: 'in-items',
        inputSchema: {
          type: 'object',
          properties: { list: { type: 'array', items: { type: 'string', 'x-mcp-header': 'Item' } } },
        },
      },
      {
        name: 'duplicate',
        inputSchema: {
          type: 'object',
          properties: {
            a: { type: 'string', 'x-mcp-header': 'Same' },
            b: { type: 'string', 'x-mcp-header': 'SAME' },
          },
        },
      },
      {
        name: 'number',
        inputSchema: { type: 'object', properties: { n: { type: 'number', 'x-mcp-header': 'N' } } },
      },
      {
        name: 'not-a-token',
        inputSchema: { type: 'object', properties: { s: { type: 'string', 'x-mcp-header': 'Bad Name' } } },
      },
      {
        name: 'in-anyof',
        inputSchema: {
          type: 'object',
          properties: { s: { anyOf: [{ type: 'string', 'x-mcp-header': 'S' }] } },
        },
      },
    ];
    const served = await serve(async (req, res) => {
      const body = await readJson(req);
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      calls.push({ method: body.method, headers: req.headers, body });
      const ok = (result: unknown) => sendJson(res, 200, { jsonrpc: '2.0', id: body.id, result });
      switch (body.method) {
        case 'server/discover':
          return ok({
            resultType: 'complete',
            supportedVersions: ['2026-07-28'],
            capabilities: { tools: {}, resources: {}, prompts: {} },
            _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'raw-modern', version: '0' } },
          });
        case 'tools/list':
          return ok({ resultType: 'complete', tools });
        case 'tools/call':
          return ok({ resultType: 'complete', content: [{ type: 'text', text: 'done' }] });
        case 'resources/read':
          return ok({ resultType: 'complete', contents: [{ uri: body.params.uri, text: 'x' }] });
        case 'prompts/get':
          return ok({ resultType: 'complete', messages: [] });
      }
      sendJson(res, 404, {
        jsonrpc: '2.0',
        id: body.id,
        error: { code: -32601, message: 'Method not found' },
      });
    });
    const errors: Error[] = [];
    const client = newClient();
    const transport = new StreamableHttpClientTransport({ url: `${served.url}/mcp` });
    await client.connect(transport);
    expect(client.era).toBe('modern');
    transport.onerror = (e) => errors.push(e);
    expect((await client.listTools()).map((t) => t.name)).toEqual(['regional']);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('"in-items"'),
      expect.stringContaining('"duplicate"'),
      expect.stringContaining('"number"'),
      expect.stringContaining('"not-a-token"'),
      expect.stringContaining('"in-anyof"'),
    ]);
    const pick = (h: http.IncomingHttpHeaders) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('mcp-')));
    await client.callTool('regional', { region: 'us-west1', opts: { level: 3 }, dry: false, query: 'q' });
    expect(pick(calls.at(-1)!.headers)).toEqual({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'regional',
      'mcp-param-region': 'us-west1',
      'mcp-param-level': '3',
      'mcp-param-dry-run': 'false',
    });
    await client.callTool('regional', { region: 'Zürich 東京', opts: null });
    expect(pick(calls.at(-1)!.headers)).toEqual({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'regional',
      'mcp-param-region': `=?base64?${Buffer.from('Zürich 東京', 'utf8').toString('base64')}?=`,
    });
    await client.callTool('regional', { region: ' padded ' });
    expect(calls.at(-1)!.headers['mcp-param-region']).toBe('=?base64?IHBhZGRlZCA=?=');
    await client.callTool('regional', { region: '=?base64?literal?=' });
    expect(calls.at(-1)!.headers['mcp-param-region']).toBe('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=');
    await client.readResource('file:///tmp/ä.txt');
    expect(pick(calls.at(-1)!.headers)).toEqual({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'resources/read',
      'mcp-name': `=?base64?${Buffer.from('file:///tmp/ä.txt').toString('base64')}?=`,
    });
    await client.getPrompt('greet');
    expect(pick(calls.at(-1)!.headers)).toEqual({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'prompts/get',
      'mcp-name': 'greet',
    });
  });

  it('modern: cancelling aborts the exchange and posts no notifications/cancelled', async () => {
    const methods: string[] = [];
    let streaming!: () => void;
    const streamOpen = new Promise<void>((r) => (streaming = r));
    let closed!: () => void;
    const streamClosed = new Promise<void>((r) => (closed = r));
    const served = await serve(async (req, res) => {
      const body = await readJson(req);
      methods.push(body.method);
      if (body.method === 'server/discover') {
        sendJson(res, 200, {
          jsonrpc: '2.0',
          id: body.id,
          result: { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} } },
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('close', () => closed()); // closing the stream is the cancellation
      res.write(': keep-alive\n\n');
      streaming();
    });
    const client = newClient();
    await client.connect(new StreamableHttpClientTransport({ url: served.url }));
    const controller = new AbortController();
    const pending = client.callTool('forever', {}, { signal: controller.signal });
    await within(streamOpen, 20_000, 'the server to open the tools/call response stream');
    controller.abort('no longer needed');
    await expect(pending).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
    await within(streamClosed, 20_000, 'the client to close the aborted response stream');
    await sleep(100); // a notifications/cancelled, if one were posted, would arrive meanwhile
    expect(methods).toEqual(['server/discover', 'tools/call']);
  });

  it('modern: a response stream that breaks loses its request with a -32603 error', async () => {
    const served = await serve(async (req, res) => {
      const body = await readJson(req);
      if (body.method === 'server/discover') {
        sendJson(res, 200, {
          jsonrpc: '2.0',
          id: body.id,
          result: { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} } },
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `id: 1\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } })}\n\n`,
      );
      setTimeout(() => res.socket!.destroy(), 20);
    });
    const client = newClient();
    await client.connect(new StreamableHttpClientTransport({ url: served.url }));
    const error = await client.callTool('breaks', {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JsonRpcError);
    expect(error).toMatchObject({
      code: -32603,
      message: expect.stringContaining('ended before the response'),
    });
  });

  it('legacy: an id-less JSON-RPC error body to the probe still lets the client fall back', async () => {
    // The SDK v1 shape: 400 + {"id":null,"error":{"code":-32000,...}} (no id: the request was not read).
    const { served, log } = await legacyServer({
      probeBody: {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32000, message: 'Bad Request: Server not initialized' },
      },
    });
    const client = newClient();
    await client.connect(new StreamableHttpClientTransport({ url: served.url, openGetStream: false }));
    expect(client.era).toBe('legacy');
    expect(log.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']); // no GET stream when told so
  });
});

describe('pure units', () => {
  const streamOf = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });

  it('reads SSE events split across chunks, with retry and comments', async () => {
    const events: unknown[] = [];
    const retries: number[] = [];
    await readSseStream(
      streamOf(
        ': keep-alive\r\n\r\nretry: 250\nid: 7\nda',
        'ta: {"a":1}\n\nevent: endpoint\ndata: /m?s=1\n\n',
      ),
      { onevent: (e) => events.push(e), onretry: (ms) => retries.push(ms) },
      1024,
    );
    expect(events).toEqual([
      { id: '7', event: undefined, data: '{"a":1}' },
      { id: undefined, event: 'endpoint', data: '/m?s=1' },
    ]);
    expect(retries).toEqual([250]);
  });

  it('refuses an SSE event larger than the limit', async () => {
    await expect(
      readSseStream(streamOf(`data: ${'x'.repeat(2000)}`), { onevent: () => {} }, 1024),
    ).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
  });

  it('encodes values as the spec table says', () => {
    expect(encodeHeaderValue('us-west1')).toBe('us-west1');
    expect(encodeHeaderValue('Hello, 世界')).toBe('=?base64?SGVsbG8sIOS4lueVjA==?=');
    expect(encodeHeaderValue(' padded ')).toBe('=?base64?IHBhZGRlZCA=?=');
    expect(encodeHeaderValue('line1\nline2')).toBe('=?base64?bGluZTEKbGluZTI=?=');
    expect(encodeHeaderValue('=?base64?literal?=')).toBe('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=');
  });

  it('rejects annotations reachable only through $ref targets or conditionals', () => {
    expect(
      scanToolHeaders({
        type: 'object',
        properties: { a: { $ref: '#/$defs/A' } },
        $defs: { A: { type: 'string', 'x-mcp-header': 'A' } },
      }).ok,
    ).toBe(false);
    expect(
      scanToolHeaders({ type: 'object', if: { properties: { a: { type: 'string', 'x-mcp-header': 'A' } } } })
        .ok,
    ).toBe(false);
    expect(
      scanToolHeaders({
        type: 'object',
        properties: { a: { type: ['string', 'null'], 'x-mcp-header': 'A' } },
      }),
    ).toEqual({
      ok: true,
      declarations: [{ path: ['a'], name: 'A' }],
    });
  });
});
