/**
 * Task leases: the durable work queue behind the Tasks extension (2026-07-28, SEP-2663) when
 * several processes share one task store. The process running a task holds its lease and renews
 * it; when that process dies, the lease expires, and another process claims it (exactly one does)
 * and either re-runs the task (its tool is idempotent) or marks it `failed`, so no task stays
 * `working` forever.
 * @module
 */
import type { Implementation, JsonObject } from './types.js';

/**
 * What a task needs to run again on another process: the `tools/call` it came from. Stored with the
 * lease (bounded in size by the runner's `maxStoredRequestBytes`), only for tools that may be re-run.
 * Never holds a credential: only the identity fields the tool's context shows.
 */
export interface TaskRunRequest {
  /** The tool's name. */
  tool: string;
  /** The call's arguments. */
  arguments: JsonObject;
  /** Who called (the task's principal): identity fields of `authInfo`, never its token. */
  auth?: { subject?: string; clientId?: string; scopes?: string[] };
  /** The protocol revision of the call. */
  protocolVersion?: string;
  /** What the client declared on the call. */
  clientCapabilities?: JsonObject;
  /** The client's `clientInfo`, when it sent one. */
  clientInfo?: Implementation;
}

/** One lease won by {@link TaskLeases.claimExpired}: the caller holds it now, for `leaseMs`. */
export interface TaskLeaseClaim {
  taskId: string;
  /** The process that held it before (its lease expired). */
  previousHolder: string;
  /** Runs of the task so far, this claim included: 1 for the first run, 2 after the first claim, ... */
  attempt: number;
  /** The stored request, when the task may be re-run (else `undefined`). */
  request?: TaskRunRequest;
}

/** Options of {@link TaskLeases.acquire}. */
export interface TaskLeaseAcquireOptions {
  /** How long the lease lasts unless renewed, in ms. */
  leaseMs: number;
  /** The request to store for a re-run (omit for a task that must not be re-run). */
  request?: TaskRunRequest;
  /** How long the stored request is kept at most, in ms (the task's remaining ttl). */
  retainMs?: number;
}

/**
 * Leases on running tasks, shared by every process serving one definition. The contract every
 * implementation keeps (`test/contracts/task-leases.contract.ts` checks it):
 * - **One holder.** `acquire` gives the lease to `holder` (attempt 1) for `leaseMs`; `renew`
 *   extends it only while `holder` still holds it (resolves `false` once another process claimed
 *   it or it was released); `release` by the holder ends it (by anyone else: nothing happens).
 * - **Exactly one claimer.** `claimExpired` atomically hands each lease whose time ran out to one
 *   caller, even when every process sweeps at once: the claimer holds it from then on (for
 *   `leaseMs`, renewable), with the attempt count moved on and the stored request returned.
 *   A released lease is never claimed.
 * - **Time.** Expiry is judged by one clock (a shared store's, e.g. Redis `TIME`), so clock skew
 *   between processes does not matter.
 * - **Errors.** A backend failure rejects; the runner reports it to the server's `onerror` and
 *   tries again on its next renewal or sweep.
 */
export interface TaskLeases {
  /** Takes the lease of a task that starts running on `holder`. */
  acquire(taskId: string, holder: string, options: TaskLeaseAcquireOptions): Promise<void>;
  /**
   * Extends the lease by `leaseMs` from now (0: it runs out now, for a hand-over); `false` when
   * `holder` no longer holds it.
   */
  renew(taskId: string, holder: string, leaseMs: number): Promise<boolean>;
  /** Ends the lease (the task reached a terminal state); a no-op unless `holder` holds it. */
  release(taskId: string, holder: string): Promise<void>;
  /** Claims at most `limit` expired leases for `holder`, each for `leaseMs`. */
  claimExpired(holder: string, leaseMs: number, limit: number): Promise<TaskLeaseClaim[]>;
}

interface Lease {
  holder: string;
  expiresAt: number;
  attempt: number;
  request?: TaskRunRequest;
}

/**
 * {@link TaskLeases} in one process: for several servers in one process, and tests. A single server
 * needs none (a task dies with its process there), so the Tasks extension takes no leases unless
 * it is given some (`leases` option or `stores.taskLeases`).
 */
export class InMemoryTaskLeases implements TaskLeases {
  #leases = new Map<string, Lease>();
  readonly #now: () => number;

  /** @param now the clock, in ms since the epoch (tests pass a fake one). Default `Date.now`. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async acquire(taskId: string, holder: string, options: TaskLeaseAcquireOptions): Promise<void> {
    const lease: Lease = { holder, expiresAt: this.#now() + options.leaseMs, attempt: 1 };
    if (options.request) lease.request = structuredClone(options.request);
    this.#leases.set(taskId, lease);
  }

  async renew(taskId: string, holder: string, leaseMs: number): Promise<boolean> {
    const lease = this.#leases.get(taskId);
    if (!lease || lease.holder !== holder) return false;
    lease.expiresAt = this.#now() + leaseMs;
    return true;
  }

  async release(taskId: string, holder: string): Promise<void> {
    if (this.#leases.get(taskId)?.holder === holder) this.#leases.delete(taskId);
  }

  async claimExpired(holder: string, leaseMs: number, limit: number): Promise<TaskLeaseClaim[]> {
    const now = this.#now();
    const claims: TaskLeaseClaim[] = [];
    for (const [taskId, lease] of this.#leases) {
      if (claims.length >= limit) break;
      if (lease.expiresAt > now) continue;
      const claim: TaskLeaseClaim = { taskId, previousHolder: lease.holder, attempt: lease.attempt + 1 };
      if (lease.request) claim.request = structuredClone(lease.request);
      lease.holder = holder;
      lease.expiresAt = now + leaseMs;
      lease.attempt++;
      claims.push(claim);
    }
    return claims;
  }

  /** Leases held now (for tests and metrics). */
  get size(): number {
    return this.#leases.size;
  }
}
