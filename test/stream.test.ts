/**
 * The byte-stream bindings (src/transports/stream): TCP, Unix domain sockets and TLS, with real
 * sockets on 127.0.0.1 port 0, a socket in a temp dir, and certificates made by `openssl` for the
 * run. Covers both eras end to end, mutual TLS identity, refusals, disconnect-as-cancellation, bad
 * input, the MessagePack codec on the wire, and the pure length-prefix framing.
 */
import { decode } from '@msgpack/msgpack';
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import type { ClientOptions } from '../src/client/client.js';
import { Client } from '../src/client/client.js';
import { McpError } from '../src/protocol/errors.js';
import type { Transport } from '../src/protocol/transport.js';
import type { AuthInfo } from '../src/protocol/types.js';
import type { McpServer } from '../src/server/mcp-server.js';
import type { StreamClientTransport } from '../src/transports/stream/client.js';
import {
  connectStream,
  parseStreamUrl,
  TcpClientTransport,
  TlsClientTransport,
  UnixClientTransport,
} from '../src/transports/stream/client.js';
import { readCodecAnswer, readCodecRequest } from '../src/transports/stream/codec.js';
import { encodeFrame, LengthPrefixDecoder } from '../src/transports/stream/length-prefix.js';
import type { StreamServerHandle } from '../src/transports/stream/server.js';
import { serveTcp, serveTls, serveUnix } from '../src/transports/stream/server.js';
import { certificateAuthInfo, parseSubjectAltNames } from '../src/transports/shared/certificate.js';
import type { TestPki } from './fixtures/stream-certs.js';
import { generatePki, opensslUnavailable } from './fixtures/stream-certs.js';
import { connected, RawPeer } from './fixtures/stream-raw.js';
import { sleep } from './helpers.js';

const noOpenssl = opensslUnavailable();
const isWindows = process.platform === 'win32';
const pki: TestPki | undefined = noOpenssl ? undefined : generatePki();
const dir = mkdtempSync(join(tmpdir(), 'anywire-stream-'));
afterAll(() => {
  pki?.remove();
  rmSync(dir, { recursive: true, force: true });
});

const handlers: ClientOptions['handlers'] = {
  sampling: async () => ({ role: 'assistant', content: { type: 'text', text: 'sampled' }, model: 'm' }),
  elicitation: async () => ({ action: 'accept', content: { username: 'u', email: 'e@example.com' } }),
};

/** The everything server plus tools that expose the connection's identity and cancellation. */
function createServer(): McpServer & { seen: { aborted: number; started: number } } {
  const server = createEverythingServer() as McpServer & { seen: { aborted: number; started: number } };
  const seen = { aborted: 0, started: 0 };
  server.seen = seen;
  server.registerTool('whoami', { description: 'Returns ctx.authInfo' }, (_a, ctx) => ({
    content: [{ type: 'text', text: JSON.stringify(ctx.authInfo ?? null) }],
  }));
  server.registerTool('block', { description: 'Waits until its signal aborts' }, (_a, ctx) => {
    seen.started++;
    return new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        seen.aborted++;
        resolve('aborted');
      });
    });
  });
  return server;
}

async function connectClient(
  transport: Transport,
  era: 'legacy' | 'modern' | 'auto' = 'auto',
): Promise<Client> {
  const client = new Client(
    { name: 'stream-test', version: '1.0.0' },
    { era, handlers, requestTimeoutMs: 10_000 },
  );
  await client.connect(transport);
  return client;
}

/** The `authInfo` the server's handler saw, via the `whoami` tool. */
async function whoami(client: Client): Promise<AuthInfo | null> {
  const block = (await client.callTool('whoami')).content[0] as { text: string };
  return JSON.parse(block.text) as AuthInfo | null;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await sleep(10);
  expect(cond()).toBe(true);
}

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};
const modernCall = (id: number, name: string, args: object = {}) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args, _meta: MODERN_META },
  });

// ------------------------------------------------------------------------------------------------
// Each binding, both eras, with the everything server.

interface Setup {
  handle: StreamServerHandle;
  transport: () => StreamClientTransport;
}

const bindings: { name: string; skip?: string; start: (server: McpServer) => Promise<Setup> }[] = [
  {
    name: 'tcp',
    start: async (server) => {
      const handle = await serveTcp(server, { port: 0 });
      const { port } = handle.address as AddressInfo;
      return { handle, transport: () => new TcpClientTransport({ port }) };
    },
  },
  {
    name: 'unix',
    skip: isWindows ? 'no Unix socket paths on Windows' : undefined,
    start: async (server) => {
      const path = join(dir, 'everything.sock');
      const handle = await serveUnix(server, { path });
      return { handle, transport: () => new UnixClientTransport({ path }) };
    },
  },
  {
    name: 'tls',
    skip: noOpenssl,
    start: async (server) => {
      const handle = await serveTls(server, { port: 0, cert: pki!.serverCert, key: pki!.serverKey });
      const { port } = handle.address as AddressInfo;
      return {
        handle,
        transport: () => new TlsClientTransport({ port, ca: pki!.ca, servername: 'localhost' }),
      };
    },
  },
];

for (const b of bindings) {
  describe.skipIf(b.skip !== undefined)(`${b.name}: anywire client and server`, () => {
    let setup: Setup;
    beforeAll(async () => {
      setup = await b.start(createServer());
    });
    afterAll(() => setup?.handle.close());

    it('reports its URL', () => {
      expect(setup.handle.url).toMatch(
        b.name === 'unix' ? /^unix:\// : new RegExp(`^${b.name}://127\\.0\\.0\\.1:\\d+$`),
      );
      expect(setup.handle.binding).toBe(b.name);
    });

    for (const era of ['legacy', 'modern'] as const) {
      it(`${era}: tools, progress, sampling and elicitation`, async () => {
        const client = await connectClient(setup.transport(), era);
        try {
          expect(client.era).toBe(era);
          expect(await client.callTool('echo', { text: `over ${b.name}` })).toMatchObject({
            content: [{ type: 'text', text: `over ${b.name}` }],
          });
          const progress: number[] = [];
          await client.callTool(
            'test_tool_with_progress',
            {},
            { onprogress: (p) => progress.push(p.progress) },
          );
          expect(progress).toEqual([0, 50, 100]);
          expect((await client.callTool('test_sampling', { prompt: 'p' })).content).toEqual([
            { type: 'text', text: 'LLM response: sampled' },
          ]);
          expect((await client.callTool('test_elicitation', { message: 'm' })).content).toEqual([
            {
              type: 'text',
              text: 'User response: action=accept, content={"username":"u","email":"e@example.com"}',
            },
          ]);
          // Handlers see the binding's name; plain TLS carries no identity.
          expect(await whoami(client)).toBeNull();
        } finally {
          await client.close();
        }
      });
    }

    it('a probing client settles on modern', async () => {
      const client = await connectClient(setup.transport());
      expect(client.era).toBe('modern');
      await client.close();
    });
  });
}

// ------------------------------------------------------------------------------------------------

describe.skipIf(noOpenssl !== undefined)('mutual TLS', () => {
  let handle: StreamServerHandle;
  let port: number;
  const errors: string[] = [];
  beforeAll(async () => {
    handle = await serveTls(createServer(), {
      port: 0,
      cert: pki!.files.serverCert, // file paths work as well as PEM text
      key: pki!.files.serverKey,
      ca: pki!.files.ca,
      requestCert: true,
      onerror: (e) => errors.push(e.message),
    });
    port = (handle.address as AddressInfo).port;
  });
  afterAll(() => handle?.close());

  for (const era of ['legacy', 'modern'] as const) {
    it(`${era}: the certificate's subject and SANs reach ctx.authInfo`, async () => {
      const client = await connectClient(
        new TlsClientTransport({
          port,
          ca: pki!.ca,
          cert: pki!.clientCert,
          key: pki!.clientKey,
          servername: 'localhost',
        }),
        era,
      );
      const info = (await whoami(client))!;
      await client.close();
      expect(info).toMatchObject({
        // The same rule as on gRPC and WSS: the SPIFFE ID names the client, the CN the subject.
        subject: 'test-client',
        clientId: 'spiffe://example.org/client',
        extra: {
          certificate: {
            subject: { CN: 'test-client', O: 'anywire' },
            issuer: { CN: 'anywire test CA' },
            subjectAltNames: [
              { type: 'DNS', value: 'client.example.org' },
              { type: 'URI', value: 'spiffe://example.org/client' },
            ],
            spiffeId: 'spiffe://example.org/client',
            fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
            validTo: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            // RFC 8705 x5t#S256 of the DER certificate, computed independently here.
            x5tS256: createHash('sha256')
              .update(new X509Certificate(pki!.clientCert).raw)
              .digest('base64url'),
          },
        },
      });
      expect(info.expiresAt).toBeGreaterThan(Date.now() / 1000);
    });
  }

  it('a client without a certificate is refused with a clear error', async () => {
    const error = await connectClient(
      new TlsClientTransport({ port, ca: pki!.ca, servername: 'localhost' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect((error as Error).message).toMatch(
      /requires a client certificate \(mutual TLS\) and none was sent/,
    );
    await until(() => errors.some((m) => /did not return a certificate/.test(m)));
  });

  it('a certificate from an untrusted CA is refused', async () => {
    const error = await connectClient(
      new TlsClientTransport({
        port,
        ca: pki!.ca,
        cert: pki!.rogueCert,
        key: pki!.rogueKey,
        servername: 'localhost',
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as Error).message).toMatch(/client certificate/);
  });

  it('a TLS 1.2 client without a certificate is refused with a clear error too', async () => {
    const error = await connectClient(
      new TlsClientTransport({
        port,
        ca: pki!.ca,
        servername: 'localhost',
        tlsOptions: { maxVersion: 'TLSv1.2' },
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as Error).message).toMatch(/client certificate/);
  });

  it("a client that does not trust the server's CA says so", async () => {
    const error = await connectClient(
      new TlsClientTransport({ port, cert: pki!.clientCert, key: pki!.clientKey, servername: 'localhost' }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_CONNECTED' });
    expect((error as Error).message).toMatch(/could not be verified/);
  });

  it('tls:// URLs work through connectStream', async () => {
    const client = await connectClient(
      connectStream(`tls://localhost:${port}`, { ca: pki!.ca, cert: pki!.clientCert, key: pki!.clientKey }),
    );
    expect(await client.callTool('echo', { text: 'url' })).toMatchObject({ content: [{ text: 'url' }] });
    await client.close();
  });
});

// ------------------------------------------------------------------------------------------------

describe('connections', () => {
  let server: ReturnType<typeof createServer>;
  let handle: StreamServerHandle;
  let port: number;
  beforeAll(async () => {
    server = createServer();
    handle = await serveTcp(server, { port: 0, maxMessageBytes: 1024 });
    port = (handle.address as AddressInfo).port;
  });
  afterAll(() => handle?.close());
  const raw = async () => new RawPeer(await connected(netConnect({ host: '127.0.0.1', port })));

  it('a peer that disconnects mid-request aborts the handler (raw socket reset)', async () => {
    const { started, aborted } = { ...server.seen };
    const peer = await raw();
    peer.line(modernCall(1, 'block'));
    await until(() => server.seen.started === started + 1);
    peer.socket.destroy();
    await until(() => server.seen.aborted === aborted + 1);
  });

  it('a client that closes mid-request aborts the handler (FIN)', async () => {
    const { started, aborted } = { ...server.seen };
    const client = await connectClient(new TcpClientTransport({ port }));
    const pending = client.callTool('block').catch((e: unknown) => e); // rejects while close() is awaited
    await until(() => server.seen.started === started + 1);
    await client.close();
    expect(await pending).toMatchObject({ code: 'CONNECTION_CLOSED' });
    await until(() => server.seen.aborted === aborted + 1);
  });

  it('invalid JSON and oversized lines are answered, and the connection keeps serving', async () => {
    const peer = await raw();
    peer.line('{not json');
    expect(await peer.next()).toMatchObject({ id: null, error: { code: -32700 } });
    peer.line(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(2000) } }));
    expect(await peer.next()).toMatchObject({
      id: null,
      error: { code: -32600, message: /maxMessageBytes \(1024\)/ },
    });
    peer.line(JSON.stringify({ jsonrpc: '2.0', id: 'ok', method: 'ping' }));
    // A legacy request before initialize still gets an answer on the same connection.
    expect(await peer.next()).toMatchObject({ id: 'ok' });
    peer.line(modernCall(2, 'echo', { text: 'still here' }));
    expect(await peer.next()).toMatchObject({ id: 2, result: { content: [{ text: 'still here' }] } });
    peer.socket.destroy();
  });

  it('an oversized line split over many chunks is skipped without buffering it', async () => {
    const peer = await raw();
    for (let i = 0; i < 8; i++) peer.socket.write('y'.repeat(512));
    peer.socket.write('\n');
    expect(await peer.next()).toMatchObject({ error: { code: -32600 } });
    peer.line(modernCall(3, 'echo', { text: 'after' }));
    expect(await peer.next()).toMatchObject({ id: 3, result: { content: [{ text: 'after' }] } });
    peer.socket.destroy();
  });

  it('connection failures are McpErrors that name the problem', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await expect(new TcpClientTransport({ port: free }).start()).rejects.toMatchObject({
      code: 'NOT_CONNECTED',
      message: /nothing listens at 127\.0\.0\.1:\d+/,
    });
    await expect(new UnixClientTransport({ path: join(dir, 'absent.sock') }).start()).rejects.toMatchObject({
      code: 'NOT_CONNECTED',
      message: /no socket at/,
    });
    await expect(
      new TcpClientTransport({ port }).send({ jsonrpc: '2.0', method: 'x' }),
    ).rejects.toMatchObject({
      code: 'NOT_CONNECTED',
    });
  });

  it('close() during start() leaves no socket open', async () => {
    const t = new TcpClientTransport({ port });
    const starting = t.start();
    await t.close();
    await expect(starting).rejects.toMatchObject({
      code: 'NOT_CONNECTED',
      message: /closed while connecting/,
    });
    expect(t.socket).toBeUndefined();
  });

  it('maxConnections refuses connections beyond the cap', async () => {
    const errors: string[] = [];
    const h = await serveTcp(createServer(), {
      port: 0,
      maxConnections: 1,
      onerror: (e) => errors.push(e.message),
    });
    const p = (h.address as AddressInfo).port;
    const first = await connectClient(new TcpClientTransport({ port: p }));
    const second = await connectClient(new TcpClientTransport({ port: p })).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(McpError);
    expect(errors.join()).toMatch(/maxConnections \(1\)/);
    expect(await first.callTool('echo', { text: 'first' })).toMatchObject({ content: [{ text: 'first' }] });
    await first.close();
    await h.close();
  });

  it('close() stops listening and ends open connections', async () => {
    const h = await serveTcp(createServer(), { port: 0 });
    const p = (h.address as AddressInfo).port;
    const transport = new TcpClientTransport({ port: p });
    const client = await connectClient(transport);
    let closed = false;
    const onclose = transport.onclose;
    transport.onclose = () => {
      closed = true;
      onclose?.();
    };
    const pending = client.callTool('block').catch((e: unknown) => e);
    await sleep(50);
    await h.close();
    expect(await pending).toMatchObject({ code: 'CONNECTION_CLOSED' });
    await until(() => closed);
    expect(h.connections.size).toBe(0);
    await expect(new TcpClientTransport({ port: p }).start()).rejects.toMatchObject({
      code: 'NOT_CONNECTED',
    });
  });
});

// ------------------------------------------------------------------------------------------------

describe.skipIf(isWindows)('Unix socket files', () => {
  it('a stale socket file is replaced; the mode option is applied; close() removes the file', async () => {
    const path = join(dir, 'stale.sock');
    // Leave a socket file behind the way a crashed server does: listen, then SIGKILL.
    const child = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await new Promise((r) => child.once('exit', r));
    expect(statSync(path).isSocket()).toBe(true);
    const handle = await serveUnix(createServer(), { path, mode: 0o600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(handle.url).toBe(`unix:${path}`);
    const client = await connectClient(connectStream(`unix:${path}`));
    expect(await client.callTool('echo', { text: 'unix' })).toMatchObject({ content: [{ text: 'unix' }] });
    await client.close();
    await handle.close();
    expect(() => statSync(path)).toThrow();
  });

  it('a live socket is not taken over, and a regular file is not replaced', async () => {
    const path = join(dir, 'live.sock');
    const handle = await serveUnix(createServer(), { path });
    await expect(serveUnix(createServer(), { path })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await handle.close();
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'precious');
    await expect(serveUnix(createServer(), { path: file })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(statSync(file).isFile()).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------

/** A TCP relay that records the bytes crossing it each way. */
async function recordingProxy(
  target: number,
): Promise<{ port: number; up: Buffer[]; down: Buffer[]; close(): Promise<void> }> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<Socket>();
  const proxy = createNetServer((client) => {
    const upstream = netConnect({ host: '127.0.0.1', port: target });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d: Buffer) => {
      up.push(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      down.push(d);
      client.write(d);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    port: (proxy.address() as AddressInfo).port,
    up,
    down,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => r());
      }),
  };
}

/** Splits recorded bytes into the first line and the length-prefixed MessagePack frames after it. */
function readWire(chunks: Buffer[]): { firstLine: string; frames: any[]; rest: Buffer } {
  const all = Buffer.concat(chunks);
  const nl = all.indexOf(0x0a);
  const firstLine = all.subarray(0, nl).toString();
  let pos = nl + 1;
  const frames: any[] = [];
  while (all.length - pos >= 4) {
    const len = all.readUInt32BE(pos);
    if (all.length - pos - 4 < len) break;
    frames.push(decode(all.subarray(pos + 4, pos + 4 + len)));
    pos += 4 + len;
  }
  return { firstLine, frames, rest: all.subarray(pos) };
}

describe('MessagePack codec', () => {
  let handle: StreamServerHandle;
  let port: number;
  beforeAll(async () => {
    handle = await serveTcp(createServer(), { port: 0, maxMessageBytes: 1024 });
    port = (handle.address as AddressInfo).port;
  });
  afterAll(() => handle?.close());

  for (const era of ['legacy', 'modern'] as const) {
    it(`${era}: granted and used; every frame after the handshake is binary`, async () => {
      const proxy = await recordingProxy(port);
      const transport = new TcpClientTransport({ port: proxy.port, codec: 'msgpack' });
      const client = await connectClient(transport, era);
      expect(transport.codec).toBe('msgpack');
      expect(await client.callTool('echo', { text: 'binary' })).toMatchObject({
        content: [{ text: 'binary' }],
      });
      const progress: number[] = [];
      await client.callTool('test_tool_with_progress', {}, { onprogress: (p) => progress.push(p.progress) });
      expect(progress).toEqual([0, 50, 100]);
      expect((await client.callTool('test_sampling', { prompt: 'p' })).content).toEqual([
        { type: 'text', text: 'LLM response: sampled' },
      ]);
      await client.close();
      await proxy.close();

      const up = readWire(proxy.up);
      const down = readWire(proxy.down);
      expect(JSON.parse(up.firstLine)).toEqual({
        jsonrpc: '2.0',
        id: 'anywire/codec',
        method: 'anywire/codec',
        params: { accept: ['msgpack'] },
      });
      expect(JSON.parse(down.firstLine)).toEqual({
        jsonrpc: '2.0',
        id: 'anywire/codec',
        result: { codec: 'msgpack' },
      });
      // Everything after the first line decodes as length-prefixed MessagePack, nothing is left over.
      expect(up.rest.length).toBe(0);
      expect(down.rest.length).toBe(0);
      expect(up.frames.map((m) => m.method)).toContain('tools/call');
      expect(down.frames.some((m) => m.result?.content?.[0]?.text === 'binary')).toBe(true);
      expect(down.frames.filter((m) => m.method === 'notifications/progress')).toHaveLength(3);
      if (era === 'legacy') expect(down.frames.map((m) => m.method)).toContain('sampling/createMessage');
      // No JSON text after the handshake: the frames do not start with '{'.
      const afterHandshake = Buffer.concat(proxy.down).subarray(down.firstLine.length + 1);
      expect(afterHandshake[4]).not.toBe(0x7b);
    });
  }

  it('bad frames are answered in MessagePack and the connection keeps serving', async () => {
    const peer = new RawPeer(await connected(netConnect({ host: '127.0.0.1', port })));
    peer.line(
      '{"jsonrpc":"2.0","id":"anywire/codec","method":"anywire/codec","params":{"accept":["cbor","msgpack"]}}',
    );
    expect(await peer.next()).toEqual({ jsonrpc: '2.0', id: 'anywire/codec', result: { codec: 'msgpack' } });
    peer.frame(undefined, Uint8Array.of(0xc1)); // 0xc1 is never used in MessagePack
    expect(await peer.next()).toMatchObject({ id: null, error: { code: -32700 } });
    peer.frame({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(2000) } });
    expect(await peer.next()).toMatchObject({
      id: null,
      error: { code: -32600, message: /maxMessageBytes/ },
    });
    peer.frame({ jsonrpc: '1.0', id: 2, method: 'ping' });
    expect(await peer.next()).toMatchObject({ id: 2, error: { code: -32600 } });
    peer.frame(JSON.parse(modernCall(3, 'echo', { text: 'frames' })));
    expect(await peer.next()).toMatchObject({ id: 3, result: { content: [{ text: 'frames' }] } });
    peer.socket.destroy();
  });

  it('a server with codecs: [] does not know the method; the client stays on NDJSON', async () => {
    const h = await serveTcp(createServer(), { port: 0, codecs: [] });
    const p = (h.address as AddressInfo).port;
    const peer = new RawPeer(await connected(netConnect({ host: '127.0.0.1', port: p })));
    peer.line(
      '{"jsonrpc":"2.0","id":"anywire/codec","method":"anywire/codec","params":{"accept":["msgpack"]}}',
    );
    expect(await peer.next()).toMatchObject({ id: 'anywire/codec', error: { code: expect.any(Number) } });
    peer.socket.destroy();
    for (const era of ['legacy', 'modern'] as const) {
      const transport = connectStream(`tcp://127.0.0.1:${p}?codec=msgpack`);
      const client = await connectClient(transport, era);
      expect(transport.codec).toBe('ndjson');
      expect(await client.callTool('echo', { text: 'json' })).toMatchObject({ content: [{ text: 'json' }] });
      await client.close();
    }
    await h.close();
  });

  it('no common codec: the server answers ndjson', async () => {
    const peer = new RawPeer(await connected(netConnect({ host: '127.0.0.1', port })));
    peer.line('{"jsonrpc":"2.0","id":7,"method":"anywire/codec","params":{"accept":["cbor"]}}');
    expect(await peer.next()).toEqual({ jsonrpc: '2.0', id: 7, result: { codec: 'ndjson' } });
    peer.line(modernCall(8, 'echo', { text: 'lines' }));
    expect(await peer.next()).toMatchObject({ id: 8, result: { content: [{ text: 'lines' }] } });
    peer.socket.destroy();
  });

  it('only the first line negotiates', async () => {
    const peer = new RawPeer(await connected(netConnect({ host: '127.0.0.1', port })));
    peer.line(modernCall(1, 'echo', { text: 'first' }));
    expect(await peer.next()).toMatchObject({ id: 1 });
    peer.line(
      '{"jsonrpc":"2.0","id":"anywire/codec","method":"anywire/codec","params":{"accept":["msgpack"]}}',
    );
    expect(await peer.next()).toMatchObject({ id: 'anywire/codec', error: { code: expect.any(Number) } });
    peer.socket.destroy();
  });

  it.skipIf(noOpenssl !== undefined)('works over mutual TLS and Unix sockets too', async () => {
    const server = createServer();
    const tls = await serveTls(server, {
      port: 0,
      cert: pki!.serverCert,
      key: pki!.serverKey,
      ca: pki!.ca,
      requestCert: true,
    });
    const path = join(dir, 'msgpack.sock');
    const unix = await serveUnix(server, { path });
    const transports: StreamClientTransport[] = [
      new TlsClientTransport({
        port: (tls.address as AddressInfo).port,
        ca: pki!.ca,
        cert: pki!.clientCert,
        key: pki!.clientKey,
        servername: 'localhost',
        codec: 'msgpack',
      }),
      new UnixClientTransport({ path, codec: 'msgpack' }),
    ];
    for (const t of transports) {
      const client = await connectClient(t);
      expect(t.codec).toBe('msgpack');
      const who = await whoami(client);
      expect(who?.subject ?? null).toBe(t.binding === 'tls' ? 'test-client' : null);
      await client.close();
    }
    await tls.close();
    await unix.close();
  });
});

// ------------------------------------------------------------------------------------------------

describe('pure units', () => {
  it('length-prefix framing: frames split at every offset decode the same', () => {
    const payloads = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(300, 7)];
    const wire = Buffer.concat(payloads.map((p) => encodeFrame(p)));
    for (let cut = 0; cut <= wire.length; cut++) {
      for (const step of [1, 3, 1000]) {
        const out: string[] = [];
        const d = new LengthPrefixDecoder({ onframe: (f) => out.push(f.toString('hex')) });
        const chunks = [wire.subarray(0, cut), wire.subarray(cut)];
        for (const c of chunks) for (let i = 0; i < c.length; i += step) d.push(c.subarray(i, i + step));
        // Empty frames are skipped, like empty lines.
        expect(out).toEqual(payloads.filter((p) => p.length).map((p) => p.toString('hex')));
        expect(d.bufferedBytes).toBe(0);
      }
    }
  });

  it('length-prefix framing: an oversized frame is reported once, skipped, and decoding goes on', () => {
    const big = encodeFrame(Buffer.alloc(5000, 1));
    const ok = encodeFrame(Buffer.from('ok'));
    for (const step of [1, 7, 4096, 100_000]) {
      const frames: string[] = [];
      const overflows: number[] = [];
      const d = new LengthPrefixDecoder({
        maxMessageBytes: 100,
        onframe: (f) => frames.push(f.toString()),
        onoverflow: (n) => overflows.push(n),
      });
      const wire = Buffer.concat([ok, big, ok]);
      for (let i = 0; i < wire.length; i += step) d.push(wire.subarray(i, i + step));
      expect(frames).toEqual(['ok', 'ok']);
      expect(overflows).toEqual([5000]);
      // The oversized payload was never held.
      expect(d.bufferedBytes).toBe(0);
    }
  });

  it('codec negotiation lines', () => {
    expect(
      readCodecRequest(
        '{"jsonrpc":"2.0","id":"anywire/codec","method":"anywire/codec","params":{"accept":["msgpack",1]}}',
      ),
    ).toEqual({
      id: 'anywire/codec',
      accept: ['msgpack'],
    });
    expect(readCodecRequest('{"jsonrpc":"2.0","id":1,"method":"ping"}')).toBeUndefined();
    expect(readCodecRequest('{"jsonrpc":"2.0","method":"anywire/codec"}')).toBeUndefined(); // a notification
    expect(readCodecAnswer('{"jsonrpc":"2.0","id":"anywire/codec","result":{"codec":"msgpack"}}')).toBe(
      'msgpack',
    );
    expect(
      readCodecAnswer('{"jsonrpc":"2.0","id":"anywire/codec","error":{"code":-32601,"message":"x"}}'),
    ).toBe('ndjson');
    expect(readCodecAnswer('{"jsonrpc":"2.0","id":1,"result":{}}')).toBeUndefined();
  });

  it('stream URLs', () => {
    expect(parseStreamUrl('tcp://127.0.0.1:7070')).toEqual({ binding: 'tcp', host: '127.0.0.1', port: 7070 });
    expect(parseStreamUrl('tls://[::1]:443/')).toEqual({ binding: 'tls', host: '::1', port: 443 });
    expect(parseStreamUrl('tcp://:9?codec=msgpack')).toEqual({
      binding: 'tcp',
      host: '127.0.0.1',
      port: 9,
      codec: 'msgpack',
    });
    expect(parseStreamUrl('unix:/run/mcp.sock')).toEqual({ binding: 'unix', path: '/run/mcp.sock' });
    expect(parseStreamUrl('unix:///run/mcp%20x.sock')).toEqual({ binding: 'unix', path: '/run/mcp x.sock' });
    expect(parseStreamUrl('unix:rel/mcp.sock')).toEqual({ binding: 'unix', path: 'rel/mcp.sock' });
    expect(() => parseStreamUrl('http://x:1')).toThrow(/tcp:\/\/host:port/);
    expect(() => parseStreamUrl('tcp://host')).toThrow();
    expect(() => parseStreamUrl('tcp://h:1?codec=cbor')).toThrow(/unknown codec/);
  });

  it('subject alternative names, including values Node quotes', () => {
    expect(
      parseSubjectAltNames(
        'DNS:a.example, URI:spiffe://td/ns/x, IP Address:127.0.0.1, DNS:"we\\"ird, name", email:a@b.c',
      ),
    ).toEqual([
      { type: 'DNS', value: 'a.example' },
      { type: 'URI', value: 'spiffe://td/ns/x' },
      { type: 'IP Address', value: '127.0.0.1' },
      { type: 'DNS', value: 'we"ird, name' },
      { type: 'email', value: 'a@b.c' },
    ]);
    const info = certificateAuthInfo({
      subject: { CN: '' } as any,
      issuer: { CN: 'ca' } as any,
      subjectaltname: 'URI:spiffe://td/workload',
      fingerprint256: 'AA',
      serialNumber: '01',
      valid_from: 'Jan  1 00:00:00 2026 GMT',
      valid_to: 'Jan  2 00:00:00 2026 GMT',
    } as any);
    // No CN: the SPIFFE ID names the client.
    expect(info).toMatchObject({
      subject: 'spiffe://td/workload',
      clientId: 'spiffe://td/workload',
      expiresAt: 1767312000,
    });
  });
});
