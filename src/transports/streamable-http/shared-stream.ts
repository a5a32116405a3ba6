/**
 * The GET stream of a legacy session shared between processes: every message for it is appended
 * to the shared event store first, by whichever process produced it, and the process holding the
 * client's connection writes what follows its cursor, in store order. A client that lost the
 * connection (or the process) resumes with `Last-Event-ID` anywhere, losing and duplicating nothing
 * (2025-11-25 basic/transports "Resumability and Redelivery").
 * @module
 */
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { encodeSseEvent } from '../shared/sse.js';
import type { StreamWriter } from './exchange.js';
import { SseStream } from './sse-stream.js';
import type { StreamScope } from './sse-stream.js';

/** The id of a session's GET stream in the event store (the same on every process). */
export function standaloneStreamId(sessionId: string): string {
  return `${sessionId.replaceAll('-', '')}g`;
}

/** A GET stream fed from the shared event store. */
export class SharedStandaloneStream extends SseStream {
  #scope: StreamScope;
  /** The id of the last event written to the client (the stream's cursor in the store). */
  #last: string | undefined;

  /**
   * @param last the event the client already has (a resumption); unset: `prime()` sets it
   */
  constructor(id: string, writer: StreamWriter, scope: StreamScope, keepAliveMs: number, last?: string) {
    super(id, writer, scope, keepAliveMs);
    this.#scope = scope;
    this.#last = last;
  }

  /** The last event id written to the client. */
  get cursor(): string | undefined {
    return this.#last;
  }

  /** Writes the priming event; what is appended after it is this stream's. */
  override prime(retryMs: number | undefined): void {
    const scope = this.#scope;
    this.enqueue(async () => {
      const eid = await scope.store.storeEvent(scope.sessionId, this.id, null).catch(() => undefined);
      if (eid === undefined) return;
      this.write(encodeSseEvent('', eid, undefined, retryMs));
      this.#last = eid;
    });
  }

  /** Appends a message to the stream in the store, then writes everything after the cursor. */
  override push(message: JsonRpcMessage | JsonRpcMessage[]): void {
    if (Array.isArray(message)) return super.push(message);
    const scope = this.#scope;
    this.enqueue(async () => {
      const eid = await scope.store.storeEvent(scope.sessionId, this.id, message).catch(() => undefined);
      // A store that fails loses resumability of this event, never the event itself.
      if (eid === undefined) this.write(encodeSseEvent(JSON.stringify(message)));
      else await this.#pull();
    });
  }

  /** Another process appended events: writes what follows the cursor. */
  wake(): void {
    this.enqueue(() => this.#pull());
  }

  /** Continues on a new client connection that already has everything up to `lastEventId`. */
  resume(writer: StreamWriter, lastEventId: string): void {
    this.enqueue(() => {
      this.attach(writer);
      this.#last = lastEventId;
    });
    this.wake();
  }

  async #pull(): Promise<void> {
    const after = this.#last;
    // Nothing is written while no client is attached: the cursor stays where the client is.
    if (after === undefined || !this.connected) return;
    const scope = this.#scope;
    const found = await scope.store
      .replayEventsAfter(scope.sessionId, after, (eid, m) => {
        this.write(encodeSseEvent(JSON.stringify(m), eid));
        this.#last = eid;
      })
      .catch(() => null);
    // The cursor is gone from the store (expired or trimmed): end; the client opens a new stream.
    if (found === undefined) this.end();
  }
}
