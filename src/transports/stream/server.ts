/**
 * Byte-stream bindings, server side: one `Servable` served over TCP, a Unix domain socket, or TLS
 * (optionally mutual TLS). Every accepted connection is a {@link SocketTransport} on
 * `server.connect()`, so it carries both eras: a legacy session per connection (initialize,
 * server-to-client requests) and self-contained modern requests beside it.
 *
 * Authentication runs through the shared ingress once per connection, on its first message (see
 * `admitted-transport.ts`): the `authenticator` sees the verified client certificate (mutual TLS)
 * and the first message's `_meta` (`_meta.authorization: "Bearer <token>"`); a refusal is a
 * JSON-RPC error (-32030, `data: { status, wwwAuthenticate }`) and the connection is closed.
 * Without an authenticator, mutual TLS alone makes the certificate's identity the `authInfo` of
 * every message (see `shared/certificate.ts`); a client without an acceptable certificate is
 * refused during the handshake.
 * @module
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import { createServer as createTlsServer } from 'node:tls';
import type { Authenticator, CertificateIdentity } from '../../protocol/auth.js';
import type { Servable } from '../../server/servable.js';
import type { ServedConnection } from '../../server/servable.js';
import type { BinaryCodecName } from './codec.js';
import type { StreamBinding } from './socket-transport.js';
import { DEFAULT_STREAM_CLOSE_TIMEOUT_MS, SocketTransport } from './socket-transport.js';
import { verifiedCertificate } from '../shared/certificate.js';
import { checkNumbers } from '../shared/options.js';
import { AdmittedStreamTransport } from './admitted-transport.js';

/** Default cap on simultaneous connections per listener. */
export const DEFAULT_MAX_CONNECTIONS = 1024;

/** Options every byte-stream listener takes. */
export interface StreamServeOptions {
  /** Simultaneous connections (1 or more); further ones are closed as they arrive. Default 1024. */
  maxConnections?: number;
  /**
   * Decides who each connection is, once, on its first message: it sees `meta` (that message's
   * `_meta`; a token as `_meta.authorization: "Bearer <token>"`, also given as
   * `headers.authorization`), the verified client `certificate` (TLS with `requestCert`) and
   * `peer.address`. A refusal (`AuthError`) answers the requests received so far with a JSON-RPC
   * error -32030 (`data: { status: 401 | 403, wwwAuthenticate, error }`) and closes the connection;
   * so does the identity's `expiresAt` passing during the connection. Default: none (anonymous, or
   * the client certificate's identity under mutual TLS).
   */
  authenticator?: Authenticator;
  /** Longest accepted message in bytes (line, or binary frame payload); longer ones get -32600. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Binary codecs the server grants when a client asks (see `codec.ts`). Default `['msgpack']`; `[]` = NDJSON only. */
  codecs?: readonly BinaryCodecName[];
  /** Hold-back in ms of a response after its request's notifications (see `SocketTransport`). Default 2. */
  responseAfterNotificationDelayMs?: number;
  /** Time in ms `close()` lets connections finish closing before destroying them. Default 2000. */
  closeTimeoutMs?: number;
  /** Connection-level problems: TLS handshake failures, socket errors, bad frames. Default: ignored. */
  onerror?: (error: Error) => void;
}

/** Options of {@link serveTcp}. */
export interface ServeTcpOptions extends StreamServeOptions {
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  host?: string;
  /** Port; 0 picks a free one (read it from the handle). Default 0. */
  port?: number;
}

/** Options of {@link serveUnix}. */
export interface ServeUnixOptions extends StreamServeOptions {
  /** Socket path. A stale socket file left by a dead server is removed; a live one is an error. */
  path: string;
  /**
   * File mode set on the socket right after binding, e.g. `0o600` (owner only). Default: left to the
   * umask. Between bind and chmod the umask applies; where that window matters, put the socket in a
   * directory only its users can enter.
   */
  mode?: number;
}

/** Options of {@link serveTls}. */
export interface ServeTlsOptions extends ServeTcpOptions {
  /** Server certificate chain: PEM text or a file path. */
  cert: string | Buffer;
  /** Private key: PEM text or a file path. */
  key: string | Buffer;
  /** CA(s) client certificates must chain to (mutual TLS): PEM text or a file path. Default: Node's roots. */
  ca?: string | Buffer;
  /** Mutual TLS: ask every client for a certificate. Default false. */
  requestCert?: boolean;
  /**
   * With `requestCert`: refuse clients without a certificate that verifies against `ca`. Default
   * true. When false, unverified clients are served without `authInfo`.
   */
  rejectUnauthorized?: boolean;
  /** Further `tls.createServer` options (`minVersion`, `ciphers`, ...); the ones above take precedence. */
  tlsOptions?: TlsOptions;
}

/** A running byte-stream listener. */
export interface StreamServerHandle {
  /** Where clients connect: `tcp://127.0.0.1:PORT`, `tls://127.0.0.1:PORT` or `unix:/path`. */
  url: string;
  binding: StreamBinding;
  /** The bound address: host and port, or the socket path. */
  address: AddressInfo | string;
  /** Open MCP connections. */
  readonly connections: ReadonlySet<ServedConnection>;
  /** Stops listening, closes every connection (in-flight handlers are cancelled) and resolves when all are gone. */
  close(): Promise<void>;
}

function pem(v: string | Buffer): string | Buffer {
  return typeof v === 'string' && !v.includes('-----BEGIN') ? readFileSync(v) : v;
}

/** Serves `server` over newline-delimited JSON on TCP. Binds 127.0.0.1 unless told otherwise. */
export async function serveTcp(server: Servable, options: ServeTcpOptions = {}): Promise<StreamServerHandle> {
  const listener = createNetServer({ allowHalfOpen: true, noDelay: true });
  const host = options.host ?? '127.0.0.1';
  return run(
    server,
    listener,
    'tcp',
    options,
    'connection',
    () => undefined,
    () => listenOn(listener, { host, port: options.port ?? 0 }),
  );
}

function remoteAddress(socket: Socket): string | undefined {
  if (!socket.remoteAddress) return undefined;
  const h = socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress;
  return `${h}:${socket.remotePort}`;
}

/**
 * Serves `server` on a Unix domain socket at `options.path`. A socket file nobody listens on (left by
 * a crashed server) is removed first; a path that is in use, or is not a socket, is an error.
 * @throws Error with code `EADDRINUSE` when another server listens there; `EEXIST` when the path is not a socket
 */
export async function serveUnix(server: Servable, options: ServeUnixOptions): Promise<StreamServerHandle> {
  await removeStaleSocket(options.path);
  const listener = createNetServer({ allowHalfOpen: true });
  const handle = await run(
    server,
    listener,
    'unix',
    options,
    'connection',
    () => undefined,
    async () => {
      await listenOn(listener, { path: options.path });
      if (options.mode !== undefined) await chmod(options.path, options.mode);
    },
  );
  return handle;
}

/**
 * Serves `server` over TLS. With `requestCert` (mutual TLS) a client must present a certificate
 * that chains to `ca`; its subject and SANs reach handlers as `ctx.authInfo`.
 */
export async function serveTls(server: Servable, options: ServeTlsOptions): Promise<StreamServerHandle> {
  const requestCert = options.requestCert ?? false;
  const listener = createTlsServer({
    ...options.tlsOptions,
    cert: pem(options.cert),
    key: pem(options.key),
    ...(options.ca ? { ca: pem(options.ca) } : {}),
    requestCert,
    rejectUnauthorized: requestCert ? (options.rejectUnauthorized ?? true) : false,
    allowHalfOpen: true,
  });
  listener.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    const who = socket.remoteAddress ? ` from ${socket.remoteAddress}:${socket.remotePort}` : '';
    const reason = (error as Error & { reason?: string }).reason ?? error.message;
    const cert = socket.authorizationError
      ? ` (client certificate: ${String(socket.authorizationError)})`
      : '';
    options.onerror?.(new Error(`anywire: TLS handshake${who} failed: ${reason}${cert}`, { cause: error }));
  });
  const host = options.host ?? '127.0.0.1';
  return run(
    server,
    listener,
    'tls',
    options,
    'secureConnection',
    (socket) => {
      const tlsSocket = socket as TLSSocket;
      tlsSocket.setNoDelay(true);
      return requestCert ? verifiedCertificate(tlsSocket) : undefined;
    },
    () => listenOn(listener, { host, port: options.port ?? 0 }),
  );
}

function listenOn(listener: Server, where: { host: string; port: number } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(where, () => {
      listener.off('error', reject);
      resolve();
    });
  });
}

async function run(
  server: Servable,
  listener: Server,
  binding: StreamBinding,
  options: StreamServeOptions,
  event: 'connection' | 'secureConnection',
  certificateOf: (socket: Socket) => CertificateIdentity | undefined,
  listen: () => Promise<void>,
): Promise<StreamServerHandle> {
  checkNumbers({
    maxConnections: [options.maxConnections, { min: 1 }],
    maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
    responseAfterNotificationDelayMs: [options.responseAfterNotificationDelayMs, { min: 0 }],
    closeTimeoutMs: [options.closeTimeoutMs, { min: 0 }],
  });
  const onerror = options.onerror;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const transports = new Set<SocketTransport>();
  const connections = new Set<ServedConnection>();
  // Raw sockets (for TLS including handshakes in progress), so close() can destroy stragglers.
  const sockets = new Set<Socket>();
  listener.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  listener.on(event, (socket: Socket) => {
    if (transports.size >= maxConnections) {
      onerror?.(
        new Error(`anywire: ${binding} connection refused: maxConnections (${maxConnections}) reached`),
      );
      socket.destroy();
      return;
    }
    const transport = new SocketTransport(socket, {
      binding,
      role: 'server',
      maxMessageBytes: options.maxMessageBytes,
      codecs: options.codecs,
      responseAfterNotificationDelayMs: options.responseAfterNotificationDelayMs,
      closeTimeoutMs: options.closeTimeoutMs,
    });
    transports.add(transport);
    void transport.closed.then(() => transports.delete(transport));
    const certificate = certificateOf(socket);
    const address = binding === 'unix' ? undefined : remoteAddress(socket);
    const admitted = new AdmittedStreamTransport(
      transport,
      { binding, ...(certificate ? { certificate } : {}), ...(address ? { address } : {}) },
      options.authenticator,
    );
    server.connect(admitted).then(
      (conn) => {
        conn.onerror = (e) => onerror?.(e);
        if (transport.socket.destroyed) return;
        connections.add(conn);
        void conn.closed.then(() => connections.delete(conn));
      },
      (e: Error) => {
        onerror?.(e);
        transport.destroy();
      },
    );
  });
  listener.on('error', (e) => onerror?.(e));
  await listen();
  const address = listener.address() as AddressInfo | string;
  let url: string;
  if (typeof address === 'string') url = `unix:${address}`;
  else {
    const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    url = `${binding}://${h}:${address.port}`;
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    binding,
    address,
    connections,
    close() {
      closing ??= (async () => {
        // Resolves once the listener is closed and every socket is gone.
        const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
        await Promise.all([...connections].map((c) => c.close()));
        for (const t of transports) await t.close();
        const grace = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, options.closeTimeoutMs ?? DEFAULT_STREAM_CLOSE_TIMEOUT_MS);
        grace.unref?.();
        await stopped;
        clearTimeout(grace);
      })();
      return closing;
    },
  };
}

/** Removes a Unix socket file nobody listens on; refuses to touch anything else. */
async function removeStaleSocket(path: string): Promise<void> {
  if (process.platform === 'win32' && path.startsWith('\\\\')) return; // named pipes leave no file
  let stat;
  try {
    stat = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!stat.isSocket()) {
    throw Object.assign(new Error(`anywire: ${path} exists and is not a socket; not replacing it`), {
      code: 'EEXIST',
    });
  }
  const live = await new Promise<boolean>((resolve) => {
    const probe = netConnect({ path }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) {
    throw Object.assign(new Error(`anywire: another server is listening on ${path}`), { code: 'EADDRINUSE' });
  }
  await unlink(path);
}
