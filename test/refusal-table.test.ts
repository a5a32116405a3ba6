/**
 * The refusal table: one Authenticator, refusing on every binding of the shared ingress (WebSocket,
 * TCP, Unix, TLS, gRPC Session and Call, MQTT, and Streamable HTTP; test/http-auth.test.ts covers
 * HTTP's methods, HTTP+SSE and session binding in depth) for no credentials, a bad token (401), a token
 * without the scope (403), and a token that expires during the connection. Each row asserts the
 * documented answer on that wire (README "Authentication on every binding") and that a client
 * with good credentials on the same server is served meanwhile (its `_meta.traceparent` reaching
 * middleware as `ctx.trace`). On gRPC, a middleware refusal ends a `Call` with PERMISSION_DENIED.
 * Real sockets on 127.0.0.1 port 0,
 * a private mosquitto on a free port, certificates made by openssl at test time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { ClientDuplexStream, ServiceClientConstructor, StatusObject } from '@grpc/grpc-js';
import { credentials, loadPackageDefinition, Metadata, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { Client } from '../src/client/client.js';
import { JsonRpcError } from '../src/jsonrpc/errors.js';
import type { Authenticator } from '../src/protocol/auth.js';
import { AuthError } from '../src/protocol/auth.js';
import type { GrpcServerHandle } from '../src/transports/grpc/index.js';
import { MCP_PROTO_PATH, serveGrpc } from '../src/transports/grpc/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import type { MqttServerHandle } from '../src/transports/mqtt/index.js';
import { serveMqtt } from '../src/transports/mqtt/index.js';
import type { StreamServerHandle } from '../src/transports/stream/index.js';
import {
  AUTH_ERROR_CODE,
  connectStream,
  serveTcp,
  serveTls,
  serveUnix,
} from '../src/transports/stream/index.js';
import type { WebSocketServerHandle } from '../src/transports/websocket/index.js';
import { serveWebSocket, WS_CLOSE } from '../src/transports/websocket/index.js';
import type { Broker } from './fixtures/mqtt-broker.js';
import { mosquittoMissing, startBroker } from './fixtures/mqtt-broker.js';
import type { TestPki } from './fixtures/stream-certs.js';
import { generatePki, opensslUnavailable } from './fixtures/stream-certs.js';
import { connected, RawPeer } from './fixtures/stream-raw.js';

const RESOURCE_METADATA = 'https://mcp.example/.well-known/oauth-protected-resource';
/** Lifetime of the `short` token, in seconds: long enough to be served once, short enough to watch expire. */
const SHORT_LIFETIME_S = 1.5;
const WAIT_MS = 10_000;
/** A token that expires {@link SHORT_LIFETIME_S} from now. */
const shortToken = () => `short-${Date.now() / 1000 + SHORT_LIFETIME_S}`;

/** The one Authenticator every row uses. */
const authenticator: Authenticator = {
  authenticate({ headers }) {
    const auth = headers.authorization;
    if (auth === undefined)
      throw new AuthError(401, 'no credentials', { resource_metadata: RESOURCE_METADATA });
    if (auth === 'Bearer good') return { token: 'good', subject: 'alice' };
    // `short-<seconds since the epoch>`: a token that expires then.
    if (auth.startsWith('Bearer short-'))
      return { token: auth.slice(7), subject: 'bob', expiresAt: Number(auth.slice(13)) };
    if (auth === 'Bearer reader')
      throw new AuthError(403, 'the token lacks scope write', {
        error: 'insufficient_scope',
        scope: 'write',
      });
    throw new AuthError(401, 'invalid token', { error: 'invalid_token' });
  },
};

/** What each refusal case must produce, as a `WWW-Authenticate` value. */
const CASES = [
  {
    name: 'no credentials',
    token: undefined,
    status: 401,
    challenge: `Bearer resource_metadata="${RESOURCE_METADATA}"`,
  },
  { name: 'a bad token (401)', token: 'nope', status: 401, challenge: 'Bearer error="invalid_token"' },
  {
    name: 'a token without the scope (403)',
    token: 'reader',
    status: 403,
    challenge: 'Bearer error="insufficient_scope", scope="write"',
  },
] as const;
const EXPIRED_CHALLENGE = /^Bearer error="invalid_token"/;

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A self-contained 2026-07-28 `tools/call echo`, with the token in `_meta.authorization` when given. */
/** The W3C traceparent each request carries in its `_meta`: trace id from the request id. */
const traceparentOf = (id: number) => `00-${id.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`;

/** The trace context middleware saw for each echoed text. */
const traces = new Map<string, unknown>();

function echo(id: number, text: string, token?: string) {
  const meta: Record<string, unknown> = { ...MODERN_META, traceparent: traceparentOf(id) };
  if (token !== undefined) meta.authorization = `Bearer ${token}`;
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text }, _meta: meta },
  };
}

function echoed(answer: any): string {
  return answer?.result?.content?.[0]?.text;
}

/** The everything server, with middleware that records `ctx.trace` of each echo. */
function server() {
  return createEverythingServer().use(async (ctx, next) => {
    if (ctx.method === 'tools/call' && ctx.params.name === 'echo')
      traces.set(String((ctx.params.arguments as { text?: unknown } | undefined)?.text), ctx.trace);
    return next();
  });
}

/** Asserts the request `id` with `text` was served and its trace context reached middleware. */
function expectTraced(id: number, text: string): void {
  expect(traces.get(text)).toEqual({ traceparent: traceparentOf(id) });
}

// ------------------------------------------------------------------------------ byte streams

const noOpenssl = opensslUnavailable();
const pki: TestPki | undefined = noOpenssl ? undefined : generatePki();
if (noOpenssl) console.warn(`refusal table: the TLS row is skipped: ${noOpenssl}`);
const dir = mkdtempSync(join(tmpdir(), 'anywire-refusal-'));
afterAll(() => {
  pki?.remove();
  rmSync(dir, { recursive: true, force: true });
});

interface StreamRow {
  binding: 'tcp' | 'unix' | 'tls';
  skip?: string;
  serve(): Promise<StreamServerHandle>;
  open(handle: StreamServerHandle): Promise<Socket>;
}

const streamRows: StreamRow[] = [
  {
    binding: 'tcp',
    serve: () => serveTcp(server(), { authenticator }),
    open: (h) => {
      const a = h.address as { port: number };
      return connected(netConnect(a.port, '127.0.0.1'));
    },
  },
  {
    binding: 'unix',
    skip: process.platform === 'win32' ? 'no Unix sockets on Windows' : undefined,
    serve: () => serveUnix(server(), { path: join(dir, 'mcp.sock'), authenticator }),
    open: (h) => connected(netConnect(h.address as string)),
  },
  {
    binding: 'tls',
    skip: noOpenssl,
    serve: () => serveTls(server(), { cert: pki!.serverCert, key: pki!.serverKey, authenticator }),
    open: (h) => {
      const a = h.address as { port: number };
      return connected(
        tlsConnect({ port: a.port, host: '127.0.0.1', ca: pki!.ca, servername: 'localhost' }),
        'secureConnect',
      );
    },
  },
];

for (const row of streamRows) {
  describe.skipIf(row.skip !== undefined)(`refusal table: ${row.binding}`, () => {
    let handle: StreamServerHandle;
    let good: RawPeer;
    let nextId = 100;
    const stillServed = async () => {
      const id = nextId++;
      good.line(JSON.stringify(echo(id, `still ${id}`)));
      const answer = await good.next(WAIT_MS);
      expect(answer).toMatchObject({ id });
      expect(echoed(answer)).toBe(`still ${id}`);
      expectTraced(id, `still ${id}`);
    };
    beforeAll(async () => {
      handle = await row.serve();
      good = new RawPeer(await row.open(handle));
      good.line(JSON.stringify(echo(1, 'hello', 'good')));
      expect(echoed(await good.next(WAIT_MS))).toBe('hello');
    });
    afterAll(() => handle?.close());

    for (const c of CASES) {
      it(`${c.name}: JSON-RPC error ${AUTH_ERROR_CODE} with status and challenge, then close`, async () => {
        const peer = new RawPeer(await row.open(handle));
        peer.line(JSON.stringify(echo(7, 'x', c.token)));
        const answer = await peer.next(WAIT_MS);
        expect(answer).toMatchObject({
          id: 7,
          error: { code: AUTH_ERROR_CODE, data: { status: c.status, wwwAuthenticate: c.challenge } },
        });
        expect(answer.error.message).toMatch(c.status === 403 ? /^Forbidden: / : /^Unauthorized: /);
        // Then the server closes the connection.
        expect(await peer.next(WAIT_MS)).toBeUndefined();
        await stillServed();
      });
    }

    it('the anywire Client with `authorization` is admitted in both eras; without, it gets the -32030 error', async () => {
      const url = handle.url;
      const tls = row.binding === 'tls' ? { ca: pki!.ca, servername: 'localhost' } : {};
      for (const era of ['legacy', 'modern'] as const) {
        const client = new Client({ name: 't', version: '1' }, { era });
        await client.connect(connectStream(url, { ...tls, authorization: 'Bearer good' }));
        expect(echoed({ result: await client.callTool('echo', { text: era }) })).toBe(era);
        await client.close();
      }
      const anonymous = new Client({ name: 't', version: '1' }, { era: 'legacy' });
      const error = await anonymous.connect(connectStream(url, tls)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JsonRpcError);
      expect(error).toMatchObject({ code: AUTH_ERROR_CODE, data: { status: 401 } });
      await anonymous.close();
      await stillServed();
    });

    it('expiry during the connection: JSON-RPC error (id null, 401 invalid_token), then close', async () => {
      const peer = new RawPeer(await row.open(handle));
      peer.line(JSON.stringify(echo(8, 'before expiry', shortToken())));
      expect(echoed(await peer.next(WAIT_MS))).toBe('before expiry');
      const notice = await peer.next(WAIT_MS + SHORT_LIFETIME_S * 1000);
      expect(notice).toMatchObject({
        id: null,
        error: { code: AUTH_ERROR_CODE, data: { status: 401, error: 'invalid_token' } },
      });
      expect(notice.error.data.wwwAuthenticate).toMatch(EXPIRED_CHALLENGE);
      expect(await peer.next(WAIT_MS)).toBeUndefined();
      await stillServed();
    });
  });
}

// ------------------------------------------------------------------------------ WebSocket

/** Opens a raw WebSocket; resolves with the refused upgrade's status and headers, or the open socket. */
function wsOpen(
  url: string,
  token?: string,
): Promise<{ ws?: WebSocket; status?: number; headers?: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['mcp'], token ? { headers: { authorization: `Bearer ${token}` } } : {});
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => resolve({ ws }));
    ws.once('error', (e) => reject(e));
  });
}

function wsRequest(ws: WebSocket, message: unknown): Promise<any> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.send(JSON.stringify(message));
  });
}

describe('refusal table: websocket', () => {
  let handle: WebSocketServerHandle;
  let good: WebSocket;
  let nextId = 100;
  const stillServed = async () => {
    const id = nextId++;
    expect(echoed(await wsRequest(good, echo(id, `still ${id}`)))).toBe(`still ${id}`);
    expectTraced(id, `still ${id}`);
  };
  beforeAll(async () => {
    handle = await serveWebSocket(server(), { authenticator });
    good = (await wsOpen(handle.url, 'good')).ws!;
    expect(good.protocol).toBe('mcp');
  });
  afterAll(async () => {
    good?.close();
    await handle?.close();
  });

  for (const c of CASES) {
    it(`${c.name}: HTTP ${c.status} before the upgrade, with WWW-Authenticate`, async () => {
      const r = await wsOpen(handle.url, c.token);
      expect(r.ws).toBeUndefined();
      expect(r.status).toBe(c.status);
      expect(r.headers?.['www-authenticate']).toBe(c.challenge);
      await stillServed();
    });
  }

  it('expiry during the connection: close 4001', async () => {
    const { ws } = await wsOpen(handle.url, shortToken());
    const closed = new Promise<number>((resolve) => ws!.once('close', (code) => resolve(code)));
    expect(echoed(await wsRequest(ws!, echo(8, 'before expiry')))).toBe('before expiry');
    expect(await closed).toBe(WS_CLOSE.CREDENTIALS_EXPIRED);
    await stillServed();
  });
});

// ------------------------------------------------------------------------------ gRPC

function grpcClient(port: number) {
  const def = loadSync(MCP_PROTO_PATH, { keepCase: true, defaults: true });
  const Raw = (loadPackageDefinition(def) as any).anywire.mcp.v1.Mcp as ServiceClientConstructor;
  return new Raw(`127.0.0.1:${port}`, credentials.createInsecure());
}

function tokenMetadata(token?: string): Metadata {
  const md = new Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return md;
}

/** A raw `Session` stream: frames in order and the final status. */
function grpcSession(port: number, token?: string) {
  const client = grpcClient(port);
  const stream = (client as any).Session(tokenMetadata(token)) as ClientDuplexStream<
    { json: string },
    { json: string }
  >;
  const queue: any[] = [];
  const waiters: ((m: any) => void)[] = [];
  stream.on('data', (f: { json: string }) => {
    const m = JSON.parse(f.json);
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  stream.on('error', () => {});
  const statusP = new Promise<StatusObject>((resolve) =>
    stream.on('status', (s: StatusObject) => {
      client.close();
      resolve(s);
    }),
  );
  return {
    request: (m: unknown): Promise<any> => {
      stream.write({ json: JSON.stringify(m) });
      return queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r));
    },
    end: () => stream.end(),
    status: statusP,
  };
}

/** A raw `Call`: its frames and final status. */
function grpcCall(
  port: number,
  message: unknown,
  token?: string,
): Promise<{ frames: any[]; status: StatusObject }> {
  const client = grpcClient(port);
  const call = (client as any).Call({ json: JSON.stringify(message) }, tokenMetadata(token));
  const frames: any[] = [];
  call.on('data', (f: { json: string }) => frames.push(JSON.parse(f.json)));
  call.on('error', () => {});
  return new Promise((resolve) =>
    call.on('status', (s: StatusObject) => {
      client.close();
      resolve({ frames, status: s });
    }),
  );
}

describe('refusal table: grpc', () => {
  let handle: GrpcServerHandle;
  let port: number;
  let good: ReturnType<typeof grpcSession>;
  let nextId = 100;
  const stillServed = async () => {
    const id = nextId++;
    expect(echoed(await good.request(echo(id, `still ${id}`)))).toBe(`still ${id}`);
    expectTraced(id, `still ${id}`);
    const call = await grpcCall(port, echo(id + 1000, `call ${id}`), 'good');
    expect(call.status.code).toBe(status.OK);
    expect(echoed(call.frames.at(-1))).toBe(`call ${id}`);
    expectTraced(id + 1000, `call ${id}`);
  };
  beforeAll(async () => {
    // Middleware refusing one tool: a per-request refusal after admission.
    const guarded = server().use(async (ctx, next) => {
      if (ctx.method === 'tools/call' && ctx.params.name === 'test_simple_text')
        throw new AuthError(403, 'needs scope admin', { error: 'insufficient_scope', scope: 'admin' });
      return next();
    });
    handle = await serveGrpc(guarded, { port: 0, authenticator });
    port = handle.address.port;
    good = grpcSession(port, 'good');
    expect(echoed(await good.request(echo(1, 'hello')))).toBe('hello');
  });
  afterAll(async () => {
    good?.end();
    await handle?.close(200);
  });

  for (const c of CASES) {
    const code = c.status === 403 ? status.PERMISSION_DENIED : status.UNAUTHENTICATED;
    it(`${c.name}: Session and Call end ${code === 7 ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED'} with a www-authenticate trailer`, async () => {
      const session = grpcSession(port, c.token);
      const s = await session.status;
      expect(s.code).toBe(code);
      expect(s.metadata.get('www-authenticate')).toEqual([c.challenge]);
      const call = await grpcCall(port, echo(2, 'x'), c.token);
      expect(call.frames).toEqual([]);
      expect(call.status.code).toBe(code);
      expect(call.status.metadata.get('www-authenticate')).toEqual([c.challenge]);
      await stillServed();
    });
  }

  it('a refusal by middleware: PERMISSION_DENIED with the trailer on a Call, a -32030 frame on a Session', async () => {
    const request = {
      jsonrpc: '2.0',
      id: 5,
      method: 'tools/call',
      params: { name: 'test_simple_text', arguments: {}, _meta: MODERN_META },
    };
    const call = await grpcCall(port, request, 'good');
    expect(call.status.code).toBe(status.PERMISSION_DENIED);
    expect(call.status.metadata.get('www-authenticate')).toEqual([
      'Bearer error="insufficient_scope", scope="admin"',
    ]);
    expect(await good.request(request)).toMatchObject({
      id: 5,
      error: { code: AUTH_ERROR_CODE, data: { status: 403, error: 'insufficient_scope' } },
    });
    await stillServed();
  });

  it('expiry during the connection: the Session ends UNAUTHENTICATED with invalid_token', async () => {
    const session = grpcSession(port, shortToken());
    expect(echoed(await session.request(echo(8, 'before expiry')))).toBe('before expiry');
    const s = await session.status;
    expect(s.code).toBe(status.UNAUTHENTICATED);
    expect(String(s.metadata.get('www-authenticate')[0])).toMatch(EXPIRED_CHALLENGE);
    await stillServed();
  });
});

// ------------------------------------------------------------------------------ MQTT

const noMosquitto = mosquittoMissing();
if (noMosquitto) console.warn(`refusal table: the MQTT row is skipped: ${noMosquitto}`);

/** A raw MQTT 5 client on its own reply topic; collects what the server publishes there. */
async function mqttPeer(broker: Broker, clientId: string) {
  const replyTopic = `mcp/refusals/client/${clientId}`;
  const c: MqttClient = await connectAsync(broker.url, { protocolVersion: 5, clientId });
  const queue: { message: any; properties: Record<string, any> }[] = [];
  const waiters: ((m: { message: any; properties: Record<string, any> }) => void)[] = [];
  c.on('message', (_topic, payload, packet) => {
    const item = {
      message: payload.length ? JSON.parse(payload.toString()) : undefined,
      properties: (packet.properties?.userProperties ?? {}) as Record<string, any>,
    };
    const w = waiters.shift();
    if (w) w(item);
    else queue.push(item);
  });
  await c.subscribeAsync(replyTopic, { qos: 1 });
  const next = (): Promise<{ message: any; properties: Record<string, any> }> => {
    if (queue.length) return Promise.resolve(queue.shift()!);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no MQTT message on ${replyTopic}`)), WAIT_MS);
      waiters.push((m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  };
  return {
    async request(message: unknown, token?: string) {
      await c.publishAsync('mcp/refusals/rpc', JSON.stringify(message), {
        qos: 1,
        properties: {
          responseTopic: replyTopic,
          correlationData: Buffer.from('c'),
          // mqtt.js cannot encode an empty user property map: leave it out.
          ...(token ? { userProperties: { authorization: `Bearer ${token}` } } : {}),
        },
      });
      return next();
    },
    next,
    end: () => c.endAsync(),
  };
}

describe.skipIf(noMosquitto !== undefined)('refusal table: mqtt', () => {
  let broker: Broker;
  let handle: MqttServerHandle;
  let good: Awaited<ReturnType<typeof mqttPeer>>;
  let nextId = 100;
  const stillServed = async () => {
    const id = nextId++;
    const r = await good.request(echo(id, `still ${id}`), 'good');
    expect(echoed(r.message)).toBe(`still ${id}`);
    expectTraced(id, `still ${id}`);
  };
  beforeAll(async () => {
    broker = await startBroker();
    handle = await serveMqtt(server(), { url: broker.url, serverName: 'refusals', authenticator });
    handle.onerror = () => {};
    good = await mqttPeer(broker, 'good');
    expect(echoed((await good.request(echo(1, 'hello'), 'good')).message)).toBe('hello');
  });
  afterAll(async () => {
    await good?.end();
    await handle?.close();
    await broker?.dispose();
  });

  for (const c of CASES) {
    it(`${c.name}: JSON-RPC error ${AUTH_ERROR_CODE} with the user property www-authenticate`, async () => {
      const peer = await mqttPeer(broker, `refused-${c.status}-${c.token ?? 'none'}`);
      const r = await peer.request(echo(7, 'x'), c.token);
      expect(r.message).toMatchObject({
        id: 7,
        error: { code: AUTH_ERROR_CODE, data: { status: c.status, wwwAuthenticate: c.challenge } },
      });
      expect(r.properties['www-authenticate']).toBe(c.challenge);
      await peer.end();
      await stillServed();
    });
  }

  it('expiry during the connection: the virtual connection ends (mcp-reason expired), the token is refused after', async () => {
    const peer = await mqttPeer(broker, 'short');
    const token = shortToken();
    expect(echoed((await peer.request(echo(8, 'before expiry'), token)).message)).toBe('before expiry');
    const bye = await peer.next();
    expect(bye.message).toBeUndefined();
    expect(bye.properties).toMatchObject({ 'mcp-control': 'disconnect', 'mcp-reason': 'expired' });
    await stillServed();
    const after = await peer.request(echo(9, 'after expiry'), token);
    expect(after.message).toMatchObject({ id: 9, error: { code: AUTH_ERROR_CODE, data: { status: 401 } } });
    expect(after.properties['www-authenticate']).toMatch(EXPIRED_CHALLENGE);
    await peer.end();
  });
});

// ------------------------------------------------------------------------------ Streamable HTTP

function httpPost(url: string, body: unknown, token?: string, sessionId?: string): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (sessionId !== undefined) {
    headers['mcp-session-id'] = sessionId;
    headers['mcp-protocol-version'] = '2025-11-25';
  } else if ((body as { method?: string }).method === 'tools/call') {
    // 2026-07-28: the request line carries what the body says (SEP-2243).
    headers['mcp-protocol-version'] = '2026-07-28';
    headers['mcp-method'] = 'tools/call';
    headers['mcp-name'] = 'echo';
  }
  return fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** The JSON-RPC message of a JSON or single-event SSE answer. */
async function httpAnswer(res: Response): Promise<any> {
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text);
  const data = text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6);
  return JSON.parse(data.at(-1)!.slice(6));
}

describe('refusal table: http', () => {
  let handle: HttpServerHandle;
  let nextId = 100;
  const stillServed = async () => {
    const id = nextId++;
    const res = await httpPost(handle.url, echo(id, `still ${id}`), 'good');
    expect(res.status).toBe(200);
    expect(echoed(await httpAnswer(res))).toBe(`still ${id}`);
  };
  beforeAll(async () => {
    handle = await serveHttp(server(), { authenticator });
  });
  afterAll(() => handle?.close());

  for (const c of CASES) {
    it(`${c.name}: HTTP ${c.status} with WWW-Authenticate`, async () => {
      const res = await httpPost(handle.url, echo(7, 'x'), c.token);
      expect(res.status).toBe(c.status);
      expect(res.headers.get('www-authenticate')).toBe(c.challenge);
      await res.body?.cancel();
      await stillServed();
    });
  }

  it('expiry during a legacy session: the next request with the expired token is 401 invalid_token', async () => {
    const token = shortToken();
    const init = await httpPost(
      handle.url,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      },
      token,
    );
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id')!;
    await init.body?.cancel();
    await new Promise((r) => setTimeout(r, SHORT_LIFETIME_S * 1000 + 100));
    const late = await httpPost(handle.url, { jsonrpc: '2.0', id: 2, method: 'ping' }, token, sessionId);
    expect(late.status).toBe(401);
    expect(late.headers.get('www-authenticate')).toMatch(EXPIRED_CHALLENGE);
    await late.body?.cancel();
    await stillServed();
  });
});
