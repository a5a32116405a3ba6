/**
 * The legacy session store (2025-11-25 basic/transports "Session Management"): what `initialize`
 * negotiated for each `Mcp-Session-Id`, kept where every process serving the same definition can
 * read it, so any process rebuilds a session on its first request for it and a session outlives the
 * process that created it. Beside it, the {@link SessionRouter}: a per-session channel between
 * processes (a client's response to a server-to-client request, a wake-up for the GET stream).
 * @module
 */
import type { JsonRpcMessage } from '../jsonrpc/types.js';
import { LOG_LEVELS } from './constants.js';
import { InMemoryPostStreamRegistry } from './post-streams.js';
import type { PostStreamRegistry } from './post-streams.js';
import type { ClientCapabilities, Implementation } from './types.js';

/** What a legacy session negotiated, as stored. */
export interface SessionRecord {
  /** The `Mcp-Session-Id`. */
  sessionId: string;
  /** The legacy revision `initialize` negotiated (e.g. `2025-11-25`). */
  protocolVersion: string;
  /** The client's capabilities from `initialize`. */
  clientCapabilities: ClientCapabilities;
  /** The client's `clientInfo` from `initialize`, when it sent one. */
  clientInfo?: Implementation;
  /** The level set by `logging/setLevel`; absent: every level is sent. */
  logLevel?: string;
  /** Resource URIs subscribed with `resources/subscribe`. */
  subscriptions?: string[];
  /** The principal the session is bound to (`principalOf` its opener's `AuthInfo`; `''` anonymous). */
  principal: string;
  /** When `initialize` succeeded, ms since the epoch. */
  createdAt: number;
}

/** The state of a record that requests change after `initialize`. */
export interface SessionPatch {
  logLevel?: string;
  subscriptions?: string[];
}

/** Default of `maxSessionRecordBytes`: 64 KiB. */
export const DEFAULT_MAX_SESSION_RECORD_BYTES = 64 * 1024;

/**
 * A record larger than the store's `maxSessionRecordBytes` was refused. The Streamable HTTP binding
 * answers the request that made it (`initialize`, `resources/subscribe`) with JSON-RPC -32602.
 */
export class SessionRecordTooLargeError extends RangeError {
  /** Size of the refused record, in bytes of its stored JSON (UTF-8). */
  readonly bytes: number;
  /** The store's limit in bytes. */
  readonly limitBytes: number;

  constructor(bytes: number, limitBytes: number) {
    super(`session record of ${bytes} bytes exceeds maxSessionRecordBytes (${limitBytes})`);
    this.name = 'SessionRecordTooLargeError';
    this.bytes = bytes;
    this.limitBytes = limitBytes;
  }
}

/**
 * A signal on one session's channel between processes. `response`: a client's JSON-RPC response
 * to a server-to-client request, for the process that sent the request; `wake`: events were
 * appended to the session's GET stream in the event store; `state`: the stored record changed
 * (log level, subscriptions); `deleted`: the session ended (DELETE); `takeover`: another process
 * now holds the session's GET stream (`by` names that process's replica); `cancel`: the client
 * cancelled its request `requestId` (its id on the wire), for the process running it.
 */
export type SessionSignal =
  | { type: 'response'; message: JsonRpcMessage }
  | { type: 'wake' }
  | { type: 'state' }
  | { type: 'deleted' }
  | { type: 'takeover'; by: string }
  | { type: 'cancel'; requestId: string | number; reason?: string };

/**
 * A channel per session between the processes serving it. A process subscribes only while it holds
 * something of the session a signal may concern (its GET stream, a server-to-client request
 * awaiting an answer), so idle sessions cost no subscription.
 *
 * Contract: delivery is at most once, in publish order per publisher; a publish while nobody
 * listens is lost. A listener never throws back into the router.
 */
export interface SessionRouter {
  /**
   * Publishes `signal` to every process listening on `sessionId` (the publisher too, when it
   * listens). Resolves to the number of listening processes that received it, when known.
   */
  publish(sessionId: string, signal: SessionSignal): Promise<number | undefined>;
  /**
   * Listens on `sessionId`; resolves once listening (a signal published after that is heard) to a
   * function that stops.
   */
  subscribe(sessionId: string, listener: (signal: SessionSignal) => void): Promise<() => Promise<void>>;
}

/**
 * Stores legacy session records for every process serving the same definition.
 *
 * The contract every implementation keeps (the suite in `test/contracts/session-store.contract.ts`
 * checks it):
 * - **TTL.** Every write (`create`, `touch`, `update`) sets the record's time to live to `ttlMs`
 *   (the binding's `sessionIdleTimeoutMs`); an expired record is absent.
 * - **Bounds.** A record larger than `maxSessionRecordBytes` (bytes of its stored JSON, UTF-8) is
 *   refused by `create` and `update` with {@link SessionRecordTooLargeError}; nothing is written.
 * - **Garbage is absent.** Whatever is stored under a session's key that is not a valid record
 *   reads as absent (`undefined`), never as an error.
 * - **Isolation by principal** is the binding's: it compares `principal` with the caller's and
 *   answers 404 for another principal's session, exactly as for an unknown id.
 * - **Errors.** A backend failure rejects (the binding answers 500 / -32603).
 */
export interface SessionStore {
  /** Writes a new record. @throws SessionRecordTooLargeError */
  create(record: SessionRecord, ttlMs: number): Promise<void>;
  /** The record, with its TTL reset to `ttlMs`; `undefined` when absent, expired or garbage. */
  touch(sessionId: string, ttlMs: number): Promise<SessionRecord | undefined>;
  /**
   * Changes the mutable fields of an existing record (absent fields are unchanged) and resets its
   * TTL; resolves to the updated record, `undefined` when there is none (nothing is written).
   * @throws SessionRecordTooLargeError
   */
  update(sessionId: string, patch: SessionPatch, ttlMs: number): Promise<SessionRecord | undefined>;
  /** Removes the record. Idempotent. */
  delete(sessionId: string): Promise<void>;
  /**
   * The channel between the processes sharing this store. Without it, a session is still rebuilt
   * on any process, but a client's response to a server-to-client request and the GET stream's
   * events reach only the process that produced them.
   */
  readonly router?: SessionRouter;
  /**
   * The records of POST streams and the leases of the processes running them. With it, a client
   * that resumes a POST stream on another process gets what the running process stores later, and
   * an error response for each request once that process is dead (its lease lapsed); without it,
   * such a resumption ends after what was stored so far.
   */
  readonly postStreams?: PostStreamRegistry;
}

/** Bytes of `text` in UTF-8. */
export function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A {@link SessionRecord} from parsed JSON, or `undefined` when `value` is not one (garbage reads
 * as absent). Only the known fields are kept.
 */
export function toSessionRecord(value: unknown): SessionRecord | undefined {
  if (!isObject(value)) return undefined;
  const { sessionId, protocolVersion, clientCapabilities, clientInfo, logLevel, subscriptions } = value;
  const { principal, createdAt } = value;
  if (typeof sessionId !== 'string' || sessionId === '' || typeof protocolVersion !== 'string')
    return undefined;
  if (!isObject(clientCapabilities) || typeof principal !== 'string') return undefined;
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) return undefined;
  if (clientInfo !== undefined && !isObject(clientInfo)) return undefined;
  if (logLevel !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(logLevel)) return undefined;
  if (
    subscriptions !== undefined &&
    !(Array.isArray(subscriptions) && subscriptions.every((s) => typeof s === 'string'))
  )
    return undefined;
  const out: SessionRecord = {
    sessionId,
    protocolVersion,
    clientCapabilities: clientCapabilities as ClientCapabilities,
    principal,
    createdAt,
  };
  if (clientInfo !== undefined) out.clientInfo = clientInfo as unknown as Implementation;
  if (logLevel !== undefined) out.logLevel = logLevel as string;
  if (subscriptions !== undefined) out.subscriptions = subscriptions as string[];
  return out;
}

/** Parses a stored record's JSON text; `undefined` for anything that is not a valid record. */
export function parseSessionRecord(text: unknown): SessionRecord | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return toSessionRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Checks a bound given as an option. @throws RangeError */
export function checkMaxRecordBytes(owner: string, v: number | undefined): number {
  if (v === undefined) return DEFAULT_MAX_SESSION_RECORD_BYTES;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new RangeError(`${owner}: maxSessionRecordBytes must be an integer >= 1 (got ${v})`);
  return v;
}

/** Checks a TTL passed to a store. @throws RangeError */
export function checkTtlMs(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
    throw new RangeError(`session store: ttlMs must be an integer >= 1 (got ${ttlMs})`);
  return ttlMs;
}

/** Options of {@link InMemorySessionStore}. */
export interface InMemorySessionStoreOptions {
  /** Largest record, in bytes of its JSON (UTF-8); larger ones are refused. Default 64 KiB. */
  maxSessionRecordBytes?: number;
}

/** An in-process {@link SessionRouter}: the processes are the handlers sharing one store object. */
export class InMemorySessionRouter implements SessionRouter {
  #listeners = new Map<string, Set<(signal: SessionSignal) => void>>();

  async publish(sessionId: string, signal: SessionSignal): Promise<number> {
    const set = this.#listeners.get(sessionId);
    if (!set) return 0;
    // A copy per listener, as a wire would give.
    const text = JSON.stringify(signal);
    for (const l of [...set]) queueMicrotask(() => l(JSON.parse(text) as SessionSignal));
    return set.size;
  }

  async subscribe(
    sessionId: string,
    listener: (signal: SessionSignal) => void,
  ): Promise<() => Promise<void>> {
    let set = this.#listeners.get(sessionId);
    if (!set) this.#listeners.set(sessionId, (set = new Set()));
    const own = (s: SessionSignal) => {
      try {
        listener(s);
      } catch {
        // A listener never throws back into the router.
      }
    };
    set.add(own);
    return async () => {
      set.delete(own);
      if (set.size === 0 && this.#listeners.get(sessionId) === set) this.#listeners.delete(sessionId);
    };
  }

  /** Sessions listened on right now. */
  get channels(): number {
    return this.#listeners.size;
  }
}

/**
 * A {@link SessionStore} in this process's memory, with an {@link InMemorySessionRouter}: several
 * Streamable HTTP handlers given the same object share their legacy sessions as separate processes
 * sharing Redis would (tests, and one process serving several ports).
 * @throws RangeError when `maxSessionRecordBytes` is not an integer >= 1
 */
export class InMemorySessionStore implements SessionStore {
  readonly router = new InMemorySessionRouter();
  readonly postStreams = new InMemoryPostStreamRegistry();
  #records = new Map<string, { json: string; expiresAt: number }>();
  #maxBytes: number;

  constructor(options: InMemorySessionStoreOptions = {}) {
    this.#maxBytes = checkMaxRecordBytes('InMemorySessionStore', options.maxSessionRecordBytes);
  }

  /** Records held (expired ones included until they are next looked at). */
  get size(): number {
    return this.#records.size;
  }

  /** Stores raw text under a session id (tests: garbage must read as absent). */
  putRaw(sessionId: string, text: string, ttlMs: number): void {
    this.#records.set(sessionId, { json: text, expiresAt: Date.now() + ttlMs });
  }

  async create(record: SessionRecord, ttlMs: number): Promise<void> {
    checkTtlMs(ttlMs);
    this.#records.set(record.sessionId, { json: this.#encode(record), expiresAt: Date.now() + ttlMs });
  }

  async touch(sessionId: string, ttlMs: number): Promise<SessionRecord | undefined> {
    checkTtlMs(ttlMs);
    const r = this.#live(sessionId);
    if (!r) return undefined;
    const record = parseSessionRecord(r.json);
    if (record) r.expiresAt = Date.now() + ttlMs;
    return record;
  }

  async update(sessionId: string, patch: SessionPatch, ttlMs: number): Promise<SessionRecord | undefined> {
    checkTtlMs(ttlMs);
    const r = this.#live(sessionId);
    const record = r && parseSessionRecord(r.json);
    if (!r || !record) return undefined;
    const next = applyPatch(record, patch);
    r.json = this.#encode(next);
    r.expiresAt = Date.now() + ttlMs;
    return next;
  }

  async delete(sessionId: string): Promise<void> {
    this.#records.delete(sessionId);
  }

  #live(sessionId: string): { json: string; expiresAt: number } | undefined {
    const r = this.#records.get(sessionId);
    if (r && r.expiresAt <= Date.now()) {
      this.#records.delete(sessionId);
      return undefined;
    }
    return r;
  }

  #encode(record: SessionRecord): string {
    const json = JSON.stringify(record);
    const bytes = utf8Bytes(json);
    if (bytes > this.#maxBytes) throw new SessionRecordTooLargeError(bytes, this.#maxBytes);
    return json;
  }
}

/** `record` with the fields of `patch` that are set. */
export function applyPatch(record: SessionRecord, patch: SessionPatch): SessionRecord {
  const next = { ...record };
  if (patch.logLevel !== undefined) next.logLevel = patch.logLevel;
  if (patch.subscriptions !== undefined) next.subscriptions = [...patch.subscriptions];
  return next;
}
