/**
 * `subscriptions/listen` streams that cost nothing when unused (2026-07-28
 * basic/patterns/subscriptions): capabilities promise only what is delivered, the acknowledgement
 * names only what is honoured, a listen with nothing honoured ends at once, `maxListenStreams`
 * refuses the surplus with a clear error while the server keeps serving, and held HTTP streams get
 * SSE keep-alive comments well within proxy idle timeouts. In memory and over real HTTP.
 */
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JsonRpcNotification } from '../src/jsonrpc/types.js';
import { ErrorCode } from '../src/jsonrpc/errors.js';
import type { JsonObject } from '../src/protocol/types.js';
import { McpServer } from '../src/server/mcp-server.js';
import type { McpServerOptions } from '../src/server/options.js';
import { DEFAULT_MAX_LISTEN_STREAMS } from '../src/server/options.js';
import { HTTP_DEFAULTS } from '../src/transports/streamable-http/handler-options.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';
import { connectPair } from './helpers.js';

const SUB_ID = 'io.modelcontextprotocol/subscriptionId';

/** Tools and a resource, no prompts. */
function makeServer(options: McpServerOptions = {}): McpServer {
  const server = new McpServer({ name: 'listen-test', version: '1.0.0' }, options);
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, ({ text }) => text);
  server.registerResource('doc', 'test://doc', {}, () => [{ uri: 'test://doc', text: 'doc' }]);
  return server;
}

/** Polls `check` every 10 ms until it holds; fails saying what it waited for after `ms`. */
async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('capabilities promise only what is delivered', () => {
  for (const era of ['modern', 'legacy'] as const) {
    it(`${era}: listChanged for the lists present, subscribe only when offered`, async () => {
      const plain = await connectPair(makeServer(), { era });
      expect(plain.serverCapabilities).toMatchObject({
        tools: { listChanged: true },
        resources: { listChanged: true },
      });
      expect(plain.serverCapabilities.resources?.subscribe).toBeUndefined();
      expect(plain.serverCapabilities.prompts).toBeUndefined();
      await plain.close();

      const fixed = await connectPair(
        makeServer({ listChanged: { tools: false }, resourceSubscriptions: true }),
        { era },
      );
      expect(fixed.serverCapabilities.tools).toEqual({});
      expect(fixed.serverCapabilities.resources).toEqual({ listChanged: true, subscribe: true });
      await fixed.close();

      const none = await connectPair(makeServer({ listChanged: false }), { era });
      expect(none.serverCapabilities.tools).toEqual({});
      expect(none.serverCapabilities.resources).toEqual({});
      await none.close();
    });
  }

  it('legacy: no list_changed for a list that does not announce, no resources/subscribe unless offered', async () => {
    const server = makeServer({ listChanged: { tools: false } });
    const client = await connectPair(server, { era: 'legacy' });
    const seen: string[] = [];
    const sub = await client.listen({ toolsListChanged: true, resourcesListChanged: true }, (n) =>
      seen.push(n.method),
    );
    server.registerTool('late', {}, () => 'late');
    server.registerResource('late', 'test://late', {}, () => [{ uri: 'test://late', text: '' }]);
    await until('the resources list_changed', () => seen.length > 0);
    await new Promise((r) => setTimeout(r, 50)); // a tools one would have come in the same tick
    expect(seen).toEqual(['notifications/resources/list_changed']);
    await expect(client.request('resources/subscribe', { uri: 'test://doc' })).rejects.toMatchObject({
      code: ErrorCode.MethodNotFound,
    });
    await sub.close();
    await client.close();
  });

  it('warns once when the application notifies an update nobody can subscribe to', async () => {
    const errors: string[] = [];
    const server = makeServer({ onerror: (e) => errors.push(e.message) });
    server.notifyResourceUpdated('test://doc');
    server.notifyResourceUpdated('test://doc');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('resourceSubscriptions: true');
  });

  it('checks maxListenStreams', () => {
    expect(() => makeServer({ maxListenStreams: -1 })).toThrow(/maxListenStreams must be an integer from 0/);
    expect(() => makeServer({ maxListenStreams: 1.5 })).toThrow(RangeError);
    expect(DEFAULT_MAX_LISTEN_STREAMS).toBe(1000);
  });
});

describe('in memory', () => {
  it('acknowledges only the honoured part of a filter', async () => {
    const server = makeServer();
    const client = await connectPair(server, { era: 'modern' });
    const sub = await client.listen(
      {
        toolsListChanged: true,
        promptsListChanged: true, // no prompts
        resourcesListChanged: true,
        resourceSubscriptions: ['test://doc'], // subscribe not offered
      },
      () => {},
    );
    expect(sub.granted).toEqual({ toolsListChanged: true, resourcesListChanged: true });
    expect(server.listenStreams).toBe(1);
    await sub.close();
    await until('the closed listen to be released', () => server.listenStreams === 0);
    await client.close();
  });

  it('ends a listen with nothing honoured at once: the acknowledgement, an empty filter, the result', async () => {
    const server = makeServer({ listChanged: false });
    const client = await connectPair(server, { era: 'modern' });
    const seen: JsonRpcNotification[] = [];
    const result = await client.streamRequest(
      'subscriptions/listen',
      { notifications: { toolsListChanged: true, promptsListChanged: true, resourceSubscriptions: ['x'] } },
      (n) => seen.push(n),
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('notifications/subscriptions/acknowledged');
    expect((seen[0]!.params as JsonObject).notifications).toEqual({});
    expect(result).toMatchObject({ resultType: 'complete', _meta: { [SUB_ID]: expect.anything() } });
    expect(server.listenStreams).toBe(0);
    // An empty request is the same.
    expect(await client.request('subscriptions/listen', { notifications: {} })).toMatchObject({
      resultType: 'complete',
    });
    await client.close();
  });

  it('refuses listens past maxListenStreams with -32005; the open ones keep delivering', async () => {
    const server = makeServer({ maxListenStreams: 2, listChanged: { resources: false } });
    const client = await connectPair(server, { era: 'modern' });
    const heard: string[][] = [[], []];
    const open = [
      await client.listen({ toolsListChanged: true }, (n) => heard[0]!.push(n.method)),
      await client.listen({ toolsListChanged: true }, (n) => heard[1]!.push(n.method)),
    ];
    const refused = await client.listen({ toolsListChanged: true }, () => {}).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: ErrorCode.ListenStreamLimit,
      data: { limit: 'maxListenStreams', max: 2 },
    });
    expect((refused as Error).message).toMatch(/Too many listen streams.*at most 2 \(maxListenStreams\)/);
    expect(ErrorCode.ListenStreamLimit).toBe(-32005);
    // A listen with nothing honoured is never counted, so it still gets its acknowledgement.
    expect((await client.listen({ resourcesListChanged: true }, () => {})).granted).toEqual({});
    server.registerTool('late', {}, () => 'late');
    await until('both open listens to hear the change', () => heard.every((h) => h.length === 1));
    expect(heard).toEqual([['notifications/tools/list_changed'], ['notifications/tools/list_changed']]);
    await open[0]!.close();
    await until('the closed listen to be released', () => server.listenStreams === 1);
    const again = await client.listen({ toolsListChanged: true }, () => {});
    expect(again.granted).toEqual({ toolsListChanged: true });
    await again.close();
    await open[1]!.close();
    await client.close();
  });

  it('maxListenStreams 0 holds no stream at all', async () => {
    const server = makeServer({ maxListenStreams: 0 });
    const client = await connectPair(server, { era: 'modern' });
    await expect(client.listen({ toolsListChanged: true }, () => {})).rejects.toMatchObject({
      code: ErrorCode.ListenStreamLimit,
    });
    expect(await client.callTool('echo', { text: 'fine' })).toMatchObject({ content: [{ text: 'fine' }] });
    await client.close();
  });
});

// ------------------------------------------------------------------------------ over real HTTP

const LISTEN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'subscriptions/listen',
};
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

function listenBody(id: number, notifications: JsonObject): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'subscriptions/listen',
    params: { notifications, _meta: META },
  });
}

/** A raw listen over HTTP: its SSE text as it arrives, the data messages parsed. */
class RawListen {
  text = '';
  messages: JsonObject[] = [];
  done = false;
  status = 0;
  contentType = '';
  readonly #abort = new AbortController();
  readonly finished: Promise<void>;

  constructor(url: string, id: number, notifications: JsonObject) {
    this.finished = this.#run(url, id, notifications);
  }

  async #run(url: string, id: number, notifications: JsonObject): Promise<void> {
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: LISTEN_HEADERS,
        body: listenBody(id, notifications),
        signal: this.#abort.signal,
      });
      this.status = r.status;
      this.contentType = r.headers.get('content-type') ?? '';
      const reader = r.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.text += decoder.decode(value, { stream: true });
        this.#parse();
      }
      this.#parse();
    } catch (e) {
      if (!this.#abort.signal.aborted) throw e;
    } finally {
      this.done = true;
    }
  }

  #parse(): void {
    const messages: JsonObject[] = [];
    if (this.contentType.startsWith('application/json')) {
      try {
        messages.push(JSON.parse(this.text) as JsonObject);
      } catch {
        // not complete yet
      }
    } else {
      for (const line of this.text.split('\n'))
        if (line.startsWith('data: ')) messages.push(JSON.parse(line.slice(6)) as JsonObject);
    }
    this.messages = messages;
  }

  /** The `notifications/...` methods seen so far. */
  get methods(): string[] {
    return this.messages.map((m) => m.method as string).filter(Boolean);
  }

  close(): Promise<void> {
    this.#abort.abort();
    return this.finished;
  }
}

async function echoOverHttp(url: string, text: string): Promise<string> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { ...LISTEN_HEADERS, 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text }, _meta: META },
    }),
  });
  expect(r.status).toBe(200);
  return r.text();
}

describe('over real HTTP', () => {
  let handle: HttpServerHandle | undefined;
  const raws: RawListen[] = [];
  afterEach(async () => {
    await Promise.all(raws.splice(0).map((r) => r.close()));
    await handle?.close();
    handle = undefined;
  });

  async function serve(server: McpServer, keepAliveIntervalMs?: number): Promise<string> {
    handle = await serveHttp(server, { port: 0, host: '127.0.0.1', keepAliveIntervalMs });
    return handle.url;
  }
  const raw = (url: string, id: number, notifications: JsonObject) => {
    const r = new RawListen(url, id, notifications);
    raws.push(r);
    return r;
  };

  it('a listen with nothing honoured ends at once: the response is complete, no held stream', async () => {
    const server = makeServer({ listChanged: false });
    const url = await serve(server);
    const r = raw(url, 7, { toolsListChanged: true, resourceSubscriptions: ['test://doc'] });
    await r.finished; // the server ended the response (a held stream would never finish)
    expect(r.status).toBe(200);
    expect(r.messages).toHaveLength(2);
    expect(r.messages[0]).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: {}, _meta: { [SUB_ID]: 7 } },
    });
    expect(r.messages[1]).toMatchObject({
      jsonrpc: '2.0',
      id: 7,
      result: { resultType: 'complete', _meta: { [SUB_ID]: 7 } },
    });
    expect(server.listenStreams).toBe(0);
  });

  it('acknowledges only the honoured part and delivers it on the held stream', async () => {
    const server = makeServer({ resourceSubscriptions: true });
    const url = await serve(server);
    const r = raw(url, 3, {
      toolsListChanged: true,
      promptsListChanged: true,
      resourceSubscriptions: ['test://doc', 42],
    });
    await until('the acknowledgement', () => r.methods.length > 0);
    expect(r.messages[0]).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: { toolsListChanged: true, resourceSubscriptions: ['test://doc'] } },
    });
    server.notifyResourceUpdated('test://doc');
    server.notifyResourceUpdated('test://other'); // not asked for
    server.registerTool('late', {}, () => 'late');
    await until('two notifications after the acknowledgement', () => r.methods.length === 3);
    expect(r.methods.slice(1)).toEqual([
      'notifications/resources/updated',
      'notifications/tools/list_changed',
    ]);
    expect(r.done).toBe(false);
  });

  it('many idle listens beyond maxListenStreams are refused with -32005 while the process keeps serving', async () => {
    const server = makeServer({ maxListenStreams: 3 });
    const url = await serve(server);
    const held = [1, 2, 3].map((id) => raw(url, id, { toolsListChanged: true }));
    await until('three acknowledgements', () => held.every((h) => h.methods.length === 1));
    expect(server.listenStreams).toBe(3);

    const surplus = Array.from({ length: 25 }, (_, i) => raw(url, 100 + i, { toolsListChanged: true }));
    await Promise.all(surplus.map((s) => s.finished));
    for (const s of surplus) {
      expect(s.status).toBe(200);
      expect(s.messages).toHaveLength(1); // no acknowledgement: refused before it
      expect(s.messages[0]).toMatchObject({
        error: { code: -32005, data: { limit: 'maxListenStreams', max: 3 } },
      });
    }
    expect(server.listenStreams).toBe(3);
    // Still serving requests, and the open streams still deliver.
    expect(await echoOverHttp(url, 'still serving')).toContain('still serving');
    server.registerTool('late', {}, () => 'late');
    await until('every held listen to hear the change', () => held.every((h) => h.methods.length === 2));
    expect(held.every((h) => !h.done)).toBe(true);
    // Closing one frees its place.
    await held[0]!.close();
    await until('the closed listen to be released', () => server.listenStreams === 2);
    const next = raw(url, 200, { toolsListChanged: true });
    await until('the next acknowledgement', () => next.methods.length === 1);
    expect(server.listenStreams).toBe(3);
  });

  it('sends SSE keep-alive comments on a held listen stream; the default interval is well below proxy timeouts', async () => {
    // nginx proxy_read_timeout and AWS ALB idle timeout default to 60 s, Cloudflare to 100 s.
    expect(HTTP_DEFAULTS.keepAliveIntervalMs).toBe(15_000);
    const server = makeServer();
    const url = await serve(server, 100);
    const r = raw(url, 9, { toolsListChanged: true });
    await until('the acknowledgement', () => r.methods.length === 1);
    await until('two keep-alive comments', () => (r.text.match(/^: keep-alive$/gm) ?? []).length >= 2);
    expect(r.contentType).toMatch(/^text\/event-stream/);
    expect(r.done).toBe(false);
  });

  it('the official SDK v2 client opens a listen only where listChanged is declared, and a refused one does not break it', async () => {
    const onChanged = () => {};
    const connect = async () => {
      const errors: Error[] = [];
      const client = new V2Client(
        { name: 'sdk-v2', version: '1.0.0' },
        {
          versionNegotiation: { mode: 'auto' },
          listChanged: { tools: { onChanged }, prompts: { onChanged } },
        },
      );
      client.onerror = (e) => errors.push(e);
      await client.connect(new V2Http(new URL(handle!.url)));
      expect(client.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
      return { client, errors };
    };

    // A fixed catalog declares no listChanged: the client opens nothing.
    const fixed = makeServer({ listChanged: false });
    await serve(fixed);
    const a = await connect();
    expect(fixed.listenStreams).toBe(0);
    expect(a.client.autoOpenedSubscription).toBeUndefined();
    await a.client.close();
    await handle!.close();

    // The default declares tools.listChanged: one held listen, released when the client closes.
    const live = makeServer();
    await serve(live);
    const b = await connect();
    await until('the auto-opened listen', () => live.listenStreams === 1);
    await b.client.close();
    await until('the listen to be released', () => live.listenStreams === 0);
    await handle!.close();

    // Past maxListenStreams the auto-open is refused; the client stays usable.
    const full = makeServer({ maxListenStreams: 0 });
    await serve(full);
    const c = await connect();
    expect(c.errors.map((e) => e.message).join('\n')).toMatch(/Too many listen streams/);
    expect(await c.client.callTool({ name: 'echo', arguments: { text: 'usable' } })).toMatchObject({
      content: [{ type: 'text', text: 'usable' }],
    });
    await c.client.close();
  });
});
