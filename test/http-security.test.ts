/**
 * DNS rebinding and CSRF on every bind (issue 7 item 2): `Origin` is checked on every bind and a
 * browser origin not in `allowedOrigins` gets 403 on Streamable HTTP (both eras), HTTP+SSE and the
 * WebSocket upgrade; `Host` is checked against `allowedHosts`; a non-loopback bind with neither
 * `allowedHosts` nor authentication gets one warning. The non-loopback bind is simulated with
 * `bindHost` on a listener bound to 127.0.0.1 (tests never bind other interfaces).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { exposureWarning } from '../src/transports/shared/http-security.js';
import { createNodeHandler } from '../src/transports/streamable-http/node.js';
import type { NodeMcpHandler } from '../src/transports/streamable-http/node.js';
import type { StreamableHttpOptions } from '../src/transports/streamable-http/index.js';
import { attachWebSocket } from '../src/transports/websocket/server.js';

const MODERN = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'echo',
    arguments: { text: 'ran' },
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});
const MODERN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'echo',
};
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request: node:http sends the Host header we give it (fetch will not). */
function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      if ((res.headers['content-type'] ?? '').includes('text/event-stream')) {
        // An SSE stream stays open: its headers are the answer.
        res.destroy();
        resolve({ status: res.statusCode!, headers: res.headers, body: '' });
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function serve(options: StreamableHttpOptions) {
  const handler: NodeMcpHandler = createNodeHandler(createEverythingServer(), { path: '/mcp', ...options });
  const listener = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as AddressInfo).port;
  return {
    port,
    handler,
    listener,
    close: async () => {
      await handler.http.close();
      listener.closeAllConnections();
      await new Promise((r) => listener.close(r));
    },
  };
}

function expect403(r: Reply, what: RegExp): void {
  expect(r.status).toBe(403);
  const body = JSON.parse(r.body) as { error: { code: number; message: string } };
  expect(body.error.code).toBe(-32600);
  expect(body.error.message).toMatch(what);
}

describe('a non-loopback bind without allowedHosts or allowedOrigins', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    s = await serve({ bindHost: '0.0.0.0' });
  });
  afterAll(() => s.close());
  const evil = { host: 'evil.example:8080', origin: 'http://evil.example:8080' };

  it('refuses a rebinding browser (Host and Origin both evil) on a modern tool call: 403, nothing ran', async () => {
    const r = await request(s.port, 'POST', '/mcp', { ...MODERN_HEADERS, ...evil }, MODERN);
    expect403(r, /Origin http:\/\/evil\.example:8080 is not allowed/);
  });

  it('mints no legacy session for it', async () => {
    const before = s.handler.http.sessions.size;
    const r = await request(
      s.port,
      'POST',
      '/mcp',
      { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...evil },
      INITIALIZE,
    );
    expect403(r, /Origin/);
    expect(r.headers['mcp-session-id']).toBeUndefined();
    expect(s.handler.http.sessions.size).toBe(before);
  });

  it('refuses it on HTTP+SSE (/sse and /messages)', async () => {
    expect403(await request(s.port, 'GET', '/sse', { accept: 'text/event-stream', ...evil }), /Origin/);
    expect403(
      await request(
        s.port,
        'POST',
        '/messages?sessionId=x',
        { 'content-type': 'application/json', ...evil },
        '{}',
      ),
      /Origin/,
    );
  });

  it('refuses the opaque origin `null` and a malformed one', async () => {
    expect403(await request(s.port, 'POST', '/mcp', { ...MODERN_HEADERS, origin: 'null' }, MODERN), /opaque/);
    expect403(
      await request(s.port, 'POST', '/mcp', { ...MODERN_HEADERS, origin: 'not a url' }, MODERN),
      /invalid/,
    );
  });

  it('still serves non-browser clients (no Origin) on any Host', async () => {
    const r = await request(s.port, 'POST', '/mcp', { ...MODERN_HEADERS, host: 'anything.example' }, MODERN);
    expect(r.status).toBe(200);
    expect(r.body).toContain('ran');
  });
});

describe('allowedHosts and allowedOrigins', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    s = await serve({
      bindHost: '0.0.0.0',
      allowedHosts: ['mcp.example.com'],
      allowedOrigins: ['https://app.example.com'],
    });
  });
  afterAll(() => s.close());

  it('a Host not listed is 403, even without Origin', async () => {
    expect403(
      await request(s.port, 'POST', '/mcp', { ...MODERN_HEADERS, host: 'evil.example' }, MODERN),
      /Host/,
    );
  });

  it('a listed origin on a listed host is served; any other origin is 403', async () => {
    const ok = await request(
      s.port,
      'POST',
      '/mcp',
      { ...MODERN_HEADERS, host: 'mcp.example.com', origin: 'https://app.example.com' },
      MODERN,
    );
    expect(ok.status).toBe(200);
    for (const origin of [
      'http://evil.example',
      'https://app.example.com.evil.example',
      'http://mcp.example.com',
    ])
      expect403(
        await request(s.port, 'POST', '/mcp', { ...MODERN_HEADERS, host: 'mcp.example.com', origin }, MODERN),
        /Origin/,
      );
  });

  it('without allowedOrigins, the same-origin page of a listed host is served', async () => {
    const t = await serve({ bindHost: '0.0.0.0', allowedHosts: ['mcp.example.com'] });
    try {
      const same = { host: 'mcp.example.com', origin: 'http://mcp.example.com' };
      expect((await request(t.port, 'POST', '/mcp', { ...MODERN_HEADERS, ...same }, MODERN)).status).toBe(
        200,
      );
      expect403(
        await request(
          t.port,
          'POST',
          '/mcp',
          { ...MODERN_HEADERS, host: 'mcp.example.com', origin: 'http://x.example' },
          MODERN,
        ),
        /Origin/,
      );
    } finally {
      await t.close();
    }
  });
});

describe('a loopback bind (the default)', () => {
  it('serves loopback origins and refuses others', async () => {
    const s = await serve({});
    try {
      const host = `127.0.0.1:${s.port}`;
      const ok = await request(
        s.port,
        'POST',
        '/mcp',
        { ...MODERN_HEADERS, host, origin: 'http://localhost:5173' },
        MODERN,
      );
      expect(ok.status).toBe(200);
      expect403(
        await request(
          s.port,
          'POST',
          '/mcp',
          { ...MODERN_HEADERS, host, origin: 'http://evil.example' },
          MODERN,
        ),
        /Origin/,
      );
      expect403(
        await request(s.port, 'POST', '/mcp', { ...MODERN_HEADERS, host: 'evil.example' }, MODERN),
        /Host/,
      );
    } finally {
      await s.close();
    }
  });
});

describe('the WebSocket upgrade uses the same check', () => {
  it('refuses a foreign Origin on a non-loopback bind with 403', async () => {
    const listener = http.createServer();
    const attachment = attachWebSocket(createEverythingServer(), listener, { bindHost: '0.0.0.0' });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as AddressInfo).port;
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'mcp', {
          headers: { host: 'evil.example', origin: 'http://evil.example' },
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', reject);
      });
      expect(status).toBe(403);
    } finally {
      await attachment.close();
      listener.closeAllConnections();
      await new Promise((r) => listener.close(r));
    }
  });
});

describe('the exposure warning', () => {
  it('is given for a non-loopback bind with neither allowedHosts nor authentication, and names the fix', () => {
    const w = exposureWarning('Streamable HTTP', '0.0.0.0', { authenticated: false });
    expect(w).toMatch(/0\.0\.0\.0/);
    expect(w).toMatch(/allowedHosts/);
    expect(w).toMatch(/authenticat/);
    expect(w!.trim().split('\n')).toHaveLength(1);
    expect(exposureWarning('Streamable HTTP', '127.0.0.1', { authenticated: false })).toBeUndefined();
    expect(exposureWarning('Streamable HTTP', '::1', { authenticated: false })).toBeUndefined();
    expect(
      exposureWarning('Streamable HTTP', '0.0.0.0', { authenticated: false, allowedHosts: ['a'] }),
    ).toBeUndefined();
    expect(exposureWarning('Streamable HTTP', '0.0.0.0', { authenticated: true })).toBeUndefined();
  });
});
