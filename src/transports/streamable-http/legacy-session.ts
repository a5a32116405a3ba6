/**
 * A legacy (2025-11-25 and older) Streamable HTTP session: the {@link Transport} a
 * `ServedConnection` runs on, fed by POSTs and answering on their responses, the GET stream, and
 * resumed streams (basic/transports "Session Management", "Resumability and Redelivery").
 * Request ids are remapped per POST, so two POSTs that reuse an id never receive each other's answer.
 * @module
 */
import type { JsonRpcId, JsonRpcMessage, JsonRpcRequest } from '../../jsonrpc/types.js';
import type { EventStore } from '../../protocol/event-store.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import type { ServedConnection } from '../../server/servable.js';
import type { PostSink } from './post-sink.js';
import type { SseStream, StreamScope } from './sse-stream.js';

interface Inflight {
  original: JsonRpcId;
  sink: PostSink;
}

/** The server side of one legacy HTTP session. */
export class HttpSession implements Transport {
  readonly binding = 'http';
  readonly sessionId: string | undefined;
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  /** The connection running on this session (set by the handler). */
  connection: ServedConnection | undefined;
  /** Last activity, ms since the epoch. */
  lastSeen = Date.now();
  /** Open streams by id, for `Last-Event-ID` resumption. */
  readonly streams = new Map<string, SseStream>();
  /** The standalone GET stream, if open. */
  standalone: SseStream | undefined;
  readonly store: EventStore | undefined;
  /** Where this session's resumable streams store their events (none for a stateless exchange). */
  readonly scope: StreamScope | undefined;
  #retentionMs: number;
  #retention = new Set<ReturnType<typeof setTimeout>>();
  #inflight = new Map<number, Inflight>();
  #byOriginal = new Map<JsonRpcId, number>();
  #seq = 0;
  #closed = false;

  /** The principal the session is bound to (`principalOf` its opener's `AuthInfo`; `''` anonymous). */
  readonly principal: string;
  /**
   * Keep the session's stored events when it closes (a replica of a session other processes
   * still serve); false (default): they go with it.
   */
  keepEventsOnClose = false;

  constructor(sessionId: string | undefined, store: EventStore | undefined, retentionMs = 0, principal = '') {
    this.sessionId = sessionId;
    this.principal = principal;
    this.store = store;
    this.scope = store && sessionId !== undefined ? { store, sessionId } : undefined;
    this.#retentionMs = retentionMs;
  }

  /**
   * Forgets a stream's stored events once its response was delivered, after the resumption grace
   * (`eventRetentionMs`).
   */
  retireStream(streamId: string): void {
    const scope = this.scope;
    if (!scope || this.#closed) return;
    const drop = () => void scope.store.deleteStream(scope.sessionId, streamId).catch(() => {});
    if (this.#retentionMs <= 0) return drop();
    const timer = setTimeout(() => {
      this.#retention.delete(timer);
      drop();
    }, this.#retentionMs);
    (timer as { unref?: () => void }).unref?.();
    this.#retention.add(timer);
  }

  async start(): Promise<void> {}

  /** Feeds a POSTed message or batch; requests are answered through `sink`. */
  deliver(
    message: JsonRpcMessage | JsonRpcMessage[],
    context: MessageContext,
    sink: PostSink | undefined,
  ): void {
    this.lastSeen = Date.now();
    const cancelled: number[] = [];
    const remap = (m: JsonRpcMessage): JsonRpcMessage => {
      if (!('method' in m) || !('id' in m) || !sink) {
        if ('method' in m && m.method === 'notifications/cancelled') {
          const p = (m.params ?? {}) as { requestId?: JsonRpcId };
          const internal = p.requestId === undefined ? undefined : this.#byOriginal.get(p.requestId);
          if (internal !== undefined) {
            cancelled.push(internal);
            return { ...m, params: { ...p, requestId: internal } };
          }
        }
        return m;
      }
      const internal = ++this.#seq;
      this.#inflight.set(internal, { original: m.id, sink });
      this.#byOriginal.set(m.id, internal);
      return { ...(m as JsonRpcRequest), id: internal };
    };
    const out = Array.isArray(message) ? message.map(remap) : remap(message);
    this.onmessage?.(out, context);
    // A cancelled request gets no response (basic/utilities/cancellation): its stream ends now
    // instead of staying open until the handler gives up.
    for (const internal of cancelled) this.#take(internal)?.sink.abandon();
  }

  async send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (this.#closed) return;
    this.lastSeen = Date.now();
    if (Array.isArray(message)) {
      let sink: PostSink | undefined;
      const restored = message.map((m) => {
        if ('method' in m || m.id === null) return m;
        const e = this.#take(m.id);
        sink ??= e?.sink;
        return e ? { ...m, id: e.original } : m;
      });
      sink?.finish(restored as JsonRpcMessage[]);
      return;
    }
    if (!('method' in message)) {
      if (message.id === null) return;
      const e = this.#take(message.id);
      e?.sink.finish({ ...message, id: e.original } as JsonRpcMessage);
      return;
    }
    const related = options?.relatedRequestId;
    const e = related === undefined ? undefined : this.#inflight.get(related as number);
    if (e && !e.sink.done) {
      e.sink.notify(message);
      return;
    }
    // Not tied to an open request: the GET stream, if the client opened one.
    this.toStandalone(message, options);
  }

  /**
   * Sends a message that belongs to no open request: on the GET stream, if the client opened one.
   * `options.broadcastId` marks a broadcast (a shared session stores it once).
   */
  protected toStandalone(message: JsonRpcMessage, _options?: SendOptions): void {
    this.standalone?.push(message);
  }

  #take(id: JsonRpcId): Inflight | undefined {
    const e = this.#inflight.get(id as number);
    if (!e) return undefined;
    this.#inflight.delete(id as number);
    if (this.#byOriginal.get(e.original) === id) this.#byOriginal.delete(e.original);
    return e;
  }

  /** Ends the session: open streams end, the connection closes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const open = [...this.streams.values()];
    if (this.standalone) open.push(this.standalone);
    for (const s of open) s.end();
    for (const t of this.#retention) clearTimeout(t);
    this.#retention.clear();
    // The session's events go with it, once its streams wrote what they had queued.
    const scope = this.keepEventsOnClose ? undefined : this.scope;
    if (scope)
      void Promise.all(open.map((s) => s.flushed()))
        .then(() => scope.store.deleteSession(scope.sessionId))
        .catch(() => {});
    this.onclose?.();
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }
}
