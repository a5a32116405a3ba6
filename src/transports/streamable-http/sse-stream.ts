/**
 * One SSE response stream of the HTTP binding, written in order. With an event store (legacy
 * sessions) every event gets an id, a priming event opens the stream (SEP-1699), and a client that
 * lost the connection resumes it with `Last-Event-ID`; without one (2026-07-28) events have no ids.
 * @module
 */
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import type { EventStore } from '../../protocol/event-store.js';
import { encodeSseEvent, SSE_KEEPALIVE } from '../shared/sse.js';
import type { StreamWriter } from './exchange.js';

/** Headers of every SSE response. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
});

/** Where a resumable stream stores its events: the store and the owning session. */
export interface StreamScope {
  readonly store: EventStore;
  readonly sessionId: string;
}

/** An ordered, optionally resumable SSE stream. */
export class SseStream {
  readonly id: string;
  #writer: StreamWriter | undefined;
  #scope: StreamScope | undefined;
  #chain: Promise<void> = Promise.resolve();
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #keepAliveMs: number;
  #ended = false;
  /**
   * Called once when the stream has written its last event: `delivered` is true when a client
   * connection was attached to receive it (false: queued to the store for a resumption).
   */
  onend?: (delivered: boolean) => void;
  /** Called after each message of this stream was stored in the event store (`push`). */
  onstored?: () => void;

  constructor(id: string, writer: StreamWriter, scope: StreamScope | undefined, keepAliveMs: number) {
    this.id = id;
    this.#scope = scope;
    this.#keepAliveMs = keepAliveMs;
    this.attach(writer);
  }

  /** True once the stream's last event was written (or queued to the store). */
  get ended(): boolean {
    return this.#ended;
  }

  /** True while a client connection is attached. */
  get connected(): boolean {
    return this.#writer !== undefined && !this.#writer.closed;
  }

  /** Attaches a (new) client connection; later events go to it. */
  attach(writer: StreamWriter): void {
    this.#writer = writer;
    writer.onclose = () => {
      if (this.#writer === writer) this.#detach();
    };
    if (this.#keepAliveMs > 0 && !this.#keepAlive) {
      this.#keepAlive = setInterval(() => this.#writer?.write(SSE_KEEPALIVE), this.#keepAliveMs);
      (this.#keepAlive as { unref?: () => void }).unref?.();
    }
  }

  /** Writes the priming event: an id and empty data, with the reconnection delay. */
  prime(retryMs: number | undefined): void {
    const scope = this.#scope;
    if (!scope) return;
    this.#enqueue(async () => {
      const eid = await scope.store.storeEvent(scope.sessionId, this.id, null).catch(() => undefined);
      if (eid !== undefined) this.#writer?.write(encodeSseEvent('', eid, undefined, retryMs));
    });
  }

  /** Queues one message. */
  push(message: JsonRpcMessage | JsonRpcMessage[]): void {
    const scope = this.#scope;
    const data = JSON.stringify(message);
    if (!scope || Array.isArray(message)) {
      this.#enqueue(() => {
        this.#writer?.write(encodeSseEvent(data));
      });
      return;
    }
    this.#enqueue(async () => {
      // A store that fails loses resumability of this event, never the event itself.
      const eid = await scope.store.storeEvent(scope.sessionId, this.id, message).catch(() => undefined);
      this.#writer?.write(encodeSseEvent(data, eid));
      if (eid !== undefined) this.onstored?.();
    });
  }

  /**
   * Holds what is queued after this call until `ready` settles (what must be recorded before the
   * client learns the stream's first event id).
   */
  hold(ready: Promise<unknown>): void {
    this.#enqueue(() =>
      ready.then(
        () => {},
        () => {},
      ),
    );
  }

  /** Ends the stream after everything queued. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#enqueue(() => {
      const delivered = this.#writer !== undefined && !this.#writer.closed;
      this.#writer?.end();
      this.#detach();
      this.onend?.(delivered);
    });
  }

  /** Closes the client connection now without ending the stream (the client may resume it). */
  disconnect(): void {
    this.#enqueue(() => {
      this.#writer?.end();
      this.#detach();
    });
  }

  /** Resolves after everything queued so far was written. */
  flushed(): Promise<void> {
    return this.#chain;
  }

  /** Writes raw SSE text to the attached connection, if any (for subclasses, inside {@link enqueue}). */
  protected write(text: string): void {
    this.#writer?.write(text);
  }

  /** Runs `step` after everything queued so far (subclasses keep the stream's order with it). */
  protected enqueue(step: () => void | Promise<void>): void {
    this.#enqueue(step);
  }

  #detach(): void {
    this.#writer = undefined;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  #enqueue(step: () => void | Promise<void>): void {
    this.#chain = this.#chain.then(step).catch(() => {});
  }
}
