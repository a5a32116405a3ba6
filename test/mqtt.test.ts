/**
 * The MQTT 5 binding against a real broker: a private mosquitto per suite (own temp config, free
 * loopback port, stopped by PID), never the system broker.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import type { ClientOptions } from '../src/client/client.js';
import { Client } from '../src/client/client.js';
import { JsonRpcError } from '../src/jsonrpc/errors.js';
import { McpError } from '../src/protocol/errors.js';
import { AuthError } from '../src/protocol/auth.js';
import type { MqttServerHandle, MqttServerOptions } from '../src/transports/mqtt/index.js';
import {
  connectMqtt,
  decodePayload,
  headersFrom,
  MqttClientTransport,
  mqttTopics,
  parseMqttUrl,
  serveMqtt,
} from '../src/transports/mqtt/index.js';
import { Outbox } from '../src/transports/mqtt/outbox.js';
import type { Broker } from './fixtures/mqtt-broker.js';
import { makeTls, mosquittoMissing, MOSQUITTO_PASSWD, startBroker } from './fixtures/mqtt-broker.js';
import { sleep } from './helpers.js';

const missing = mosquittoMissing();
if (missing) console.warn(`mqtt tests skipped: ${missing}`);

const handlers: ClientOptions['handlers'] = {
  sampling: async () => ({ role: 'assistant', content: { type: 'text', text: 'sampled' }, model: 'm' }),
  elicitation: async () => ({ action: 'accept', content: { username: 'u', email: 'e@example.com' } }),
  roots: async () => [{ uri: 'file:///mqtt' }],
};

const text = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The everything server plus tools that expose the binding's context and block until cancelled. */
function testServer() {
  const server = createEverythingServer();
  const cancelled: string[] = [];
  server.registerTool('whoami', { description: 'binding, subject and x-trace header' }, (_args, ctx) =>
    [ctx.binding, ctx.authInfo?.subject ?? '-', ctx.headers?.['x-trace'] ?? '-'].join(':'),
  );
  server.registerTool('block', { description: 'Waits until cancelled' }, (_args, ctx) => {
    return new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        cancelled.push(String(ctx.requestId));
        resolve('cancelled');
      });
    });
  });
  return { server, cancelled };
}

async function connectClient(
  broker: Broker,
  serverName: string,
  era: 'modern' | 'legacy' | 'auto',
  transport: Partial<ConstructorParameters<typeof MqttClientTransport>[0]> = {},
): Promise<{ client: Client; transport: MqttClientTransport }> {
  const t = new MqttClientTransport({ url: broker.url, serverName, ...transport });
  const client = new Client(
    { name: 'mqtt-test', version: '1.0.0' },
    { era, handlers, requestTimeoutMs: 15_000 },
  );
  try {
    await client.connect(t);
  } catch (error) {
    await client.close();
    throw error;
  }
  return { client, transport: t };
}

/** A raw MQTT 5 client on a fresh reply topic of `serverName`, recording every publish it receives. */
async function rawClient(broker: Broker, serverName: string, extra: Parameters<typeof connectAsync>[1] = {}) {
  const replyTopic = `mcp/${serverName}/client/raw-${randomBytes(4).toString('hex')}`;
  const c = await connectAsync(broker.url, { protocolVersion: 5, ...extra });
  const received: IPublishPacket[] = [];
  c.on('message', (_t, _p, packet) => received.push(packet));
  await c.subscribeAsync(replyTopic, { qos: 1 });
  const publish = (payload: string | Buffer, correlation = 'c', userProperties?: Record<string, string>) =>
    c.publishAsync(`mcp/${serverName}/rpc`, payload, {
      qos: 1,
      properties: { responseTopic: replyTopic, correlationData: Buffer.from(correlation), userProperties },
    });
  return { c, replyTopic, received, publish };
}

const json = (p: IPublishPacket) => JSON.parse(p.payload.toString()) as Record<string, any>;

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

describe('mqtt: pure units', () => {
  it('topic layout and URL parsing', () => {
    const t = mqttTopics('weather');
    expect(t.request).toBe('mcp/weather/rpc');
    expect(t.reply('c1')).toBe('mcp/weather/client/c1');
    expect(t.clientIdOf('mcp/weather/client/c1')).toBe('c1');
    expect(t.clientIdOf('mcp/weather/client/a/b')).toBeUndefined();
    expect(t.clientIdOf('elsewhere/x')).toBeUndefined();
    expect(mqttTopics('w', 'org/mcp').request).toBe('org/mcp/w/rpc');
    expect(() => mqttTopics('a/b')).toThrow(TypeError);
    expect(() => mqttTopics('a+')).toThrow(TypeError);
    expect(() => t.reply('#')).toThrow(TypeError);
    expect(parseMqttUrl('mqtt://u%40x:p%3A@broker/weather?clientId=me&prefix=org')).toEqual({
      url: 'mqtt://broker:1883',
      serverName: 'weather',
      username: 'u@x',
      password: 'p:',
      clientId: 'me',
      topicPrefix: 'org',
    });
    expect(parseMqttUrl('mqtts://broker:9999/w').url).toBe('mqtts://broker:9999');
    expect(parseMqttUrl('mqtts://broker/w').url).toBe('mqtts://broker:8883');
    expect(() => parseMqttUrl('http://broker/w')).toThrow(TypeError);
    expect(() => parseMqttUrl('mqtt://broker/')).toThrow(/names no server/);
    expect(() => parseMqttUrl('mqtt://broker/a/b')).toThrow(TypeError);
  });

  it('payload codec', () => {
    const max = 100;
    expect(decodePayload(Buffer.alloc(0), undefined, max)).toEqual({
      kind: 'control',
      control: 'disconnect',
      reason: undefined,
    });
    expect(decodePayload(Buffer.alloc(0), headersFrom({ 'MCP-Control': 'keepalive' }), max)).toMatchObject({
      kind: 'control',
      control: 'keepalive',
    });
    expect(decodePayload(Buffer.from('{nope'), undefined, max)).toMatchObject({
      kind: 'invalid',
      responses: [{ id: null, error: { code: -32700 } }],
    });
    expect(decodePayload(Buffer.from(`"${'x'.repeat(200)}"`), undefined, max)).toMatchObject({
      kind: 'invalid',
      responses: [{ error: { code: -32600 } }],
    });
    expect(decodePayload(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}'), undefined, max)).toEqual({
      kind: 'message',
      message: { jsonrpc: '2.0', id: 1, method: 'ping' },
      errors: [],
    });
    expect(headersFrom({ A: '1', a: '2', Multi: ['x', 'y'] })).toEqual({ a: '1, 2', multi: 'x, y' });
    expect(headersFrom(undefined)).toBeUndefined();
  });

  it('outbox: holds while offline, re-publishes "no matching subscribers" in order, then gives up', async () => {
    const sent: string[] = [];
    let subscribers = false;
    const box = new Outbox<string>({
      publish: async (p) => {
        sent.push(p);
        return subscribers ? 'delivered' : 'no-subscribers';
      },
      maxQueuedMessages: 3,
      noSubscriberRetryMs: 2000,
      topic: 't',
    });
    const a = box.send('a');
    const b = box.send('b');
    const c = box.send('c');
    await expect(box.send('d')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    expect(sent).toEqual([]);
    box.setReady(true);
    await sleep(30);
    subscribers = true;
    await Promise.all([a, b, c]);
    expect(sent.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(sent.slice(3)).toEqual(['a', 'b', 'c']);
    subscribers = false;
    const quick = new Outbox<string>({
      publish: async () => 'no-subscribers',
      maxQueuedMessages: 10,
      noSubscriberRetryMs: 0,
      topic: 'mcp/x/rpc',
    });
    quick.setReady(true);
    await expect(quick.send('x')).rejects.toThrow(/no MCP server is subscribed to mcp\/x\/rpc/);
    box.close(new McpError('CONNECTION_CLOSED', 'closed'));
    await expect(box.send('late')).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });
});

describe.skipIf(missing !== undefined)('mqtt: binding against mosquitto', () => {
  let broker: Broker;
  let handle: MqttServerHandle;
  let cancelled: string[];
  const serverErrors: Error[] = [];
  const NAME = 'everything';

  beforeAll(async () => {
    broker = await startBroker();
    const s = testServer();
    cancelled = s.cancelled;
    handle = await serveMqtt(s.server, { url: broker.url, serverName: NAME, willGraceMs: 200 });
    handle.onerror = (e) => serverErrors.push(e);
  });
  afterAll(async () => {
    await handle?.close();
    await broker?.dispose();
  });

  for (const era of ['modern', 'legacy'] as const) {
    it(`${era}: tools, resources, prompts, progress, sampling and elicitation`, async () => {
      const { client, transport } = await connectClient(broker, NAME, era);
      try {
        expect(client.era).toBe(era);
        expect(client.serverInfo?.name).toBe('anywire-everything');
        expect(handle.connections.get(transport.replyTopic)).toBeDefined();
        expect(text(await client.callTool('echo', { text: `hello ${era}` }))).toBe(`hello ${era}`);
        expect((await client.listTools()).map((t) => t.name)).toContain('test_sampling');
        expect((await client.readResource('test://static-text')).contents[0]).toMatchObject({
          text: 'This is the content of the static text resource.',
        });
        expect((await client.getPrompt('test_simple_prompt')).messages.length).toBeGreaterThan(0);
        const seen: number[] = [];
        await client.callTool('test_tool_with_progress', {}, { onprogress: (p) => seen.push(p.progress) });
        expect(seen).toEqual([0, 50, 100]);
        expect(text(await client.callTool('test_sampling', { prompt: 'p' }))).toBe('LLM response: sampled');
        expect(text(await client.callTool('test_elicitation', { message: 'm' }))).toContain('action=accept');
        expect(await client.callTool('whoami')).toMatchObject({ content: [{ text: 'mqtt:-:-' }] });
      } finally {
        await client.close();
      }
      // close() says goodbye: the server frees the virtual connection (and the legacy session).
      await until('the virtual connection to go', () => !handle.connections.has(transport.replyTopic));
    });
  }

  it("echoes correlation data on the response and on the request's notifications, with mcp-kind", async () => {
    const raw = await rawClient(broker, NAME);
    try {
      await raw.publish(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: {
            name: 'test_tool_with_progress',
            arguments: {},
            _meta: { ...MODERN_META, progressToken: 'p' },
          },
        }),
        'corr-7',
      );
      await until('the response', () => raw.received.some((p) => json(p).id === 7));
      const kinds = raw.received.map((p) => p.properties?.userProperties?.['mcp-kind']);
      expect(kinds).toEqual(['notification', 'notification', 'notification', 'response']);
      for (const p of raw.received) {
        expect(p.properties?.correlationData?.toString()).toBe('corr-7');
        expect(p.qos).toBe(1);
      }
      expect(json(raw.received.at(-1)!).result.content[0].text).toBeDefined();
    } finally {
      await raw.c.endAsync();
    }
  });

  it('invalid JSON is answered -32700 on the response topic, and serving goes on', async () => {
    const raw = await rawClient(broker, NAME);
    try {
      await raw.publish('{not json', 'bad-1');
      await until('the parse error', () => raw.received.length === 1);
      expect(json(raw.received[0]!)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
      expect(raw.received[0]!.properties?.correlationData?.toString()).toBe('bad-1');
      await raw.publish(
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: MODERN_META } }),
        'ok-1',
      );
      await until('the discover result', () => raw.received.length === 2);
      expect(json(raw.received[1]!).result.supportedVersions).toContain('2026-07-28');
      // A message without a Response Topic cannot be answered: dropped and reported.
      await raw.c.publishAsync(`mcp/${NAME}/rpc`, '{"jsonrpc":"2.0","id":2,"method":"ping"}', { qos: 1 });
      // A Response Topic outside the layout is refused, so the server publishes nowhere else.
      await raw.c.publishAsync(`mcp/${NAME}/rpc`, '{not json', {
        qos: 1,
        properties: { responseTopic: 'somewhere/else' },
      });
      await until('two reports', () => serverErrors.length >= 2);
      expect(serverErrors.map((e) => e.message).join('\n')).toMatch(/no Response Topic[\s\S]*not accepted/);
      const { client } = await connectClient(broker, NAME, 'modern');
      expect(text(await client.callTool('echo', { text: 'still serving' }))).toBe('still serving');
      await client.close();
    } finally {
      await raw.c.endAsync();
    }
  });

  it('2025-03-26 batches: one publish in, one array publish out (mcp-kind batch)', async () => {
    const raw = await rawClient(broker, NAME);
    try {
      await raw.publish(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-03-26',
            capabilities: {},
            clientInfo: { name: 'raw', version: '1' },
          },
        }),
      );
      await until('initialize', () => raw.received.length === 1);
      await raw.publish('{"jsonrpc":"2.0","method":"notifications/initialized"}');
      await raw.publish(
        JSON.stringify([
          {
            jsonrpc: '2.0',
            id: 2,
            method: 'tools/call',
            params: { name: 'echo', arguments: { text: 'b1' } },
          },
          { jsonrpc: '2.0', id: 3, method: 'ping' },
        ]),
        'batch-1',
      );
      await until('the batch answer', () => raw.received.length === 2);
      const answer = raw.received[1]!;
      expect(answer.properties?.userProperties?.['mcp-kind']).toBe('batch');
      expect(answer.properties?.correlationData?.toString()).toBe('batch-1');
      const body = JSON.parse(answer.payload.toString()) as { id: number; result: any }[];
      expect(body.map((r) => r.id).sort()).toEqual([2, 3]);
      expect(body.find((r) => r.id === 2)!.result.content[0].text).toBe('b1');
    } finally {
      await raw.c.endAsync();
    }
  });

  it('two clients at once: each gets only its own messages', async () => {
    const spy = await connectAsync(broker.url, { protocolVersion: 5 });
    const byTopic = new Map<string, string[]>();
    spy.on('message', (topic, payload) => {
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      byTopic.get(topic)!.push(payload.toString());
    });
    await spy.subscribeAsync(`mcp/${NAME}/client/+`, { qos: 1 });
    const a = await connectClient(broker, NAME, 'modern');
    const b = await connectClient(broker, NAME, 'legacy');
    try {
      const calls = (c: Client, tag: string) =>
        Promise.all(
          Array.from({ length: 25 }, (_, i) => c.callTool('echo', { text: `${tag}-${i}` }).then(text)),
        );
      const [ra, rb] = await Promise.all([calls(a.client, 'A'), calls(b.client, 'B')]);
      expect(ra).toEqual(Array.from({ length: 25 }, (_, i) => `A-${i}`));
      expect(rb).toEqual(Array.from({ length: 25 }, (_, i) => `B-${i}`));
      await sleep(50);
      const onA = byTopic.get(a.transport.replyTopic)!.join('\n');
      const onB = byTopic.get(b.transport.replyTopic)!.join('\n');
      expect(onA).toContain('A-24');
      expect(onA).not.toMatch(/"B-\d+"/);
      expect(onB).toContain('B-24');
      expect(onB).not.toMatch(/"A-\d+"/);
      expect(handle.connections.size).toBeGreaterThanOrEqual(2);
    } finally {
      await a.client.close();
      await b.client.close();
      await spy.endAsync();
    }
  });

  it('a crashed client: its MQTT will frees the virtual connection and cancels its handlers', async () => {
    const raw = await rawClient(broker, NAME, {});
    await raw.c.endAsync();
    // A raw client with the will the transport sets (no delay here: session expiry 0).
    const replyTopic = `mcp/${NAME}/client/crash-${randomBytes(4).toString('hex')}`;
    const c: MqttClient = await connectAsync(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      will: {
        topic: `mcp/${NAME}/rpc`,
        payload: Buffer.alloc(0),
        qos: 1,
        retain: false,
        properties: {
          responseTopic: replyTopic,
          userProperties: { 'mcp-control': 'disconnect', 'mcp-reason': 'will' },
        },
      },
    });
    await c.subscribeAsync(replyTopic, { qos: 1 });
    const before = cancelled.length;
    await c.publishAsync(
      `mcp/${NAME}/rpc`,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'blk',
        method: 'tools/call',
        params: { name: 'block', arguments: {}, _meta: MODERN_META },
      }),
      { qos: 1, properties: { responseTopic: replyTopic } },
    );
    await until('the connection', () => handle.connections.has(replyTopic));
    c.stream.destroy();
    await until('the will to free it', () => !handle.connections.has(replyTopic));
    await until('the handler to be cancelled', () => cancelled.length === before + 1);
    expect(cancelled.at(-1)).toBe('blk');
  });

  it('large messages: the client refuses to send past maxMessageBytes', async () => {
    const { client } = await connectClient(broker, NAME, 'modern', { maxMessageBytes: 2000 });
    try {
      const err = await client.callTool('echo', { text: 'x'.repeat(5000) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(McpError);
      expect(err).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    } finally {
      await client.close();
    }
  });

  it('no server subscribed: the request fails fast with NOT_CONNECTED instead of timing out', async () => {
    const t0 = Date.now();
    const err = await connectClient(broker, 'nobody-home', 'auto', { noSubscriberRetryMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect(err).toMatchObject({ code: 'NOT_CONNECTED' });
    expect((err as Error).message).toMatch(/no MCP server is subscribed to mcp\/nobody-home\/rpc/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a server that subscribes late: the first request is re-published until it is there', async () => {
    const connecting = connectClient(broker, 'late', 'modern');
    await sleep(300);
    const late = await serveMqtt(testServer().server, { url: broker.url, serverName: 'late' });
    try {
      const { client } = await connecting;
      expect(client.era).toBe('modern');
      expect(text(await client.callTool('echo', { text: 'worth the wait' }))).toBe('worth the wait');
      await client.close();
    } finally {
      await late.close();
    }
  });

  it('connectMqtt reads mqtt://broker:port/<server>', async () => {
    const client = new Client({ name: 'url', version: '1' });
    await client.connect(connectMqtt(`${broker.url}/${NAME}?clientId=url-client`));
    expect(client.era).toBe('modern');
    expect(handle.connections.has(`mcp/${NAME}/client/url-client`)).toBe(true);
    expect(text(await client.callTool('echo', { text: 'by url' }))).toBe('by url');
    await client.close();
  });
});

describe.skipIf(missing !== undefined)('mqtt: virtual connection lifetime', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker?.dispose());

  it('idle timeout closes a silent client; keep-alives keep a legacy session open', async () => {
    const { server } = testServer();
    const handle = await serveMqtt(server, { url: broker.url, serverName: 'idle', clientIdleTimeoutMs: 300 });
    try {
      const silent = await connectClient(broker, 'idle', 'legacy', { keepAliveIntervalMs: 0 });
      const alive = await connectClient(broker, 'idle', 'legacy', { keepAliveIntervalMs: 100 });
      let closed = false;
      const onclose = silent.transport.onclose;
      silent.transport.onclose = () => {
        closed = true;
        onclose?.();
      };
      await until('the idle client to be told', () => closed, 5000);
      expect(handle.connections.has(silent.transport.replyTopic)).toBe(false);
      await expect(silent.client.callTool('echo', { text: 'x' })).rejects.toMatchObject({
        code: 'CONNECTION_CLOSED',
      });
      await sleep(500);
      expect(handle.connections.has(alive.transport.replyTopic)).toBe(true);
      expect(text(await alive.client.callTool('echo', { text: 'kept' }))).toBe('kept');
      await alive.client.close();
    } finally {
      await handle.close();
    }
  });

  it('maxConnections: a client beyond the limit is answered -32603, the others are served', async () => {
    const { server } = testServer();
    const handle = await serveMqtt(server, { url: broker.url, serverName: 'full', maxConnections: 1 });
    try {
      const first = await connectClient(broker, 'full', 'modern');
      const err = await connectClient(broker, 'full', 'modern').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JsonRpcError);
      expect(err).toMatchObject({ code: -32603 });
      expect((err as Error).message).toMatch(/maxConnections 1/);
      expect(text(await first.client.callTool('echo', { text: 'first' }))).toBe('first');
      await first.client.close();
    } finally {
      await handle.close();
    }
  });

  it('server shutdown: the client transport closes and its pending request fails', async () => {
    const { server, cancelled } = testServer();
    const handle = await serveMqtt(server, { url: broker.url, serverName: 'bye' });
    const { client } = await connectClient(broker, 'bye', 'modern');
    // Settle into a value at once: the rejection lands while handle.close() is still awaited.
    const pending = client.callTool('block').catch((e: unknown) => e);
    await until('the call to arrive', () => handle.connections.size === 1);
    await sleep(50);
    await handle.close();
    expect(await pending).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(cancelled).toHaveLength(1);
  });

  it('authenticator: user properties become headers and authInfo; a refused message gets an error', async () => {
    const { server } = testServer();
    const handle = await serveMqtt(server, {
      url: broker.url,
      serverName: 'auth',
      authenticator: {
        authenticate: async ({ headers }) => {
          if (headers.authorization !== 'Bearer good')
            throw new AuthError(401, 'bad token', { error: 'invalid_token' });
          return { subject: 'alice', token: 'good' };
        },
      },
    });
    try {
      const good = await connectClient(broker, 'auth', 'modern', {
        userProperties: { Authorization: 'Bearer good', 'X-Trace': 't1' },
      });
      expect(text(await good.client.callTool('whoami'))).toBe('mqtt:alice:t1');
      // Someone without the token cannot end alice's virtual connection...
      const reports: string[] = [];
      handle.onerror = (e) => reports.push(e.message);
      const forger = await connectAsync(broker.url, { protocolVersion: 5 });
      await forger.publishAsync('mcp/auth/rpc', Buffer.alloc(0), {
        qos: 1,
        properties: { responseTopic: good.transport.replyTopic },
      });
      await forger.endAsync();
      await until('the refusal', () => reports.length > 0);
      expect(reports[0]).toMatch(/disconnect for mcp\/auth\/client\/.* refused: bad token/);
      expect(handle.connections.has(good.transport.replyTopic)).toBe(true);
      // ...alice's own goodbye carries it.
      await good.client.close();
      await until('the goodbye', () => !handle.connections.has(good.transport.replyTopic));
      const err = await connectClient(broker, 'auth', 'modern', {
        userProperties: { authorization: 'Bearer bad' },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JsonRpcError);
      expect(err).toMatchObject({
        code: -32030,
        data: { status: 401, wwwAuthenticate: 'Bearer error="invalid_token"', error: 'invalid_token' },
      });
      expect((err as Error).message).toMatch(/Unauthorized: bad token/);
    } finally {
      await handle.close();
    }
  });
});

describe.skipIf(missing !== undefined)('mqtt: broker restart', () => {
  let broker: Broker;
  let handle: MqttServerHandle;
  beforeAll(async () => {
    broker = await startBroker();
    handle = await serveMqtt(testServer().server, {
      url: broker.url,
      serverName: 'restart',
      reconnectPeriodMs: 100,
    });
    handle.onerror = () => {};
  });
  afterAll(async () => {
    await handle?.close();
    await broker?.dispose();
  });

  it('clients reconnect and re-subscribe; a request sent during the outage and later ones succeed, in both eras', async () => {
    const modern = await connectClient(broker, 'restart', 'modern', { reconnectPeriodMs: 100 });
    const legacy = await connectClient(broker, 'restart', 'legacy', { reconnectPeriodMs: 100 });
    const once = await connectClient(broker, 'restart', 'modern', { reconnectPeriodMs: 0 });
    let onceClosed = false;
    const onceClose = once.transport.onclose;
    once.transport.onclose = () => {
      onceClosed = true;
      onceClose?.();
    };
    once.transport.onerror = () => {};
    const errors: Error[] = [];
    for (const t of [modern.transport, legacy.transport]) t.onerror = (e) => errors.push(e);
    try {
      expect(text(await modern.client.callTool('echo', { text: 'before' }))).toBe('before');
      expect(text(await legacy.client.callTool('echo', { text: 'before' }))).toBe('before');
      const pid = broker.pid;
      await broker.stop();
      await until('the clients to notice', () => !modern.transport.connected && !legacy.transport.connected);
      // Without reconnection a drop closes the transport.
      await until('the no-reconnect client to close', () => onceClosed);
      await expect(once.client.callTool('echo', { text: 'x' })).rejects.toMatchObject({
        code: 'CONNECTION_CLOSED',
      });
      expect(errors.map((e) => e.message).join('\n')).toMatch(/lost the connection to the MQTT broker/);
      // Sent while the broker is down: held in the outbox, published after reconnection (and
      // re-published while the server has not re-subscribed yet: "No matching subscribers").
      const during = modern.client.callTool('echo', { text: 'during' });
      await sleep(300);
      await broker.start();
      expect(broker.pid).not.toBe(pid);
      expect(text(await during)).toBe('during');
      await until(
        'everyone to reconnect',
        () => modern.transport.connected && legacy.transport.connected && handle.connected,
      );
      expect(text(await modern.client.callTool('echo', { text: 'after' }))).toBe('after');
      // The server's virtual connection outlived the broker, and with it the legacy session.
      expect(text(await legacy.client.callTool('echo', { text: 'after' }))).toBe('after');
      expect(text(await legacy.client.callTool('test_sampling', { prompt: 'p' }))).toBe(
        'LLM response: sampled',
      );
    } finally {
      await modern.client.close();
      await legacy.client.close();
    }
  });
});

describe.skipIf(missing !== undefined || !MOSQUITTO_PASSWD)('mqtt: broker credentials', () => {
  if (!missing && !MOSQUITTO_PASSWD)
    console.warn('mqtt credentials test skipped: mosquitto_passwd is not installed');
  let broker: Broker;
  let handle: MqttServerHandle;
  const creds = { username: 'alice', password: 's3cret' };
  beforeAll(async () => {
    broker = await startBroker({ users: { alice: 's3cret', bob: 'hunter2' } });
    handle = await serveMqtt(testServer().server, { url: broker.url, serverName: 'creds', ...creds });
  });
  afterAll(async () => {
    await handle?.close();
    await broker?.dispose();
  });

  it('serves clients that log in', async () => {
    const { client } = await connectClient(broker, 'creds', 'legacy', {
      username: 'bob',
      password: 'hunter2',
    });
    expect(text(await client.callTool('echo', { text: 'logged in' }))).toBe('logged in');
    await client.close();
    const byUrl = new Client({ name: 'url', version: '1' });
    await byUrl.connect(connectMqtt(`mqtt://bob:hunter2@127.0.0.1:${broker.port}/creds`));
    expect(text(await byUrl.callTool('echo', { text: 'url creds' }))).toBe('url creds');
    await byUrl.close();
  });

  it('a wrong password or no credentials: a clear NOT_CONNECTED error, on either side', async () => {
    const wrong = await new MqttClientTransport({
      url: broker.url,
      serverName: 'creds',
      username: 'bob',
      password: 'wrong',
    })
      .start()
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(McpError);
    expect(wrong).toMatchObject({ code: 'NOT_CONNECTED' });
    expect((wrong as Error).message).toMatch(
      /the MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+ refused the credentials of user "bob": Not authorized \(MQTT reason code 135\)/,
    );
    const anonymous = await new MqttClientTransport({ url: broker.url, serverName: 'creds' })
      .start()
      .catch((e: unknown) => e);
    expect((anonymous as Error).message).toMatch(/refused an anonymous connection/);
    const server = await serveMqtt(testServer().server, {
      url: broker.url,
      serverName: 'creds2',
      username: 'alice',
      password: 'nope',
    } satisfies MqttServerOptions).catch((e: unknown) => e);
    expect(server).toMatchObject({ code: 'NOT_CONNECTED' });
  });
});

describe.skipIf(missing !== undefined)('mqtt: TLS', () => {
  let dir: string;
  let tls: ReturnType<typeof makeTls>;
  let broker: Broker | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anywire-mqtt-tls-'));
    tls = makeTls(dir);
    if (tls) broker = await startBroker({ tls });
    else console.warn('mqtt TLS test skipped: openssl is not installed');
  });
  afterAll(async () => {
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mqtts:// with a private CA and client certificates (mutual TLS)', async (ctx) => {
    if (!tls || !broker) ctx.skip();
    const clientTls = { ca: tls!.ca, cert: tls!.clientCert, key: tls!.clientKey };
    expect(broker!.url).toMatch(/^mqtts:/);
    const handle = await serveMqtt(testServer().server, {
      url: broker!.url,
      serverName: 'tls',
      tls: clientTls,
    });
    try {
      const { client } = await connectClient(broker!, 'tls', 'modern', { tls: clientTls });
      expect(text(await client.callTool('echo', { text: 'encrypted' }))).toBe('encrypted');
      await client.close();
      const noCert = await new MqttClientTransport({
        url: broker!.url,
        serverName: 'tls',
        tls: { ca: tls!.ca },
      })
        .start()
        .catch((e: unknown) => e);
      expect(noCert).toMatchObject({ code: 'NOT_CONNECTED' });
      const untrusted = await new MqttClientTransport({
        url: broker!.url,
        serverName: 'tls',
        tls: { cert: tls!.clientCert, key: tls!.clientKey },
      })
        .start()
        .catch((e: unknown) => e);
      expect((untrusted as Error).message).toMatch(/could not connect to the MQTT broker.*certificate/i);
    } finally {
      await handle.close();
    }
  });
});
