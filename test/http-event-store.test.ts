/**
 * Legacy SSE resumption is per session (issue 7 item 1) and its memory comes back (item 3a): event
 * ids are unguessable and only the owning session can resume with them; another session's, a
 * deleted session's, or a made-up `Last-Event-ID` replays nothing; a stream's events go
 * `eventRetentionMs` after its response was delivered, and a session's events go when it ends.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { InMemoryEventStore } from '../src/protocol/event-store.js';
import { McpServer } from '../src/server/mcp-server.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { createNodeHandler } from '../src/transports/streamable-http/node.js';
import type { NodeMcpHandler } from '../src/transports/streamable-http/node.js';

const ACCEPT = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const SECRET = 'tool-result-of-session-A';

function makeServer(): McpServer {
  const server = new McpServer({ name: 'event-store', version: '1.0.0' });
  server.registerTool(
    'secret',
    { description: 'one progress notification, then a secret' },
    async (_a, ctx) => {
      await ctx.progress(1, 1, 'working');
      return SECRET;
    },
  );
  server.registerTool('big', { description: 'streams one 1 MiB progress message' }, async (_a, ctx) => {
    await ctx.progress(1, 1, 'p'.repeat(1024 * 1024));
    return 'done';
  });
  return server;
}

async function listen(handler: NodeMcpHandler): Promise<{ url: string; close: () => Promise<void> }> {
  const listener = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}/mcp`,
    close: async () => {
      await handler.http.close();
      listener.closeAllConnections();
      await new Promise((r) => listener.close(r));
    },
  };
}

async function initialize(url: string): Promise<string> {
  const r = await fetch(url, {
    method: 'POST',
    headers: ACCEPT,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  expect(r.status).toBe(200);
  const id = r.headers.get('mcp-session-id')!;
  await r.text();
  const n = await fetch(url, {
    method: 'POST',
    headers: { ...ACCEPT, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(n.status).toBe(202);
  return id;
}

/** Calls `secret` with a progress token (so the answer is an SSE stream) and returns the event ids and text. */
async function callSecret(url: string, session: string): Promise<{ ids: string[]; text: string }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { ...ACCEPT, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'secret', arguments: {}, _meta: { progressToken: 'p' } },
    }),
  });
  expect(r.headers.get('content-type')).toContain('text/event-stream');
  const text = await r.text();
  const ids = [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!);
  return { ids, text };
}

/** A GET with `Last-Event-ID`: reads until the first event (replayed or priming), then lets go. */
async function resume(
  url: string,
  session: string,
  lastEventId: string,
): Promise<{ status: number; text: string }> {
  const ac = new AbortController();
  const r = await fetch(url, {
    headers: {
      accept: 'text/event-stream',
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-11-25',
      'last-event-id': lastEventId,
    },
    signal: ac.signal,
  });
  if (!r.body) return { status: r.status, text: '' };
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = setTimeout(() => ac.abort(new Error('resume: no SSE event within 10 s')), 10_000);
  try {
    while (!text.includes('\n\n')) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
    ac.abort();
  }
  return { status: r.status, text };
}

describe('event ids are bound to their session', () => {
  const store = new InMemoryEventStore();
  let srv: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    srv = await listen(createNodeHandler(makeServer(), { eventStore: store, eventRetentionMs: 60_000 }));
  });
  afterAll(() => srv.close());

  it('another session presenting A’s Last-Event-ID gets nothing of A, before and after A is deleted', async () => {
    const a = await initialize(srv.url);
    const b = await initialize(srv.url);
    const { ids, text } = await callSecret(srv.url, a);
    expect(text).toContain(SECRET);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    // The owner can resume within the grace: its own priming id replays the progress and the result.
    const own = await resume(srv.url, a, ids[0]!);
    expect(own.status).toBe(200);
    expect(own.text).toContain('notifications/progress');

    for (const id of ids) {
      const foreign = await resume(srv.url, b, id);
      expect(foreign.text).not.toContain(SECRET);
      expect(foreign.text).not.toContain('notifications/progress');
    }
    // Made-up ids in the old format (per-process prefix plus counter) and in the new one.
    for (const guess of [`${ids[0]!.split('.')[0]}.0`, 'abc_1', '0'.repeat(32) + '.1', '__proto__'])
      expect((await resume(srv.url, b, guess)).text).not.toContain(SECRET);

    const del = await fetch(srv.url, {
      method: 'DELETE',
      headers: { 'mcp-session-id': a, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(del.status).toBe(200);
    for (const id of ids) expect((await resume(srv.url, b, id)).text).not.toContain(SECRET);
    // A's events went with A; B's standalone stream priming event is all the store holds for B.
    const sent: unknown[] = [];
    for (const id of ids)
      expect(await store.replayEventsAfter(a, id, (_i, m) => void sent.push(m))).toBeUndefined();
    expect(sent).toEqual([]);
  });
});

describe('event store memory comes back', () => {
  it('150 calls that each stream a 1 MiB progress message leave no bytes behind after eventRetentionMs', async () => {
    const store = new InMemoryEventStore();
    const srv = await listen(createNodeHandler(makeServer(), { eventStore: store, eventRetentionMs: 50 }));
    const client = new Client({ name: 'mem', version: '1.0.0' }, { era: 'legacy' });
    await client.connect(new StreamableHttpClientTransport({ url: srv.url, openGetStream: false }));
    let peak = 0;
    for (let i = 0; i < 150; i++) {
      let got = 0;
      const r = await client.callTool('big', {}, { onprogress: (p) => (got += p.message?.length ?? 0) });
      expect(r.content).toEqual([{ type: 'text', text: 'done' }]);
      expect(got).toBe(1024 * 1024);
      peak = Math.max(peak, store.bytes);
    }
    expect(peak).toBeGreaterThanOrEqual(1024 * 1024); // the store was used...
    const deadline = Date.now() + 20_000;
    while (store.bytes > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(store.bytes, 'bytes still held 20 s after the last response was delivered').toBe(0);
    await client.close();
    await srv.close();
    expect(store.streamCount).toBe(0);
  });

  it('the default store is bounded by maxEventStoreBytes, and a session’s events go when it is deleted', async () => {
    const store = new InMemoryEventStore({ maxEventStoreBytes: 3 * 1024 * 1024 });
    // A long grace: only the bound and the session's end can free anything here.
    const srv = await listen(
      createNodeHandler(makeServer(), { eventStore: store, eventRetentionMs: 600_000 }),
    );
    const client = new Client({ name: 'mem', version: '1.0.0' }, { era: 'legacy' });
    await client.connect(new StreamableHttpClientTransport({ url: srv.url, openGetStream: false }));
    for (let i = 0; i < 10; i++) await client.callTool('big', {}, { onprogress: () => {} });
    expect(store.bytes).toBeGreaterThan(0);
    expect(store.bytes).toBeLessThanOrEqual(3 * 1024 * 1024);
    await client.close(); // DELETEs the session
    const deadline = Date.now() + 10_000;
    while (store.bytes > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(store.bytes, 'bytes still held 10 s after the session was deleted').toBe(0);
    await srv.close();
  });

  it('rejects bad limits at construction with a RangeError naming the option', () => {
    expect(() => createNodeHandler(makeServer(), { eventRetentionMs: -1 })).toThrow(/eventRetentionMs/);
    expect(() => createNodeHandler(makeServer(), { maxEventStoreBytes: 0 })).toThrow(/maxEventStoreBytes/);
    expect(() => createNodeHandler(makeServer(), { keepAliveIntervalMs: 1 })).toThrow(RangeError);
    expect(() => createNodeHandler(makeServer(), { maxStreams: Number.NaN })).toThrow(/maxStreams/);
  });
});
