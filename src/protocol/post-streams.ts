/**
 * Who runs the requests of a legacy session's POST streams, for the processes sharing the session
 * (2025-11-25 basic/transports "Resumability and Redelivery"). A client that lost a POST stream
 * resumes it with `Last-Event-ID` on whichever process its load balancer picks; that process relays
 * what the process running the request stores later, and answers the request with an error once
 * that process is dead, instead of leaving the client waiting for a response nobody will send.
 *
 * Liveness is a lease: the running process renews a key per process (its owner tag) with a time to
 * live; a process that finds the key absent decides that the owner ended.
 * @module
 */

/** What a process records of one of its POST streams, for a resumption elsewhere. */
export interface PostStreamRecord {
  /** The owner tag of the process running the stream's requests (see {@link PostStreamRegistry.renewLease}). */
  owner: string;
  /** The JSON-RPC ids of the stream's requests, as the client sent them; each gets one response. */
  requestIds: (string | number)[];
}

/**
 * The POST stream records and process leases of the processes sharing legacy sessions
 * (`SessionStore.postStreams`).
 *
 * The contract every implementation keeps:
 * - **Leases.** `renewLease` makes `leaseHeld(owner)` true for `ttlMs` from the call (renewed by
 *   the next call); `releaseLease` makes it false at once. An owner never seen is not held.
 * - **Records** live `ttlMs` from `putStream` (then read as absent), are bound to their session
 *   (another session's id reads as absent), and garbage stored under a record reads as absent.
 * - **Errors.** A backend failure rejects.
 */
export interface PostStreamRegistry {
  /** Holds (or renews) the lease of `owner` for `ttlMs` ms. */
  renewLease(owner: string, ttlMs: number): Promise<void>;
  /** True while the lease of `owner` is held. */
  leaseHeld(owner: string): Promise<boolean>;
  /** Ends the lease of `owner` now (a process shutting down). Idempotent. */
  releaseLease(owner: string): Promise<void>;
  /** Records the POST stream `streamId` of `sessionId` for `ttlMs` ms. */
  putStream(sessionId: string, streamId: string, record: PostStreamRecord, ttlMs: number): Promise<void>;
  /** The record of a POST stream; `undefined` when absent, expired or garbage. */
  getStream(sessionId: string, streamId: string): Promise<PostStreamRecord | undefined>;
  /** Forgets a POST stream (its responses were stored). Idempotent. */
  deleteStream(sessionId: string, streamId: string): Promise<void>;
}

/** Checks a TTL passed to a registry. @throws RangeError */
export function checkLeaseTtlMs(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
    throw new RangeError(`post stream registry: ttlMs must be an integer >= 1 (got ${ttlMs})`);
  return ttlMs;
}

/** A {@link PostStreamRecord} from parsed JSON, or `undefined` when `value` is not one. */
export function toPostStreamRecord(value: unknown): PostStreamRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { owner, requestIds } = value as Record<string, unknown>;
  if (typeof owner !== 'string' || owner === '' || !Array.isArray(requestIds)) return undefined;
  if (!requestIds.every((id) => typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))))
    return undefined;
  return { owner, requestIds: [...(requestIds as (string | number)[])] };
}

/** Parses a stored record's JSON text; `undefined` for anything that is not a valid record. */
export function parsePostStreamRecord(text: unknown): PostStreamRecord | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return toPostStreamRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * A {@link PostStreamRegistry} in this process's memory: the "processes" are the HTTP handlers
 * given the same `InMemorySessionStore`.
 */
export class InMemoryPostStreamRegistry implements PostStreamRegistry {
  #leases = new Map<string, number>();
  #streams = new Map<string, { json: string; expiresAt: number }>();
  #sweepAt = 64;

  async renewLease(owner: string, ttlMs: number): Promise<void> {
    checkLeaseTtlMs(ttlMs);
    this.#leases.set(owner, Date.now() + ttlMs);
  }

  async leaseHeld(owner: string): Promise<boolean> {
    const until = this.#leases.get(owner);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#leases.delete(owner);
    return false;
  }

  async releaseLease(owner: string): Promise<void> {
    this.#leases.delete(owner);
  }

  async putStream(
    sessionId: string,
    streamId: string,
    record: PostStreamRecord,
    ttlMs: number,
  ): Promise<void> {
    checkLeaseTtlMs(ttlMs);
    this.#sweep();
    this.#streams.set(JSON.stringify([sessionId, streamId]), {
      json: JSON.stringify(record),
      expiresAt: Date.now() + ttlMs,
    });
  }

  async getStream(sessionId: string, streamId: string): Promise<PostStreamRecord | undefined> {
    const key = JSON.stringify([sessionId, streamId]);
    const r = this.#streams.get(key);
    if (!r) return undefined;
    if (r.expiresAt <= Date.now()) {
      this.#streams.delete(key);
      return undefined;
    }
    return parsePostStreamRecord(r.json);
  }

  async deleteStream(sessionId: string, streamId: string): Promise<void> {
    this.#streams.delete(JSON.stringify([sessionId, streamId]));
  }

  /** Records held (expired ones included until they are next looked at). */
  get size(): number {
    return this.#streams.size;
  }

  /** Drops expired records and leases once the records doubled since the last sweep (amortized O(1) per write). */
  #sweep(): void {
    if (this.#streams.size < this.#sweepAt) return;
    const now = Date.now();
    for (const [k, r] of this.#streams) if (r.expiresAt <= now) this.#streams.delete(k);
    for (const [k, until] of this.#leases) if (until <= now) this.#leases.delete(k);
    this.#sweepAt = Math.max(64, this.#streams.size * 2);
  }
}
