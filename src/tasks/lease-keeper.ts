/**
 * The Tasks extension's side of task leases (2026-07-28, SEP-2663; see `protocol/task-leases.ts`):
 * holds the lease of every task running on this server and renews them all every third of
 * `leaseMs`, and sweeps every `leaseSweepIntervalMs` for leases that ran out on other servers (or
 * on this one), handing each claim to the runner. While the lease store fails, the first failure is
 * reported (the server's `onerror`) and the others are not, until it works again. Internal to the
 * Tasks extension.
 * @module
 */
import type { TaskLeaseClaim, TaskLeases, TaskRunRequest } from '../protocol/task-leases.js';

/** Lease timing and limits of the Tasks extension (each a named option of `createTaskExtension`). */
export interface LeaseSettings {
  nodeId: string;
  leaseMs: number;
  sweepIntervalMs: number;
  maxClaimsPerSweep: number;
}

/** What the keeper tells the runner. */
export interface LeaseEvents {
  /** Another server claimed a lease this one held: stop running the task here. */
  lost(taskId: string): void;
  /** This server won an expired lease: fail or re-run the task. */
  claimed(claim: TaskLeaseClaim): Promise<void>;
  /** Whether this server can take more work now (else the sweep waits). */
  hasRoom(): boolean;
  /** A background failure (the lease store rejected). */
  report(error: unknown): void;
}

type Timer = ReturnType<typeof setInterval>;

const unref = (t: Timer) => (t as { unref?: () => void }).unref?.();

/** Holds, renews, releases and claims leases for one server. */
export class LeaseKeeper {
  readonly leases: TaskLeases;
  readonly settings: LeaseSettings;
  readonly #events: LeaseEvents;
  readonly #held = new Set<string>();
  readonly #rerunnable = new Set<string>();
  #renewer: Timer | undefined;
  #sweeper: Timer | undefined;
  #sweeping = false;
  #stopped = false;
  /** Set while the lease store fails: one report per outage, not one per renewal or sweep. */
  #failing = false;

  constructor(leases: TaskLeases, settings: LeaseSettings, events: LeaseEvents) {
    this.leases = leases;
    this.settings = settings;
    this.#events = events;
  }

  /** Starts the sweep (and the renewals, as soon as a lease is held). */
  start(): void {
    this.#stopped = false;
    this.#sweeper ??= setInterval(() => void this.sweep(), this.settings.sweepIntervalMs);
    unref(this.#sweeper);
  }

  /** Stops renewing and sweeping (held leases are left to run out: another server claims them). */
  stop(): void {
    this.#stopped = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    if (this.#renewer) clearInterval(this.#renewer);
    this.#sweeper = this.#renewer = undefined;
    this.#held.clear();
    this.#rerunnable.clear();
  }

  /** Takes the lease of a task starting here (with the request to re-run it, when it may be). */
  async hold(
    taskId: string,
    request: TaskRunRequest | undefined,
    retainMs: number | undefined,
  ): Promise<void> {
    const options: Parameters<TaskLeases['acquire']>[2] = { leaseMs: this.settings.leaseMs };
    if (request) options.request = request;
    if (retainMs !== undefined) options.retainMs = retainMs;
    await this.leases.acquire(taskId, this.settings.nodeId, options);
    this.track(taskId, request !== undefined);
  }

  /**
   * Renews a lease this server holds already (after a claim).
   * @param rerunnable the lease holds a stored request (another server may run the task again)
   */
  track(taskId: string, rerunnable = false): void {
    if (this.#stopped) return;
    this.#held.add(taskId);
    if (rerunnable) this.#rerunnable.add(taskId);
    if (!this.#renewer) {
      this.#renewer = setInterval(
        () => void this.#renew(),
        Math.max(1, Math.floor(this.settings.leaseMs / 3)),
      );
      unref(this.#renewer);
    }
  }

  /** Stops renewing without releasing (the lease went to another server). */
  forget(taskId: string): void {
    this.#held.delete(taskId);
    this.#rerunnable.delete(taskId);
    if (this.#held.size === 0 && this.#renewer) {
      clearInterval(this.#renewer);
      this.#renewer = undefined;
    }
  }

  /** True when the lease of a task held here stores its request (it may run again elsewhere). */
  rerunnable(taskId: string): boolean {
    return this.#rerunnable.has(taskId);
  }

  /**
   * Lets the lease run out now (graceful shutdown: the next sweep of another server claims the task
   * and runs it again, without waiting for `leaseMs`); failures are reported.
   */
  async expireNow(taskId: string): Promise<void> {
    this.forget(taskId);
    try {
      await this.leases.renew(taskId, this.settings.nodeId, 0);
    } catch (error) {
      this.#events.report(error);
    }
  }

  /** Releases the lease (the task ended); failures are reported. */
  async drop(taskId: string): Promise<void> {
    this.forget(taskId);
    try {
      await this.leases.release(taskId, this.settings.nodeId);
    } catch (error) {
      this.#events.report(error);
    }
  }

  #failed(error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#events.report(error);
  }

  async #renew(): Promise<void> {
    await Promise.all(
      [...this.#held].map(async (taskId) => {
        try {
          const still = await this.leases.renew(taskId, this.settings.nodeId, this.settings.leaseMs);
          this.#failing = false;
          if (!still && this.#held.has(taskId)) {
            this.forget(taskId);
            this.#events.lost(taskId);
          }
        } catch (error) {
          this.#failed(error); // try again next time; the lease may run out meanwhile
        }
      }),
    );
  }

  /**
   * Claims expired leases once and hands each to the runner (one sweep at a time per server).
   * Resolves to how many it claimed; failures are reported, never thrown.
   */
  async sweep(): Promise<number> {
    if (this.#sweeping || this.#stopped || !this.#events.hasRoom()) return 0;
    this.#sweeping = true;
    try {
      const claims = await this.leases.claimExpired(
        this.settings.nodeId,
        this.settings.leaseMs,
        this.settings.maxClaimsPerSweep,
      );
      this.#failing = false;
      for (const claim of claims) {
        try {
          await this.#events.claimed(claim);
        } catch (error) {
          this.#events.report(error);
        }
      }
      return claims.length;
    } catch (error) {
      this.#failed(error);
      return 0;
    } finally {
      this.#sweeping = false;
    }
  }
}
