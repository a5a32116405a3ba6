/**
 * Pluggable stores: small interfaces with in-memory defaults, so a shared backend (Redis, ...) can
 * stand in for scale-out. Each is used by the part of the protocol named in its docstring.
 * @module
 */
// The legacy SSE event store lives in event-store.ts, the bus in notification-bus.ts, the task store
// in task-store.ts; re-exported here for the root entry.
import type { EventStore } from './event-store.js';
import type { NotificationBus } from './notification-bus.js';
import type { ReplayCache } from './replay-cache.js';
import type { TokenCache } from './token-cache.js';
import type { TaskLeases } from './task-leases.js';
import type { SessionStore } from './session-store.js';
import type { TaskStore } from './task-store.js';

export { InMemoryEventStore } from './event-store.js';
export type { EventStore, InMemoryEventStoreOptions } from './event-store.js';
export { InMemoryNotificationBus, publishSafely } from './notification-bus.js';
export type { NotificationBus, ServerEvent } from './notification-bus.js';
export { InMemoryTaskStore, TERMINAL_TASK_STATUSES } from './task-store.js';
export { InMemoryTaskLeases } from './task-leases.js';
export type { TaskLeaseAcquireOptions, TaskLeaseClaim, TaskLeases, TaskRunRequest } from './task-leases.js';
export {
  DEFAULT_MAX_SESSION_RECORD_BYTES,
  InMemorySessionRouter,
  InMemorySessionStore,
  SessionRecordTooLargeError,
} from './session-store.js';
export { InMemoryPostStreamRegistry } from './post-streams.js';
export type { PostStreamRecord, PostStreamRegistry } from './post-streams.js';
export type {
  InMemorySessionStoreOptions,
  SessionPatch,
  SessionRecord,
  SessionRouter,
  SessionSignal,
  SessionStore,
} from './session-store.js';
export type {
  TaskListOptions,
  TaskPage,
  TaskPatch,
  TaskRecord,
  TaskStatus,
  TaskStore,
  TaskUpdateResult,
} from './task-store.js';

// ---------------------------------------------------------------------------------------------
// requestState key ring (2026-07-28 basic/patterns/mrtr "Security").

/** One HMAC key. */
export interface StateKey {
  /** Key id, written into each sealed state so rotation works. */
  id: string;
  /** Secret bytes (at least 32 recommended) or a string taken as UTF-8. */
  secret: Uint8Array | string;
}

/**
 * The keys that seal `requestState`: the first signs, all verify (rotate by prepending a new key,
 * drop the old one after `requestState.ttlMs`). Every process serving the same definition must
 * return the same keys (a shared secret store), else a retry that lands on another process is
 * refused (-32602). `keys()` is read on every seal and open: cache in the implementation. A
 * rejection propagates as JSON-RPC -32603 to the request being served.
 */
export interface KeyRing {
  keys(): Promise<StateKey[]> | StateKey[];
}

/** A fixed {@link KeyRing}. Without keys, one random per-process key is made (single-instance use). */
export class StaticKeyRing implements KeyRing {
  #keys: StateKey[];

  constructor(keys?: StateKey[]) {
    if (keys && keys.length > 0) this.#keys = keys;
    else {
      const secret = new Uint8Array(32);
      globalThis.crypto.getRandomValues(secret);
      this.#keys = [{ id: 'local', secret }];
    }
  }

  keys(): StateKey[] {
    return this.#keys;
  }
}

// ---------------------------------------------------------------------------------------------
// The aggregate: every shared store of a deployment, switched at once.

/**
 * Every store a server (and the bindings serving it) may share with other processes, switched at
 * once: `new McpServer(info, { stores })` or `server.useStores(stores)`, e.g. `stores: await
 * redisStores('redis://…')` from `anywire/redis`. Each field is optional: what is unset keeps its
 * in-memory default, and an explicit per-component option (`notificationBus`,
 * `requestState.keyRing`, `tasks.store`, serveHttp's `eventStore`) wins over the aggregate.
 *
 * The server never closes the stores: whoever made them calls {@link Stores.close} after the
 * server closed.
 */
export interface Stores {
  /** Fans server events out to every process (see {@link NotificationBus}). */
  notificationBus?: NotificationBus;
  /** Seals MRTR `requestState` (2026-07-28 basic/patterns/mrtr); shared so any process opens a round. */
  keyRing?: KeyRing;
  /** Default store of both Tasks implementations (2026-07-28 extension, 2025-11-25 tasks) when given none. */
  taskStore?: TaskStore;
  /**
   * Leases on running tasks (the 2026-07-28 Tasks extension's work queue): with them, a task whose
   * process died is failed once its lease runs out, or re-run elsewhere when its tool is idempotent.
   * Unset: no leases (one process: a task dies with it).
   */
  taskLeases?: TaskLeases;
  /** Legacy SSE resumption (2025-11-25 basic/transports); the default of serveHttp's `eventStore`. */
  eventStore?: EventStore;
  /**
   * Legacy (2025-era) Streamable HTTP sessions shared by every process: the default of serveHttp's
   * `sessionStore` (any process serves any session, which outlives the process that created it).
   */
  sessionStore?: SessionStore;
  // `events` (the Events extension's stores) is added by `events/stores.ts` (module augmentation),
  // so this layer does not import the Events extension.
  /**
   * The DPoP `jti` replay cache (RFC 9449 section 11.1) to share between processes: pass it to
   * `oauthResourceServer({ dpop: { replayCache } })` (`anywire/auth`), which is built apart from
   * the server.
   */
  dpopReplayCache?: ReplayCache;
  /**
   * The token cache to share between processes: RFC 7662 introspection answers (keyed by a hash of
   * the token), so a token introspected by one process is not introspected again by another. Pass
   * it to `oauthResourceServer({ tokenCache })` (`anywire/auth`).
   */
  tokenCache?: TokenCache;
  /**
   * This process's name in the shared stores (`anywire serve --node-id`): the holder recorded on the
   * task leases it takes (so an operator sees which node runs a task). Unset: a random id per server.
   */
  nodeId?: string;
  /** Resolves when the backend is reachable; rejects with a clear Error otherwise (readiness probes). */
  ready?(): Promise<void>;
  /** Releases the backend's connections; the stores fail after it. */
  close?(): Promise<void>;
}
