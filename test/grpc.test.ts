/**
 * The gRPC binding on real sockets (127.0.0.1, port 0): the anywire client in both eras, auth
 * through metadata, deadlines and stream cancellation reaching handlers, TLS and mutual TLS with
 * certificates made by openssl at test time, bad frames answered while serving continues, graceful
 * shutdown, and a raw grpc-js client built from the shipped .proto alone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ClientDuplexStream,
  ClientReadableStream,
  ServiceClientConstructor,
  StatusObject,
} from '@grpc/grpc-js';
import { credentials, loadPackageDefinition, Metadata, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEverythingServer } from '../examples/everything/server.js';
import { Client } from '../src/client/client.js';
import { McpError } from '../src/protocol/errors.js';
import { AuthError } from '../src/protocol/auth.js';
import type { McpServer } from '../src/server/mcp-server.js';
import type { GrpcServerHandle } from '../src/transports/grpc/index.js';
import { connectGrpc, GrpcClientTransport, MCP_PROTO_PATH, serveGrpc } from '../src/transports/grpc/index.js';
import { ROOT, sleep } from './helpers.js';

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
const handlers = {
  sampling: async () => ({
    role: 'assistant' as const,
    content: { type: 'text', text: 'sampled' },
    model: 'm',
  }),
  elicitation: async () => ({
    action: 'accept' as const,
    content: { username: 'u', email: 'e@example.com' },
  }),
};

// ------------------------------------------------------------------------------- fixtures

/** The everything server plus tools that expose what a handler sees. */
function createServer() {
  const started = new Set<string>();
  const aborted = new Map<string, string>();
  const server = createEverythingServer();
  server.registerTool(
    'whoami',
    { description: 'Reports ctx.authInfo, binding and x-trace metadata' },
    (_a, ctx) =>
      JSON.stringify({
        authInfo: ctx.authInfo ?? null,
        binding: ctx.binding,
        trace: ctx.headers?.['x-trace'] ?? null,
      }),
  );
  server.registerTool(
    'wait_for_abort',
    { description: 'Waits until its signal aborts', inputSchema: { tag: z.string() } },
    ({ tag }, ctx) =>
      new Promise((resolve) => {
        started.add(tag);
        ctx.signal.addEventListener('abort', () => {
          aborted.set(tag, String(ctx.signal.reason));
          resolve('aborted');
        });
      }),
  );
  server.registerTool('slow', { description: 'Answers after 150 ms' }, async () => {
    started.add('slow');
    await sleep(150);
    return 'slow done';
  });
  return { server, started, aborted };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await sleep(10);
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

/** A grpc-js client class built from the shipped .proto with proto-loader alone (no anywire code). */
function rawClientClass(): ServiceClientConstructor {
  const def = loadSync(join(ROOT, 'proto/anywire/mcp/v1/mcp.proto'), { keepCase: true, defaults: true });
  return (loadPackageDefinition(def) as any).anywire.mcp.v1.Mcp as ServiceClientConstructor;
}

interface RawSession {
  write(message: unknown): void;
  writeText(json: string): void;
  next(): Promise<any>;
  end(): void;
  cancel(): void;
  status: Promise<StatusObject>;
}

function rawSession(port: number, metadata = new Metadata(), deadlineMs?: number): RawSession {
  const Raw = rawClientClass();
  const client = new Raw(`127.0.0.1:${port}`, credentials.createInsecure());
  const stream = (client as any).Session(
    metadata,
    deadlineMs ? { deadline: Date.now() + deadlineMs } : {},
  ) as ClientDuplexStream<{ json: string }, { json: string }>;
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
    write: (m) => stream.write({ json: JSON.stringify(m) }),
    writeText: (json) => stream.write({ json }),
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))),
    end: () => stream.end(),
    cancel: () => stream.cancel(),
    status: statusP,
  };
}

/** One `Call` with a raw client: every frame and the final status. */
function rawCall(
  port: number,
  message: unknown,
  options: { metadata?: Record<string, string>; deadlineMs?: number; cancelAfterMs?: number } = {},
): Promise<{ frames: any[]; status: StatusObject }> {
  const Raw = rawClientClass();
  const client = new Raw(`127.0.0.1:${port}`, credentials.createInsecure());
  const md = new Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
  const call = (client as any).Call(
    { json: JSON.stringify(message) },
    md,
    options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {},
  ) as ClientReadableStream<{ json: string }>;
  const frames: any[] = [];
  call.on('data', (f: { json: string }) => frames.push(JSON.parse(f.json)));
  call.on('error', () => {});
  if (options.cancelAfterMs !== undefined) setTimeout(() => call.cancel(), options.cancelAfterMs);
  return new Promise((resolve) =>
    call.on('status', (s: StatusObject) => {
      client.close();
      resolve({ frames, status: s });
    }),
  );
}

const echo = (id: number, text: string, meta = true) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text }, ...(meta ? { _meta: MODERN_META } : {}) },
});
const waitCall = (id: number, tag: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'wait_for_abort', arguments: { tag }, _meta: MODERN_META },
});

async function connect(
  url: string,
  era: 'modern' | 'legacy',
  options: Partial<ConstructorParameters<typeof GrpcClientTransport>[0]> = {},
) {
  const client = new Client(
    { name: 'grpc-test', version: '1.0.0' },
    { era, handlers, requestTimeoutMs: 10_000 },
  );
  await client.connect(new GrpcClientTransport({ url, ...options }));
  return client;
}

function whoami(result: { content: unknown[] }): any {
  return JSON.parse((result.content[0] as { text: string }).text);
}

// --------------------------------------------------------------------------------- plaintext

describe('gRPC over h2c', () => {
  let fx: ReturnType<typeof createServer>;
  let handle: GrpcServerHandle;
  let port: number;
  beforeAll(async () => {
    fx = createServer();
    handle = await serveGrpc(fx.server, {
      port: 0,
      maxMessageBytes: 64 * 1024,
      maxFrameBytes: 256 * 1024,
      authenticator: {
        authenticate: ({ headers }) => {
          const auth = headers.authorization;
          if (auth === undefined) return undefined;
          if (auth === 'Bearer good') return { token: 'good', subject: 'alice', scopes: ['mcp'] };
          if (auth === 'Bearer reader')
            throw new AuthError(403, 'read-only token', { error: 'insufficient_scope', scope: 'write' });
          throw new AuthError(401, 'invalid token', { error: 'invalid_token' });
        },
      },
    });
    port = handle.address.port;
  });
  afterAll(() => handle?.close(200));

  it('serves on grpc://127.0.0.1:<port>', () => {
    expect(handle.url).toBe(`grpc://127.0.0.1:${port}`);
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`anywire client, ${era} era: tools, progress, sampling, elicitation`, async () => {
      const client = await connect(handle.url, era);
      try {
        expect(client.era).toBe(era);
        expect(client.serverInfo?.name).toBe('anywire-everything');
        const names = (await client.listTools()).map((t) => t.name);
        expect(names).toEqual(expect.arrayContaining(['echo', 'test_simple_text', 'whoami']));
        expect(await client.callTool('echo', { text: `over grpc ${era}` })).toMatchObject({
          content: [{ type: 'text', text: `over grpc ${era}` }],
        });
        const seen: number[] = [];
        await client.callTool('test_tool_with_progress', {}, { onprogress: (p) => seen.push(p.progress) });
        expect(seen).toEqual([0, 50, 100]);
        expect((await client.callTool('test_sampling', { prompt: 'p' })).content).toEqual([
          { type: 'text', text: 'LLM response: sampled' },
        ]);
        expect((await client.callTool('test_elicitation', { message: 'm' })).content[0]).toMatchObject({
          text: 'User response: action=accept, content={"username":"u","email":"e@example.com"}',
        });
        // 32 concurrent calls on one stream come back matched to their ids.
        const texts = Array.from({ length: 32 }, (_, i) => `n${i}`);
        const answers = await Promise.all(texts.map((t) => client.callTool('echo', { text: t })));
        expect(answers.map((a) => (a.content[0] as { text: string }).text)).toEqual(texts);
      } finally {
        await client.close();
      }
    });
  }

  it('connectGrpc builds a transport the Client starts', async () => {
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(connectGrpc(handle.url));
    expect(client.era).toBe('modern');
    await client.close();
  });

  it('metadata: authorization becomes ctx.authInfo, other keys ctx.headers', async () => {
    const client = await connect(handle.url, 'modern', {
      metadata: { authorization: 'Bearer good', 'x-trace': 'trace-1' },
    });
    const me = whoami(await client.callTool('whoami'));
    expect(me).toEqual({
      authInfo: { token: 'good', subject: 'alice', scopes: ['mcp'] },
      binding: 'grpc',
      trace: 'trace-1',
    });
    await client.close();
    const anonymous = await connect(handle.url, 'legacy');
    expect(whoami(await anonymous.callTool('whoami')).authInfo).toBeNull();
    await anonymous.close();
  });

  it('refused credentials end the stream before any frame: UNAUTHENTICATED / PERMISSION_DENIED', async () => {
    const bad = connect(handle.url, 'modern', { metadata: { authorization: 'Bearer nope' } });
    await expect(bad).rejects.toBeInstanceOf(McpError);
    await expect(bad).rejects.toThrow(/UNAUTHENTICATED \(16\).*invalid token/);
    await expect(
      connect(handle.url, 'modern', { metadata: { authorization: 'Bearer reader' } }),
    ).rejects.toThrow(/PERMISSION_DENIED \(7\).*read-only token/);
    const r = await rawCall(port, echo(1, 'x'), { metadata: { authorization: 'Bearer nope' } });
    expect(r.status.code).toBe(status.UNAUTHENTICATED);
    expect(r.status.metadata.get('www-authenticate')).toEqual(['Bearer error="invalid_token"']);
    expect(r.frames).toEqual([]);
  });

  it('Call: notifications, then the response, then OK', async () => {
    const r = await rawCall(
      port,
      {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: {
          name: 'test_tool_with_progress',
          arguments: {},
          _meta: { ...MODERN_META, progressToken: 'p1' },
        },
      },
      {
        metadata: {
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'test_tool_with_progress',
        },
      },
    );
    expect(r.status.code).toBe(status.OK);
    expect(r.frames.map((f) => f.method ?? 'response')).toEqual([
      'notifications/progress',
      'notifications/progress',
      'notifications/progress',
      'response',
    ]);
    expect(r.frames[3]).toMatchObject({
      id: 7,
      result: { content: [{ text: 'p1' }], resultType: 'complete' },
    });
  });

  it('Call: request metadata that contradicts the body is answered -32020', async () => {
    const r = await rawCall(port, echo(3, 'x'), { metadata: { 'mcp-method': 'tools/list' } });
    expect(r.status.code).toBe(status.OK);
    expect(r.frames).toEqual([
      expect.objectContaining({ id: 3, error: expect.objectContaining({ code: -32020 }) }),
    ]);
    const named = await rawCall(port, echo(4, 'x'), { metadata: { 'mcp-name': 'not-echo' } });
    expect(named.frames[0].error.code).toBe(-32020);
    // A legacy request has no session on Call.
    const legacy = await rawCall(port, echo(5, 'x', false));
    expect(legacy.frames[0]).toMatchObject({ id: 5, error: { code: -32600 } });
  });

  it('Call: the gRPC deadline aborts the handler signal', async () => {
    const r = await rawCall(port, waitCall(1, 'call-deadline'), { deadlineMs: 300 });
    expect(r.status.code).toBe(status.DEADLINE_EXCEEDED);
    await until(() => fx.aborted.has('call-deadline'), 'the handler to see the abort');
    expect(fx.aborted.get('call-deadline')).toBe('the gRPC deadline passed');
  });

  it('Call: cancelling the call aborts the handler signal', async () => {
    const r = await rawCall(port, waitCall(1, 'call-cancel'), { cancelAfterMs: 150 });
    expect(r.status.code).toBe(status.CANCELLED);
    await until(() => fx.aborted.has('call-cancel'), 'the handler to see the abort');
    expect(fx.aborted.get('call-cancel')).toBe('the client cancelled the gRPC call');
  });

  it('Session: cancelling the stream aborts every in-flight handler', async () => {
    const s = rawSession(port);
    s.write(waitCall(1, 'session-a'));
    s.write(waitCall(2, 'session-b'));
    await until(() => fx.started.has('session-a') && fx.started.has('session-b'), 'both handlers to start');
    s.cancel();
    expect((await s.status).code).toBe(status.CANCELLED);
    await until(() => fx.aborted.has('session-a') && fx.aborted.has('session-b'), 'both aborts');
    expect(fx.aborted.get('session-a')).toMatch(/connection closed/);
  });

  it('Session: the stream deadline aborts in-flight handlers; the client rejects pending calls', async () => {
    const client = await connect(handle.url, 'modern', { deadlineMs: 1500 });
    const pending = client.callTool('wait_for_abort', { tag: 'session-deadline' });
    await expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    await until(() => fx.aborted.has('session-deadline'), 'the handler to see the abort');
    await client.close();
  });

  it('Session: notifications/cancelled cancels one request, the others continue', async () => {
    const s = rawSession(port);
    s.write(waitCall(1, 'one-a'));
    s.write(waitCall(2, 'one-b'));
    await until(() => fx.started.has('one-a') && fx.started.has('one-b'), 'both handlers to start');
    s.write({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1, reason: 'no longer needed' },
    });
    await until(() => fx.aborted.has('one-a'), 'the first abort');
    expect(fx.aborted.get('one-a')).toBe('no longer needed');
    s.write(echo(3, 'still here'));
    expect(await s.next()).toMatchObject({ id: 3, result: { content: [{ text: 'still here' }] } });
    expect(fx.aborted.has('one-b')).toBe(false);
    s.cancel();
    await until(() => fx.aborted.has('one-b'), 'the second abort');
  });

  it('Session: a half-close is answered first, then the stream ends OK', async () => {
    const s = rawSession(port);
    s.write({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'slow', arguments: {}, _meta: MODERN_META },
    });
    s.write(echo(2, 'quick'));
    s.end();
    const answers = [await s.next(), await s.next()];
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2]);
    expect((await s.status).code).toBe(status.OK);
  });

  it('bad frames are answered on the stream, which keeps serving', async () => {
    const s = rawSession(port);
    s.writeText('{not json');
    expect(await s.next()).toMatchObject({ id: null, error: { code: -32700 } });
    s.writeText('{"jsonrpc":"2.0","id":1}');
    expect(await s.next()).toMatchObject({ error: { code: -32600 } });
    s.write(echo(2, 'x'.repeat(70 * 1024)));
    const big = await s.next();
    expect(big).toMatchObject({ id: null, error: { code: -32600 } });
    expect(big.error.message).toMatch(/maxMessageBytes \(65536\)/);
    s.write(echo(3, 'after bad frames'));
    expect(await s.next()).toMatchObject({ id: 3, result: { content: [{ text: 'after bad frames' }] } });
    // Beyond maxFrameBytes gRPC itself refuses the message and ends the stream.
    s.write(echo(4, 'x'.repeat(300 * 1024)));
    const st = await s.status;
    expect(st.code).toBe(status.RESOURCE_EXHAUSTED);
    // ... while the server goes on serving other streams.
    const r = await rawCall(port, echo(5, 'server still up'));
    expect(r.frames[0]).toMatchObject({ id: 5, result: { content: [{ text: 'server still up' }] } });
  });
});

// ----------------------------------------------------------------------- raw proto client

describe('a raw grpc-js client built from mcp.proto alone', () => {
  let handle: GrpcServerHandle;
  beforeAll(async () => {
    handle = await serveGrpc(createEverythingServer(), { port: 0 });
  });
  afterAll(() => handle?.close(200));

  it('the loader resolves the shipped .proto (src layout, and dist after a build)', async () => {
    expect(MCP_PROTO_PATH).toBe(join(ROOT, 'proto/anywire/mcp/v1/mcp.proto'));
    const built = join(ROOT, 'dist/transports/grpc/proto.js');
    if (existsSync(built)) {
      const dist = (await import(built)) as { MCP_PROTO_PATH: string };
      expect(dist.MCP_PROTO_PATH).toBe(MCP_PROTO_PATH);
    }
    expect(existsSync(MCP_PROTO_PATH)).toBe(true);
  });

  it('legacy era on Session: initialize, initialized, tools/call, server-to-client ping', async () => {
    const s = rawSession(handle.address.port);
    s.write({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(await s.next()).toMatchObject({ id: 1, result: { protocolVersion: '2025-11-25' } });
    s.write({ jsonrpc: '2.0', method: 'notifications/initialized' });
    s.write(echo(2, 'legacy raw', false));
    expect(await s.next()).toMatchObject({ id: 2, result: { content: [{ text: 'legacy raw' }] } });
    s.write({ jsonrpc: '2.0', id: 3, method: 'ping' });
    expect(await s.next()).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
    s.end();
    expect((await s.status).code).toBe(status.OK);
  });

  it('modern era on Session and on Call: server/discover', async () => {
    const discover = { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: MODERN_META } };
    const s = rawSession(handle.address.port);
    s.write(discover);
    expect(await s.next()).toMatchObject({
      id: 1,
      result: { supportedVersions: expect.arrayContaining(['2026-07-28']) },
    });
    s.end();
    const r = await rawCall(handle.address.port, discover, {
      metadata: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' },
    });
    expect(r.status.code).toBe(status.OK);
    expect(r.frames).toHaveLength(1);
    expect(r.frames[0].result.capabilities.tools).toBeDefined();
  });
});

// ------------------------------------------------------------------------------ shutdown

describe('shutdown', () => {
  it('close() lets in-flight requests finish, then ends the streams OK', async () => {
    const fx = createServer();
    const handle = await serveGrpc(fx.server, { port: 0 });
    const s = rawSession(handle.address.port);
    s.write({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'slow', arguments: {}, _meta: MODERN_META },
    });
    await until(() => fx.started.has('slow'), 'the handler to start');
    const closed = handle.close(5000);
    expect(await s.next()).toMatchObject({ id: 1, result: { content: [{ text: 'slow done' }] } });
    expect((await s.status).code).toBe(status.OK);
    await closed;
    expect(handle.service.openStreams).toBe(0);
  });

  it('close() cancels what is left after the grace period, aborting handlers', async () => {
    const fx = createServer();
    const handle = await serveGrpc(fx.server, { port: 0 });
    const s = rawSession(handle.address.port);
    s.write(waitCall(1, 'forever'));
    await until(() => fx.started.has('forever'), 'the handler to start');
    const t0 = Date.now();
    await handle.close(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect((await s.status).code).not.toBe(status.OK);
    await until(() => fx.aborted.has('forever'), 'the abort');
  });
});

// ---------------------------------------------------------------------------- TLS and mTLS

describe('TLS and mutual TLS', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  let tlsHandle: GrpcServerHandle;
  let mtlsHandle: GrpcServerHandle;
  let mtlsServer: McpServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anywire-grpc-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl(
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=anywire test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    const leaf = (name: string, cn: string, ext: string) => {
      ssl('req', ...ec, '-subj', `/CN=${cn}/O=anywire`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      writeFileSync(file(`${name}.ext`), `${ext}\n`);
      ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      );
    };
    leaf('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
    leaf('client', 'client-one', 'subjectAltName=URI:spiffe://anywire.test/client-one,DNS:client-one');
    tlsHandle = await serveGrpc(createServer().server, {
      port: 0,
      tls: { cert: file('server.crt'), key: file('server.key') },
      authenticator: {
        authenticate: ({ headers }) =>
          headers.authorization ? { token: headers.authorization.replace(/^Bearer /, '') } : undefined,
      },
    });
    mtlsServer = createServer().server;
    mtlsHandle = await serveGrpc(mtlsServer, {
      port: 0,
      tls: { cert: file('server.crt'), key: file('server.key'), ca: file('ca.crt'), requestCert: true },
    });
  });
  afterAll(async () => {
    await tlsHandle?.close(200);
    await mtlsHandle?.close(200);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('grpcs:// with the CA: both eras, bearer token in metadata', async () => {
    expect(tlsHandle.url).toMatch(/^grpcs:\/\/127\.0\.0\.1:\d+$/);
    for (const era of ['legacy', 'modern'] as const) {
      const client = await connect(tlsHandle.url, era, {
        tls: { ca: file('ca.crt'), serverName: 'localhost' },
        metadata: { authorization: 'Bearer secret' },
      });
      expect(whoami(await client.callTool('whoami')).authInfo).toEqual({ token: 'secret' });
      await client.close();
    }
  });

  it('a client that does not trust the server certificate gets a clear error', async () => {
    await expect(connect(tlsHandle.url, 'modern', { tls: { serverName: 'localhost' } })).rejects.toThrow(
      /UNAVAILABLE \(14\).*not trusted \(give tls\.ca\)/,
    );
  });

  it('mutual TLS: the verified client certificate becomes ctx.authInfo', async () => {
    const client = await connect(mtlsHandle.url, 'modern', {
      tls: { ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key'), serverName: 'localhost' },
    });
    const { authInfo } = whoami(await client.callTool('whoami'));
    expect(authInfo).toMatchObject({
      subject: 'client-one',
      clientId: 'spiffe://anywire.test/client-one',
      extra: {
        certificate: {
          subject: { CN: 'client-one', O: 'anywire' },
          subjectAltNames: [
            { type: 'URI', value: 'spiffe://anywire.test/client-one' },
            { type: 'DNS', value: 'client-one' },
          ],
          spiffeId: 'spiffe://anywire.test/client-one',
          x5tS256: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        },
      },
    });
    await client.close();
  });

  it('mutual TLS: a client without a certificate is refused with a clear error', async () => {
    const refused = connect(mtlsHandle.url, 'modern', {
      tls: { ca: file('ca.crt'), serverName: 'localhost' },
    });
    await expect(refused).rejects.toBeInstanceOf(McpError);
    await expect(refused).rejects.toThrow(
      /UNAVAILABLE \(14\).*requires a client certificate.*certificate required/,
    );
  });

  it('mutual TLS needs the CA that signs client certificates', async () => {
    await expect(
      serveGrpc(mtlsServer, {
        port: 0,
        tls: { cert: file('server.crt'), key: file('server.key'), requestCert: true },
      }),
    ).rejects.toThrow(/needs tls\.ca/);
  });
});
