/**
 * The client side of `subscriptions/listen` over real HTTP: `Subscription.ended` settles when the
 * server ends the stream (at once for a listen with nothing honoured), the client then holds
 * nothing and sends nothing more for it, a listen refused with -32005 (maxListenStreams) rejects
 * `listen()`, and the client keeps working after both.
 */
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '../src/client/client.js';
import { ErrorCode, JsonRpcError } from '../src/jsonrpc/errors.js';
import type { JsonRpcNotification } from '../src/jsonrpc/types.js';
import { McpServer } from '../src/server/mcp-server.js';
import type { McpServerOptions } from '../src/server/options.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';
import { connectPair } from './helpers.js';

const handles: HttpServerHandle[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

/** Settles with `promise`, or fails saying what it waited for after `ms`. */
function within<T>(what: string, promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An HTTP server for `options`, and a modern client whose every request method is counted. */
async function connect(
  options: McpServerOptions,
): Promise<{ server: McpServer; client: Client; sent: string[] }> {
  const server = new McpServer({ name: 'client-listen', version: '1.0.0' }, options);
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, ({ text }) => text);
  const handle = await serveHttp(server, { port: 0, host: '127.0.0.1' });
  handles.push(handle);
  const sent: string[] = [];
  const fetchCounting = (input: string | URL, init?: RequestInit) => {
    if (typeof init?.body === 'string')
      sent.push((JSON.parse(init.body) as { method?: string }).method ?? 'response');
    return fetch(input, init);
  };
  const client = new Client({ name: 'client-listen-test', version: '1.0.0' }, { era: 'modern' });
  clients.push(client);
  await client.connect(new StreamableHttpClientTransport({ url: handle.url, fetch: fetchCounting }));
  return { server, client, sent };
}

const echo = async (client: Client, text: string) =>
  ((await client.callTool('echo', { text })) as { content: { text: string }[] }).content[0]!.text;

it('a listen the server honours nothing of (listChanged: false) ends at once; nothing is held or re-opened', async () => {
  const { server, client, sent } = await connect({ listChanged: false });
  const heard: JsonRpcNotification[] = [];
  const sub = await client.listen({ toolsListChanged: true, resourcesListChanged: true }, (n) =>
    heard.push(n),
  );
  expect(sub.granted).toEqual({});
  expect(sub.ended).toBeInstanceOf(Promise);
  await within('the server to end the empty listen', sub.ended);
  expect(server.listenStreams).toBe(0);
  const before = sent.length;
  await sub.close(); // already over: nothing is sent
  expect(sent.slice(before)).toEqual([]);
  // Still usable, and no listen was re-opened behind the caller's back.
  expect(await echo(client, 'still here')).toBe('still here');
  expect(sent.filter((m) => m === 'subscriptions/listen')).toHaveLength(1);
  expect(heard).toEqual([]);
});

it('a listen refused with -32005 (maxListenStreams) rejects listen(); the client keeps working', async () => {
  const { server, client, sent } = await connect({ maxListenStreams: 0 });
  const refused = await client.listen({ toolsListChanged: true }, () => {}).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(JsonRpcError);
  expect(refused).toMatchObject({
    code: ErrorCode.ListenStreamLimit,
    data: { limit: 'maxListenStreams', max: 0 },
  });
  expect(server.listenStreams).toBe(0);
  expect(await echo(client, 'after refusal')).toBe('after refusal');
  expect(sent.filter((m) => m === 'subscriptions/listen')).toHaveLength(1);
});

it('a held listen: ended settles after close(), and the server releases it', async () => {
  const { server, client } = await connect({});
  const heard: string[] = [];
  const sub = await client.listen({ toolsListChanged: true }, (n) => heard.push(n.method));
  expect(sub.granted).toEqual({ toolsListChanged: true });
  expect(server.listenStreams).toBe(1);
  let over = false;
  void sub.ended.then(() => (over = true));
  server.registerTool('later', {}, () => 'later');
  await within(
    'the list change on the held listen',
    (async () => {
      while (!heard.includes('notifications/tools/list_changed')) await new Promise((r) => setTimeout(r, 10));
    })(),
  );
  expect(over).toBe(false);
  await within('close() of the held listen', sub.close());
  await within('ended after close()', sub.ended);
  await within(
    'the server to release the closed listen',
    (async () => {
      while (server.listenStreams !== 0) await new Promise((r) => setTimeout(r, 10));
    })(),
  );
});

it('a held listen the connection drops: ended rejects with the local error', async () => {
  const { client } = await connect({});
  const sub = await client.listen({ toolsListChanged: true }, () => {});
  await client.close();
  await expect(within('ended after the connection closed', sub.ended)).rejects.toMatchObject({
    code: 'CONNECTION_CLOSED',
  });
});

it('legacy emulation: ended settles on close(), or when the connection closes', async () => {
  const server = new McpServer({ name: 'client-listen', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, ({ text }) => text);
  const client = await connectPair(server, { era: 'legacy' });
  clients.push(client);
  const closed = await client.listen({ toolsListChanged: true }, () => {});
  await within('close() of the legacy listen', closed.close());
  await within('ended after close()', closed.ended);
  const dropped = await client.listen({ toolsListChanged: true }, () => {});
  await client.close();
  await within('ended after the connection closed', dropped.ended);
});
