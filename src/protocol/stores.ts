/**
 * Pluggable stores: small interfaces with in-memory defaults, so a shared backend (Redis, ...) can
 * stand in for scale-out. Each is used by the part of the protocol named in its docstring.
 * @module
 */
import type { ClientCapabilities, Implementation, InputRequest, JsonObject } from './types.js';

// The legacy SSE event store lives in event-store.ts; re-exported here for the root entry.
export { InMemoryEventStore } from './event-store.js';
export type { EventStore, InMemoryEventStoreOptions } from './event-store.js';

// ---------------------------------------------------------------------------------------------
// Legacy session store (2025-11-25 basic/transports "Session Management").

/** What a legacy session remembers from its `initialize`. */
export interface SessionRecord {
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo?: Implementation;
  logLevel?: string;
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** Principal the session is bound to (auth subject), if any. */
  principal?: string;
  [key: string]: unknown;
}

/** Keeps legacy sessions so any process can recognise (and recover) them. */
export interface SessionStore {
  get(sessionId: string): Promise<SessionRecord | undefined>;
  /** Stores or refreshes a session; it expires after `ttlMs` without a refresh. */
  set(sessionId: string, record: SessionRecord, ttlMs: number): Promise<void>;
  delete(sessionId: string): Promise<void>;
}

/** In-memory {@link SessionStore} with idle expiry. */
export class InMemorySessionStore implements SessionStore {
  #map = new Map<string, { record: SessionRecord; expiresAt: number }>();

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const e = this.#map.get(sessionId);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.#map.delete(sessionId);
      return undefined;
    }
    return e.record;
  }

  async set(sessionId: string, record: SessionRecord, ttlMs: number): Promise<void> {
    this.#map.set(sessionId, { record, expiresAt: Date.now() + ttlMs });
  }

  async delete(sessionId: string): Promise<void> {
    this.#map.delete(sessionId);
  }

  /** Number of sessions held (expired ones included until touched). */
  get size(): number {
    return this.#map.size;
  }
}

// ---------------------------------------------------------------------------------------------
// Listen-notification bus (2026-07-28 basic/patterns/subscriptions; legacy list_changed too).

/** An event every server instance should hear: list changes and resource updates. */
export type ServerEvent =
  | { type: 'list_changed'; list: 'tools' | 'prompts' | 'resources' }
  | { type: 'resource_updated'; uri: string }
  | { type: 'task_status'; taskId: string; task: JsonObject };

/** Fans server events out to every instance (and, in each, to every listen stream and legacy session). */
export interface NotificationBus {
  publish(event: ServerEvent): Promise<void> | void;
  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: (event: ServerEvent) => void): () => void;
}

/** In-process {@link NotificationBus}. */
export class InMemoryNotificationBus implements NotificationBus {
  #listeners = new Set<(event: ServerEvent) => void>();

  publish(event: ServerEvent): void {
    for (const l of [...this.#listeners]) l(event);
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

// ---------------------------------------------------------------------------------------------
// requestState key ring (2026-07-28 basic/patterns/mrtr "Security").

/** One HMAC key. */
export interface StateKey {
  /** Key id, written into each sealed state so rotation works. */
  id: string;
  /** Secret bytes (at least 32 recommended) or a string taken as UTF-8. */
  secret: Uint8Array | string;
}

/** The keys that seal `requestState`: the first signs, all verify (rotate by prepending). */
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
// Task store (2025-11-25 basic/utilities/tasks, experimental).

/** A stored task. */
export interface TaskRecord {
  taskId: string;
  status: 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttl: number | null;
  pollInterval?: number;
  /** The final JSON-RPC result or error, once terminal. */
  outcome?: { result: JsonObject } | { error: { code: number; message: string; data?: unknown } };
  /** Principal or session the task belongs to. */
  owner?: string;
  /** Outstanding input requests by key while `input_required` (2026-07-28 Tasks extension). */
  inputRequests?: Record<string, InputRequest>;
}

/** Keeps tasks. */
export interface TaskStore {
  create(record: TaskRecord): Promise<void>;
  get(taskId: string): Promise<TaskRecord | undefined>;
  update(taskId: string, patch: Partial<TaskRecord>): Promise<TaskRecord | undefined>;
  list(owner?: string): Promise<TaskRecord[]>;
  delete(taskId: string): Promise<void>;
}

/** In-memory {@link TaskStore}; expired tasks (by `ttl`) are dropped when read. */
export class InMemoryTaskStore implements TaskStore {
  #map = new Map<string, TaskRecord>();

  async create(record: TaskRecord): Promise<void> {
    this.#map.set(record.taskId, record);
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const t = this.#map.get(taskId);
    if (t && t.ttl !== null && Date.parse(t.createdAt) + t.ttl < Date.now()) {
      this.#map.delete(taskId);
      return undefined;
    }
    return t;
  }

  async update(taskId: string, patch: Partial<TaskRecord>): Promise<TaskRecord | undefined> {
    const t = await this.get(taskId);
    if (!t) return undefined;
    Object.assign(t, patch, { lastUpdatedAt: new Date().toISOString() });
    return t;
  }

  async list(owner?: string): Promise<TaskRecord[]> {
    return [...this.#map.values()].filter((t) => owner === undefined || t.owner === owner);
  }

  async delete(taskId: string): Promise<void> {
    this.#map.delete(taskId);
  }
}
