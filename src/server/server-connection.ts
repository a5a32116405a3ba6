/**
 * One connection of a server over a {@link Transport}: the JSON-RPC peer plus, for the legacy era,
 * the session created by `initialize` (server-to-client requests, log level, subscriptions).
 * Modern requests on the same connection are served statelessly beside it.
 * @module
 */
import { Peer } from '../protocol/peer.js';
import type { Transport } from '../protocol/transport.js';
import type { LegacySession } from './context.js';
import type { McpServer } from './mcp-server.js';

/** Options of one connection. */
export interface ServerConnectionOptions {
  /** Timeout in ms of server-to-client requests. Default: the server's `requestTimeoutMs` or 60 000. */
  requestTimeoutMs?: number;
}

/** A server's connection over one transport. */
export class ServerConnection {
  readonly server: McpServer;
  readonly peer: Peer;
  /** The legacy session of this connection (uninitialized until `initialize`). */
  readonly session: LegacySession;
  /** Called once when the connection closes. */
  onclose?: () => void;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  /** Non-fatal errors (bad frames, write failures). */
  onerror?: (error: Error) => void;

  constructor(server: McpServer, transport: Transport, options: ServerConnectionOptions = {}) {
    this.server = server;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    const requestTimeoutMs = options.requestTimeoutMs ?? server.options.requestTimeoutMs;
    this.peer = new Peer(
      transport,
      {
        onrequest: (request, call, context) =>
          server.dispatch(request, {
            call,
            context,
            notify: (method, params) => this.peer.notify(method, params, { relatedRequestId: call.id }),
            session: this.session,
          }),
        onnotification: (n) => {
          if (n.method === 'notifications/initialized') return;
          server.notification(n, this.session);
        },
        allowBatch: () => this.session.protocolVersion === '2025-03-26',
        onclose: () => {
          server.sessions.delete(this.session);
          this.onclose?.();
          this.#resolveClosed();
        },
        onerror: (e) => this.onerror?.(e),
      },
      requestTimeoutMs === undefined ? {} : { requestTimeoutMs },
    );
    const peer = this.peer;
    this.session = {
      clientCapabilities: {},
      subscriptions: new Set(),
      id: transport.sessionId,
      request: (method, params, opts) => peer.request(method, params, opts),
      notify: (method, params) => peer.notify(method, params),
    };
  }

  /** Starts the transport. */
  start(): Promise<void> {
    return this.peer.start();
  }

  /** Closes the transport. */
  close(): Promise<void> {
    return this.peer.close();
  }
}
