/**
 * Limits of the Streamable HTTP binding that clients must actually see (issue 7 items 4 and 5):
 * a 413 delivered with its JSON-RPC error body while the client is still uploading, the stream
 * cap counting HTTP+SSE streams, idle expiry of sessions whose GET stream closed, the connection
 * cap and headers timeout, and a cancelled legacy call's stream closing promptly.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';
import { openLegacySession } from './helpers.js';

const MODERN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'echo',
};

function echo(text: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { text },
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  });
}

async function stillServing(url: string): Promise<void> {
  const r = await fetch(url, { method: 'POST', headers: MODERN_HEADERS, body: echo('still serving') });
  expect(r.status).toBe(200);
  expect(await r.text()).toContain('still serving');
}

describe('413 that clients see', () => {
  let srv: HttpServerHandle;
  beforeAll(async () => {
    srv = await serveHttp(createEverythingServer(), { port: 0, maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => srv.close());

  it('20 of 20 fetch uploads of an oversized body (declared length) get the 413 with its JSON-RPC error', async () => {
    const body = echo('x'.repeat(6 * 1024 * 1024));
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      try {
        const r = await fetch(srv.url, { method: 'POST', headers: MODERN_HEADERS, body });
        const json = (await r.json()) as { error?: { code: number; message: string } };
        outcomes.push(`${r.status} ${json.error?.code}`);
      } catch (error) {
        outcomes.push(`failed: ${String((error as Error).cause ?? error)}`);
      }
    }
    expect(outcomes).toEqual(Array(20).fill('413 -32600'));
    await stillServing(srv.url);
  });

  it('the client still uploading after the 413 finishes its upload without a reset, and the connection serves on', async () => {
    const port = srv.address.port;
    const total = 4 * 1024 * 1024;
    const valid = echo('after the 413');
    const result = await new Promise<{ error?: string; replies: string }>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let replies = '';
      let uploading = false;
      s.on('error', (e) => resolve({ error: String(e), replies }));
      s.on('data', (d) => {
        replies += d.toString('latin1');
        // Only once the 413 is in hand, send the rest of the refused body (4 MiB), then a valid request.
        if (!uploading && replies.includes('\r\n\r\n')) {
          uploading = true;
          let sent = 256 * 1024;
          const chunk = Buffer.alloc(256 * 1024, 'x');
          const more = () => {
            while (sent < total) {
              sent += chunk.length;
              if (!s.write(chunk)) return void s.once('drain', more);
            }
            s.write(
              `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${Object.entries(MODERN_HEADERS)
                .map(([k, v]) => `${k}: ${v}\r\n`)
                .join('')}content-length: ${Buffer.byteLength(valid)}\r\n\r\n${valid}`,
            );
          };
          more();
        }
        if (replies.includes('after the 413')) {
          s.end();
          resolve({ replies });
        }
      });
      s.on('connect', () => {
        s.write(
          `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${Object.entries(MODERN_HEADERS)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join('')}content-length: ${total}\r\n\r\n`,
        );
        s.write(Buffer.alloc(256 * 1024, 'x'));
      });
      s.on('close', () => resolve({ replies }));
    });
    expect(result.error).toBeUndefined();
    expect(result.replies).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.replies).toContain('"code":-32600');
    expect(result.replies).toContain('after the 413');
  });

  it('a chunked upload (no Content-Length) that grows past the limit gets the 413 too', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 32) controller.enqueue(chunk);
          else controller.close();
        },
      });
      try {
        const r = await fetch(srv.url, {
          method: 'POST',
          headers: MODERN_HEADERS,
          body: stream,
          duplex: 'half',
        } as RequestInit);
        const json = (await r.json()) as { error?: { code: number } };
        outcomes.push(`${r.status} ${json.error?.code}`);
      } catch (error) {
        outcomes.push(`failed: ${String((error as Error).cause ?? error)}`);
      }
    }
    expect(outcomes).toEqual(Array(5).fill('413 -32600'));
    await stillServing(srv.url);
  });

  it('a body far beyond the drain bound gets its connection closed rather than read forever', async () => {
    // 64 KiB limit; keep sending until the server closes the connection.
    const port = srv.address.port;
    const outcome = await new Promise<{ bytes: number; status: string }>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let written = 0;
      let reply = '';
      const chunk = Buffer.alloc(256 * 1024, 'x');
      s.on('connect', () => {
        s.write(
          `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\naccept: */*\r\ntransfer-encoding: chunked\r\n\r\n`,
        );
        const pump = () => {
          while (!s.destroyed && written < 1024 * 1024 * 1024) {
            written += chunk.length;
            if (!s.write(`${chunk.length.toString(16)}\r\n`) || !s.write(chunk) || !s.write('\r\n')) {
              s.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
      s.on('data', (d) => (reply += d.toString('latin1')));
      const done = () => resolve({ bytes: written, status: reply.split('\r\n')[0] ?? '' });
      s.on('close', done);
      s.on('error', () => {});
    });
    expect(outcome.status).toBe('HTTP/1.1 413 Payload Too Large');
    expect(outcome.bytes).toBeLessThan(1024 * 1024 * 1024);
    await stillServing(srv.url);
  });
});

/** Opens an SSE GET and resolves once its headers arrived; `close()` ends it from the client side. */
async function openSse(url: string, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const r = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  return {
    status: r.status,
    response: r,
    close: () => {
      ac.abort();
      return r.body?.cancel().catch(() => {});
    },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('stream cap', () => {
  it('HTTP+SSE streams count toward maxStreams: 503 beyond it, and a closed one frees its slot', async () => {
    const srv = await serveHttp(createEverythingServer(), { port: 0, maxStreams: 3 });
    const sseUrl = srv.url.replace(/\/mcp$/, '/sse');
    try {
      const open = [await openSse(sseUrl), await openSse(sseUrl), await openSse(sseUrl)];
      expect(open.map((o) => o.status)).toEqual([200, 200, 200]);
      expect(srv.http.openStreams).toBe(3);
      const refused = await fetch(sseUrl, { headers: { accept: 'text/event-stream' } });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: number } }).error.code).toBe(-32603);
      await open[0]!.close();
      await until('the closed /sse stream to free its slot', () => srv.http.openStreams === 2);
      const again = await openSse(sseUrl);
      expect(again.status).toBe(200);
      await again.close();
      for (const o of open.slice(1)) await o.close();
      await until('every /sse stream to be released', () => srv.http.openStreams === 0);
    } finally {
      await srv.close();
    }
  });
});

describe('connections', () => {
  it('maxConnections closes sockets beyond it; idle ones go after headersTimeoutMs, and a normal client gets in', async () => {
    const srv = await serveHttp(createEverythingServer(), {
      port: 0,
      maxConnections: 10,
      headersTimeoutMs: 300,
    });
    try {
      let closed = 0;
      const idle: net.Socket[] = [];
      for (let i = 0; i < 30; i++) {
        const s = net.connect(srv.address.port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => closed++);
        // Read what the server sends: when Node's own headers-timeout check beats anywire's idle
        // timer, the socket gets a 408 Request Timeout before the close, and a socket whose data
        // is never read never emits 'end' or 'close'.
        s.resume();
        idle.push(s);
      }
      await until(
        'the sockets beyond maxConnections, then the idle ones, to be closed by the server',
        () => closed === 30,
      );
      const r = await fetch(srv.url, { method: 'POST', headers: MODERN_HEADERS, body: echo('got in') });
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('got in');
    } finally {
      await srv.close();
    }
  });

  it('rejects bad connection limits with a RangeError naming the option', async () => {
    await expect(serveHttp(createEverythingServer(), { port: 0, maxConnections: 0 })).rejects.toThrow(
      /maxConnections/,
    );
    await expect(serveHttp(createEverythingServer(), { port: 0, headersTimeoutMs: 400_000 })).rejects.toThrow(
      /headersTimeoutMs/,
    );
  });
});

describe('legacy session idle expiry', () => {
  it('a session whose GET stream was opened and closed still idles out', async () => {
    const srv = await serveHttp(createEverythingServer(), { port: 0, sessionIdleTimeoutMs: 200 });
    try {
      const session = await openLegacySession(srv.url);
      const get = await openSse(srv.url, session);
      expect(get.status).toBe(200);
      await get.close();
      await until(
        'the session to idle out after its GET stream closed',
        () => !srv.http.sessions.has(session['mcp-session-id']),
        20_000,
      );
    } finally {
      await srv.close();
    }
  });
});

describe('cancellation', () => {
  it('a cancelled legacy call’s SSE stream ends promptly, though its handler keeps running', async () => {
    const { McpServer } = await import('../src/server/mcp-server.js');
    const server = new McpServer({ name: 'cancel', version: '1.0.0' });
    server.registerTool('stubborn', {}, async (_a, ctx) => {
      await ctx.progress(1, 2, 'started');
      await new Promise((r) => setTimeout(r, 20_000).unref());
      return 'too late';
    });
    const srv = await serveHttp(server, { port: 0 });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    try {
      const session = await openLegacySession(srv.url);
      const call = await fetch(srv.url, {
        method: 'POST',
        headers: { ...headers, ...session },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'stubborn', arguments: {}, _meta: { progressToken: 'p' } },
        }),
      });
      const reader = call.body!.getReader();
      let text = '';
      while (!text.includes('notifications/progress'))
        text += new TextDecoder().decode((await reader.read()).value);
      const cancel = await fetch(srv.url, {
        method: 'POST',
        headers: { ...headers, ...session },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } }),
      });
      expect(cancel.status).toBe(202);
      const started = Date.now();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(Date.now() - started, 'the stream stayed open after the cancellation').toBeLessThan(5000);
      expect(text).not.toContain('too late');
    } finally {
      await srv.close();
    }
  });
});
