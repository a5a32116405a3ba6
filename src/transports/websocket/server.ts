/**
 * The WebSocket binding, server side (Node, on `ws`): MCP over WebSocket on a port of its own
 * ({@link serveWebSocket}) or on an existing HTTP server's port by upgrade ({@link attachWebSocket}).
 *
 * Wire: subprotocol `mcp`; one JSON-RPC message (or a 2025-03-26 batch) per UTF-8 text frame;
 * both eras on every connection (a legacy session from `initialize` lives as long as the
 * connection; modern requests carry their own `_meta` and are self-contained); cancellation is a
 * `notifications/cancelled` message, and a closed connection aborts every in-flight handler's
 * `ctx.signal` (basic/utilities/cancellation). WebSocket is a custom transport, not one of the
 * spec's (SEP-1288, which proposes one, is a draft); this binding keeps JSON-RPC messages,
 * per-request `_meta` and the message patterns unchanged, as custom transports must (2026-07-28
 * basic/transports).
 *
 * Upgrade checks, in order, each refused with an HTTP status before the handshake:
 * path (404, only when no other `upgrade` listener may take it), Host and Origin (403, DNS
 * rebinding protection as for Streamable HTTP, on by default for loopback binds), subprotocols
 * offered without `mcp` (400), the `authenticator` through the shared ingress (401 or 403 with
 * `WWW-Authenticate` and the `AuthError`'s headers). Over `maxConnections`, the handshake
 * completes and the connection is closed with 1013 so that browsers, which cannot read a refused
 * upgrade's status, learn why. Credentials that expire during the connection close it with 4001.
 * Close codes: see `close-codes.ts` ({@link WS_CLOSE}).
 * @module
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { TLSSocket } from 'node:tls';
import type { Authenticator, AuthError, AuthRequest } from '../../protocol/auth.js';
import type { AuthInfo } from '../../protocol/types.js';
import type { Servable } from '../../server/servable.js';
import type { ServedConnection } from '../../server/servable.js';
import { verifiedCertificate } from '../shared/certificate.js';
import { checkHostAndOrigin, isLoopbackHost } from '../shared/http-security.js';
import type { HttpSecurityOptions } from '../shared/http-security.js';
import { admit } from '../shared/ingress.js';
import { checkNumbers } from '../shared/options.js';
import { DEFAULT_WS_MAX_MESSAGE_BYTES, hardFrameCap, MCP_SUBPROTOCOL, WS_CLOSE } from './close-codes.js';
import { upgradeHeaders, WebSocketServerTransport } from './server-transport.js';
import type { WebSocketConnectionLimits } from './server-transport.js';

/** Default `keepAliveIntervalMs`: a ping every 30 s; a peer silent for two rounds is closed. */
export const DEFAULT_WS_KEEP_ALIVE_INTERVAL_MS = 30_000;
/** Default `maxConnections`: 1024 open WebSocket connections per attachment. */
export const DEFAULT_WS_MAX_CONNECTIONS = 1024;

/** Options of {@link attachWebSocket}. */
export interface WebSocketAttachOptions
  extends WebSocketConnectionLimits, Pick<HttpSecurityOptions, 'allowedHosts' | 'allowedOrigins'> {
  /** Upgrade path, e.g. `/mcp` (query ignored). Default: any path. */
  path?: string;
  /**
   * Interval in ms between keep-alive pings. A peer that answers neither the ping nor with any
   * frame before the next round is closed with 4000 and destroyed, so a dead peer goes within
   * 2 x this. 0 turns keep-alive off. Default 30 000.
   */
  keepAliveIntervalMs?: number;
  /** Most open connections (1 or more); further upgrades are accepted and closed with 1013. Default 1024. */
  maxConnections?: number;
  /**
   * Decides who connects, once per connection, from the upgrade request: `headers` (e.g.
   * `authorization`, `dpop`), `httpMethod` `GET`, `url` (`http(s)://host/path`, the DPoP `htu`),
   * the verified client `certificate` (WSS with client certificates) and `peer.address`. The
   * identity reaches every handler as `ctx.authInfo`; its `expiresAt` (seconds since the epoch)
   * closes the connection with 4001. An `AuthError` refuses the upgrade with its status (401 or
   * 403), `WWW-Authenticate` and its `headers`; any other error refuses with 401
   * `invalid_token` (reported through `onerror`). Default: none (anonymous).
   */
  authenticator?: Authenticator;
  /**
   * The address the HTTP server is bound to, for the Host/Origin defaults (loopback binds accept
   * only loopback hosts and origins). Default: read from the server's `address()` at upgrade time.
   */
  bindHost?: string;
  /** Called for each accepted connection once it is served (set `connection.onerror` here, for instance). */
  onconnection?: (connection: ServedConnection, transport: WebSocketServerTransport) => void;
  /** Non-fatal errors of any connection (bad frames, socket errors, refused upgrades are not errors). */
  onerror?: (error: Error) => void;
}

/** An attachment of MCP-over-WebSocket to an HTTP server. */
export interface WebSocketAttachment {
  /** Number of open WebSocket connections. */
  readonly connections: number;
  /** Open connection transports (read only). */
  readonly transports: ReadonlySet<WebSocketServerTransport>;
  /**
   * Stops taking upgrades and closes every connection with 1001 (server going away), waiting up to
   * `closeTimeoutMs` for each closing handshake. Leaves the HTTP server running.
   */
  close(): Promise<void>;
}

/** Anything that emits Node's `upgrade` event: `http.Server`, `https.Server`. */
export type UpgradeServer = http.Server | https.Server;

const IPV6_LOOPBACK = new Set(['::1', '[::1]', '::ffff:127.0.0.1']);

function isLoopbackAddress(address: string): boolean {
  return IPV6_LOOPBACK.has(address) || isLoopbackHost(address);
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Answers a refused upgrade: 401/403 with `WWW-Authenticate` and the error's own headers. */
function refuseAuth(socket: Duplex, error: AuthError): void {
  const prefix = error.status === 403 ? 'Forbidden' : 'Unauthorized';
  const message = error.message.startsWith(prefix) ? error.message : `${prefix}: ${error.message}`;
  refuse(socket, error.status, message, { ...error.headers, 'WWW-Authenticate': error.wwwAuthenticate });
}

/** The `AuthRequest` of an upgrade. */
function upgradeAuthRequest(req: IncomingMessage, headers: Record<string, string | undefined>): AuthRequest {
  const socket = req.socket as Socket | TLSSocket;
  const secure = (socket as TLSSocket).encrypted === true;
  const request: AuthRequest = {
    binding: 'websocket',
    headers,
    httpMethod: req.method ?? 'GET',
    url: `${secure ? 'https' : 'http'}://${headers.host ?? 'localhost'}${pathOf(req.url)}`,
  };
  const certificate = secure ? verifiedCertificate(socket) : undefined;
  if (certificate) request.certificate = certificate;
  if (socket.remoteAddress) request.peer = { address: `${socket.remoteAddress}:${socket.remotePort}` };
  return request;
}

/** Answers an upgrade request with an HTTP error and closes the socket. */
function refuse(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (socket.writable) {
    const body = `${message}\n`;
    let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    socket.once('finish', () => socket.destroy());
    socket.end(`${head}\r\n${body}`);
  } else socket.destroy();
}

function offersMcp(header: string | undefined): boolean {
  if (header === undefined) return true; // no subprotocol offered: accepted (raw clients, curl)
  for (const p of header.split(',')) if (p.trim() === MCP_SUBPROTOCOL) return true;
  return false;
}

const ignore = () => {};

/**
 * Serves `server` over WebSocket on an existing HTTP(S) server, sharing its port: upgrade requests
 * (at `path`, if given) become MCP connections, every other request stays with the server's own
 * handler. Uses `ws` in `noServer` mode with `handleUpgrade`.
 *
 * When several `upgrade` listeners share the server, requests for other paths are left to them;
 * when this is the only one, they are refused with 404.
 *
 * @param server the MCP server definition (each connection is `server.connect(transport)`)
 * @param httpServer the Node HTTP or HTTPS server to share
 * @param options see {@link WebSocketAttachOptions}
 * @returns the attachment; `close()` it to detach (the HTTP server keeps running)
 */
export function attachWebSocket(
  server: Servable,
  httpServer: UpgradeServer,
  options: WebSocketAttachOptions = {},
): WebSocketAttachment {
  checkNumbers({
    maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
    maxConnections: [options.maxConnections, { min: 1 }],
    keepAliveIntervalMs: [options.keepAliveIntervalMs, { min: 0 }],
    maxBufferedBytes: [options.maxBufferedBytes, { min: 1 }],
    drainTimeoutMs: [options.drainTimeoutMs, { min: 0 }],
    closeTimeoutMs: [options.closeTimeoutMs, { min: 0 }],
    responseAfterNotificationDelayMs: [options.responseAfterNotificationDelayMs, { min: 0 }],
  });
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_WS_MAX_MESSAGE_BYTES;
  const maxConnections = options.maxConnections ?? DEFAULT_WS_MAX_CONNECTIONS;
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? DEFAULT_WS_KEEP_ALIVE_INTERVAL_MS;
  const security: HttpSecurityOptions = {};
  if (options.allowedHosts) security.allowedHosts = options.allowedHosts;
  if (options.allowedOrigins) security.allowedOrigins = options.allowedOrigins;
  const limits: WebSocketConnectionLimits = {
    maxMessageBytes,
    maxBufferedBytes: options.maxBufferedBytes,
    drainTimeoutMs: options.drainTimeoutMs,
    closeTimeoutMs: options.closeTimeoutMs,
    responseAfterNotificationDelayMs: options.responseAfterNotificationDelayMs,
  };
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: hardFrameCap(maxMessageBytes),
    handleProtocols: (offered) => (offered.has(MCP_SUBPROTOCOL) ? MCP_SUBPROTOCOL : false),
  });
  const transports = new Set<WebSocketServerTransport>();
  let pending = 0;
  let closing: Promise<void> | undefined;
  const onerror = (e: Error) => options.onerror?.(e);

  const loopbackBind = (): boolean => {
    if (options.bindHost !== undefined) return isLoopbackAddress(options.bindHost);
    const a = httpServer.address();
    // A pipe (string) or an unbound server: local only.
    return typeof a !== 'object' || a === null || isLoopbackAddress(a.address);
  };

  const serve = (ws: WebSocket, headers: Record<string, string | undefined>, authInfo?: AuthInfo) => {
    if (closing) {
      ws.close(WS_CLOSE.GOING_AWAY, 'server shutting down');
      return;
    }
    const transport = new WebSocketServerTransport(
      ws,
      authInfo ? { ...limits, headers, authInfo } : { ...limits, headers },
    );
    transports.add(transport);
    ws.once('close', () => transports.delete(transport));
    server.connect(transport).then(
      (connection) => {
        connection.onerror = onerror;
        options.onconnection?.(connection, transport);
      },
      (error: Error) => {
        onerror(error);
        void transport.close(WS_CLOSE.INTERNAL_ERROR, 'internal error');
      },
    );
  };

  const accept = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // A reset while we authenticate must not become an uncaught exception.
    socket.on('error', ignore);
    const upgrade = (then: (ws: WebSocket) => void) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', ignore);
        // The transport reports errors of served connections; this covers refused ones.
        ws.on('error', ignore);
        then(ws);
      });
    if (closing) return refuse(socket, 503, 'Service Unavailable: server shutting down');
    const origin = req.headers.origin;
    const verdict = checkHostAndOrigin(security, loopbackBind(), req.headers.host, origin);
    if (verdict) return refuse(socket, verdict.status, verdict.message);
    if (!offersMcp(req.headers['sec-websocket-protocol'])) {
      return refuse(socket, 400, `Bad Request: the WebSocket subprotocol "${MCP_SUBPROTOCOL}" is required`);
    }
    if (transports.size + pending >= maxConnections) {
      return upgrade((ws) => ws.close(WS_CLOSE.TRY_AGAIN_LATER, 'maximum connections reached'));
    }
    const headers = upgradeHeaders(req);
    let authInfo: AuthInfo | undefined;
    const request = upgradeAuthRequest(req, headers);
    if (options.authenticator || request.certificate) {
      pending++;
      try {
        const verdict = await admit(options.authenticator, request, { onerror });
        if (!verdict.ok) return refuseAuth(socket, verdict.error);
        authInfo = verdict.authInfo;
      } finally {
        pending--;
      }
    }
    upgrade((ws) => serve(ws, headers, authInfo));
  };

  const onupgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (options.path !== undefined && pathOf(req.url) !== options.path) {
      if (httpServer.listenerCount('upgrade') <= 1) refuse(socket, 404, 'Not Found');
      return;
    }
    accept(req, socket, head).catch((error: Error) => {
      onerror(error);
      refuse(socket, 500, 'Internal Server Error');
    });
  };
  httpServer.on('upgrade', onupgrade);

  let keepAlive: ReturnType<typeof setInterval> | undefined;
  if (keepAliveIntervalMs > 0) {
    keepAlive = setInterval(() => {
      for (const t of transports) t.keepAlive();
    }, keepAliveIntervalMs);
    keepAlive.unref();
  }

  return {
    get connections() {
      return transports.size;
    },
    transports,
    close() {
      closing ??= (async () => {
        httpServer.off('upgrade', onupgrade);
        if (keepAlive) clearInterval(keepAlive);
        await Promise.all([...transports].map((t) => t.close(WS_CLOSE.GOING_AWAY, 'server shutting down')));
        wss.close();
      })();
      return closing;
    },
  };
}

/** Options of {@link serveWebSocket}. */
export interface ServeWebSocketOptions extends Omit<WebSocketAttachOptions, 'bindHost'> {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one (read it from the handle). Default 0. */
  port?: number;
  /** TLS (`wss://`): PEM contents or file paths. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
}

/** A running WebSocket server. */
export interface WebSocketServerHandle {
  /** The endpoint, e.g. `ws://127.0.0.1:40123/` (`wss://` with TLS). */
  url: string;
  /** The bound address (`address`, `family`, `port`). */
  address: AddressInfo;
  /** The Node HTTP(S) server underneath (plain HTTP requests get 426 Upgrade Required). */
  listener: http.Server | https.Server;
  /** The MCP-over-WebSocket attachment (connections, transports). */
  attachment: WebSocketAttachment;
  /**
   * Closes every connection with 1001 (waiting up to `closeTimeoutMs`), then stops listening.
   * Does not close the `McpServer`, which may serve other bindings.
   */
  close(): Promise<void>;
}

function pem(v: string | Buffer): string | Buffer {
  return typeof v === 'string' && !v.includes('-----BEGIN') ? readFileSync(v) : v;
}

const UPGRADE_REQUIRED = 'Upgrade Required: this endpoint speaks MCP over WebSocket (subprotocol "mcp")\n';

function upgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, {
    upgrade: 'websocket',
    connection: 'Upgrade',
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(UPGRADE_REQUIRED)),
  });
  res.end(UPGRADE_REQUIRED);
}

/**
 * Serves `server` over WebSocket on a port of its own (`ws://host:port/path`, or `wss://` with
 * `tls`). Binds 127.0.0.1 unless told otherwise; on a loopback bind only loopback Host and Origin
 * headers are accepted (see {@link WebSocketAttachOptions}).
 * @throws Error (the listen error) when the port cannot be bound
 */
export async function serveWebSocket(
  server: Servable,
  options: ServeWebSocketOptions = {},
): Promise<WebSocketServerHandle> {
  checkNumbers({ port: [options.port, { min: 0, max: 65535 }] });
  const host = options.host ?? '127.0.0.1';
  let listener: http.Server | https.Server;
  if (options.tls) {
    const tls = {
      cert: pem(options.tls.cert),
      key: pem(options.tls.key),
      ca: options.tls.ca ? pem(options.tls.ca) : undefined,
    };
    listener = (await import('node:https')).createServer(tls, upgradeRequired);
  } else {
    listener = http.createServer(upgradeRequired);
  }
  const sockets = new Set<Socket>();
  listener.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const attachment = attachWebSocket(server, listener, { ...options, bindHost: host });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 0, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const address = listener.address() as AddressInfo;
  const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'wss' : 'ws'}://${h}:${address.port}${options.path ?? '/'}`,
    address,
    listener,
    attachment,
    async close() {
      await attachment.close();
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
