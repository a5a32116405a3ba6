/**
 * serveHttp's default legacy event store: the served server's `stores.eventStore`, else a bounded
 * in-memory store, chosen at the first use (stores may be switched with `useStores` after the
 * handler was built, until the server serves).
 * @module
 */
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import type { EventStore } from '../../protocol/event-store.js';
import { InMemoryEventStore } from '../../protocol/event-store.js';
import type { Servable } from '../../server/servable.js';

/** An {@link EventStore} that delegates to the server's `stores.eventStore` or an in-memory one. */
export class DefaultEventStore implements EventStore {
  #server: Servable;
  #maxBytes: number;
  #store: EventStore | undefined;

  constructor(server: Servable, maxEventStoreBytes: number) {
    this.#server = server;
    this.#maxBytes = maxEventStoreBytes;
  }

  /** The store in use (fixed at the first read). */
  get store(): EventStore {
    return (this.#store ??=
      this.#server.stores?.eventStore ?? new InMemoryEventStore({ maxEventStoreBytes: this.#maxBytes }));
  }

  storeEvent(sessionId: string, streamId: string, message: JsonRpcMessage | null): Promise<string> {
    return this.store.storeEvent(sessionId, streamId, message);
  }

  /** The store's `storeEventOnce`, when it has one (else `undefined`: broadcasts are not shared). */
  get storeEventOnce(): EventStore['storeEventOnce'] {
    const store = this.store;
    return store.storeEventOnce?.bind(store);
  }

  replayEventsAfter(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JsonRpcMessage) => Promise<void> | void,
  ): Promise<string | undefined> {
    return this.store.replayEventsAfter(sessionId, lastEventId, send);
  }

  deleteStream(sessionId: string, streamId: string): Promise<void> {
    return this.store.deleteStream(sessionId, streamId);
  }

  deleteSession(sessionId: string): Promise<void> {
    return this.store.deleteSession(sessionId);
  }
}
