/**
 * Legacy sessions that any process can serve (a {@link SessionStore} is configured): the record
 * written when `initialize` succeeds and after each state change, the lookup on every request
 * (which refreshes the record's TTL and this process's replica), the rebuild of a replica already
 * initialized on a process that never saw the session, DELETE everywhere, and the per-session
 * channel between processes (2025-11-25 basic/transports "Session Management").
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import type { JsonRpcMessage, JsonRpcResponse } from '../../jsonrpc/types.js';
import { principalOf } from '../../protocol/auth.js';
import type { EventStore } from '../../protocol/event-store.js';
import { SessionRecordTooLargeError } from '../../protocol/session-store.js';
import type { SessionRecord, SessionSignal, SessionStore } from '../../protocol/session-store.js';
import type { AuthInfo, ClientCapabilities, Implementation } from '../../protocol/types.js';
import type { InitializedSession } from '../../server/server-connection.js';
import { HttpError } from './exchange.js';
import type { StreamWriter } from './exchange.js';
import type { HandlerContext } from './handler-options.js';
import type { HttpSession } from './legacy-session.js';
import { SharedHttpSession } from './shared-session.js';
import type { SharedSessionsPort } from './shared-session.js';
import { SharedStandaloneStream, standaloneStreamId } from './shared-stream.js';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a connection's legacy session holds that the record keeps. */
interface SessionState {
  protocolVersion?: string;
  clientCapabilities?: ClientCapabilities;
  clientInfo?: Implementation;
  logLevel?: string;
  subscriptions?: Set<string>;
}

function stateOf(session: HttpSession): SessionState | undefined {
  return session.connection?.session as SessionState | undefined;
}

/** The shared legacy sessions of one Streamable HTTP server. */
export class SharedSessions implements SharedSessionsPort {
  readonly store: SessionStore;
  #hc: HandlerContext;
  #map: Map<string, HttpSession>;
  #events: EventStore | undefined;
  #rebuilding = new Map<string, Promise<SharedHttpSession>>();
  #appending = new Map<string, Promise<void>>();
  #started: () => void;

  /**
   * @param map the server's sessions by id (replicas are added and removed here)
   * @param started called when a replica is added (the idle sweeper starts)
   */
  constructor(
    hc: HandlerContext,
    store: SessionStore,
    events: EventStore | undefined,
    map: Map<string, HttpSession>,
    started: () => void,
  ) {
    this.#hc = hc;
    this.store = store;
    this.#events = events;
    this.#map = map;
    this.#started = started;
  }

  get #ttlMs(): number {
    return Math.ceil(this.#hc.limits.sessionIdleTimeoutMs);
  }

  #report(error: unknown): void {
    this.#hc.options.onerror?.(error instanceof Error ? error : new Error(String(error)));
  }

  /** A new session (before `initialize`), connected to the server. */
  async create(id: string, principal: string): Promise<SharedHttpSession> {
    const session = this.#replica(id, principal);
    await this.#connect(session, undefined);
    return session;
  }

  #replica(id: string, principal: string): SharedHttpSession {
    const session = new SharedHttpSession(
      id,
      this.#events,
      this.#hc.limits.eventRetentionMs,
      principal,
      this,
    );
    this.#map.set(id, session);
    return session;
  }

  async #connect(session: SharedHttpSession, initialized: InitializedSession | undefined): Promise<void> {
    const options = initialized
      ? { initialized, hearsBroadcasts: () => session.hearsBroadcasts() }
      : { hearsBroadcasts: () => session.hearsBroadcasts() };
    try {
      session.connection = await this.#hc.server.connect(session, options);
    } catch (error) {
      if (this.#map.get(session.sessionId!) === session) this.#map.delete(session.sessionId!);
      throw error;
    }
    session.hook();
    const id = session.sessionId!;
    void session.connection.closed.then(() => {
      if (this.#map.get(id) === session) this.#map.delete(id);
    });
    this.#started();
  }

  /**
   * The session `id` names for the caller, on every request: the record's TTL is reset and this
   * process's replica refreshed from it (or rebuilt, already initialized). `undefined` for an
   * unknown, expired, deleted or garbage record and for another principal's session (all 404).
   * @throws Error when the store fails (the request is answered 500); HttpError 503 when this
   *   process holds `maxSessions` sessions already
   */
  async resolve(id: string, authInfo: AuthInfo | undefined): Promise<SharedHttpSession | undefined> {
    const principal = principalOf(authInfo);
    const local = this.#map.get(id) as SharedHttpSession | undefined;
    // Ids are UUIDs this binding issued: anything else is unknown without asking the store.
    if (!local && !SESSION_ID.test(id)) return undefined;
    // A session whose initialize is still running here has no record yet: it is served here.
    if (local && !local.stored) return local.principal === principal ? local : undefined;
    const record = await this.store.touch(id, this.#ttlMs);
    if (!record) {
      // Deleted or expired elsewhere: this replica goes too.
      if (local) void local.connection?.close();
      return undefined;
    }
    if (record.principal !== principal) return undefined;
    if (local && !local.closed) {
      this.#apply(local, record);
      return local;
    }
    return this.#rebuild(record);
  }

  #rebuild(record: SessionRecord): Promise<SharedHttpSession> {
    const id = record.sessionId;
    let pending = this.#rebuilding.get(id);
    if (!pending) {
      if (this.#map.size >= this.#hc.limits.maxSessions)
        throw new HttpError(503, 'Service Unavailable: too many sessions');
      pending = (async () => {
        const session = this.#replica(id, record.principal);
        session.stored = true;
        const initialized: InitializedSession = {
          protocolVersion: record.protocolVersion,
          clientCapabilities: record.clientCapabilities,
        };
        if (record.clientInfo !== undefined) initialized.clientInfo = record.clientInfo;
        if (record.logLevel !== undefined) initialized.logLevel = record.logLevel;
        if (record.subscriptions !== undefined) initialized.subscriptions = record.subscriptions;
        await this.#connect(session, initialized);
        return session;
      })().finally(() => this.#rebuilding.delete(id));
      this.#rebuilding.set(id, pending);
    }
    return pending;
  }

  /** Copies the record's mutable state into a replica. */
  #apply(session: HttpSession, record: SessionRecord): void {
    const state = stateOf(session);
    if (!state) return;
    if (record.logLevel === undefined) delete state.logLevel;
    else state.logLevel = record.logLevel;
    const subs = state.subscriptions;
    if (subs) {
      subs.clear();
      for (const uri of record.subscriptions ?? []) subs.add(uri);
    }
  }

  /** Re-reads the record into a replica (another process changed it); closes the replica when it is gone. */
  async refresh(session: SharedHttpSession): Promise<void> {
    try {
      const record = await this.store.touch(session.sessionId!, this.#ttlMs);
      if (record) this.#apply(session, record);
      else await session.connection?.close();
    } catch (error) {
      this.#report(error);
    }
  }

  /** Keeps the records of the sessions whose GET stream this process holds alive (the idle sweep). */
  keepAlive(session: HttpSession): void {
    if (!(session instanceof SharedHttpSession) || !session.stored) return;
    this.store.touch(session.sessionId!, this.#ttlMs).then(
      (record) => {
        if (!record) void session.connection?.close();
      },
      (error: unknown) => this.#report(error),
    );
  }

  /**
   * `initialize` succeeded: the record is written before the client has the response, so its next
   * request finds the session on any process. A refused record (too large: -32602) or a failing
   * store (-32603) turns the response into an error, and the session is not kept.
   */
  async initialized(
    session: SharedHttpSession,
    response: JsonRpcResponse,
  ): Promise<{ response: JsonRpcMessage; failed: boolean }> {
    const state = stateOf(session);
    if (!('result' in response) || !state?.protocolVersion) return { response, failed: false };
    const record: SessionRecord = {
      sessionId: session.sessionId!,
      protocolVersion: state.protocolVersion,
      clientCapabilities: state.clientCapabilities ?? {},
      principal: session.principal,
      createdAt: Date.now(),
    };
    if (state.clientInfo !== undefined) record.clientInfo = state.clientInfo;
    if (state.logLevel !== undefined) record.logLevel = state.logLevel;
    try {
      await this.store.create(record, this.#ttlMs);
      session.stored = true;
      return { response, failed: false };
    } catch (error) {
      return { response: this.#storeError(response, error), failed: true };
    }
  }

  /** A request changed the session's state: the record follows before the client has the response. */
  async stateChanged(session: SharedHttpSession, response: JsonRpcResponse): Promise<JsonRpcMessage> {
    const state = stateOf(session);
    if (!('result' in response) || !state || !session.stored) return response;
    const patch: { logLevel?: string; subscriptions: string[] } = {
      subscriptions: [...(state.subscriptions ?? [])],
    };
    if (state.logLevel !== undefined) patch.logLevel = state.logLevel;
    try {
      await this.store.update(session.sessionId!, patch, this.#ttlMs);
      // The process holding the GET stream delivers broadcasts by this state: it re-reads it.
      void this.store.router?.publish(session.sessionId!, { type: 'state' }).catch((e) => this.#report(e));
      return response;
    } catch (error) {
      return this.#storeError(response, error);
    }
  }

  #storeError(response: JsonRpcResponse, error: unknown): JsonRpcMessage {
    if (error instanceof SessionRecordTooLargeError)
      return errorResponse(response.id, ErrorCode.InvalidParams, `Invalid params: ${error.message}`);
    this.#report(error);
    return errorResponse(
      response.id,
      ErrorCode.InternalError,
      `Session store failed: ${(error as Error).message}`,
    );
  }

  /** DELETE: the record goes, every process's replica ends, and the session's events are dropped. */
  async end(session: HttpSession): Promise<void> {
    const id = session.sessionId!;
    await this.store.delete(id);
    await this.store.router?.publish(id, { type: 'deleted' }).catch((e) => this.#report(e));
    session.keepEventsOnClose = false;
    await session.connection?.close();
  }

  /** Listens on a replica's channel. */
  subscribe(session: SharedHttpSession): Promise<(() => Promise<void>) | undefined> {
    const router = this.store.router;
    if (!router) return Promise.resolve(undefined);
    return router.subscribe(session.sessionId!, (s) => session.signal(s));
  }

  /** A client's response to another replica's request: published for it (lost if nobody awaits it). */
  forward(session: SharedHttpSession, message: JsonRpcResponse): void {
    this.store.router
      ?.publish(session.sessionId!, { type: 'response', message })
      .catch((e: unknown) => this.#report(e));
  }

  /** A cancellation of a request not running here: published for the process running it (best effort). */
  cancel(session: SharedHttpSession, requestId: string | number, reason: string | undefined): void {
    const signal: SessionSignal =
      reason === undefined ? { type: 'cancel', requestId } : { type: 'cancel', requestId, reason };
    this.store.router?.publish(session.sessionId!, signal).catch((e: unknown) => this.#report(e));
  }

  /**
   * A message for the GET stream of a session whose stream this process does not hold: appended to
   * the stream in the event store (in order, per session), then the holder is woken.
   */
  append(session: SharedHttpSession, message: JsonRpcMessage): void {
    const events = this.#events;
    if (!events) return;
    const id = session.sessionId!;
    this.#inOrder(id, async () => {
      await events.storeEvent(id, standaloneStreamId(id), message);
      await this.store.router?.publish(id, { type: 'wake' });
    });
  }

  /** Whether the event store stores a broadcast once per session (`EventStore.storeEventOnce`). */
  get storesBroadcastsOnce(): boolean {
    return typeof this.#events?.storeEventOnce === 'function';
  }

  /**
   * A broadcast (`broadcastId`) for the session's GET stream, heard by this replica and maybe by
   * others: stored once (in order with this process's other appends), then the holder is woken.
   * Dropped when the session never opened a GET stream.
   */
  appendOnce(session: SharedHttpSession, message: JsonRpcMessage, broadcastId: string): void {
    const events = this.#events;
    if (!events?.storeEventOnce) return;
    const id = session.sessionId!;
    this.#inOrder(id, async () => {
      const eid = await events.storeEventOnce!(id, standaloneStreamId(id), message, broadcastId);
      if (eid === undefined) return;
      const held = session.standalone;
      if (held instanceof SharedStandaloneStream && !held.ended) held.wake();
      else await this.store.router?.publish(id, { type: 'wake' });
    });
  }

  /** Runs `task` after the earlier ones of session `id` (a failure is reported, not thrown). */
  #inOrder(id: string, task: () => Promise<void>): void {
    const previous = this.#appending.get(id) ?? Promise.resolve();
    const next = previous.then(task).catch((e: unknown) => this.#report(e));
    this.#appending.set(id, next);
    void next.then(() => {
      if (this.#appending.get(id) === next) this.#appending.delete(id);
    });
  }

  /**
   * Opens the GET stream on this process: a new one (primed), or the continuation of the session's
   * GET stream after `lastEventId` (the client has everything up to it). The process that held it
   * before stops delivering broadcasts.
   */
  async openStandalone(
    session: SharedHttpSession,
    writer: StreamWriter,
    lastEventId?: string,
  ): Promise<void> {
    const id = session.sessionId!;
    const events = this.#events!;
    const old = session.standalone;
    let stream: SharedStandaloneStream;
    if (old instanceof SharedStandaloneStream && !old.ended && lastEventId !== undefined) {
      stream = old;
      stream.resume(writer, lastEventId);
    } else {
      old?.end();
      stream = new SharedStandaloneStream(
        standaloneStreamId(id),
        writer,
        { store: events, sessionId: id },
        this.#hc.limits.keepAliveIntervalMs,
        lastEventId,
      );
      this.#hc.streams.track(stream);
      session.standalone = stream;
      if (lastEventId === undefined) stream.prime(this.#hc.limits.sseRetryMs);
    }
    await session.listen();
    // What was appended while nobody listened here.
    stream.wake();
    await this.store.router?.publish(id, { type: 'takeover', by: session.tag }).catch((e) => this.#report(e));
  }
}
