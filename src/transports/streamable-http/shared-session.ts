/**
 * One process's replica of a legacy session that several processes serve (a {@link SessionStore}
 * is configured). It is an {@link HttpSession} that also: writes the record once `initialize`
 * succeeded and after every state change (`logging/setLevel`, `resources/subscribe`); gives its
 * server-to-client requests ids no other replica uses (`<replica tag>.<n>`), so a client's
 * response POSTed to any process finds its way back over the session's channel; sends what belongs
 * to no open request through the shared event store to the process holding the GET stream.
 * @module
 */
import type { JsonRpcId, JsonRpcMessage, JsonRpcResponse } from '../../jsonrpc/types.js';
import type { EventStore } from '../../protocol/event-store.js';
import type { SessionSignal } from '../../protocol/session-store.js';
import type { MessageContext, SendOptions } from '../../protocol/transport.js';
import type { JsonObject } from '../../protocol/types.js';
import { HttpSession } from './legacy-session.js';
import type { PostSink } from './post-sink.js';
import { SharedStandaloneStream } from './shared-stream.js';
import { randomHex } from '../../protocol/random-hex.js';

/**
 * What a replica asks of the sessions it belongs to (implemented by `SharedSessions`; declared
 * here so the two files do not import each other).
 */
export interface SharedSessionsPort {
  forward(session: SharedHttpSession, message: JsonRpcResponse): void;
  initialized(
    session: SharedHttpSession,
    response: JsonRpcResponse,
  ): Promise<{ response: JsonRpcMessage; failed: boolean }>;
  stateChanged(session: SharedHttpSession, response: JsonRpcResponse): Promise<JsonRpcMessage>;
  append(session: SharedHttpSession, message: JsonRpcMessage): void;
  /** True when broadcasts can be stored once per session by every replica (see `appendOnce`). */
  readonly storesBroadcastsOnce: boolean;
  appendOnce(session: SharedHttpSession, message: JsonRpcMessage, broadcastId: string): void;
  subscribe(session: SharedHttpSession): Promise<(() => Promise<void>) | undefined>;
  refresh(session: SharedHttpSession): Promise<void>;
  cancel(session: SharedHttpSession, requestId: string | number, reason: string | undefined): void;
}

/** Requests whose success changes the stored record. */
const STATEFUL: ReadonlySet<string> = new Set([
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/** `<12 hex>.<n>`: the id of a server-to-client request sent by some replica. */
const TAGGED = /^([0-9a-f]{12})\.([0-9]{1,15})$/;

/** A request running this long listens for a cancellation POSTed to another process, in ms. */
const CANCEL_LISTEN_AFTER_MS = 200;

/** A replica of a shared legacy session in this process. */
export class SharedHttpSession extends HttpSession {
  /** This replica's tag: the prefix of its server-to-client request ids, and its name on the channel. */
  readonly tag = randomHex(6);
  /** True once the session's record is in the store (after `initialize`, or rebuilt from it). */
  stored = false;
  #shared: SharedSessionsPort;
  #pendingInit = new Set<number>();
  #pendingState = new Set<number>();
  /** Wire ids of this replica's server-to-client requests awaiting the client's answer. */
  #outbound = new Set<string>();
  /** Client ids of the requests running here, by internal id (a cancellation for another id is forwarded). */
  #running = new Map<number, JsonRpcId>();
  #runningIds = new Map<JsonRpcId, number>();
  /** Client ids of the requests being handed to the server, in order (paired with internal ids by `hook`). */
  #arriving: JsonRpcId[] = [];
  #channel: Promise<(() => Promise<void>) | undefined> | undefined;

  constructor(
    sessionId: string,
    store: EventStore | undefined,
    retentionMs: number,
    principal: string,
    shared: SharedSessionsPort,
  ) {
    super(sessionId, store, retentionMs, principal);
    this.#shared = shared;
    // Closing a replica (idle, shutdown, death) leaves the session to the other processes.
    this.keepEventsOnClose = true;
  }

  /**
   * Whether this replica delivers the session's broadcasts: every initialized replica does when the
   * event store stores a broadcast once per session (so one survives the death of the process
   * holding the GET stream, and none is stored twice across a handover); else the one holding it.
   */
  hearsBroadcasts(): boolean {
    return (this.stored && this.#shared.storesBroadcastsOnce) || this.#holdsStream();
  }

  /** Whether this replica holds the session's GET stream. */
  #holdsStream(): boolean {
    const s = this.standalone;
    return s !== undefined && !s.ended;
  }

  /** Server-to-client requests of this replica still awaiting an answer. */
  get pendingOutbound(): number {
    return this.#outbound.size;
  }

  /** True while this replica listens on the session's channel. */
  get listening(): boolean {
    return this.#channel !== undefined;
  }

  /** Watches the requests the server is handed (call once connected). */
  hook(): void {
    const inner = this.onmessage;
    this.onmessage = (message, context) => {
      for (const m of Array.isArray(message) ? message : [message]) {
        if (!('method' in m) || !('id' in m) || typeof m.id !== 'number') continue;
        const original = this.#arriving.shift();
        if (original !== undefined) this.#run(m.id, original);
        if (m.method === 'initialize') this.#pendingInit.add(m.id);
        else if (STATEFUL.has(m.method)) this.#pendingState.add(m.id);
      }
      inner?.(message, context);
    };
  }

  override deliver(
    message: JsonRpcMessage | JsonRpcMessage[],
    context: MessageContext,
    sink: PostSink | undefined,
  ): void {
    const list = Array.isArray(message) ? message : [message];
    const rest = list.filter((m) => !this.#route(m, context));
    if (rest.length === 0) return;
    if (sink) for (const m of rest) if ('method' in m && 'id' in m) this.#arriving.push(m.id);
    super.deliver(Array.isArray(message) ? rest : rest[0]!, context, sink);
    this.#arriving.length = 0;
  }

  /** A request runs here: after `CANCEL_LISTEN_AFTER_MS`, a cancellation POSTed elsewhere can reach it. */
  #run(internal: number, original: JsonRpcId): void {
    this.#running.set(internal, original);
    this.#runningIds.set(original, internal);
    const timer = setTimeout(() => {
      if (this.#running.has(internal) && !this.closed) void this.listen();
    }, CANCEL_LISTEN_AFTER_MS);
    (timer as { unref?: () => void }).unref?.();
  }

  #ran(internal: number): void {
    const original = this.#running.get(internal);
    if (original === undefined) return;
    this.#running.delete(internal);
    if (this.#runningIds.get(original) === internal) this.#runningIds.delete(original);
    this.sync();
  }

  /**
   * Handles a client's response to a server-to-client request, and a cancellation of a request
   * running on another process (forwarded there); false for anything else.
   */
  #route(m: JsonRpcMessage, context: MessageContext): boolean {
    if ('method' in m && m.method === 'notifications/cancelled' && !('id' in m)) {
      const p = (m.params ?? {}) as { requestId?: JsonRpcId; reason?: unknown };
      if (p.requestId === undefined || p.requestId === null) return false;
      const internal = this.#runningIds.get(p.requestId);
      if (internal !== undefined) {
        this.#ran(internal);
        return false;
      }
      this.#shared.cancel(this, p.requestId, typeof p.reason === 'string' ? p.reason : undefined);
      return true;
    }
    if ('method' in m || typeof m.id !== 'string') return false;
    const match = TAGGED.exec(m.id);
    if (!match) return false;
    if (match[1] === this.tag) this.#answer(m, Number(match[2]), context);
    // Another replica's request: to the process that sent it (dropped when nobody awaits it).
    else this.#shared.forward(this, m);
    return true;
  }

  #answer(m: JsonRpcResponse, local: number, context: MessageContext): void {
    if (!this.#outbound.delete(m.id as string)) return;
    super.deliver({ ...m, id: local } as JsonRpcMessage, context, undefined);
    this.sync();
  }

  override async send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (this.closed || Array.isArray(message)) return super.send(message, options);
    if ('method' in message) {
      if ('id' in message && typeof message.id === 'number') {
        const wire = `${this.tag}.${message.id}`;
        this.#outbound.add(wire);
        // Listening before the request leaves: its answer may be POSTed to another process at once.
        await this.listen();
        return super.send({ ...message, id: wire }, options);
      }
      const params = message.params as JsonObject | undefined;
      if (message.method === 'notifications/cancelled' && typeof params?.requestId === 'number') {
        const wire = `${this.tag}.${params.requestId}`;
        if (this.#outbound.delete(wire)) {
          this.sync();
          return super.send({ ...message, params: { ...params, requestId: wire } }, options);
        }
      }
      return super.send(message, options);
    }
    const id = message.id as JsonRpcId;
    if (typeof id === 'number') this.#ran(id);
    if (typeof id === 'number' && this.#pendingInit.delete(id)) {
      const { response, failed } = await this.#shared.initialized(this, message);
      await super.send(response, options);
      if (failed) {
        this.keepEventsOnClose = false;
        await this.connection?.close();
      }
      return;
    }
    if (typeof id === 'number' && this.#pendingState.delete(id))
      return super.send(await this.#shared.stateChanged(this, message), options);
    return super.send(message, options);
  }

  /**
   * A broadcast: stored once for the session, whichever replica hears it first. Anything else, held
   * here: on the GET stream; else appended to the store for the process holding it.
   */
  protected override toStandalone(message: JsonRpcMessage, options?: SendOptions): void {
    if (options?.broadcastId !== undefined && this.#shared.storesBroadcastsOnce) {
      this.#shared.appendOnce(this, message, options.broadcastId);
      return;
    }
    const s = this.standalone;
    if (s && !s.ended) s.push(message);
    else this.#shared.append(this, message);
  }

  /** Starts listening on the session's channel (idempotent); resolves once listening. */
  async listen(): Promise<void> {
    if (!this.#channel) {
      const channel = this.#shared.subscribe(this).catch(() => undefined);
      this.#channel = channel;
      // A failed subscription (the router is down) is tried again by the next caller.
      void channel.then((stop) => {
        if (!stop && this.#channel === channel) this.#channel = undefined;
      });
    }
    await this.#channel;
  }

  /** Stops listening once nothing here needs the channel (no GET stream, no request awaiting an answer). */
  sync(): void {
    if (this.#channel === undefined || this.#holdsStream() || this.#outbound.size > 0) return;
    if (this.#running.size > 0) return;
    const channel = this.#channel;
    this.#channel = undefined;
    void channel.then((stop) => stop?.()).catch(() => {});
  }

  /** A signal from the session's channel. */
  signal(s: SessionSignal): void {
    switch (s.type) {
      case 'response': {
        const m = s.message;
        if ('method' in m || typeof m.id !== 'string') return;
        const match = TAGGED.exec(m.id);
        if (match?.[1] === this.tag)
          this.#answer(m, Number(match[2]), { binding: 'http', sessionId: this.sessionId });
        return;
      }
      case 'cancel': {
        const internal = this.#runningIds.get(s.requestId);
        if (internal === undefined) return;
        const params: JsonObject = { requestId: s.requestId };
        if (s.reason !== undefined) params.reason = s.reason;
        this.#ran(internal);
        super.deliver(
          { jsonrpc: '2.0', method: 'notifications/cancelled', params },
          { binding: 'http', sessionId: this.sessionId },
          undefined,
        );
        return;
      }
      case 'wake':
        if (this.standalone instanceof SharedStandaloneStream) this.standalone.wake();
        return;
      case 'state':
        void this.#shared.refresh(this);
        return;
      case 'deleted':
        void this.connection?.close();
        return;
      case 'takeover':
        // Another process holds the GET stream now: its broadcasts are delivered there.
        if (s.by !== this.tag && this.standalone) {
          this.standalone.end();
          this.sync();
        }
        return;
    }
  }

  override async close(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    void channel?.then((stop) => stop?.()).catch(() => {});
    await super.close();
  }
}
