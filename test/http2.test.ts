/**
 * HTTP/2 for the Streamable HTTP client: `createHttp2Fetch` (one multiplexed `node:http2` session
 * per origin) under anywire's `Client` against `serveHttp` in h2c (prior knowledge) and h2-over-TLS
 * (ALPN, certificates made by `openssl` for this run) modes, in both eras; the HTTP/1.1 ALPN
 * fallback on the TLS port; 100 concurrent SSE streams on one connection; and the fetch's own
 * behaviour (streamed bodies, abort as RST_STREAM, reconnection, stream limit, redirects, gzip,
 * close) against raw `node:http2` servers. Real sockets on 127.0.0.1, port 0.
 */
import { execFileSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { Client } from '../src/client/client.js';
import type { FetchLike } from '../src/transports/streamable-http/client.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { createHttp2Fetch } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/node.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';

const { NGHTTP2_CANCEL } = http2.constants;

// ---- fixtures ---------------------------------------------------------------------------------

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A CA and a server certificate for 127.0.0.1 / localhost signed by it, made by openssl. */
let tls: { ca: Buffer; cert: Buffer; key: Buffer };
let certDir: string;
beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'anywire-h2-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: certDir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=anywire test CA',
  );
  run('req', ...ec, '-keyout', 'key.pem', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(
    join(certDir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  const read = (f: string) => readFileSync(join(certDir, f));
  tls = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
});
afterAll(() => rmSync(certDir, { recursive: true, force: true }));

/** What the server side saw. */
interface Stats {
  /** TCP connections accepted. */
  connections: number;
  /** HTTP/2 sessions. */
  sessions: number;
  /** `httpVersion` of every request. */
  versions: string[];
  /** Requests open now, and the most open at once. */
  open: number;
  maxOpen: number;
}

async function serveEverything(mode: 'h2c' | 'tls'): Promise<{ handle: HttpServerHandle; stats: Stats }> {
  const handle = await serveHttp(
    createEverythingServer(),
    mode === 'h2c' ? { port: 0, http2: true } : { port: 0, tls: { cert: tls.cert, key: tls.key } },
  );
  cleanups.push(() => handle.close());
  const stats: Stats = { connections: 0, sessions: 0, versions: [], open: 0, maxOpen: 0 };
  const listener = handle.listener as unknown as EventEmitter;
  listener.on('connection', () => stats.connections++);
  listener.on('session', () => stats.sessions++);
  listener.on('request', (req: IncomingMessage, res: ServerResponse) => {
    stats.versions.push(req.httpVersion);
    stats.maxOpen = Math.max(stats.maxOpen, ++stats.open);
    res.once('close', () => stats.open--);
  });
  return { handle, stats };
}

async function connect(url: string, fetch: FetchLike, era: 'auto' | 'legacy'): Promise<Client> {
  const client = new Client({ name: 'anywire-h2-test', version: '1.0.0' }, { era });
  cleanups.push(() => client.close());
  await client.connect(new StreamableHttpClientTransport({ url, fetch }));
  return client;
}

/** An echo and a progress-reporting call (an SSE answer), checked exactly. */
async function exercise(client: Client, era: 'auto' | 'legacy', label: string): Promise<void> {
  expect(client.era).toBe(era === 'auto' ? 'modern' : 'legacy');
  const text = `${label} in the ${client.era} era`;
  const echo = await client.callTool('echo', { text });
  expect(echo.content).toEqual([{ type: 'text', text }]);
  const progress: number[] = [];
  const r = await client.callTool(
    'test_tool_with_progress',
    {},
    { onprogress: (p) => progress.push(p.progress) },
  );
  expect(progress).toEqual([0, 50, 100]);
  expect(r.content).toHaveLength(1);
  expect((r.content[0] as { text: string }).text).not.toBe('no-progress-token');
}

/** A FetchLike on `https.request` restricted to HTTP/1.1 by ALPN; records the negotiated protocol. */
function http11Fetch(ca: Buffer, alpn: (string | false | null)[]): FetchLike & { agent: https.Agent } {
  const agent = new https.Agent({ keepAlive: true, ca, ALPNProtocols: ['http/1.1'] });
  const f = (input: string | URL, init: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const req = https.request(
        new URL(input),
        { method: init.method ?? 'GET', headers, agent, signal: init.signal ?? undefined },
        (res) => {
          alpn.push((res.socket as TLSSocket).alpnProtocol);
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            for (const x of v === undefined ? [] : [v].flat()) h.append(k, x);
          const status = res.statusCode ?? 500;
          const body =
            status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          if (!body) res.resume();
          resolve(new Response(body, { status, headers: h }));
        },
      );
      req.on('error', reject);
      req.end(typeof init.body === 'string' ? init.body : undefined);
    });
  return Object.assign(f, { agent });
}

// ---- anywire over HTTP/2 ----------------------------------------------------------------------

describe('Client + StreamableHttpClientTransport over createHttp2Fetch', () => {
  for (const mode of ['h2c', 'tls'] as const) {
    for (const era of ['auto', 'legacy'] as const) {
      it(`${mode === 'h2c' ? 'h2c (prior knowledge)' : 'h2 over TLS (ALPN)'}, era ${era}`, async () => {
        const { handle, stats } = await serveEverything(mode);
        expect(handle.url.startsWith(mode === 'h2c' ? 'http://' : 'https://')).toBe(true);
        const h2 = createHttp2Fetch(mode === 'tls' ? { ca: tls.ca } : {});
        cleanups.push(() => h2.close());
        const client = await connect(handle.url, h2, era);
        await exercise(client, era, `${mode} ${era}`);
        expect(stats.versions.length).toBeGreaterThanOrEqual(3);
        expect(new Set(stats.versions)).toEqual(new Set(['2.0']));
        expect(stats.connections).toBe(1);
        expect(stats.sessions).toBe(1);
        expect(h2.origins).toEqual([new URL(handle.url).origin]);
      });
    }
  }

  it('rejects an untrusted certificate with a TypeError (no ca given)', async () => {
    const { handle } = await serveEverything('tls');
    const h2 = createHttp2Fetch();
    cleanups.push(() => h2.close());
    const error = await h2(handle.url, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as TypeError & { cause: { code?: string } }).cause.code)).toMatch(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED/,
    );
  });

  for (const era of ['auto', 'legacy'] as const) {
    it(`an HTTP/1.1 client still works on the TLS port (ALPN fallback), era ${era}`, async () => {
      const { handle, stats } = await serveEverything('tls');
      const alpn: (string | false | null)[] = [];
      const h1 = http11Fetch(tls.ca, alpn);
      cleanups.push(() => h1.agent.destroy());
      const client = await connect(handle.url, h1, era);
      await exercise(client, era, `HTTP/1.1 ${era}`);
      expect(new Set(stats.versions)).toEqual(new Set(['1.1']));
      expect(new Set(alpn)).toEqual(new Set(['http/1.1']));
      expect(stats.sessions).toBe(0);
    });
  }

  for (const era of ['auto', 'legacy'] as const) {
    it(`100 concurrent SSE streams on one HTTP/2 connection, era ${era}`, async () => {
      const { handle, stats } = await serveEverything('h2c');
      const h2 = createHttp2Fetch();
      cleanups.push(() => h2.close());
      const callTypes: string[] = [];
      const fetch: FetchLike = async (input, init) => {
        const r = await h2(input, init);
        if (typeof init.body === 'string' && init.body.includes('"tools/call"'))
          callTypes.push(r.headers.get('content-type') ?? '');
        return r;
      };
      const client = await connect(handle.url, fetch, era);
      const before = stats.maxOpen;
      const calls = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const progress: number[] = [];
          const r = await client.callTool(
            'test_tool_with_progress',
            {},
            { onprogress: (p) => progress.push(p.progress) },
          );
          return { progress, text: (r.content[0] as { text: string }).text };
        }),
      );
      for (const c of calls) expect(c.progress).toEqual([0, 50, 100]);
      // Each call echoes its own progress token: no answer was crossed with another's.
      expect(new Set(calls.map((c) => c.text)).size).toBe(100);
      expect(callTypes).toHaveLength(100);
      for (const t of callTypes) expect(t).toMatch(/^text\/event-stream/);
      expect(stats.maxOpen).toBeGreaterThanOrEqual(Math.max(before, 100));
      expect(stats.connections).toBe(1);
      expect(stats.sessions).toBe(1);
      expect(new Set(stats.versions)).toEqual(new Set(['2.0']));
    });
  }
});

// ---- createHttp2Fetch against raw node:http2 servers -------------------------------------------

interface RawServer {
  url: string;
  connections: number;
  sessions: ServerHttp2Session[];
  /** rstCode of every stream that closed, by path. */
  closed: Map<string, number>;
  server: http2.Http2Server;
}

async function rawH2(
  onstream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void,
): Promise<RawServer> {
  const server = http2.createServer();
  const raw: RawServer = { url: '', connections: 0, sessions: [], closed: new Map(), server };
  server.on('connection', () => raw.connections++);
  server.on('session', (s) => raw.sessions.push(s));
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    stream.once('close', () => raw.closed.set(String(headers[':path']), stream.rstCode));
    onstream(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  raw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of raw.sessions) s.destroy();
        server.close(() => resolve());
      }),
  );
  return raw;
}

function readBody(stream: ServerHttp2Stream): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('createHttp2Fetch', () => {
  it('streams a response body as its DATA frames arrive (SSE is not buffered)', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const raw = await rawH2((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      stream.write('data: one\n\n');
      void released.then(() => stream.end('data: two\n\n'));
    });
    const f = createHttp2Fetch();
    cleanups.push(() => f.close());
    const r = await f(`${raw.url}/sse`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    expect(r.url).toBe(`${raw.url}/sse`);
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    // The server holds the stream open until the client has seen the first event.
    expect(decoder.decode((await reader.read()).value)).toBe('data: one\n\n');
    release();
    let rest = '';
    for (let c = await reader.read(); !c.done; c = await reader.read()) rest += decoder.decode(c.value);
    expect(rest).toBe('data: two\n\n');
  });

  it('sends request bodies of every kind and reads headers', async () => {
    const raw = await rawH2((stream, headers) => {
      void readBody(stream).then((body) => {
        stream.respond({
          ':status': 201,
          'content-type': 'application/json',
          'set-cookie': ['a=1', 'b=2'],
          'x-echo-method': String(headers[':method']),
        });
        stream.end(
          JSON.stringify({
            body,
            type: headers['content-type'] ?? null,
            len: headers['content-length'] ?? null,
          }),
        );
      });
    });
    const f = createHttp2Fetch();
    cleanups.push(() => f.close());
    const send = async (body: BodyInit, init: RequestInit = {}) =>
      (await f(`${raw.url}/echo`, { method: 'POST', body, ...init })).json();
    expect(await send('héllo')).toEqual({ body: 'héllo', type: 'text/plain;charset=UTF-8', len: '6' });
    expect(await send(new TextEncoder().encode('bytes'), { headers: { 'content-type': 'x/y' } })).toEqual({
      body: 'bytes',
      type: 'x/y',
      len: '5',
    });
    expect(await send(new URLSearchParams({ a: '1', b: 'two' }))).toEqual({
      body: 'a=1&b=two',
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
      len: '9',
    });
    const streamed = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('str'));
        c.enqueue(new TextEncoder().encode('eamed'));
        c.close();
      },
    });
    expect(await send(streamed, { duplex: 'half' } as RequestInit)).toEqual({
      body: 'streamed',
      type: null,
      len: null,
    });
    const r = await f(new Request(`${raw.url}/echo`, { method: 'PUT', body: 'from a Request' }));
    expect(r.status).toBe(201);
    expect(r.headers.get('x-echo-method')).toBe('PUT');
    expect(r.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect((await r.json()).body).toBe('from a Request');
    await expect(f(`${raw.url}/echo`, { method: 'GET', body: 'no' })).rejects.toBeInstanceOf(TypeError);
    expect(raw.connections).toBe(1);
  });

  it('abort resets the stream (RST_STREAM CANCEL), before and after the response; so does body.cancel()', async () => {
    const raw = await rawH2((stream, headers) => {
      if (headers[':path'] === '/never') return; // no response at all
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      stream.write('data: first\n\n');
    });
    const f = createHttp2Fetch();
    cleanups.push(() => f.close());

    const during = new AbortController();
    const r = await f(`${raw.url}/hang`, { signal: during.signal });
    const reader = r.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: first\n\n');
    during.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => raw.closed.has('/hang'));
    expect(raw.closed.get('/hang')).toBe(NGHTTP2_CANCEL);

    const before = new AbortController();
    const pending = f(`${raw.url}/never`, { signal: before.signal });
    await until(() => raw.sessions.length > 0 && raw.closed.size === 1);
    setTimeout(() => before.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => raw.closed.has('/never'));
    expect(raw.closed.get('/never')).toBe(NGHTTP2_CANCEL);

    const cancelled = await f(`${raw.url}/cancelled`);
    await cancelled.body!.cancel();
    await until(() => raw.closed.has('/cancelled'));
    expect(raw.closed.get('/cancelled')).toBe(NGHTTP2_CANCEL);

    const already = AbortSignal.abort();
    await expect(f(`${raw.url}/x`, { signal: already })).rejects.toMatchObject({ name: 'AbortError' });
    expect(raw.connections).toBe(1);
  });

  it('opens a new session when the server destroyed or GOAWAYed the last one', async () => {
    const raw = await rawH2((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const f = createHttp2Fetch();
    cleanups.push(() => f.close());
    expect(await (await f(`${raw.url}/1`)).text()).toBe('ok');
    raw.sessions[0]!.destroy();
    await until(() => f.origins.length === 0);
    expect(await (await f(`${raw.url}/2`)).text()).toBe('ok');
    expect(raw.connections).toBe(2);
    raw.sessions[1]!.close(); // GOAWAY, then the connection ends
    await until(() => f.origins.length === 0);
    expect(await (await f(`${raw.url}/3`)).text()).toBe('ok');
    expect(raw.connections).toBe(3);
  });

  it('holds requests beyond maxConcurrentStreams in a queue on the same session', async () => {
    let open = 0;
    let maxOpen = 0;
    const raw = await rawH2((stream) => {
      maxOpen = Math.max(maxOpen, ++open);
      setTimeout(() => {
        open--;
        stream.respond({ ':status': 200 });
        stream.end('done');
      }, 40);
    });
    const f = createHttp2Fetch({ maxConcurrentStreams: 2 });
    cleanups.push(() => f.close());
    const texts = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => (await f(`${raw.url}/${i}`)).text()),
    );
    expect(texts).toEqual(Array(6).fill('done'));
    expect(maxOpen).toBe(2);
    expect(raw.connections).toBe(1);
  });

  it('follows redirects like fetch, decodes gzip, and keeps HEAD/204 bodies null', async () => {
    const raw = await rawH2((stream, headers) => {
      const path = String(headers[':path']);
      if (path === '/302') return stream.respond({ ':status': 302, location: '/echo' }, { endStream: true });
      if (path === '/307') return stream.respond({ ':status': 307, location: '/echo' }, { endStream: true });
      if (path === '/gz') {
        stream.respond({ ':status': 200, 'content-encoding': 'gzip' });
        return stream.end(gzipSync('hello gzip'));
      }
      if (path === '/204') return stream.respond({ ':status': 204 }, { endStream: true });
      void readBody(stream).then((body) => {
        stream.respond({ ':status': 200 });
        stream.end(`${String(headers[':method'])} ${body}`);
      });
    });
    const f = createHttp2Fetch();
    cleanups.push(() => f.close());
    const r302 = await f(`${raw.url}/302`, { method: 'POST', body: 'payload' });
    expect(await r302.text()).toBe('GET ');
    expect(r302.url).toBe(`${raw.url}/echo`);
    expect(await (await f(`${raw.url}/307`, { method: 'POST', body: 'payload' })).text()).toBe(
      'POST payload',
    );
    const manual = await f(`${raw.url}/302`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('location')).toBe('/echo');
    await expect(f(`${raw.url}/302`, { redirect: 'error' })).rejects.toBeInstanceOf(TypeError);
    expect(await (await f(`${raw.url}/gz`)).text()).toBe('hello gzip');
    const empty = await f(`${raw.url}/204`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect((await f(`${raw.url}/echo`, { method: 'HEAD' })).body).toBeNull();
  });

  it('closes idle sessions after idleTimeoutMs and reconnects on demand', async () => {
    const raw = await rawH2((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const f = createHttp2Fetch({ idleTimeoutMs: 50 });
    cleanups.push(() => f.close());
    expect(await (await f(`${raw.url}/1`)).text()).toBe('ok');
    await until(() => f.origins.length === 0 && raw.sessions[0]!.closed);
    expect(await (await f(`${raw.url}/2`)).text()).toBe('ok');
    expect(raw.connections).toBe(2);
  });

  it('gives up connecting after connectTimeoutMs, and honours abort while connecting', async () => {
    // A TCP server that never answers the TLS handshake: the session never connects.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const f = createHttp2Fetch({ connectTimeoutMs: 100 });
    cleanups.push(() => f.close());
    const started = Date.now();
    const error = await f(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as TypeError).cause)).toMatch(/took over 100 ms/);
    expect(Date.now() - started).toBeLessThan(2000);

    const g = createHttp2Fetch({ connectTimeoutMs: 30_000 });
    cleanups.push(() => g.close());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const t0 = Date.now();
    await expect(g(url, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('close() ends the sessions; later calls and unreachable servers reject with TypeError', async () => {
    const raw = await rawH2((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const f = createHttp2Fetch();
    expect(await (await f(`${raw.url}/`)).text()).toBe('ok');
    expect(f.origins).toEqual([raw.url]);
    await f.close();
    expect(f.origins).toEqual([]);
    await until(() => raw.sessions[0]!.closed || raw.sessions[0]!.destroyed);
    await expect(f(`${raw.url}/`)).rejects.toBeInstanceOf(TypeError);

    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const g = createHttp2Fetch();
    cleanups.push(() => g.close());
    const error = await g(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError & { cause: { code?: string } }).cause.code).toBe('ECONNREFUSED');
    await expect(g('ftp://127.0.0.1/')).rejects.toBeInstanceOf(TypeError);
  });
});
