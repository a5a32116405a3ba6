/**
 * Shutdown loses no response (issue 7 item 6): on `close()` every request in flight gets its
 * response written before its stream closes, within `shutdownGraceMs`; new requests get 503.
 * Deterministic: the tool waits on a gate the test opens only after `close()` was called.
 */
import { expect, it } from 'vitest';
import { McpServer } from '../src/server/mcp-server.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import { openLegacySession } from './helpers.js';

it('a legacy SSE call that got progress 10/10 still gets its result when the server closes meanwhile', async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const server = new McpServer({ name: 'shutdown', version: '1.0.0' });
  server.registerTool('ten', {}, async (_a, ctx) => {
    for (let i = 1; i <= 10; i++) await ctx.progress(i, 10);
    await gate;
    return 'the result';
  });
  const srv = await serveHttp(server, { port: 0, shutdownGraceMs: 30_000 });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const session = await openLegacySession(srv.url);
  const call = await fetch(srv.url, {
    method: 'POST',
    headers: { ...headers, ...session },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'ten', arguments: {}, _meta: { progressToken: 'p' } },
    }),
  });
  const reader = call.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('"progress":10')) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before progress 10: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  const closed = srv.close();
  // A new request during shutdown is refused rather than started.
  const late = await fetch(srv.url, {
    method: 'POST',
    headers: { ...headers, ...session },
    body: '{}',
  }).catch((e: Error) => e);
  if (!(late instanceof Error)) expect(late.status).toBe(503);
  open();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  expect(text).toContain('the result');
  await closed;
});
