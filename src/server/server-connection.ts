/**
 * One connection of a server over a {@link Transport}: the JSON-RPC peer plus, for the legacy era,
 * the session created by `initialize` (server-to-client requests, log level, subscriptions).
 * Modern requests on the same connection are served statelessly beside it.
 * @module
 */
import type { JsonRpcNotification, JsonRpcRequest } from '../jsonrpc/types.js';
import { Peer } from '../protocol/peer.js';
import type { Transport } from '../protocol/transport.js';
import type { ClientCapabilities, Implementation, JsonObject } from '../protocol/types.js';
import type { LegacySession, RequestScope } from './context.js';

/** What a connection needs of the server it serves (`McpServer.connect` provides it). */
export interface ConnectionHost {
  /** Answers one request. */
  dispatch(request: JsonRpcRequest, scope: RequestScope): Promise<JsonObject>;
  /** Handles a client notification the peer did not consume. */
  notification(notification: JsonRpcNotification, session: LegacySession): void;
  /** The connection closed: forget its session. */
  sessionClosed(session: LegacySession): void;
  /** A connection was created already initialized (a restored session): count it as initialized. */
  sessionInitialized?(session: LegacySession): void;
  /** Default timeout in ms of server-to-client requests. */
  readonly requestTimeoutMs?: number;
}

/**
 * What `initialize` negotiated for a session served before (by this process or another): a
 * connection created with it starts initialized, and the application sees no `initialize`.
 */
export interface InitializedSession {
  /** The negotiated legacy revision. */
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo?: Implementation;
  /** The level set by `logging/setLevel`, if any. */
  logLevel?: string;
  /** Resource URIs subscribed with `resources/subscribe`. */
  subscriptions?: readonly string[];
}

/** Options of one connection. */
export interface ServerConnectionOptions {
  /** Timeout in ms of server-to-client requests. Default: the server's `requestTimeoutMs` or 60 000. */
  requestTimeoutMs?: number;
  /** Start already initialized with this state (a legacy session rebuilt from a session store). */
  initialized?: InitializedSession;
  /**
   * Whether the session receives the server's broadcasts now (list_changed, resources/updated).
   * Default: always. A session served by several processes hears them only where its GET stream is.
   */
  hearsBroadcasts?: () => boolean;
}

/** A server's connection over one transport. */
export class ServerConnection {
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

  constructor(server: ConnectionHost, transport: Transport, options: ServerConnectionOptions = {}) {
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    const requestTimeoutMs = options.requestTimeoutMs ?? server.requestTimeoutMs;
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
          server.sessionClosed(this.session);
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
      notify: (method, params, opts) => peer.notify(method, params, opts),
    };
    if (options.hearsBroadcasts) this.session.hearsBroadcasts = options.hearsBroadcasts;
    const init = options.initialized;
    if (init) {
      this.session.protocolVersion = init.protocolVersion;
      this.session.clientCapabilities = init.clientCapabilities;
      if (init.clientInfo !== undefined) this.session.clientInfo = init.clientInfo;
      if (init.logLevel !== undefined) this.session.logLevel = init.logLevel;
      for (const uri of init.subscriptions ?? []) this.session.subscriptions.add(uri);
      server.sessionInitialized?.(this.session);
    }
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
