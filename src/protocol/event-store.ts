/**
 * The legacy SSE event store (2025-11-25 basic/transports "Resumability and Redelivery"): what the
 * Streamable HTTP binding writes on the resumable SSE streams of a legacy session, so a client that
 * lost the connection resumes with `Last-Event-ID`. Scoped to a session: an event id is only ever
 * honoured for the session that owns it.
 * @module
 */
import type { JsonRpcMessage } from '../jsonrpc/types.js';
import { randomHex } from './random-hex.js';

/**
 * Stores the messages of the legacy SSE streams of each session, for `Last-Event-ID` resumption.
 *
 * The contract every implementation keeps (the contract suite in `test/contracts/` checks it):
 * - **Unguessable, session-bound ids.** `storeEvent` returns an event id carrying at least 128
 *   random bits, unique across every session and stream of the store. `replayEventsAfter` honours
 *   an id only for the session that stored it: an id of another session, of a deleted session or
 *   stream, or of none is answered exactly like an unknown id (`undefined`, nothing sent).
 * - **Ordering.** The binding awaits each `storeEvent` of a stream before the next, so a stream's
 *   events are stored in send order. `replayEventsAfter` sends the events stored on the same stream
 *   after `lastEventId`, in that order, awaiting each `send`. Priming events (`message` `null`) get
 *   an id but are never sent.
 * - **Retention.** `deleteStream` drops a stream's events (the binding calls it once the stream's
 *   response was delivered and the resumption grace `eventRetentionMs` passed); `deleteSession`
 *   drops every stream of a session (the binding calls it when the session ends). Both are
 *   idempotent. An implementation may drop events earlier to keep its bounds (oldest stream first);
 *   resumption after such a drop is answered like an unknown id. A store shared between processes
 *   should also expire keys by TTL (at least the session idle timeout), so a process that dies
 *   leaves nothing behind.
 * - **Errors.** A rejection propagates to the binding: a failed `storeEvent` writes the event without
 *   an id (it cannot be resumed), a failed `replayEventsAfter` answers the GET with 500 (JSON-RPC
 *   -32603); failed deletions are ignored (TTL cleans up).
 */
export interface EventStore {
  /**
   * Stores `message` as the next event of `streamId` in `sessionId`, and resolves to its new event
   * id. `null` records a priming event (an id with empty data, SEP-1699).
   */
  storeEvent(sessionId: string, streamId: string, message: JsonRpcMessage | null): Promise<string>;
  /**
   * Sends, through `send`, the messages stored after `lastEventId` on its stream, in order.
   * Resolves to that stream's id, or `undefined` when `lastEventId` is unknown or not `sessionId`'s.
   */
  replayEventsAfter(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JsonRpcMessage) => Promise<void> | void,
  ): Promise<string | undefined>;
  /**
   * Appends `message` to a stream that exists already (it holds an event), once per `key`: several
   * processes hearing the same broadcast for a session they share store it once. Resolves to the
   * new event id, or `undefined` when an event was stored under `key` on this session within the
   * store's once-window (by any process), or when the stream does not exist (never opened, expired
   * or deleted: the broadcast has no GET stream to go to). Optional: without it, only the process
   * holding a session's GET stream stores its broadcasts.
   * @throws as `storeEvent`
   */
  storeEventOnce?(
    sessionId: string,
    streamId: string,
    message: JsonRpcMessage,
    key: string,
  ): Promise<string | undefined>;
  /** Drops the events of one stream of `sessionId` (its response was delivered). Idempotent. */
  deleteStream(sessionId: string, streamId: string): Promise<void>;
  /** Drops every event of `sessionId` (the session ended). Idempotent. */
  deleteSession(sessionId: string): Promise<void>;
}

/** Default of {@link InMemoryEventStoreOptions.maxEventStoreBytes}: 64 MiB. */
export const DEFAULT_MAX_EVENT_STORE_BYTES = 64 * 1024 * 1024;
/** Default of {@link InMemoryEventStoreOptions.onceWindowMs} (and the Redis store's): 60 s. */
export const DEFAULT_ONCE_WINDOW_MS = 60_000;
/** Default of {@link InMemoryEventStoreOptions.maxEventsPerStream}. */
export const DEFAULT_MAX_EVENTS_PER_STREAM = 1000;
/** Default of {@link InMemoryEventStoreOptions.maxStreams}. */
export const DEFAULT_MAX_EVENT_STREAMS = 10_000;

/** Options of {@link InMemoryEventStore}. */
export interface InMemoryEventStoreOptions {
  /** Events kept per stream; older ones are dropped. Default 1000. */
  maxEventsPerStream?: number;
  /** Streams kept; the least recently written is dropped first. Default 10 000. */
  maxStreams?: number;
  /**
   * Total size of the stored events, in bytes of their JSON text (counted as UTF-16 code units,
   * equal to bytes for ASCII); beyond it the least recently written streams are dropped, then the
   * oldest events of the current one. Default 64 MiB.
   */
  maxEventStoreBytes?: number;
  /**
   * How long `storeEventOnce` remembers a key, in ms: a broadcast heard again within it (from
   * another replica of the session) is not stored twice. Default 60 000.
   */
  onceWindowMs?: number;
}

interface StoredEvent {
  seq: number;
  /** JSON text of the message; `undefined` for a priming event. */
  data: string | undefined;
}

interface StoredStream {
  key: string;
  sessionId: string;
  streamId: string;
  seq: number;
  bytes: number;
  events: StoredEvent[];
}

const ID_BYTES = 16; // 128 random bits per stream key

function positiveInteger(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new RangeError(`InMemoryEventStore: ${name} must be an integer >= 1 (got ${v})`);
  return v;
}

/**
 * A bounded in-memory {@link EventStore}. Event ids are `<stream key>.<sequence>`, the stream key
 * 128 random bits in hex, drawn per stream and bound to its session.
 * @throws RangeError when a numeric option is not an integer >= 1
 */
export class InMemoryEventStore implements EventStore {
  /** Streams by key, least recently written first. */
  #byKey = new Map<string, StoredStream>();
  /** Stream keys by session, then by stream id. */
  #bySession = new Map<string, Map<string, string>>();
  #bytes = 0;
  #maxEvents: number;
  #maxStreams: number;
  #maxBytes: number;
  #onceWindowMs: number;
  /** `storeEventOnce` keys (`<session>\n<key>`) by the time they are forgotten, oldest first. */
  #once = new Map<string, number>();

  constructor(options: InMemoryEventStoreOptions = {}) {
    this.#onceWindowMs = positiveInteger('onceWindowMs', options.onceWindowMs, DEFAULT_ONCE_WINDOW_MS);
    this.#maxEvents = positiveInteger(
      'maxEventsPerStream',
      options.maxEventsPerStream,
      DEFAULT_MAX_EVENTS_PER_STREAM,
    );
    this.#maxStreams = positiveInteger('maxStreams', options.maxStreams, DEFAULT_MAX_EVENT_STREAMS);
    this.#maxBytes = positiveInteger(
      'maxEventStoreBytes',
      options.maxEventStoreBytes,
      DEFAULT_MAX_EVENT_STORE_BYTES,
    );
  }

  /** Bytes of event data held right now (JSON text length). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Streams held right now. */
  get streamCount(): number {
    return this.#byKey.size;
  }

  async storeEvent(sessionId: string, streamId: string, message: JsonRpcMessage | null): Promise<string> {
    let streams = this.#bySession.get(sessionId);
    const key = streams?.get(streamId);
    let s = key === undefined ? undefined : this.#byKey.get(key);
    if (s) this.#byKey.delete(s.key);
    else {
      s = { key: randomHex(ID_BYTES), sessionId, streamId, seq: 0, bytes: 0, events: [] };
      if (!streams) this.#bySession.set(sessionId, (streams = new Map()));
      streams.set(streamId, s.key);
    }
    this.#byKey.set(s.key, s); // most recently written last
    const data = message === null ? undefined : JSON.stringify(message);
    const seq = ++s.seq;
    s.events.push({ seq, data });
    const size = data?.length ?? 0;
    s.bytes += size;
    this.#bytes += size;
    if (s.events.length > this.#maxEvents) this.#shift(s);
    this.#evict(s);
    return `${s.key}.${seq}`;
  }

  async storeEventOnce(
    sessionId: string,
    streamId: string,
    message: JsonRpcMessage,
    key: string,
  ): Promise<string | undefined> {
    if (this.#bySession.get(sessionId)?.get(streamId) === undefined) return undefined;
    const now = Date.now();
    for (const [k, until] of this.#once) {
      if (until > now) break;
      this.#once.delete(k);
    }
    const k = `${sessionId}\n${key}`;
    if (this.#once.has(k)) return undefined;
    this.#once.set(k, now + this.#onceWindowMs);
    return this.storeEvent(sessionId, streamId, message);
  }

  async replayEventsAfter(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JsonRpcMessage) => Promise<void> | void,
  ): Promise<string | undefined> {
    const cut = lastEventId.indexOf('.');
    if (cut <= 0) return undefined;
    const s = this.#byKey.get(lastEventId.slice(0, cut));
    const seqText = lastEventId.slice(cut + 1);
    const after = /^[0-9]{1,15}$/.test(seqText) ? Number(seqText) : NaN;
    if (!s || s.sessionId !== sessionId || !Number.isSafeInteger(after)) return undefined;
    for (const e of [...s.events])
      if (e.seq > after && e.data !== undefined)
        await send(`${s.key}.${e.seq}`, JSON.parse(e.data) as JsonRpcMessage);
    return s.streamId;
  }

  async deleteStream(sessionId: string, streamId: string): Promise<void> {
    const key = this.#bySession.get(sessionId)?.get(streamId);
    const s = key === undefined ? undefined : this.#byKey.get(key);
    if (s) this.#drop(s);
  }

  async deleteSession(sessionId: string): Promise<void> {
    const streams = this.#bySession.get(sessionId);
    if (!streams) return;
    for (const key of [...streams.values()]) {
      const s = this.#byKey.get(key);
      if (s) this.#drop(s);
    }
    this.#bySession.delete(sessionId);
  }

  #shift(s: StoredStream): void {
    const e = s.events.shift();
    const size = e?.data?.length ?? 0;
    s.bytes -= size;
    this.#bytes -= size;
  }

  #drop(s: StoredStream): void {
    this.#byKey.delete(s.key);
    this.#bytes -= s.bytes;
    const streams = this.#bySession.get(s.sessionId);
    streams?.delete(s.streamId);
    if (streams?.size === 0) this.#bySession.delete(s.sessionId);
  }

  /** Keeps the bounds: least recently written streams go first, then the oldest events of `current`. */
  #evict(current: StoredStream): void {
    while (this.#byKey.size > this.#maxStreams || this.#bytes > this.#maxBytes) {
      const oldest = this.#byKey.values().next().value as StoredStream;
      if (oldest !== current) this.#drop(oldest);
      else if (current.events.length > 1) this.#shift(current);
      else break;
    }
  }
}
