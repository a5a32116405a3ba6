/**
 * The Streamable HTTP server logic, shared by the Node fast path and the web-standard handler.
 * One URL serves the 2026-07-28 stateless transport (POST only, request-metadata headers, JSON or
 * SSE answers) and the sessionful 2025-11-25 transport (sessions, GET stream, resumption), and the
 * 2024-11-05 HTTP+SSE endpoints beside it. (basic/transports in each revision; digest sections 4, 11.)
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { parseMessage } from '../../jsonrpc/parse.js';
import type { JsonRpcErrorResponse, JsonRpcId, JsonRpcMessage, JsonRpcRequest } from '../../jsonrpc/types.js';
import { isModernVersion, LEGACY_PROTOCOL_VERSIONS, META } from '../../protocol/constants.js';
import { InboundCall, toErrorResponse } from '../../protocol/peer.js';
import { InMemoryEventStore } from '../../protocol/stores.js';
import type { EventStore } from '../../protocol/stores.js';
import type { MessageContext } from '../../protocol/transport.js';
import type { AuthInfo, JsonObject } from '../../protocol/types.js';
import { supportedVersions } from '../../protocol/eras.js';
import type { Servable } from '../../server/servable.js';
import { HttpError } from './exchange.js';
import type { HttpExchange } from './exchange.js';
import { HttpSseSessions } from './http-sse.js';
import { HttpSession } from './legacy-session.js';
import { checkMcpHeaders, headerParams } from './mcp-headers.js';
import { PostSink } from './post-sink.js';
import {
  checkHostAndOrigin,
  corsHeaders,
  isLoopbackHost,
  preflightHeaders,
} from '../shared/http-security.js';
import type { HttpSecurityOptions } from '../shared/http-security.js';
import { SSE_HEADERS, SseStream } from './sse-stream.js';

/** Options of the Streamable HTTP server. Every limit has a unit in its name and a safe default. */
export interface StreamableHttpOptions extends HttpSecurityOptions {
  /** Serve only this path (e.g. `/mcp`). Default: any path (a framework routes to us). */
  path?: string;
  /** The address the server is bound to; a loopback bind turns on `Host` validation. Default `127.0.0.1`. */
  bindHost?: string;
  /**
   * Legacy (2025-11-25 and older) clients: `sessions` (default: `Mcp-Session-Id`, GET stream,
   * resumption), `stateless` (each request served alone, no session id), or `reject` (400 with -32022).
   */
  legacy?: 'sessions' | 'stateless' | 'reject';
  /** `auto` (default): JSON unless a notification must precede the response, then SSE. `json`: never SSE. `sse`: always. */
  responseMode?: 'auto' | 'json' | 'sse';
  /** Largest accepted request body in bytes (413 beyond). Default 4 MiB. */
  maxBodyBytes?: number;
  /** Time allowed to receive a request body in ms (408 beyond). Default 30 000. */
  bodyTimeoutMs?: number;
  /** Most concurrent legacy sessions (503 beyond). Default 50 000. */
  maxSessions?: number;
  /** A legacy session without requests for this long is ended, in ms. Default 30 minutes. */
  sessionIdleTimeoutMs?: number;
  /** Most open SSE streams (503 beyond). Default 20 000. */
  maxStreams?: number;
  /** Interval of SSE keep-alive comments in ms (0 = none). Default 15 000. */
  keepAliveIntervalMs?: number;
  /** SSE `retry:` sent with priming events, in ms. Default 1 000. */
  sseRetryMs?: number;
  /** Legacy stream resumption store; `false` turns resumption off. Default: bounded in-memory. */
  eventStore?: EventStore | false;
  /** The 2024-11-05 HTTP+SSE endpoints; `false` turns them off. Default `{ ssePath: '/sse', messagePath: '/messages' }`. */
  httpSse?: { ssePath: string; messagePath: string } | false;
  /** Derives the caller's identity from request headers (bearer tokens, ...). Runs before dispatch. */
  authenticate?: (
    headers: Record<string, string | undefined>,
  ) => AuthInfo | undefined | Promise<AuthInfo | undefined>;
}

const DEFAULTS = {
  maxBodyBytes: 4 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  maxSessions: 50_000,
  sessionIdleTimeoutMs: 30 * 60_000,
  maxStreams: 20_000,
  keepAliveIntervalMs: 15_000,
  sseRetryMs: 1000,
};

const JSON_HEADERS = { 'content-type': 'application/json' };

/** HTTP status for a JSON-RPC error answered before any stream opened (2026-07-28 status table). */
function statusFor(code: number): number {
  switch (code) {
    case ErrorCode.MethodNotFound:
      return 404;
    case ErrorCode.HeaderMismatch:
    case ErrorCode.MissingRequiredClientCapability:
    case ErrorCode.UnsupportedProtocolVersion:
    case ErrorCode.ParseError:
    case ErrorCode.InvalidRequest:
      return 400;
    default:
      return 200;
  }
}

/** The Streamable HTTP server for one `Servable`. */
export class StreamableHttpServer {
  readonly server: Servable;
  readonly options: StreamableHttpOptions;
  readonly sessions = new Map<string, HttpSession>();
  #loopback: boolean;
  #store: EventStore | undefined;
  #openStreams = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #httpSse: HttpSseSessions | undefined;
  #closed = false;

  constructor(server: Servable, options: StreamableHttpOptions = {}) {
    this.server = server;
    this.options = options;
    this.#loopback = isLoopbackHost(options.bindHost ?? '127.0.0.1');
    this.#store = options.eventStore === false ? undefined : (options.eventStore ?? new InMemoryEventStore());
    if (options.httpSse !== false) {
      this.#httpSse = new HttpSseSessions(
        server,
        options.httpSse ?? { ssePath: '/sse', messagePath: '/messages' },
        {
          keepAliveMs: this.#opt('keepAliveIntervalMs'),
          maxBodyBytes: this.#opt('maxBodyBytes'),
          bodyTimeoutMs: this.#opt('bodyTimeoutMs'),
        },
      );
    }
  }

  #opt<K extends keyof typeof DEFAULTS>(k: K): number {
    return (this.options[k] as number | undefined) ?? DEFAULTS[k];
  }

  /** Open SSE streams right now. */
  get openStreams(): number {
    return this.#openStreams;
  }

  /** Ends every session and stream. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    await Promise.all([...this.sessions.values()].map((s) => s.connection?.close()));
    this.sessions.clear();
    await this.#httpSse?.close();
  }

  /** Handles one exchange. Never throws: every failure becomes a response. */
  async handle(ex: HttpExchange): Promise<void> {
    try {
      await this.#handle(ex);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const code = status === 500 ? ErrorCode.InternalError : ErrorCode.InvalidRequest;
      ex.send(status, JSON_HEADERS, JSON.stringify(errorResponse(null, code, (error as Error).message)));
    }
  }

  async #handle(ex: HttpExchange): Promise<void> {
    const origin = ex.header('origin');
    const httpSse = this.#httpSse;
    const isSse = httpSse?.owns(ex.path);
    if (!isSse && this.options.path !== undefined && ex.path !== this.options.path) {
      ex.send(404, { 'content-type': 'text/plain' }, 'Not Found');
      return;
    }
    const verdict = checkHostAndOrigin(this.options, this.#loopback, ex.header('host'), origin);
    if (verdict) {
      ex.send(
        verdict.status,
        JSON_HEADERS,
        JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, verdict.message)),
      );
      return;
    }
    const cors = corsHeaders(this.options, origin);
    if (ex.method === 'OPTIONS') {
      ex.send(204, preflightHeaders(this.options, origin, ex.header('access-control-request-headers')));
      return;
    }
    if (isSse) {
      await httpSse!.handle(ex, cors, await this.#auth(ex));
      return;
    }
    switch (ex.method) {
      case 'POST':
        return this.#post(ex, cors);
      case 'GET':
        return this.#get(ex, cors);
      case 'DELETE':
        return this.#delete(ex, cors);
      default:
        ex.send(
          405,
          { allow: 'GET, POST, DELETE, OPTIONS', ...JSON_HEADERS, ...cors },
          JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, `Method Not Allowed: ${ex.method}`)),
        );
    }
  }

  async #auth(ex: HttpExchange): Promise<AuthInfo | undefined> {
    if (ex.authInfo) return ex.authInfo;
    return this.options.authenticate?.(ex.headers());
  }

  #fail(
    ex: HttpExchange,
    status: number,
    id: JsonRpcId | null,
    code: number,
    message: string,
    headers: Record<string, string>,
    data?: unknown,
  ): void {
    ex.send(status, { ...JSON_HEADERS, ...headers }, JSON.stringify(errorResponse(id, code, message, data)));
  }

  async #post(ex: HttpExchange, cors: Record<string, string>): Promise<void> {
    const accept = ex.header('accept') ?? '';
    if (!(
      accept.includes('*/*') ||
      (accept.includes('application/json') && accept.includes('text/event-stream'))
    )) {
      this.#fail(
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
      this.#fail(
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
      body = await ex.readBody(this.#opt('maxBodyBytes'), this.#opt('bodyTimeoutMs'));
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 400;
      this.#fail(ex, status, null, ErrorCode.InvalidRequest, (error as Error).message, {
        ...cors,
        connection: 'close',
      });
      return;
    }
    const parsed = parseMessage(body);
    if (!parsed.ok) {
      ex.send(400, { ...JSON_HEADERS, ...cors }, JSON.stringify(parsed.error));
      return;
    }
    const sessionId = ex.header('mcp-session-id');
    if ('batch' in parsed) {
      const session = sessionId === undefined ? undefined : this.sessions.get(sessionId);
      if (!session || session.connection?.session.protocolVersion !== '2025-03-26' || parsed.errors.length) {
        const e = parsed.errors[0];
        this.#fail(
          ex,
          400,
          null,
          ErrorCode.InvalidRequest,
          e ? e.error.message : 'Invalid Request: batches are allowed only in protocol revision 2025-03-26',
          cors,
        );
        return;
      }
      return this.#legacyPost(ex, cors, parsed.batch, session);
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
      return this.#modernPost(ex, cors, message, params);
    if (
      headerVersion !== undefined &&
      method !== 'initialize' &&
      !LEGACY_PROTOCOL_VERSIONS.includes(headerVersion) &&
      !isModernVersion(headerVersion)
    ) {
      this.#fail(
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
      this.#fail(ex, 400, id, ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', cors, {
        supported: supportedVersions(this.server).filter(isModernVersion),
        requested: method === 'initialize' ? params?.protocolVersion : headerVersion,
      });
      return;
    }
    if (legacy === 'stateless') return this.#statelessPost(ex, cors, message, headerVersion);
    if (sessionId === undefined) {
      if (method !== 'initialize') {
        this.#fail(
          ex,
          400,
          null,
          ErrorCode.InvalidRequest,
          'Bad Request: Mcp-Session-Id header is required',
          cors,
        );
        return;
      }
      if (this.sessions.size >= this.#opt('maxSessions')) {
        this.#fail(ex, 503, null, ErrorCode.InternalError, 'Service Unavailable: too many sessions', cors);
        return;
      }
      const session = await this.#newSession();
      return this.#legacyPost(ex, cors, message, session);
    }
    const session = this.sessions.get(sessionId);
    if (!session) {
      this.#fail(ex, 404, null, -32001, 'Session not found', cors);
      return;
    }
    return this.#legacyPost(ex, cors, message, session);
  }

  async #newSession(): Promise<HttpSession> {
    const id = globalThis.crypto.randomUUID();
    const session = new HttpSession(id, this.#store);
    this.sessions.set(id, session);
    session.connection = await this.server.connect(session);
    void session.connection.closed.then(() => this.sessions.delete(id));
    this.#startSweeper();
    return session;
  }

  #startSweeper(): void {
    if (this.#sweeper || this.#closed) return;
    const idle = this.#opt('sessionIdleTimeoutMs');
    this.#sweeper = setInterval(
      () => {
        const now = Date.now();
        for (const s of this.sessions.values()) {
          if (now - s.lastSeen > idle && s.streams.size === 0 && !s.standalone) void s.connection?.close();
        }
      },
      Math.max(1000, Math.min(idle / 4, 60_000)),
    );
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  #streamHooks(session: HttpSession | undefined) {
    return (stream: SseStream) => {
      this.#openStreams++;
      if (session) session.streams.set(stream.id, stream);
      stream.onend = () => {
        this.#openStreams--;
        session?.streams.delete(stream.id);
      };
    };
  }

  async #legacyPost(
    ex: HttpExchange,
    cors: Record<string, string>,
    message: JsonRpcMessage | JsonRpcMessage[],
    session: HttpSession,
  ): Promise<void> {
    const headers = session.sessionId ? { ...cors, 'mcp-session-id': session.sessionId } : cors;
    const hasRequest = Array.isArray(message)
      ? message.some((m) => 'method' in m && 'id' in m)
      : 'method' in message && 'id' in message;
    const context: MessageContext = {
      binding: 'http',
      headers: ex.headers(),
      sessionId: session.sessionId,
      authInfo: await this.#auth(ex),
    };
    if (!hasRequest) {
      session.deliver(message, context, undefined);
      ex.send(202, headers);
      return;
    }
    if (this.#openStreams >= this.#opt('maxStreams')) {
      this.#fail(
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
      store: session.sessionId ? session.store : undefined,
      retryMs: this.#opt('sseRetryMs'),
      keepAliveMs: this.#opt('keepAliveIntervalMs'),
      onstream: this.#streamHooks(session),
    });
    context.closeSseStream = () => sink.disconnect();
    session.deliver(message, context, sink);
  }

  async #statelessPost(
    ex: HttpExchange,
    cors: Record<string, string>,
    message: JsonRpcMessage,
    headerVersion: string | undefined,
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
    await this.#legacyPost(ex, cors, message, session);
    if ('method' in message && 'id' in message) await done;
    await conn.close();
  }

  async #modernPost(
    ex: HttpExchange,
    cors: Record<string, string>,
    message: JsonRpcMessage,
    params: JsonObject | undefined,
  ): Promise<void> {
    if (!('id' in message) || !('method' in message)) {
      // Client notifications have no defined meaning on 2026-07-28 HTTP; accept and ignore them.
      ex.send(202, cors);
      return;
    }
    const request = message as JsonRpcRequest;
    const id = request.id;
    const meta = params?._meta as JsonObject | undefined;
    const version = meta?.[META.protocolVersion];
    const caps = meta?.[META.clientCapabilities];
    if (typeof version !== 'string' || typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
      const missing = typeof version !== 'string' ? META.protocolVersion : META.clientCapabilities;
      this.#fail(
        ex,
        400,
        id,
        ErrorCode.InvalidParams,
        `Invalid params: missing required _meta field "${missing}"`,
        cors,
      );
      return;
    }
    const headerVersion = ex.header('mcp-protocol-version');
    if (headerVersion !== version) {
      this.#fail(
        ex,
        400,
        id,
        ErrorCode.HeaderMismatch,
        headerVersion === undefined
          ? 'Header mismatch: missing MCP-Protocol-Version header'
          : `Header mismatch: MCP-Protocol-Version header value '${headerVersion}' does not match body value '${version}'`,
        cors,
      );
      return;
    }
    if (!isModernVersion(version) || !supportedVersions(this.server).includes(version)) {
      this.#fail(ex, 400, id, ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', cors, {
        supported: [...supportedVersions(this.server)],
        requested: version,
      });
      return;
    }
    const tool =
      request.method === 'tools/call' && typeof params?.name === 'string'
        ? this.server.tools.get(params.name)
        : undefined;
    const mismatch = checkMcpHeaders(
      (n) => ex.header(n),
      request.method,
      params,
      tool ? headerParams(tool.listing.inputSchema) : undefined,
    );
    if (mismatch) {
      this.#fail(ex, 400, id, ErrorCode.HeaderMismatch, mismatch, cors);
      return;
    }
    if (this.#openStreams >= this.#opt('maxStreams')) {
      this.#fail(ex, 503, id, ErrorCode.InternalError, 'Service Unavailable: too many open streams', cors);
      return;
    }
    const call = new InboundCall(id, request.method);
    const sink = new PostSink(ex, {
      headers: cors,
      mode: this.options.responseMode ?? 'auto',
      keepAliveMs: this.#opt('keepAliveIntervalMs'),
      onstream: this.#streamHooks(undefined),
    });
    // Closing the response stream cancels the request (2026-07-28 streamable-http "Cancellation").
    ex.onabort(() => call.cancel('the client closed the response stream'));
    const context: MessageContext = {
      binding: 'http',
      headers: ex.headers(),
      authInfo: await this.#auth(ex),
    };
    let response: JsonRpcMessage;
    try {
      const result = await this.server.dispatch(request, {
        call,
        context,
        notify: async (method, p) =>
          sink.notify(p === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params: p }),
      });
      response = { jsonrpc: '2.0', id, result };
    } catch (error) {
      response = toErrorResponse(id, error);
    }
    if (call.cancelled) {
      sink.finish(response);
      return;
    }
    sink.finish(
      response,
      'error' in response ? statusFor((response as JsonRpcErrorResponse).error.code) : 200,
    );
  }

  async #session(ex: HttpExchange, cors: Record<string, string>): Promise<HttpSession | undefined> {
    const id = ex.header('mcp-session-id');
    if (id === undefined) {
      // No session: a modern-only client or a stateless server has no GET stream (2026-07-28: 405).
      ex.send(
        405,
        { allow: 'POST, OPTIONS', ...JSON_HEADERS, ...cors },
        JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, 'Method Not Allowed: no session')),
      );
      return undefined;
    }
    const session = this.sessions.get(id);
    if (!session) {
      this.#fail(ex, 404, null, -32001, 'Session not found', cors);
      return undefined;
    }
    session.lastSeen = Date.now();
    return session;
  }

  async #get(ex: HttpExchange, cors: Record<string, string>): Promise<void> {
    if (!(ex.header('accept') ?? '').includes('text/event-stream')) {
      this.#fail(
        ex,
        406,
        null,
        ErrorCode.InvalidRequest,
        'Not Acceptable: Accept must list text/event-stream',
        cors,
      );
      return;
    }
    const session = await this.#session(ex, cors);
    if (!session) return;
    const headers = { ...SSE_HEADERS, ...cors, 'mcp-session-id': session.sessionId! };
    const lastEventId = ex.header('last-event-id');
    if (lastEventId !== undefined && session.store) {
      const replay: { id: string; m: JsonRpcMessage }[] = [];
      const streamId = await session.store.replayEventsAfter(lastEventId, (eid, m) => {
        replay.push({ id: eid, m });
      });
      if (streamId !== undefined) {
        const writer = ex.stream(200, headers);
        for (const e of replay) writer.write(`id: ${e.id}\ndata: ${JSON.stringify(e.m)}\n\n`);
        const live =
          session.streams.get(streamId) ??
          (session.standalone?.id === streamId ? session.standalone : undefined);
        if (live && !live.ended) live.attach(writer);
        else writer.end();
        return;
      }
    }
    if (session.standalone && !session.standalone.ended && session.standalone.connected) {
      this.#fail(
        ex,
        409,
        null,
        ErrorCode.InvalidRequest,
        'Conflict: this session already has a GET stream',
        cors,
      );
      return;
    }
    if (this.#openStreams >= this.#opt('maxStreams')) {
      this.#fail(ex, 503, null, ErrorCode.InternalError, 'Service Unavailable: too many open streams', cors);
      return;
    }
    const stream = new SseStream(
      `${session.sessionId!.replaceAll('-', '')}g`,
      ex.stream(200, headers),
      session.store,
      this.#opt('keepAliveIntervalMs'),
    );
    this.#openStreams++;
    stream.onend = () => this.#openStreams--;
    session.standalone = stream;
    stream.prime(this.#opt('sseRetryMs'));
  }

  async #delete(ex: HttpExchange, cors: Record<string, string>): Promise<void> {
    const session = await this.#session(ex, cors);
    if (!session) return;
    this.sessions.delete(session.sessionId!);
    await session.connection?.close();
    ex.send(200, cors);
  }
}
