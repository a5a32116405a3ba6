/**
 * `MCP-Protocol-Version` on a legacy session (issue 7 item 7.1): a value that names no revision
 * (`garbage`) is 400 on POST, GET and DELETE; a supported one is served.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';

const ACCEPT = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
let srv: HttpServerHandle;
let session: string;

beforeAll(async () => {
  srv = await serveHttp(createEverythingServer(), { port: 0 });
  const r = await fetch(srv.url, {
    method: 'POST',
    headers: ACCEPT,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  session = r.headers.get('mcp-session-id')!;
  await r.text();
});
afterAll(() => srv.close());

const list = (version: string) =>
  fetch(srv.url, {
    method: 'POST',
    headers: { ...ACCEPT, 'mcp-session-id': session, 'mcp-protocol-version': version },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });

it('POST with MCP-Protocol-Version: garbage on a legacy session is 400 with a JSON-RPC error', async () => {
  for (const version of ['garbage', '9999-99-99', '2026-07-28x', '']) {
    const r = await list(version);
    expect(r.status, version).toBe(400);
    const body = (await r.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32600);
    expect(body.error.message).toMatch(/unsupported MCP-Protocol-Version/);
  }
  const ok = await list('2025-11-25');
  expect(ok.status).toBe(200);
  expect(((await ok.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
});

it('GET and DELETE with a garbage version are 400 too, and the session survives', async () => {
  const get = await fetch(srv.url, {
    headers: { accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': 'garbage' },
  });
  expect(get.status).toBe(400);
  await get.text();
  const del = await fetch(srv.url, {
    method: 'DELETE',
    headers: { 'mcp-session-id': session, 'mcp-protocol-version': 'garbage' },
  });
  expect(del.status).toBe(400);
  await del.text();
  expect((await list('2025-11-25')).status).toBe(200);
});
