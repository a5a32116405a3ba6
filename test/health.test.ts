/**
 * Health endpoints of the Streamable HTTP binding (issue 11 item 2): `/healthz` (liveness) and
 * `/readyz` (the server's stores answer within readyTimeoutMs, and it is not shutting down), served
 * by `serveHttp` by default, before Host checks and authentication; `anywire serve --node-id`.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError } from '../src/protocol/auth.js';
import { McpServer } from '../src/server/mcp-server.js';
import { createNodeHandler, serveHttp } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';
import { freePort, start } from './cli-run.js';
import { EVERYTHING, modernToolCall } from './helpers.js';

const handles: HttpServerHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

/** A server whose shared stores answer `ready()` as told. */
function serverWithStores(ready: () => Promise<void>): McpServer {
  return new McpServer({ name: 'health', version: '1.0.0' }, { stores: { ready } });
}

/** A raw request (any Host header), for what a load balancer's probe sends. */
function request(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(server: McpServer, options: Parameters<typeof serveHttp>[1] = {}) {
  const h = await serveHttp(server, { port: 0, ...options });
  handles.push(h);
  return { h, base: `http://127.0.0.1:${h.address.port}` };
}

describe('serveHttp health endpoints', () => {
  it('/healthz answers 200 with the node id, to GET and HEAD; other methods 405', async () => {
    const { base } = await serve(new McpServer({ name: 'h', version: '1' }), { nodeId: 'n1' });
    const get = await request(`${base}/healthz`);
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('application/json');
    expect(get.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(get.body)).toEqual({ status: 'ok', nodeId: 'n1' });
    const head = await request(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const post = await request(`${base}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('defaults the node id to hostname-pid', async () => {
    const { base, h } = await serve(new McpServer({ name: 'h', version: '1' }));
    const body = JSON.parse((await request(`${base}/healthz`)).body) as { nodeId: string };
    expect(body.nodeId).toMatch(new RegExp(`-${process.pid}$`));
    expect(h.http.nodeId).toBe(body.nodeId);
  });

  it('probes pass no authenticator and no Host check; the MCP endpoint still refuses', async () => {
    const { base } = await serve(new McpServer({ name: 'h', version: '1' }), {
      authenticator: {
        authenticate: () => {
          throw new AuthError(401, 'no token', { error: 'invalid_token' });
        },
      },
    });
    const probe = await request(`${base}/healthz`, { headers: { host: 'lb.internal:8080' } });
    expect(probe.status).toBe(200);
    expect((await request(`${base}/readyz`, { headers: { host: 'lb.internal:8080' } })).status).toBe(200);
    expect((await request(`${base}/mcp`, { headers: { host: 'lb.internal:8080' } })).status).toBe(403);
    expect((await request(`${base}/mcp`)).status).toBe(401);
  });

  it('/readyz is 200 without shared stores and when stores.ready() resolves', async () => {
    const plain = await serve(new McpServer({ name: 'h', version: '1' }), { nodeId: 'plain' });
    const a = await request(`${plain.base}/readyz`);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ status: 'ready', nodeId: 'plain' });
    let calls = 0;
    const stored = await serve(
      serverWithStores(async () => {
        calls++;
      }),
    );
    expect((await request(`${stored.base}/readyz`)).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('/readyz is 503 with the reason when stores.ready() rejects, and 200 again once it resolves', async () => {
    let down = true;
    const { base } = await serve(
      serverWithStores(async () => {
        if (down) throw new Error('Redis unreachable at redis://127.0.0.1:1 (ECONNREFUSED)');
      }),
      { nodeId: 'n2' },
    );
    const no = await request(`${base}/readyz`);
    expect(no.status).toBe(503);
    expect(JSON.parse(no.body)).toEqual({
      status: 'not ready',
      nodeId: 'n2',
      reason: 'stores not ready: Redis unreachable at redis://127.0.0.1:1 (ECONNREFUSED)',
    });
    // Liveness does not depend on the stores.
    expect((await request(`${base}/healthz`)).status).toBe(200);
    down = false;
    expect((await request(`${base}/readyz`)).status).toBe(200);
  });

  it('/readyz is 503 when stores.ready() does not settle within readyTimeoutMs; concurrent probes share one check', async () => {
    let calls = 0;
    const { base } = await serve(
      serverWithStores(() => {
        calls++;
        return new Promise<void>(() => {});
      }),
      { readyTimeoutMs: 100 },
    );
    const t0 = Date.now();
    const answers = await Promise.all([1, 2, 3].map(() => request(`${base}/readyz`)));
    expect(Date.now() - t0).toBeLessThan(10_000);
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(JSON.parse(a.body).reason).toBe('stores did not answer within readyTimeoutMs (100 ms)');
    }
    expect(calls).toBe(1);
  });

  it('/readyz says "shutting down" once close() began, while requests in flight finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = new McpServer({ name: 'h', version: '1' });
    server.registerTool('slow', {}, async () => {
      await gate;
      return 'done';
    });
    const h = await serveHttp(server, { port: 0, shutdownGraceMs: 30_000 });
    const base = `http://127.0.0.1:${h.address.port}`;
    const call = modernToolCall(h.url, 'slow');
    // The request is in flight once the server counts a stream for it.
    const deadline = Date.now() + 10_000;
    while (server.inFlight === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.inFlight, 'the slow call never reached the server').toBe(1);
    const closing = h.close();
    const ready = await request(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).reason).toBe('shutting down');
    expect((await request(`${base}/healthz`)).status).toBe(200);
    release();
    expect(
      ((await (await call).json()) as { result: { content: { text: string }[] } }).result.content[0]!.text,
    ).toBe('done');
    await closing;
  });

  it('healthPath/readyPath false turn them off; a mounted handler serves them only when asked', async () => {
    const { base } = await serve(new McpServer({ name: 'h', version: '1' }), {
      healthPath: false,
      readyPath: false,
    });
    expect((await request(`${base}/healthz`)).status).toBe(404);
    expect((await request(`${base}/readyz`)).status).toBe(404);
    const custom = await serve(new McpServer({ name: 'h', version: '1' }), {
      healthPath: '/live',
      readyPath: '/ready',
    });
    expect((await request(`${custom.base}/live`)).status).toBe(200);
    expect((await request(`${custom.base}/ready`)).status).toBe(200);
    expect(() =>
      createNodeHandler(new McpServer({ name: 'h', version: '1' }), { healthPath: 'healthz' }),
    ).toThrow(/healthPath must be a path starting with \//);
    expect(() =>
      createNodeHandler(new McpServer({ name: 'h', version: '1' }), { readyTimeoutMs: 0 }),
    ).toThrow(/readyTimeoutMs must be a finite number >= 1/);
    // createNodeHandler (a framework routes paths to it) has no probes unless given paths.
    const mounted = createNodeHandler(new McpServer({ name: 'h', version: '1' }), { path: '/mcp' });
    const listener = http.createServer(mounted).listen(0, '127.0.0.1');
    await new Promise((r) => listener.once('listening', r));
    try {
      const port = (listener.address() as { port: number }).port;
      expect((await request(`http://127.0.0.1:${port}/healthz`)).status).toBe(404);
    } finally {
      await mounted.http.close();
      await new Promise((r) => listener.close(r));
    }
  });
});

describe('anywire serve --node-id', () => {
  it('names the node in /healthz; a malformed id is refused before serving', async () => {
    const port = await freePort();
    const s = await start(
      ['serve', EVERYTHING, '--http', String(port), '--node-id', 'edge-7'],
      /http:\/\/127\.0\.0\.1:\d+\/mcp/,
    );
    try {
      const a = await request(`http://127.0.0.1:${port}/healthz`);
      expect(JSON.parse(a.body)).toEqual({ status: 'ok', nodeId: 'edge-7' });
      expect((await request(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    const { anywire } = await import('./cli-run.js');
    const bad = await anywire(['serve', EVERYTHING, '--http', '0', '--node-id', 'a b']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--node-id.*expected 1 to 64 letters/);
  });
});
