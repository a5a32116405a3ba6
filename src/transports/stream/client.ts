/**
 * Byte-stream bindings, client side: connects to an MCP server over TCP, a Unix domain socket or
 * TLS (with a client certificate for mutual TLS), optionally asks for the MessagePack codec, and
 * then speaks through a {@link SocketTransport}. `connectStream(url)` picks the binding from a URL:
 * `tcp://host:port`, `tls://host:port`, `unix:/path` (a `?codec=msgpack` query asks for the codec).
 *
 * Connection failures are `McpError`s with a message that names the problem: `NOT_CONNECTED` when
 * nothing could be reached or the server's certificate did not verify, `CONNECTION_CLOSED` when the
 * server refused this client (for TLS: no client certificate, or one it does not accept).
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect as netConnect } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { connect as tlsConnect } from 'node:tls';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import type { StreamCodecName } from './codec.js';
import type { StreamBinding } from './socket-transport.js';
import { SocketTransport } from './socket-transport.js';
import { checkNumbers } from '../shared/options.js';

/** Default time in ms to establish a connection (TCP connect plus any TLS handshake). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Default time in ms a TLS 1.3 client waits after its handshake for the server to accept its certificate. */
export const DEFAULT_CERTIFICATE_CHECK_TIMEOUT_MS = 250;

/** Options every byte-stream client takes. */
export interface StreamClientOptions {
  /** Longest accepted message from the server in bytes. Default 4 MiB. */
  maxMessageBytes?: number;
  /** `msgpack` asks the server for the binary codec (granted or not, see `transport.codec`). Default `ndjson`. */
  codec?: StreamCodecName;
  /** Time in ms to wait for the codec answer before staying on NDJSON. Default 5000. */
  codecTimeoutMs?: number;
  /** Time in ms to establish the connection. Default 10 000. */
  connectTimeoutMs?: number;
  /** Time in ms `close()` waits for the server to close its side before destroying the socket. Default 2000. */
  closeTimeoutMs?: number;
  /**
   * Credentials for a server with an `authenticator`, e.g. `Bearer <token>`: sent as
   * `_meta.authorization` of the first message, which admits the whole connection. Default none.
   */
  authorization?: string;
}

/** Options of {@link TcpClientTransport}. */
export interface TcpClientOptions extends StreamClientOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  port: number;
}

/** Options of {@link UnixClientTransport}. */
export interface UnixClientOptions extends StreamClientOptions {
  /** The server's socket path. */
  path: string;
}

/** Options of {@link TlsClientTransport}. PEM values may be given as text or as a file path. */
export interface TlsClientOptions extends TcpClientOptions {
  /** CA(s) the server certificate must chain to. Default: Node's roots. */
  ca?: string | Buffer;
  /** Client certificate, for servers that require mutual TLS. */
  cert?: string | Buffer;
  /** Private key of `cert`. */
  key?: string | Buffer;
  /** Name the server certificate must carry (SNI too). Default `host` (none for IP addresses). */
  servername?: string;
  /** Verify the server certificate. Default true; false is for tests only. */
  rejectUnauthorized?: boolean;
  /**
   * TLS 1.3 only: how long `start()` waits after the handshake for the server's verdict on the
   * client certificate (its session ticket means accepted, an alert means refused), so a refusal is
   * reported by `start()` with a clear error instead of surfacing later as a closed connection.
   * 0 skips the wait. Default 250.
   */
  certificateCheckTimeoutMs?: number;
  /** Further `tls.connect` options; the ones above take precedence. */
  tlsOptions?: ConnectionOptions;
}

function pem(v: string | Buffer): string | Buffer {
  return typeof v === 'string' && !v.includes('-----BEGIN') ? readFileSync(v) : v;
}

/**
 * The common part of the byte-stream clients: connect in `start()`, then delegate to a
 * {@link SocketTransport}. Subclasses say how to connect.
 */
export abstract class StreamClientTransport implements Transport {
  abstract readonly binding: StreamBinding;
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly options: StreamClientOptions;
  #inner: SocketTransport | undefined;
  #starting = false;
  #closedEarly = false;
  #sentFirst = false;

  /** @throws RangeError naming a numeric option out of range */
  constructor(options: StreamClientOptions) {
    checkNumbers({
      maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
      codecTimeoutMs: [options.codecTimeoutMs, { min: 0 }],
      connectTimeoutMs: [options.connectTimeoutMs, { min: 1 }],
      closeTimeoutMs: [options.closeTimeoutMs, { min: 0 }],
      certificateCheckTimeoutMs: [
        (options as { certificateCheckTimeoutMs?: number }).certificateCheckTimeoutMs,
        { min: 0 },
      ],
    });
    this.options = options;
  }

  /** Where this client connects, for messages (`127.0.0.1:8080`, `/run/mcp.sock`). */
  abstract get target(): string;

  /** Opens the socket (and completes any TLS handshake). @throws McpError naming the problem */
  protected abstract connectSocket(): Promise<Socket>;

  /** Maps a socket error to the error reported. */
  protected describeError(error: Error): Error {
    return describeSocketError(this.binding, this.target, error);
  }

  /** What the connection speaks: `ndjson` or the granted binary codec. */
  get codec(): StreamCodecName {
    return this.#inner?.codec ?? 'ndjson';
  }

  /** The connected socket, once started. */
  get socket(): Socket | undefined {
    return this.#inner?.socket as Socket | undefined;
  }

  /**
   * Connects, and negotiates the codec when one was asked for.
   * @throws McpError `NOT_CONNECTED` (unreachable, timed out, server certificate not verified) or
   *   `CONNECTION_CLOSED` (the server refused the connection, e.g. mutual TLS without an accepted certificate)
   */
  async start(): Promise<void> {
    if (this.#starting) throw new Error(`anywire: ${this.constructor.name} already started`);
    this.#starting = true;
    const o = this.options;
    const socket = await this.connectSocket();
    if (this.#closedEarly) {
      socket.destroy();
      throw new McpError('NOT_CONNECTED', `closed while connecting to ${this.target}`);
    }
    socket.setNoDelay?.(true);
    const inner = new SocketTransport(socket, {
      binding: this.binding,
      role: 'client',
      maxMessageBytes: o.maxMessageBytes,
      requestCodecs: o.codec && o.codec !== 'ndjson' ? [o.codec] : [],
      codecTimeoutMs: o.codecTimeoutMs,
      closeTimeoutMs: o.closeTimeoutMs,
      describeError: (e) => this.describeError(e),
    });
    inner.onmessage = (m, c) => this.onmessage?.(m, c);
    inner.onerror = (e) => this.onerror?.(e);
    inner.onclose = () => this.onclose?.();
    this.#inner = inner;
    await inner.start();
  }

  /** @throws McpError `NOT_CONNECTED` before `start()` or after the connection closed */
  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (!this.#inner) return Promise.reject(new McpError('NOT_CONNECTED', `not connected to ${this.target}`));
    if (!this.#sentFirst) {
      this.#sentFirst = true;
      if (this.options.authorization !== undefined)
        message = withAuthorization(message, this.options.authorization);
    }
    return this.#inner.send(message, options);
  }

  /** Writes what is queued, half-closes and fires `onclose`; the socket is destroyed after `closeTimeoutMs`. Idempotent. */
  async close(): Promise<void> {
    if (!this.#inner) this.#closedEarly = this.#starting;
    await this.#inner?.close();
  }
}

/** A client connection over TCP (newline-delimited JSON, or MessagePack when granted). */
export class TcpClientTransport extends StreamClientTransport {
  readonly binding = 'tcp';
  declare readonly options: TcpClientOptions;

  constructor(options: TcpClientOptions) {
    super(options);
  }

  get target(): string {
    return hostPort(this.options.host ?? '127.0.0.1', this.options.port);
  }

  protected connectSocket(): Promise<Socket> {
    const o = this.options;
    return connectWith(this, o, netConnect({ host: o.host ?? '127.0.0.1', port: o.port }), 'connect');
  }
}

/** A client connection over a Unix domain socket. */
export class UnixClientTransport extends StreamClientTransport {
  readonly binding = 'unix';
  declare readonly options: UnixClientOptions;

  constructor(options: UnixClientOptions) {
    super(options);
  }

  get target(): string {
    return this.options.path;
  }

  protected connectSocket(): Promise<Socket> {
    return connectWith(this, this.options, netConnect({ path: this.options.path }), 'connect');
  }
}

/** A client connection over TLS; with `cert` and `key` it authenticates itself (mutual TLS). */
export class TlsClientTransport extends StreamClientTransport {
  readonly binding = 'tls';
  declare readonly options: TlsClientOptions;

  constructor(options: TlsClientOptions) {
    super(options);
  }

  get target(): string {
    return hostPort(this.options.host ?? '127.0.0.1', this.options.port);
  }

  protected async connectSocket(): Promise<Socket> {
    const o = this.options;
    const host = o.host ?? '127.0.0.1';
    const isIp = /^[\d.]+$|:/.test(host);
    const socket = tlsConnect({
      ...o.tlsOptions,
      host,
      port: o.port,
      ...(o.ca ? { ca: pem(o.ca) } : {}),
      ...(o.cert ? { cert: pem(o.cert) } : {}),
      ...(o.key ? { key: pem(o.key) } : {}),
      ...(o.servername ? { servername: o.servername } : isIp ? {} : { servername: host }),
      rejectUnauthorized: o.rejectUnauthorized ?? true,
    });
    // Listen before the handshake ends: TLS 1.3 tickets can arrive with the server's first flight.
    let accepted = false;
    socket.once('session', () => {
      accepted = true;
    });
    await connectWith(this, o, socket, 'secureConnect');
    const waitMs = o.certificateCheckTimeoutMs ?? DEFAULT_CERTIFICATE_CHECK_TIMEOUT_MS;
    if (socket.getProtocol() === 'TLSv1.3' && !accepted && waitMs > 0) await this.#verdict(socket, waitMs);
    return socket;
  }

  /**
   * In TLS 1.3 the client finishes its handshake before the server has checked the client
   * certificate; the server then answers with a session ticket (accepted) or an alert (refused).
   */
  #verdict(socket: TLSSocket, waitMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('session', onsession);
        socket.off('error', onerror);
        socket.off('close', onclose);
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve();
      };
      // Settle on a clean stack: the event fires inside OpenSSL's read, and writing from there
      // (the codec request follows at once) corrupts the record stream.
      const onsession = () => setImmediate(done);
      const onerror = (e: Error) => done(this.describeError(e));
      const onclose = () =>
        done(
          new McpError(
            'CONNECTION_CLOSED',
            `the TLS server at ${this.target} closed the connection right after the handshake: ${
              this.options.cert
                ? 'it did not accept the client certificate'
                : 'it may require a client certificate (mutual TLS); pass cert and key'
            }`,
          ),
        );
      const timer = setTimeout(() => done(), waitMs);
      socket.once('session', onsession);
      socket.once('error', onerror);
      socket.once('close', onclose);
    });
  }
}

/** A parsed byte-stream URL. */
export type StreamTarget =
  | { binding: 'tcp' | 'tls'; host: string; port: number; codec?: StreamCodecName }
  | { binding: 'unix'; path: string; codec?: StreamCodecName };

/**
 * Parses `tcp://host:port`, `tls://host:port`, `unix:/abs/path` or `unix:///abs/path` (also
 * `unix:relative/path`). A `?codec=msgpack` query asks for the binary codec.
 * @throws Error for another scheme, or a missing port
 */
export function parseStreamUrl(url: string | URL): StreamTarget {
  const text = String(url);
  const q = text.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const codecParam = query.get('codec');
  const codec = codecParam === 'msgpack' || codecParam === 'ndjson' ? codecParam : undefined;
  if (codecParam !== null && !codec) throw new Error(`anywire: unknown codec "${codecParam}" in ${text}`);
  const base = q < 0 ? text : text.slice(0, q);
  if (/^unix:/i.test(base)) {
    let path = base.slice(5);
    if (path.startsWith('///')) path = path.slice(2);
    else if (path.startsWith('//')) path = path.slice(2);
    if (!path) throw new Error(`anywire: no socket path in ${text}`);
    return { binding: 'unix', path: decodeURIComponent(path), ...(codec ? { codec } : {}) };
  }
  const m = /^(tcp|tls):\/\/(?:\[([^\]]+)\]|([^:/]*)):(\d+)\/?$/i.exec(base);
  if (!m)
    throw new Error(
      `anywire: cannot read "${text}" (expected tcp://host:port, tls://host:port or unix:/path)`,
    );
  return {
    binding: m[1]!.toLowerCase() as 'tcp' | 'tls',
    host: m[2] ?? (m[3] || '127.0.0.1'),
    port: Number(m[4]),
    ...(codec ? { codec } : {}),
  };
}

/** Options of {@link connectStream}: the common ones, plus TLS material for `tls://`. */
export type ConnectStreamOptions = StreamClientOptions &
  Pick<
    TlsClientOptions,
    'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized' | 'certificateCheckTimeoutMs' | 'tlsOptions'
  >;

/**
 * A client transport (not yet started) for a byte-stream URL: `tcp://host:port`,
 * `tls://host:port` or `unix:/path`, with an optional `?codec=msgpack`. The CLI's entry point.
 * @throws Error for an unreadable URL
 */
export function connectStream(url: string | URL, options: ConnectStreamOptions = {}): StreamClientTransport {
  const t = parseStreamUrl(url);
  const codec = options.codec ?? t.codec;
  const common = { ...options, ...(codec ? { codec } : {}) };
  if (t.binding === 'unix') return new UnixClientTransport({ ...common, path: t.path });
  if (t.binding === 'tcp') return new TcpClientTransport({ ...common, host: t.host, port: t.port });
  return new TlsClientTransport({ ...common, host: t.host, port: t.port });
}

/** A copy of `message` (the first of a batch) whose `params._meta.authorization` is `authorization`. */
function withAuthorization(
  message: JsonRpcMessage | JsonRpcMessage[],
  authorization: string,
): JsonRpcMessage | JsonRpcMessage[] {
  if (Array.isArray(message)) {
    const [first, ...rest] = message;
    return first ? [withAuthorization(first, authorization) as JsonRpcMessage, ...rest] : message;
  }
  if (!('method' in message)) return message;
  const params = (message.params ?? {}) as Record<string, unknown>;
  const meta = (params._meta ?? {}) as Record<string, unknown>;
  return { ...message, params: { ...params, _meta: { ...meta, authorization } } } as JsonRpcMessage;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Resolves with `socket` once `event` fires; rejects with a described error on failure or timeout. */
function connectWith<S extends Socket>(
  client: StreamClientTransport,
  options: StreamClientOptions,
  socket: S,
  event: 'connect' | 'secureConnect',
): Promise<S> {
  const ms = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off(event, onready);
      socket.off('error', onerror);
      socket.off('close', onclose);
      if (error) {
        socket.destroy();
        reject(error);
      } else resolve(socket);
    };
    // Settle on a clean stack: `secureConnect` fires inside OpenSSL, where writing is unsafe.
    const onready = () => setImmediate(done);
    const onerror = (e: Error) => done(describeSocketError(client.binding, client.target, e));
    const onclose = () =>
      done(
        new McpError(
          'CONNECTION_CLOSED',
          `the ${client.binding} server at ${client.target} closed the connection`,
        ),
      );
    const timer = setTimeout(
      () => done(new McpError('NOT_CONNECTED', `connecting to ${client.target} timed out after ${ms} ms`)),
      ms,
    );
    socket.once(event, onready);
    socket.once('error', onerror);
    socket.once('close', onclose);
  });
}

const SERVER_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Turns a socket or TLS error into an `McpError` whose message names the problem: the server wants
 * a client certificate, rejected ours, its own certificate did not verify, nothing listens, ...
 * The original error is the `cause`.
 */
export function describeSocketError(binding: StreamBinding, target: string, error: Error): McpError {
  if (error instanceof McpError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const at = `the ${binding === 'tls' ? 'TLS' : binding} server at ${target}`;
  const make = (c: 'NOT_CONNECTED' | 'CONNECTION_CLOSED', message: string) =>
    new McpError(c, `${message} (${code || error.message})`, { cause: error });
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')
    return make(
      'CONNECTION_CLOSED',
      `${at} requires a client certificate (mutual TLS) and none was sent: pass cert and key`,
    );
  if (
    /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|DECRYPT_ERROR)/.test(
      code,
    )
  )
    return make('CONNECTION_CLOSED', `${at} rejected the client certificate`);
  // OpenSSL 3.0 (Node 20) says SSLV3_ALERT_HANDSHAKE_FAILURE; 3.5 (Node 24) SSL/TLS_ALERT_HANDSHAKE_FAILURE.
  if (/^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/.test(code))
    return make(
      'CONNECTION_CLOSED',
      `the TLS handshake with ${target} failed: the server may require a client certificate, or no protocol version or cipher is shared`,
    );
  if (SERVER_CERT_CODES.has(code))
    return make(
      'NOT_CONNECTED',
      `the certificate of ${at} could not be verified: pass its CA in ca, or the name it was issued for in servername`,
    );
  if (code === 'ECONNREFUSED') return make('NOT_CONNECTED', `nothing listens at ${target}`);
  if (code === 'ENOENT') return make('NOT_CONNECTED', `no socket at ${target}`);
  if (code === 'EACCES') return make('NOT_CONNECTED', `permission denied for ${target}`);
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return make(
      'CONNECTION_CLOSED',
      binding === 'tls'
        ? `${at} reset the connection (during a TLS handshake this usually means it refused the client certificate)`
        : `${at} reset the connection`,
    );
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))
    return make('CONNECTION_CLOSED', `TLS failure with ${target}: ${error.message}`);
  return make('NOT_CONNECTED', `the ${binding} connection to ${target} failed: ${error.message}`);
}
