/**
 * Resumption (2025-11-25 basic/transports "Resumability and Redelivery"): a legacy SSE stream cut in
 * the middle of a tool call that sends 100 progress notifications is resumed with `Last-Event-ID`;
 * the client sees every notification once, in order, and then the result.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { McpServer } from '../src/server/mcp-server.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { createNodeHandler } from '../src/transports/streamable-http/node.js';

const seen: { method: string; lastEventId?: string }[] = [];
let listener: http.Server;
let url: string;
const handler = (() => {
  const server = new McpServer({ name: 'resume', version: '1.0.0' });
  server.registerTool(
    'hundred',
    { description: 'sends 100 progress notifications, cutting its stream at 50' },
    async (_a, ctx) => {
      for (let i = 1; i <= 100; i++) {
        await ctx.progress(i, 100);
        if (i === 50) ctx.closeSseStream();
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      return 'all 100 sent';
    },
  );
  return createNodeHandler(server, { sseRetryMs: 200 });
})();

beforeAll(async () => {
  listener = http.createServer((req, res) => {
    const last = req.headers['last-event-id'];
    seen.push(
      last === undefined ? { method: req.method! } : { method: req.method!, lastEventId: String(last) },
    );
    handler(req, res);
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/mcp`;
});
afterAll(async () => {
  await handler.http.close();
  listener.closeAllConnections();
  await new Promise((r) => listener.close(r));
});

it('resumes a cut stream with Last-Event-ID: every notification once, in order, then the result', async () => {
  const client = new Client({ name: 'resume-test', version: '1.0.0' }, { era: 'legacy' });
  await client.connect(new StreamableHttpClientTransport({ url, openGetStream: false }));
  const progress: number[] = [];
  const started = Date.now();
  const result = await client.callTool('hundred', {}, { onprogress: (p) => progress.push(p.progress) });
  expect(result.content).toEqual([{ type: 'text', text: 'all 100 sent' }]);
  expect(progress).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  const resumes = seen.filter((s) => s.method === 'GET' && s.lastEventId !== undefined);
  expect(resumes.length).toBeGreaterThanOrEqual(1);
  expect(Date.now() - started).toBeGreaterThanOrEqual(200); // the client waited the server's retry: delay
  await client.close();
});
