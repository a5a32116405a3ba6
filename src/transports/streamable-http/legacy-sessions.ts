/**
 * The legacy (2025-11-25 and older) sessions of one Streamable HTTP server: creation, idle expiry,
 * lookup by `Mcp-Session-Id`, the GET stream with `Last-Event-ID` resumption, and DELETE
 * (basic/transports "Session Management", "Listening for Messages from the Server",
 * "Resumability and Redelivery").
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { principalOf } from '../../protocol/auth.js';
import type { EventStore } from '../../protocol/event-store.js';
import type { SessionStore } from '../../protocol/session-store.js';
import type { AuthInfo } from '../../protocol/types.js';
import type { HttpExchange } from './exchange.js';
import { isKnownVersion, JSON_HEADERS, sendError } from './handler-options.js';
import type { HandlerContext } from './handler-options.js';
import { HttpSession } from './legacy-session.js';
import { PostStreamOwner, requestIdsOf } from './post-stream-owner.js';
import { ResumedPostStream } from './resumed-post-stream.js';
import { encodeSseEvent } from '../shared/sse.js';
import { SSE_HEADERS, SseStream } from './sse-stream.js';
import type { StreamWriter } from './exchange.js';
import { SharedHttpSession } from './shared-session.js';
import { SharedSessions } from './shared-sessions.js';
import { standaloneStreamId } from './shared-stream.js';

/** The live legacy sessions of one server, by id. */
export class LegacySessions {
  /** Sessions by `Mcp-Session-Id`. */
  readonly map = new Map<string, HttpSession>();
  readonly store: EventStore | undefined;
  #hc: HandlerContext;
  #sessionStore: () => SessionStore | undefined;
  #shared: SharedSessions | null | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #owner: PostStreamOwner | null | undefined;
  /** POST streams resumed here whose requests run on another process. */
  #resumed = new Set<ResumedPostStream>();

  /**
   * @param sessionStore where sessions are shared with other processes; read at the first legacy
   *   request (the server's stores may be set until it serves)
   */
  constructor(
    hc: HandlerContext,
    store: EventStore | undefined,
    sessionStore: () => SessionStore | undefined,
  ) {
    this.#hc = hc;
    this.store = store;
    this.#sessionStore = sessionStore;
  }

  /** Sessions shared with other processes through a session store, when one is configured. */
  get shared(): SharedSessions | undefined {
    if (this.#shared === undefined) {
      const sessionStore = this.#sessionStore();
      this.#shared = sessionStore
        ? new SharedSessions(this.#hc, sessionStore, this.store, this.map, () => this.#startSweeper())
        : null;
    }
    return this.#shared ?? undefined;
  }

  /** Starts a session bound to the principal of `authInfo`, and connects the server to it. */
  async create(authInfo: AuthInfo | undefined): Promise<HttpSession> {
    const id = globalThis.crypto.randomUUID();
    if (this.shared) return this.shared.create(id, principalOf(authInfo));
    const session = new HttpSession(id, this.store, this.#hc.limits.eventRetentionMs, principalOf(authInfo));
    this.map.set(id, session);
    session.connection = await this.#hc.server.connect(session);
    void session.connection.closed.then(() => this.map.delete(id));
    this.#startSweeper();
    return session;
  }

  /** This process's POST stream lease, when sessions are shared through a store with `postStreams`. */
  get #postOwner(): PostStreamOwner | undefined {
    if (this.#owner === undefined) {
      const store = this.shared?.store;
      this.#owner = store?.postStreams
        ? new PostStreamOwner(
            store.postStreams,
            store.router,
            this.#hc.limits.streamOwnerLeaseMs,
            this.#hc.limits.sessionIdleTimeoutMs,
            (e) => this.#report(e),
          )
        : null;
    }
    return this.#owner ?? undefined;
  }

  #report(error: unknown): void {
    this.#hc.options.onerror?.(error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * A POST stream of `session` opened for `message`: in shared sessions it is recorded as running
   * here (see {@link PostStreamOwner}). Returns what to call when it ends, if anything.
   */
  own(
    session: HttpSession,
    stream: SseStream,
    message: JsonRpcMessage | JsonRpcMessage[],
    answered: () => boolean,
  ): (() => void) | undefined {
    if (!(session instanceof SharedHttpSession) || !session.scope) return undefined;
    const owner = this.#postOwner;
    const ids = requestIdsOf(message);
    if (!owner || ids.length === 0) return undefined;
    return owner.own(session.sessionId!, stream, ids, answered);
  }

  /** Ends every session. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const s of this.#resumed) {
      s.stop();
      s.end();
    }
    await this.#owner?.close();
    await Promise.all([...this.map.values()].map((s) => s.connection?.close()));
    this.map.clear();
  }

  #startSweeper(): void {
    if (this.#sweeper || this.#closed) return;
    const idle = this.#hc.limits.sessionIdleTimeoutMs;
    this.#sweeper = setInterval(
      () => {
        const now = Date.now();
        for (const s of this.map.values()) {
          // A GET stream that was opened and closed again no longer keeps the session alive.
          const listening = s.standalone !== undefined && s.standalone.connected && !s.standalone.ended;
          // A shared session's record lives while a process holds its GET stream.
          if (listening) this.shared?.keepAlive(s);
          if (now - s.lastSeen > idle && s.streams.size === 0 && !listening) void s.connection?.close();
        }
      },
      Math.max(1000, Math.min(idle / 4, 60_000)),
    );
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  /**
   * The session `id` names when it belongs to the principal of `authInfo`; undefined for an
   * unknown id and for another principal's session (answered alike: 404).
   */
  find(id: string, authInfo: AuthInfo | undefined): HttpSession | undefined {
    const session = this.map.get(id);
    return session && session.principal === principalOf(authInfo) ? session : undefined;
  }

  /** The session an exchange names, or undefined after answering 405 (no id), 400 or 404 (unknown or foreign id). */
  async lookup(
    ex: HttpExchange,
    cors: Record<string, string>,
    authInfo: AuthInfo | undefined,
  ): Promise<HttpSession | undefined> {
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
    const version = ex.header('mcp-protocol-version');
    if (version !== undefined && !isKnownVersion(version)) {
      sendError(
        ex,
        400,
        null,
        ErrorCode.InvalidRequest,
        `Bad Request: unsupported MCP-Protocol-Version ${version}`,
        cors,
      );
      return undefined;
    }
    const session = this.shared ? await this.shared.resolve(id, authInfo) : this.find(id, authInfo);
    if (!session) {
      sendError(ex, 404, null, -32001, 'Session not found', cors);
      return undefined;
    }
    session.lastSeen = Date.now();
    return session;
  }

  /** GET: the session's standalone stream, or the resumption of a stream after `Last-Event-ID`. */
  async get(ex: HttpExchange, cors: Record<string, string>, authInfo: AuthInfo | undefined): Promise<void> {
    if (!(ex.header('accept') ?? '').includes('text/event-stream')) {
      sendError(
        ex,
        406,
        null,
        ErrorCode.InvalidRequest,
        'Not Acceptable: Accept must list text/event-stream',
        cors,
      );
      return;
    }
    const session = await this.lookup(ex, cors, authInfo);
    if (!session) return;
    const headers = { ...SSE_HEADERS, ...cors, 'mcp-session-id': session.sessionId! };
    const lastEventId = ex.header('last-event-id');
    const scope = session.scope;
    if (lastEventId !== undefined && scope) {
      const replay: { id: string; m: JsonRpcMessage }[] = [];
      let streamId: string | undefined;
      try {
        // An id of another session, or of none, is unknown here: nothing is replayed (issue 7 item 1).
        streamId = await scope.store.replayEventsAfter(scope.sessionId, lastEventId, (eid, m) => {
          replay.push({ id: eid, m });
        });
      } catch (error) {
        sendError(
          ex,
          500,
          null,
          ErrorCode.InternalError,
          `Event store failed: ${(error as Error).message}`,
          cors,
        );
        return;
      }
      if (streamId !== undefined) {
        const writer = ex.stream(200, headers);
        for (const e of replay) writer.write(encodeSseEvent(JSON.stringify(e.m), e.id));
        if (this.shared && session instanceof SharedHttpSession) {
          if (streamId === standaloneStreamId(session.sessionId!)) {
            // The session's GET stream continues here, wherever it was held before.
            await this.shared.openStandalone(session, writer, replay.at(-1)?.id ?? lastEventId);
            return;
          }
          // A POST stream: its process writes (and retires) it; what it stored so far was sent.
          const live = session.streams.get(streamId);
          if (live && !live.ended) live.attach(writer);
          else this.#relay(session, writer, streamId, replay.at(-1)?.id ?? lastEventId, replay);
          return;
        }
        const live =
          session.streams.get(streamId) ??
          (session.standalone?.id === streamId ? session.standalone : undefined);
        if (live && !live.ended) live.attach(writer);
        else {
          writer.end();
          // The stream's last events were just delivered: it has nothing more to resume.
          session.retireStream(streamId);
        }
        return;
      }
    }
    if (session.standalone && !session.standalone.ended && session.standalone.connected) {
      sendError(
        ex,
        409,
        null,
        ErrorCode.InvalidRequest,
        'Conflict: this session already has a GET stream',
        cors,
      );
      return;
    }
    const gauge = this.#hc.streams;
    if (gauge.full) {
      sendError(ex, 503, null, ErrorCode.InternalError, 'Service Unavailable: too many open streams', cors);
      return;
    }
    if (this.shared && session instanceof SharedHttpSession && this.store) {
      await this.shared.openStandalone(session, ex.stream(200, headers));
      return;
    }
    const stream = new SseStream(
      `${session.sessionId!.replaceAll('-', '')}g`,
      ex.stream(200, headers),
      session.scope,
      this.#hc.limits.keepAliveIntervalMs,
    );
    gauge.track(stream);
    session.standalone = stream;
    stream.prime(this.#hc.limits.sseRetryMs);
  }

  /**
   * A POST stream resumed here while its requests run (or ran) elsewhere: relayed from the shared
   * event store until every request has its response, or an error once the running process is dead.
   */
  #relay(
    session: SharedHttpSession,
    writer: StreamWriter,
    streamId: string,
    cursor: string,
    replay: { id: string; m: JsonRpcMessage }[],
  ): void {
    const store = this.shared!.store;
    if (!store.postStreams || !session.scope) {
      writer.end();
      return;
    }
    const stream = new ResumedPostStream(
      streamId,
      writer,
      session.scope,
      cursor,
      replay.map((e) => e.m),
      {
        registry: store.postStreams,
        router: store.router,
        pollMs: this.#hc.limits.resumedStreamPollMs,
        keepAliveMs: this.#hc.limits.keepAliveIntervalMs,
        report: (e) => this.#report(e),
      },
    );
    this.#resumed.add(stream);
    this.#hc.streams.track(stream, (delivered) => {
      this.#resumed.delete(stream);
      stream.stop();
      // Every response reached the client: the stream's events go after the resumption grace.
      if (delivered && stream.complete) session.retireStream(streamId);
    });
    stream.start();
  }

  /** DELETE: ends the session. */
  async delete(
    ex: HttpExchange,
    cors: Record<string, string>,
    authInfo: AuthInfo | undefined,
  ): Promise<void> {
    const session = await this.lookup(ex, cors, authInfo);
    if (!session) return;
    this.map.delete(session.sessionId!);
    if (this.shared) await this.shared.end(session);
    else await session.connection?.close();
    ex.send(200, cors);
  }
}
