/**
 * POST stream resumption between two HTTP handlers sharing one InMemorySessionStore and one
 * InMemoryEventStore (the in-memory twins of the Redis stores): a stream cut from the handler
 * running its request and resumed on the other gets the result relayed; once the running handler
 * closes (releasing its lease), the resumption answers the request -32603.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InMemoryEventStore } from '../src/protocol/event-store.js';
import { InMemorySessionStore } from '../src/protocol/session-store.js';
import { McpServer } from '../src/server/mcp-server.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/node.js';
import { readSse, until } from './fixtures/session-nodes.js';
import type { SseEvent } from './fixtures/session-nodes.js';

const POLL_MS = 100;

describe('a legacy POST stream resumed on another handler sharing in-memory stores', () => {
  const handles: HttpServerHandle[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.close()));
  });

  async function pair() {
    const sessionStore = new InMemorySessionStore();
    const eventStore = new InMemoryEventStore();
    const start = async (name: string) => {
      const server = new McpServer({ name, version: '1.0.0' });
      server.registerTool('sample', { inputSchema: { n: z.number() } }, async ({ n }, ctx) => {
        const r = await ctx.sample({
          messages: [{ role: 'user', content: { type: 'text', text: `q${n}` } }],
          maxTokens: 5,
        });
        return `${name}:${(r.content as { text: string }).text}`;
      });
      const h = await serveHttp(server, {
        port: 0,
        sessionStore,
        eventStore,
        keepAliveIntervalMs: 0,
        streamOwnerLeaseMs: 60_000,
        resumedStreamPollMs: POLL_MS,
        shutdownGraceMs: 50,
      });
      handles.push(h);
      return h;
    };
    return { a: await start('A'), b: await start('B'), sessionStore };
  }

  it('relays the result stored later, and answers -32603 once the running handler closed', async () => {
    const { a, b, sessionStore } = await pair();
    const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(a.url, {
      method: 'POST',
      headers: { ...base, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: { sampling: {} },
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    await init.text();
    const headers = {
      ...base,
      'mcp-protocol-version': '2025-11-25',
      'mcp-session-id': init.headers.get('mcp-session-id')!,
    };
    await fetch(b.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });

    /** Calls `sample` on A, cuts the stream once the sampling request came, resumes it on B. */
    const cutAndResume = async (id: number) => {
      const ac = new AbortController();
      const res = await fetch(a.url, {
        method: 'POST',
        headers,
        signal: ac.signal,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'sample', arguments: { n: id } },
        }),
      });
      const onA: SseEvent[] = [];
      const readingA = readSse(res, (e) => onA.push(e)).catch(() => {});
      await until('the sampling request', () => onA.some((e) => e.data.includes('sampling/createMessage')));
      const samplingId = JSON.parse(onA.find((e) => e.data.includes('sampling'))!.data).id as string;
      ac.abort();
      await readingA;
      const get = { ...headers, accept: 'text/event-stream', 'last-event-id': onA.at(-1)!.id! };
      const resumed = await fetch(b.url, { method: 'GET', headers: get });
      expect(resumed.status).toBe(200);
      const onB: SseEvent[] = [];
      const ended = readSse(resumed, (e) => onB.push(e)).then(() => Date.now());
      return { samplingId, onB, ended };
    };

    // A lives: the answer POSTed to B reaches A, and A's result comes through B.
    const first = await cutAndResume(1);
    const answered = await fetch(b.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: first.samplingId,
        result: { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' },
      }),
    });
    expect(answered.status).toBe(202);
    await first.ended;
    expect(first.onB.map((e) => JSON.parse(e.data))).toEqual([
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'A:ok' }] } },
    ]);
    // A stored the result: its stream's record went with it.
    await until('the record of the answered stream to go', () => sessionStore.postStreams.size === 0);

    // A closes while its tool waits: B answers the call -32603 at its next check.
    const second = await cutAndResume(2);
    const closingAt = Date.now();
    await a.close();
    const endedAt = await second.ended;
    const got = second.onB.map((e) => JSON.parse(e.data));
    expect(got.map((m) => [m.id, m.error?.code])).toEqual([[2, -32603]]);
    expect(endedAt - closingAt).toBeLessThan(POLL_MS + 2000);
  });
});
