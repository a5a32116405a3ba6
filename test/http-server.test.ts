/**
 * The Streamable HTTP server: official SDK clients in both eras, HTTP+SSE, framework mounting, and
 * bad input answered with the spec's status and a JSON-RPC error body while the server keeps serving.
 */
import type http from 'node:http';
import net from 'node:net';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import express from 'express';
import { Hono } from 'hono';
import { serve as honoServe } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { createNodeHandler, createWebHandler, serveHttp } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';
import { elicited, exercise, sampled } from './sdk-exercise.js';
import type { AnyClient } from './sdk-exercise.js';

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
const JSON_ACCEPT = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let srv: HttpServerHandle;
beforeAll(async () => {
  srv = await serveHttp(createEverythingServer(), { port: 0, maxBodyBytes: 64 * 1024, bodyTimeoutMs: 500 });
});
afterAll(() => srv.close());

function modernEcho(id: number, text = 'ok') {
  return {
    method: 'POST',
    headers: {
      ...JSON_ACCEPT,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text }, _meta: MODERN_META },
    }),
  };
}

async function stillServing(): Promise<void> {
  const r = await fetch(srv.url, modernEcho(999, 'still serving'));
  expect(r.status).toBe(200);
  expect(((await r.json()) as any).result.content[0].text).toBe('still serving');
}

async function expectError(r: Response, status: number, code: number): Promise<any> {
  expect(r.status).toBe(status);
  const body = (await r.json()) as any;
  expect(body.jsonrpc).toBe('2.0');
  expect(body.error.code).toBe(code);
  await stillServing();
  return body;
}

/** A raw HTTP/1.1 request, for headers fetch will not send (Host) and bodies it will not stall. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => {
      out += d;
    });
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

describe('bad input over HTTP', () => {
  it('modern: each mistake gets its status and JSON-RPC error', async () => {
    await expectError(await fetch(srv.url, { method: 'PUT', headers: JSON_ACCEPT, body: '{}' }), 405, -32600);
    await expectError(
      await fetch(srv.url, {
        ...modernEcho(1),
        headers: { ...modernEcho(1).headers, accept: 'application/json' },
      }),
      406,
      -32600,
    );
    await expectError(
      await fetch(srv.url, { ...modernEcho(2), headers: { ...modernEcho(2).headers, accept: 'text/html' } }),
      406,
      -32600,
    );
    await expectError(
      await fetch(srv.url, {
        ...modernEcho(3),
        headers: { ...modernEcho(3).headers, 'content-type': 'text/plain' },
      }),
      415,
      -32600,
    );
    await expectError(await fetch(srv.url, modernEcho(4, 'x'.repeat(70 * 1024))), 413, -32600);
    await expectError(await fetch(srv.url, { ...modernEcho(5), body: '{"jsonrpc":' }), 400, -32700);
    await expectError(
      await fetch(srv.url, { ...modernEcho(6), body: `[${modernEcho(6).body}]` }),
      400,
      -32600,
    );
    const mismatch = await expectError(
      await fetch(srv.url, {
        ...modernEcho(7),
        headers: { ...modernEcho(7).headers, 'mcp-name': 'not-echo' },
      }),
      400,
      -32020,
    );
    expect(mismatch.id).toBe(7);
    await expectError(
      await fetch(srv.url, {
        ...modernEcho(8),
        headers: { ...modernEcho(8).headers, 'mcp-protocol-version': '2025-11-25' },
      }),
      400,
      -32020,
    );
    const unknown = await fetch(srv.url, {
      method: 'POST',
      headers: { ...JSON_ACCEPT, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'no/such' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'no/such', params: { _meta: MODERN_META } }),
    });
    await expectError(unknown, 404, -32601);
    const old = await fetch(srv.url, {
      method: 'POST',
      headers: { ...JSON_ACCEPT, 'mcp-protocol-version': '1999-01-01', 'mcp-method': 'tools/list' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 10,
        method: 'tools/list',
        params: { _meta: { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': '1999-01-01' } },
      }),
    });
    const body = await expectError(old, 400, -32022);
    expect(body.error.data).toEqual({
      supported: expect.arrayContaining(['2026-07-28', '2025-11-25']),
      requested: '1999-01-01',
    });
  });

  it('legacy: sessions, batches, Origin and Host', async () => {
    const init = await fetch(srv.url, {
      method: 'POST',
      headers: JSON_ACCEPT,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    expect(init.status).toBe(200);
    const sid = init.headers.get('mcp-session-id')!;
    expect(sid).toMatch(/^[\x21-\x7e]+$/);
    const headers = { ...JSON_ACCEPT, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect((await fetch(srv.url, { method: 'POST', headers, body: list })).status).toBe(200);
    await expectError(
      await fetch(srv.url, { method: 'POST', headers: JSON_ACCEPT, body: list }),
      400,
      -32600,
    );
    await expectError(
      await fetch(srv.url, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': 'no-such-session' },
        body: list,
      }),
      404,
      -32001,
    );
    await expectError(await fetch(srv.url, { method: 'POST', headers, body: `[${list}]` }), 400, -32600);
    await expectError(
      await fetch(srv.url, {
        method: 'POST',
        headers: { ...headers, origin: 'http://evil.example.com' },
        body: list,
      }),
      403,
      -32600,
    );
    const evilHost = await raw(
      srv.address.port,
      `POST /mcp HTTP/1.1\r\nHost: evil.example.com\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${list.length}\r\nConnection: close\r\n\r\n${list}`,
    );
    expect(evilHost).toMatch(/^HTTP\/1\.1 403/);
    expect(evilHost).toContain('"code":-32600');
    expect((await fetch(srv.url, { method: 'DELETE', headers })).status).toBe(200);
    await expectError(await fetch(srv.url, { method: 'POST', headers, body: list }), 404, -32001);
  });

  it('a client that never finishes its body times out and holds nothing', async () => {
    const started = Date.now();
    const answer = await raw(
      srv.address.port,
      'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":"2.0",',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5000);
    await stillServing();
  });
});

describe('official SDK clients over Streamable HTTP', () => {
  it('v1 StreamableHTTPClientTransport (legacy, sessionful)', async () => {
    const client = new V1Client(
      { name: 'sdk-v1', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {} } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, async () => sampled);
    client.setRequestHandler(ElicitRequestSchema, async () => elicited);
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
      logs.push(n.params.data);
    });
    const transport = new V1Http(new URL(srv.url));
    await client.connect(transport);
    expect(transport.sessionId).toBeTruthy();
    await exercise(client as unknown as AnyClient, (name, args, opts) =>
      client.callTool({ name, arguments: args as any }, undefined, opts),
    );
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed']);
    await transport.terminateSession();
    await client.close();
  });

  for (const mode of ['legacy', 'auto'] as const) {
    it(`v2 StreamableHTTPClientTransport, versionNegotiation ${mode}`, async () => {
      const client = new V2Client(
        { name: 'sdk-v2', version: '1.0.0' },
        { capabilities: { sampling: {}, elicitation: {} }, versionNegotiation: { mode } },
      );
      client.setRequestHandler('sampling/createMessage', async () => sampled);
      client.setRequestHandler('elicitation/create', async () => elicited);
      await client.connect(new V2Http(new URL(srv.url)));
      expect(client.getNegotiatedProtocolVersion?.()).toBe(mode === 'auto' ? '2026-07-28' : '2025-11-25');
      await exercise(client as unknown as AnyClient, (name, args, opts) =>
        client.callTool({ name, arguments: args as any }, opts),
      );
      await client.close();
    });
  }

  it('v1 SSEClientTransport (2024-11-05 HTTP+SSE endpoints)', async () => {
    const client = new V1Client(
      { name: 'sdk-v1-sse', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {} } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, async () => sampled);
    client.setRequestHandler(ElicitRequestSchema, async () => elicited);
    await client.connect(new V1Sse(new URL(srv.url.replace(/\/mcp$/, '/sse'))));
    await exercise(client as unknown as AnyClient, (name, args, opts) =>
      client.callTool({ name, arguments: args as any }, undefined, opts),
    );
    await client.close();
  });
});

describe('mounting in frameworks', () => {
  async function callThrough(url: string) {
    const client = new V2Client(
      { name: 'mount', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(new V2Http(new URL(url)));
    const r = await client.callTool({ name: 'echo', arguments: { text: 'mounted' } });
    await client.close();
    return r.content;
  }

  it('Express: app.all("/mcp", createNodeHandler(server)) with express.json() in front', async () => {
    const app = express();
    app.use(express.json());
    const handler = createNodeHandler(createEverythingServer());
    app.all('/mcp', handler);
    const listener = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const { port } = listener.address() as net.AddressInfo;
    expect(await callThrough(`http://127.0.0.1:${port}/mcp`)).toEqual([{ type: 'text', text: 'mounted' }]);
    await handler.http.close();
    listener.closeAllConnections();
    await new Promise((r) => listener.close(r));
  });

  it('Hono: app.all("/mcp", (c) => handler(c.req.raw)) with the web-standard handler', async () => {
    const handler = createWebHandler(createEverythingServer());
    const app = new Hono();
    app.all('/mcp', (c) => handler(c.req.raw));
    const listener = await new Promise<ReturnType<typeof honoServe>>((resolve) => {
      const s = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const { port } = listener.address() as net.AddressInfo;
    expect(await callThrough(`http://127.0.0.1:${port}/mcp`)).toEqual([{ type: 'text', text: 'mounted' }]);
    await handler.http.close();
    (listener as unknown as http.Server).closeAllConnections?.();
    await new Promise((r) => listener.close(r));
  });
});
