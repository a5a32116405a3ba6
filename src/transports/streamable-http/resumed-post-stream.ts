/**
 * A POST stream of a shared legacy session resumed (`GET` with `Last-Event-ID`) on a process that
 * does not run its requests: it relays what the running process stores after the client's cursor,
 * woken by the session channel's `wake` or by polling every `resumedStreamPollMs`, and ends once
 * every request of the stream has its response. When the running process is dead (its lease
 * lapsed, see {@link PostStreamRegistry}), each request still unanswered gets a JSON-RPC error
 * (-32603) instead of a response that would never come (2025-11-25 basic/transports "Resumability
 * and Redelivery").
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import type { PostStreamRegistry } from '../../protocol/post-streams.js';
import type { SessionRouter } from '../../protocol/session-store.js';
import { encodeSseEvent } from '../shared/sse.js';
import type { StreamWriter } from './exchange.js';
import { SseStream } from './sse-stream.js';
import type { StreamScope } from './sse-stream.js';

/** The message of the error a request gets when the process running it ended. */
export const OWNER_ENDED_MESSAGE =
  'Internal error: the process running this request ended before it answered (its lease lapsed); the request may or may not have taken effect';

/** What a resumed POST stream needs of the shared session store and the binding. */
export interface ResumedPostStreamOptions {
  registry: PostStreamRegistry;
  router: SessionRouter | undefined;
  /** Interval of the checks for new events, the record and the owner's lease, in ms. */
  pollMs: number;
  keepAliveMs: number;
  /** Where store failures are reported. */
  report: (error: unknown) => void;
}

/** A POST stream relayed from the shared event store. */
export class ResumedPostStream extends SseStream {
  #scope: StreamScope;
  #o: ResumedPostStreamOptions;
  #cursor: string;
  /** Ids of the responses the client has (replayed or relayed). */
  #answered = new Set<string | number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  #queued = false;
  #stopped = false;
  #complete = false;

  /**
   * @param cursor the last event id the client has (after the replay written on `writer`)
   * @param replayed the messages just replayed to the client
   */
  constructor(
    streamId: string,
    writer: StreamWriter,
    scope: StreamScope,
    cursor: string,
    replayed: JsonRpcMessage[],
    options: ResumedPostStreamOptions,
  ) {
    super(streamId, writer, scope, options.keepAliveMs);
    this.#scope = scope;
    this.#o = options;
    this.#cursor = cursor;
    for (const m of replayed) this.#note(m);
  }

  /**
   * True once every request of the stream has its response on it (relayed, or the error written
   * here): its stored events may then be retired like a delivered stream's.
   */
  get complete(): boolean {
    return this.#complete;
  }

  /** Starts relaying: a first check now, then on every `wake` and every `pollMs`. */
  start(): void {
    const { router, pollMs } = this.#o;
    this.#unsubscribe = router
      ?.subscribe(this.#scope.sessionId, (s) => {
        if (s.type === 'wake') this.#check();
      })
      .catch((e: unknown) => {
        this.#o.report(e);
        return undefined;
      });
    this.#timer = setInterval(() => this.#check(), pollMs);
    (this.#timer as { unref?: () => void }).unref?.();
    this.#check();
  }

  #note(m: JsonRpcMessage): void {
    if (!('method' in m) && m.id !== null) this.#answered.add(m.id);
  }

  /** Queues one check (at most one waits at a time). */
  #check(): void {
    if (this.#queued || this.#stopped) return;
    this.#queued = true;
    this.enqueue(async () => {
      this.#queued = false;
      if (!this.#stopped) await this.#step();
    });
  }

  async #step(): Promise<void> {
    if (!this.connected) return this.#finish();
    const { registry } = this.#o;
    const { sessionId } = this.#scope;
    let record;
    let alive = true;
    try {
      // Read before pulling: a response stored before the record went (or the lease lapsed) is pulled.
      record = await registry.getStream(sessionId, this.id);
      if (record) alive = await registry.leaseHeld(record.owner);
    } catch (error) {
      // The store is away: try again at the next check.
      this.#o.report(error);
      return;
    }
    const found = await this.#pull();
    if (found === false) return;
    if (found === undefined) return this.#finish();
    // No record: the stream ended where it ran (its responses stored, then its record deleted), or
    // its process kept none; what was stored was relayed, and nothing more is awaited.
    if (!record) {
      this.#complete = this.#answered.size > 0;
      return this.#finish();
    }
    const pending = record.requestIds.filter((id) => !this.#answered.has(id));
    if (pending.length === 0) {
      this.#complete = true;
      return this.#finish();
    }
    if (alive) return;
    for (const id of pending) {
      const error = errorResponse(id, ErrorCode.InternalError, OWNER_ENDED_MESSAGE);
      // Stored on the stream, so a client that loses this connection too finds the answer anywhere.
      const eid = await this.#scope.store.storeEvent(sessionId, this.id, error).catch(() => undefined);
      this.write(encodeSseEvent(JSON.stringify(error), eid));
      if (eid !== undefined) this.#cursor = eid;
    }
    await registry.deleteStream(sessionId, this.id).catch((e: unknown) => this.#o.report(e));
    this.#complete = true;
    this.#finish();
  }

  /** Writes what follows the cursor. Resolves to the stream id, `undefined` when the cursor is unknown, false on a store failure. */
  async #pull(): Promise<string | undefined | false> {
    try {
      return await this.#scope.store.replayEventsAfter(this.#scope.sessionId, this.#cursor, (eid, m) => {
        this.write(encodeSseEvent(JSON.stringify(m), eid));
        this.#cursor = eid;
        this.#note(m);
      });
    } catch (error) {
      this.#o.report(error);
      return false;
    }
  }

  /** Stops relaying and ends the stream. */
  #finish(): void {
    this.stop();
    this.end();
  }

  /** Stops the checks (the stream ends on its own, or the server closes). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    void this.#unsubscribe?.then((stop) => stop?.()).catch(() => {});
  }
}
