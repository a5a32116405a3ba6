/**
 * The Node binding of Streamable HTTP: the fast path on `node:http` and `node:http2` (h2c with
 * prior knowledge, or h2 over TLS with ALPN and an HTTP/1.1 fallback on the same port), with no
 * `Request`/`Response` objects built on the way.
 * @module
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { CertificateIdentity } from '../../protocol/auth.js';
import type { AuthInfo } from '../../protocol/types.js';
import { verifiedCertificate } from '../shared/certificate.js';
import { exposureWarning } from '../shared/http-security.js';
import { checkNumbers } from '../shared/options.js';
import type { Servable } from '../../server/servable.js';
import { HttpError } from './exchange.js';
import type { HttpExchange, StreamWriter } from './exchange.js';
import { StreamableHttpServer } from './handler.js';
import type { StreamableHttpOptions } from './handler.js';

type NodeReq = IncomingMessage | Http2ServerRequest;
type NodeRes = ServerResponse | Http2ServerResponse;

class NodeExchange implements HttpExchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly authInfo?: AuthInfo;
  readonly remoteAddress?: string;
  #req: NodeReq;
  #res: NodeRes;
  #parsed: unknown;
  #h2: boolean;

  constructor(req: NodeReq, res: NodeRes, parsedBody: unknown) {
    this.#req = req;
    this.#res = res;
    this.#parsed = parsedBody;
    this.#h2 = req.httpVersionMajor === 2;
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? '' : url.slice(q + 1);
    const auth = (req as { auth?: AuthInfo }).auth;
    if (auth) this.authInfo = auth;
    const address = req.socket?.remoteAddress;
    if (address !== undefined) this.remoteAddress = address;
  }

  requestUrl(): string {
    const tls = (this.#req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
    return `${tls ? 'https' : 'http'}://${this.header('host') ?? 'localhost'}${this.path}`;
  }

  certificate(): CertificateIdentity | undefined {
    return verifiedCertificate(this.#req.socket);
  }

  header(name: string): string | undefined {
    if (name === 'host' && this.#h2) return (this.#req as Http2ServerRequest).authority;
    const v = this.#req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  headers(): Record<string, string | undefined> {
    // Null prototype: a header named `__proto__` is a key like any other.
    const out: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
    for (const [k, v] of Object.entries(this.#req.headers))
      if (!k.startsWith(':')) out[k] = Array.isArray(v) ? v.join(', ') : v;
    return out;
  }

  readBody(maxBytes: number, timeoutMs: number, drainBytes = 0): Promise<string> {
    const parsed = this.#parsed;
    if (parsed !== undefined)
      return Promise.resolve(typeof parsed === 'string' ? parsed : JSON.stringify(parsed));
    const req = this.#req;
    const tooLarge = () => new HttpError(413, `Payload Too Large: body exceeds maxBodyBytes (${maxBytes})`);
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes) {
      this.#drain(drainBytes, timeoutMs);
      return Promise.reject(tooLarge());
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => {
        cleanup();
        chunks.length = 0; // hold nothing of a body that will never complete
        reject(new HttpError(408, `Request Timeout: body not received within bodyTimeoutMs (${timeoutMs})`));
      }, timeoutMs);
      const ondata = (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          cleanup();
          chunks.length = 0;
          this.#drain(drainBytes, timeoutMs);
          reject(tooLarge());
          return;
        }
        chunks.push(c);
      };
      const onend = () => {
        cleanup();
        resolve(
          chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'),
        );
      };
      const onerror = (e: Error) => {
        cleanup();
        reject(new HttpError(400, `Bad Request: ${e.message}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        req.off('data', ondata);
        req.off('end', onend);
        req.off('error', onerror);
      };
      req.on('data', ondata);
      req.on('end', onend);
      req.on('error', onerror);
    });
  }

  /**
   * Reads and discards the rest of a refused body, so the client, still uploading, reads the answer
   * instead of a reset (closing a socket with unread data sends RST). Beyond `limitBytes` more, or
   * after `timeoutMs`, the connection (HTTP/2: the stream) is closed instead.
   */
  #drain(limitBytes: number, timeoutMs: number): void {
    const req = this.#req;
    if (req.readableEnded) return;
    let drained = 0;
    const stop = () => {
      clearTimeout(timer);
      req.off('data', ondata);
    };
    const ondata = (c: Buffer) => {
      drained += c.length;
      if (drained > limitBytes) {
        stop();
        req.destroy();
      }
    };
    const timer = setTimeout(() => {
      stop();
      req.destroy();
    }, timeoutMs);
    timer.unref();
    req.on('data', ondata);
    req.once('end', stop);
    req.once('close', stop);
    req.on('error', () => {});
    req.resume();
  }

  send(status: number, headers: Record<string, string>, body?: string): void {
    const res = this.#res as ServerResponse;
    if (res.headersSent || res.writableEnded) return;
    if (this.#h2) delete headers.connection;
    if (body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(status, headers);
    res.end(body);
  }

  stream(status: number, headers: Record<string, string>): StreamWriter {
    const res = this.#res as ServerResponse;
    res.writeHead(status, headers);
    res.flushHeaders?.();
    let closed = false;
    const writer: StreamWriter = {
      write: (chunk) => {
        if (closed) return false;
        res.write(chunk);
        return true;
      },
      end: () => {
        if (closed) return;
        closed = true;
        res.end();
        writer.onclose?.();
      },
      get closed() {
        return closed;
      },
    };
    res.once('close', () => {
      if (closed) return;
      closed = true;
      writer.onclose?.();
    });
    return writer;
  }

  onabort(cb: () => void): void {
    const res = this.#res;
    // `writableEnded`, not `writableFinished`: an HTTP/2 response reset by the client (RST_STREAM)
    // reports `writableFinished` true although it never ended.
    res.once('close', () => {
      if (!res.writableEnded) cb();
    });
  }
}

/** A Node request listener (also an Express/Connect handler: `(req, res, next)`). */
export type NodeMcpHandler = ((req: NodeReq, res: NodeRes, parsedBodyOrNext?: unknown) => void) & {
  /** The server logic behind it (sessions, close()). */
  readonly http: StreamableHttpServer;
};

/**
 * Creates a Node handler for `node:http`, `node:http2` compat, Express (`app.all('/mcp', h)`) and
 * Fastify (`reply.hijack(); h(req.raw, reply.raw, req.body)`). A body already parsed by a
 * framework (`req.body`, or the third argument) is used as is.
 */
export function createNodeHandler(server: Servable, options: StreamableHttpOptions = {}): NodeMcpHandler {
  const core = new StreamableHttpServer(server, options);
  const handler = ((req: NodeReq, res: NodeRes, third?: unknown) => {
    const parsed =
      typeof third === 'function' || third === undefined ? (req as { body?: unknown }).body : third;
    void core.handle(new NodeExchange(req, res, parsed));
  }) as NodeMcpHandler;
  Object.defineProperty(handler, 'http', { value: core });
  return handler;
}

/**
 * Options of {@link serveHttp}. Unlike the handlers a framework mounts, `serveHttp` serves the
 * health endpoints by default: `healthPath` `/healthz`, `readyPath` `/readyz`, `nodeId`
 * `<hostname>-<pid>` (`false` turns a path off).
 */
export interface ServeHttpOptions extends StreamableHttpOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port (0 = any free port). Default 3000. */
  port?: number;
  /** `h2c`: HTTP/2 with prior knowledge (no TLS). With `tls`, HTTP/2 is offered by ALPN with HTTP/1.1 fallback. */
  http2?: boolean;
  /** TLS: PEM contents or file paths. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
  /**
   * Most open TCP connections; further ones are closed as they arrive (each SSE stream over
   * HTTP/1.1 holds one). Default 4096.
   */
  maxConnections?: number;
  /**
   * HTTP/1.1: time a connection gets to send a request's headers, in ms (an idle or trickling
   * socket is closed after it, so idle sockets cannot hold every `maxConnections` slot). At most
   * 300 000. Default 10 000.
   */
  headersTimeoutMs?: number;
}

/** Default {@link ServeHttpOptions.maxConnections}. */
export const DEFAULT_HTTP_MAX_CONNECTIONS = 4096;
/** Default {@link ServeHttpOptions.headersTimeoutMs}. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Node's `requestTimeout` default, which `headersTimeoutMs` may not exceed. */
const REQUEST_TIMEOUT_MS = 300_000;

/** A running HTTP server. */
export interface HttpServerHandle {
  /** The MCP endpoint URL. */
  url: string;
  address: AddressInfo;
  /** The Streamable HTTP logic (sessions, streams). */
  http: StreamableHttpServer;
  /**
   * The Node server underneath: `http.Server` (HTTP/1.1), `http2.Http2Server` (h2c) or
   * `http2.Http2SecureServer` (TLS; `https.Server` when `http2: false`). For observation (its
   * `connection`, `session` and `request` events); closing it directly skips `close()`'s cleanup.
   */
  readonly listener: http.Server | http2.Http2Server | http2.Http2SecureServer;
  /** Stops listening and ends sessions. */
  close(): Promise<void>;
}

function pem(v: string | Buffer): string | Buffer {
  return typeof v === 'string' && !v.includes('-----BEGIN') ? readFileSync(v) : v;
}

/**
 * Serves `server` over HTTP/1.1, h2c, or h2+HTTP/1.1 over TLS, at `path` (default `/mcp`).
 * Binds 127.0.0.1 unless told otherwise; a non-loopback bind with neither `allowedHosts` nor
 * authentication serves, and writes one warning to stderr saying what is exposed and how to close it.
 */
export async function serveHttp(server: Servable, options: ServeHttpOptions = {}): Promise<HttpServerHandle> {
  checkNumbers({
    maxConnections: [options.maxConnections, { min: 1 }],
    headersTimeoutMs: [options.headersTimeoutMs, { min: 1, max: REQUEST_TIMEOUT_MS }],
  });
  const maxConnections = options.maxConnections ?? DEFAULT_HTTP_MAX_CONNECTIONS;
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const http1 = {
    keepAliveTimeout: 65_000,
    headersTimeout,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeout / 4))),
  };
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/mcp';
  const handler = createNodeHandler(server, {
    ...options,
    path,
    bindHost: host,
    healthPath: options.healthPath ?? '/healthz',
    readyPath: options.readyPath ?? '/readyz',
    nodeId: options.nodeId ?? `${hostname()}-${process.pid}`,
  });
  let listener: http.Server | http2.Http2Server | http2.Http2SecureServer;
  if (options.tls) {
    const tls = {
      cert: pem(options.tls.cert),
      key: pem(options.tls.key),
      ca: options.tls.ca ? pem(options.tls.ca) : undefined,
    };
    listener =
      options.http2 === false
        ? (await import('node:https')).createServer({ ...tls, ...http1 }, handler as http.RequestListener)
        : http2.createSecureServer(
            { ...tls, allowHTTP1: true, requestCert: options.tls.requestCert },
            handler,
          );
  } else if (options.http2) {
    listener = http2.createServer(handler);
  } else {
    listener = http.createServer(http1, handler as http.RequestListener);
  }
  listener.maxConnections = maxConnections;
  const sockets = new Set<Socket>();
  // Plain HTTP/1.1: a connection that sends no request within headersTimeoutMs is closed (Node's
  // own headersTimeout only starts with the first byte). TLS has its handshake timeout.
  const silent =
    !options.tls && !options.http2 ? new Map<Socket, ReturnType<typeof setTimeout>>() : undefined;
  listener.on('connection', (s: Socket) => {
    sockets.add(s);
    if (silent) {
      const timer = setTimeout(() => s.destroy(), headersTimeout);
      timer.unref();
      silent.set(s, timer);
    }
    s.once('close', () => {
      sockets.delete(s);
      if (silent) {
        clearTimeout(silent.get(s));
        silent.delete(s);
      }
    });
  });
  if (silent)
    listener.on('request', (req: IncomingMessage) => {
      const timer = silent.get(req.socket as Socket);
      if (timer === undefined) return;
      clearTimeout(timer);
      silent.delete(req.socket as Socket);
    });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 3000, host, () => resolve());
  });
  const warning = exposureWarning('Streamable HTTP', host, {
    allowedHosts: options.allowedHosts,
    authenticated: options.authenticate !== undefined || options.authenticator !== undefined,
  });
  if (warning) process.stderr.write(warning);
  const address = listener.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${scheme}://${h}:${address.port}${path}`,
    address,
    http: handler.http,
    listener,
    async close() {
      await handler.http.close();
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        // End each connection after what was written to it (a response just finished must reach
        // its client); one that does not finish within a second is destroyed.
        for (const s of sockets) {
          s.end();
          setTimeout(() => s.destroy(), 1000).unref();
        }
      });
    },
  };
}
