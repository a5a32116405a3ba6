/**
 * The Streamable HTTP server logic, shared by the Node fast path and the web-standard handler.
 * One URL serves the 2026-07-28 stateless transport (POST only, request-metadata headers, JSON or
 * SSE answers) and the sessionful 2025-11-25 transport (sessions, GET stream, resumption), and the
 * 2024-11-05 HTTP+SSE endpoints beside it. (basic/transports in each revision; digest sections 4, 11.)
 * This file routes and classifies POSTs; the 2026-07-28 POST is in `modern-post.ts`, the legacy
 * sessions, GET and DELETE in `legacy-sessions.ts`.
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { parseMessage } from '../../jsonrpc/parse.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { isModernVersion, LEGACY_PROTOCOL_VERSIONS, META } from '../../protocol/constants.js';
import { supportedVersions } from '../../protocol/eras.js';
import type { MessageContext } from '../../protocol/transport.js';
import type { AuthInfo, JsonObject } from '../../protocol/types.js';
import type { Servable } from '../../server/servable.js';
import { admit } from '../shared/ingress.js';
import type { Authenticator, AuthRequest, CertificateIdentity } from '../../protocol/auth.js';
import {
  checkHostAndOrigin,
  corsHeaders,
  isLoopbackHost,
  preflightHeaders,
} from '../shared/http-security.js';
import { DefaultEventStore } from './default-event-store.js';
import { HttpError } from './exchange.js';
import type { HttpExchange } from './exchange.js';
import { isKnownVersion, JSON_HEADERS, resolveLimits, sendAuthError, sendError } from './handler-options.js';
import type { HandlerContext, HttpLimits, StreamableHttpOptions } from './handler-options.js';
import { HealthProbes } from './health.js';
import { HttpSseSessions } from './http-sse.js';
import { HttpSession } from './legacy-session.js';
import { LegacySessions } from './legacy-sessions.js';
import { modernPost } from './modern-post.js';
import { PostSink } from './post-sink.js';
import { StreamGauge } from './stream-gauge.js';

export type { StreamableHttpOptions } from './handler-options.js';

/** The verdict of a refused admission (the 401/403 was already sent). */
const REFUSED = Symbol('refused');

/** The Streamable HTTP server for one `Servable`. */
export class StreamableHttpServer {
  readonly server: Servable;
  readonly options: StreamableHttpOptions;
  #hc: HandlerContext;
  #limits: HttpLimits;
  #loopback: boolean;
  #streams: StreamGauge;
  #legacy: LegacySessions;
  #httpSse: HttpSseSessions | undefined;
  #authenticator: Authenticator | undefined;
  #health: HealthProbes;
  #closing: Promise<void> | undefined;

  constructor(server: Servable, options: StreamableHttpOptions = {}) {
    this.server = server;
    this.options = options;
    this.#limits = resolveLimits(options);
    this.#loopback = isLoopbackHost(options.bindHost ?? '127.0.0.1');
    this.#streams = new StreamGauge(this.#limits.maxStreams);
    this.#hc = {
      server,
      options,
      limits: this.#limits,
      streams: this.#streams,
    };
    const hook = options.authenticate;
    this.#authenticator =
      options.authenticator ?? (hook ? { authenticate: (request) => hook(request.headers) } : undefined);
    const store =
      options.eventStore === false
        ? undefined
        : (options.eventStore ?? new DefaultEventStore(server, this.#limits.maxEventStoreBytes));
    this.#legacy = new LegacySessions(
      this.#hc,
      store,
      () => options.sessionStore ?? server.stores?.sessionStore,
    );
    this.#health = new HealthProbes(server, options, () => this.#closing !== undefined);
    if (options.httpSse !== false) {
      this.#httpSse = new HttpSseSessions(
        this.#hc,
        options.httpSse ?? { ssePath: '/sse', messagePath: '/messages' },
      );
    }
  }

  /** Live legacy sessions by `Mcp-Session-Id`. */
  get sessions(): Map<string, HttpSession> {
    return this.#legacy.map;
  }

  /** This node's id in health bodies (`options.nodeId`, or a random one). */
  get nodeId(): string {
    return this.#health.nodeId;
  }

  /** Open SSE streams right now. */
  get openStreams(): number {
    return this.#streams.open;
  }

  /**
   * Shuts down: new requests get 503; every request in flight gets its response written before
   * its stream closes, within `graceMs` (default `shutdownGraceMs`); then every session and stream
   * ends. Idempotent.
   */
  close(graceMs = this.#limits.shutdownGraceMs): Promise<void> {
    this.#closing ??= (async () => {
      await this.#streams.drain(graceMs);
      await this.#legacy.close();
      await this.#httpSse?.close();
    })();
    return this.#closing;
  }

  /** Handles one exchange. Never throws: every failure becomes a response. */
  async handle(ex: HttpExchange): Promise<void> {
    try {
      await this.#handle(ex);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const code = status === 500 ? ErrorCode.InternalError : ErrorCode.InvalidRequest;
      ex.send(
        status,
        { ...JSON_HEADERS },
        JSON.stringify(errorResponse(null, code, (error as Error).message)),
      );
    }
  }

  async #handle(ex: HttpExchange): Promise<void> {
    // Probes come first: no Host/Origin check, no authentication, and answered while closing.
    if (this.#health.owns(ex.path)) return this.#health.handle(ex);
    if (this.#closing) {
      sendError(ex, 503, null, ErrorCode.InternalError, 'Service Unavailable: server shutting down', {
        connection: 'close',
      });
      return;
    }
    if (this.options.wellKnown && ex.path.startsWith('/.well-known/') && (await this.#wellKnown(ex))) return;
    const origin = ex.header('origin');
    const httpSse = this.#httpSse;
    const isSse = httpSse?.owns(ex.path);
    if (!isSse && this.options.path !== undefined && ex.path !== this.options.path) {
      ex.send(404, { 'content-type': 'text/plain' }, 'Not Found');
      return;
    }
    const verdict = checkHostAndOrigin(this.options, this.#loopback, ex.header('host'), origin);
    if (verdict) {
      sendError(ex, verdict.status, null, ErrorCode.InvalidRequest, verdict.message, {});
      return;
    }
    const cors = corsHeaders(this.options, origin);
    if (ex.method === 'OPTIONS') {
      ex.send(204, preflightHeaders(this.options, origin, ex.header('access-control-request-headers')));
      return;
    }
    // Every method is authenticated (GET and DELETE too), before anything else is looked at.
    const admitted = ex.authInfo ?? this.#admit(ex, cors);
    const authInfo = admitted instanceof Promise ? await admitted : admitted;
    if (authInfo === REFUSED) return;
    if (isSse) {
      await httpSse!.handle(ex, cors, authInfo);
      return;
    }
    switch (ex.method) {
      case 'POST':
        return this.#post(ex, cors, authInfo);
      case 'GET':
        return this.#legacy.get(ex, cors, authInfo);
      case 'DELETE':
        return this.#legacy.delete(ex, cors, authInfo);
      default:
        ex.send(
          405,
          { allow: 'GET, POST, DELETE, OPTIONS', ...JSON_HEADERS, ...cors },
          JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, `Method Not Allowed: ${ex.method}`)),
        );
    }
  }

  /** Sends `options.wellKnown`'s answer for `ex`, if it has one (RFC 9728 metadata, ...). */
  async #wellKnown(ex: HttpExchange): Promise<boolean> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(ex.headers()))
      if (value !== undefined) headers.append(name, value);
    const url = `http://localhost${ex.path}${ex.query ? `?${ex.query}` : ''}`;
    const res = await this.options.wellKnown!(new Request(url, { method: ex.method, headers }));
    if (!res) return false;
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => (out[name] = value));
    ex.send(res.status, out, ex.method === 'HEAD' || res.body === null ? undefined : await res.text());
    return true;
  }

  /** Runs the shared ingress for one exchange: its identity, or REFUSED once 401/403 was answered. */
  #admit(
    ex: HttpExchange,
    cors: Record<string, string>,
  ): Promise<AuthInfo | undefined | typeof REFUSED> | undefined {
    const certificate = ex.certificate?.();
    if (!this.#authenticator && !certificate) return undefined;
    return this.#authenticate(ex, cors, certificate);
  }

  async #authenticate(
    ex: HttpExchange,
    cors: Record<string, string>,
    certificate: CertificateIdentity | undefined,
  ): Promise<AuthInfo | undefined | typeof REFUSED> {
    const request: AuthRequest = {
      binding: 'http',
      headers: ex.headers(),
      httpMethod: ex.method,
      url: ex.requestUrl(),
    };
    if (certificate) request.certificate = certificate;
    if (ex.remoteAddress !== undefined) request.peer = { address: ex.remoteAddress };
    const verdict = await admit(this.#authenticator, request, { onerror: this.options.onerror });
    if (verdict.ok) return verdict.authInfo;
    sendAuthError(ex, verdict.error, cors);
    return REFUSED;
  }

  async #post(ex: HttpExchange, cors: Record<string, string>, authInfo: AuthInfo | undefined): Promise<void> {
    const accept = ex.header('accept') ?? '';
    if (!(
      accept.includes('*/*') ||
      (accept.includes('application/json') && accept.includes('text/event-stream'))
    )) {
      sendError(
        ex,
        406,
        null,
        ErrorCode.InvalidRequest,
        'Not Acceptable: Accept must list application/json and text/event-stream',
        cors,
      );
      return;
    }
    const ctype = (ex.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (ctype !== 'application/json') {
      sendError(
        ex,
        415,
        null,
        ErrorCode.InvalidRequest,
        'Unsupported Media Type: Content-Type must be application/json',
        cors,
      );
      return;
    }
    let body: string;
    try {
      body = await ex.readBody(
        this.#limits.maxBodyBytes,
        this.#limits.bodyTimeoutMs,
        this.#limits.maxBodyDrainBytes,
      );
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 400;
      // A 413 keeps the connection while the refused body drains (bounded), so the client reads it.
      const close: Record<string, string> = status === 413 ? {} : { connection: 'close' };
      sendError(ex, status, null, ErrorCode.InvalidRequest, (error as Error).message, { ...cors, ...close });
      return;
    }
    const parsed = parseMessage(body);
    if (!parsed.ok) {
      ex.send(400, { ...JSON_HEADERS, ...cors }, JSON.stringify(parsed.error));
      return;
    }
    const sessionId = ex.header('mcp-session-id');
    const shared = this.#legacy.shared;
    if ('batch' in parsed) {
      const session =
        sessionId === undefined
          ? undefined
          : shared
            ? await shared.resolve(sessionId, authInfo)
            : this.#legacy.find(sessionId, authInfo);
      if (!session || session.connection?.session.protocolVersion !== '2025-03-26' || parsed.errors.length) {
        const e = parsed.errors[0];
        sendError(
          ex,
          400,
          null,
          ErrorCode.InvalidRequest,
          e ? e.error.message : 'Invalid Request: batches are allowed only in protocol revision 2025-03-26',
          cors,
        );
        return;
      }
      return this.#legacyPost(ex, cors, parsed.batch, session, authInfo);
    }
    const message = parsed.message;
    const method = 'method' in message ? message.method : undefined;
    const params = 'method' in message ? (message.params as JsonObject | undefined) : undefined;
    const claim = (params?._meta as JsonObject | undefined)?.[META.protocolVersion];
    const headerVersion = ex.header('mcp-protocol-version');
    const modern =
      method !== undefined &&
      (claim !== undefined ||
        (sessionId === undefined &&
          method !== 'initialize' &&
          (method === 'server/discover' ||
            method === 'subscriptions/listen' ||
            (headerVersion !== undefined && !LEGACY_PROTOCOL_VERSIONS.includes(headerVersion)))));
    if (modern && (this.server.options.eras ?? 'both') !== 'legacy')
      return modernPost(this.#hc, ex, cors, message, params, authInfo);
    if (headerVersion !== undefined && method !== 'initialize' && !isKnownVersion(headerVersion)) {
      sendError(
        ex,
        400,
        null,
        ErrorCode.InvalidRequest,
        `Bad Request: unsupported MCP-Protocol-Version ${headerVersion}`,
        cors,
      );
      return;
    }
    const legacy = this.options.legacy ?? 'sessions';
    if (legacy === 'reject' || (this.server.options.eras ?? 'both') === 'modern') {
      const id = 'id' in message && message.id !== null ? message.id : null;
      sendError(ex, 400, id, ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', cors, {
        supported: supportedVersions(this.server).filter(isModernVersion),
        requested: method === 'initialize' ? params?.protocolVersion : headerVersion,
      });
      return;
    }
    if (legacy === 'stateless') return this.#statelessPost(ex, cors, message, headerVersion, authInfo);
    if (sessionId === undefined) {
      if (method !== 'initialize') {
        sendError(
          ex,
          400,
          null,
          ErrorCode.InvalidRequest,
          'Bad Request: Mcp-Session-Id header is required',
          cors,
        );
        return;
      }
      if (this.sessions.size >= this.#limits.maxSessions) {
        sendError(ex, 503, null, ErrorCode.InternalError, 'Service Unavailable: too many sessions', cors);
        return;
      }
      const session = await this.#legacy.create(authInfo);
      return this.#legacyPost(ex, cors, message, session, authInfo);
    }
    // Another principal presenting this session id is answered like an unknown id.
    const session = shared
      ? await shared.resolve(sessionId, authInfo)
      : this.#legacy.find(sessionId, authInfo);
    if (!session) {
      sendError(ex, 404, null, -32001, 'Session not found', cors);
      return;
    }
    return this.#legacyPost(ex, cors, message, session, authInfo);
  }

  async #legacyPost(
    ex: HttpExchange,
    cors: Record<string, string>,
    message: JsonRpcMessage | JsonRpcMessage[],
    session: HttpSession,
    authInfo: AuthInfo | undefined,
  ): Promise<void> {
    const headers = session.sessionId ? { ...cors, 'mcp-session-id': session.sessionId } : cors;
    const hasRequest = Array.isArray(message)
      ? message.some((m) => 'method' in m && 'id' in m)
      : 'method' in message && 'id' in message;
    const context: MessageContext = {
      binding: 'http',
      headers: ex.headers(),
      sessionId: session.sessionId,
      authInfo,
    };
    if (!hasRequest) {
      session.deliver(message, context, undefined);
      ex.send(202, headers);
      return;
    }
    if (this.#streams.full) {
      sendError(
        ex,
        503,
        null,
        ErrorCode.InternalError,
        'Service Unavailable: too many open streams',
        headers,
      );
      return;
    }
    const sink = new PostSink(ex, {
      headers,
      mode: this.options.responseMode ?? 'auto',
      scope: session.scope,
      retryMs: this.#limits.sseRetryMs,
      keepAliveMs: this.#limits.keepAliveIntervalMs,
      onsettle: this.#streams.begin(),
      onstream: (stream) => {
        session.streams.set(stream.id, stream);
        // Shared sessions: recorded as running here, for a resumption on another process.
        const owned = this.#legacy.own(session, stream, message, () => sink.done);
        this.#streams.track(stream, (delivered) => {
          session.streams.delete(stream.id);
          owned?.();
          if (delivered) session.retireStream(stream.id);
        });
      },
    });
    context.closeSseStream = () => sink.disconnect();
    session.deliver(message, context, sink);
  }

  async #statelessPost(
    ex: HttpExchange,
    cors: Record<string, string>,
    message: JsonRpcMessage,
    headerVersion: string | undefined,
    authInfo: AuthInfo | undefined,
  ): Promise<void> {
    const session = new HttpSession(undefined, undefined);
    const conn = await this.server.connect(session);
    if (!('method' in message) || message.method !== 'initialize') {
      conn.session.protocolVersion =
        headerVersion && LEGACY_PROTOCOL_VERSIONS.includes(headerVersion) ? headerVersion : '2025-03-26';
    }
    const done = new Promise<void>((resolve) => {
      ex.onabort(resolve);
      const origSend = session.send.bind(session);
      session.send = async (m, o) => {
        await origSend(m, o);
        if (!('method' in (m as JsonRpcMessage))) resolve();
      };
    });
    await this.#legacyPost(ex, cors, message, session, authInfo);
    if ('method' in message && 'id' in message) await done;
    await conn.close();
  }
}
