/**
 * Runs and tracks the tasks of the Tasks extension (SEP-2663, 2026-07-28): creation (stored before
 * the `CreateTaskResult` is sent), `tasks/get` (a `DetailedTask` with the inlined `result`, `error`
 * or `inputRequests`), `tasks/update` (answers for a task parked in `input_required`) and
 * `tasks/cancel` (cooperative: the handler's signal aborts; the task is `cancelled` at once and a
 * late completion never overwrites a terminal status). Every task is bound to the principal that
 * created it: another principal's `taskId` is answered like an unknown one. Status changes are
 * published on the server's notification bus as `task_status` events (`notifications/tasks` on
 * `subscriptions/listen` streams that named the task); a `tasks/cancel` or `tasks/update` served by
 * another server reaches the one running the task as a `task_cancelled` or `task_input` event on
 * the bus.
 *
 * With task leases (`leases` option or `stores.taskLeases`), the server running a task holds its
 * lease and renews it every third of `leaseMs`; every server sweeps for leases that ran out and the
 * one that claims a task either runs it again (its tool declared `idempotentHint: true`: the stored
 * tool name, arguments and principal, at most `maxTaskAttempts` runs in all) or marks it `failed`
 * with -32603 "the node running this task stopped before it finished".
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import { principalOf } from '../protocol/auth.js';
import { InMemoryTaskStore, publishSafely } from '../protocol/stores.js';
import type {
  NotificationBus,
  TaskLeaseClaim,
  TaskLeases,
  TaskRecord,
  TaskRunRequest,
  TaskStore,
} from '../protocol/stores.js';
import type { InputRequest, JsonObject } from '../protocol/types.js';
import {
  DEFAULT_MAX_RUNNING_TASKS,
  DEFAULT_TASK_POLL_INTERVAL_MS,
  DEFAULT_TASK_TTL_MS,
  TERMINAL_STATUSES,
} from './constants.js';
import { answerFits } from '../server/context.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { TaskBackend } from './task-context.js';

/** Options of the Tasks extension. Limits have units in their names. */
export interface TaskExtensionOptions {
  /**
   * Where tasks live (shared with the 2025-11-25 tasks when both are on). Default: the server's
   * `stores.taskStore` (resolved when the extension starts), else in memory.
   */
  store?: TaskStore;
  /** How long a task is kept from its creation, in ms (`ttlMs`). Default 3 600 000. */
  ttlMs?: number;
  /** The polling interval suggested to clients, in ms (`pollIntervalMs`). Default 1 000. */
  pollIntervalMs?: number;
  /** Most tasks running at once on this server (-32603 beyond). Default 10 000. */
  maxRunningTasks?: number;
  /**
   * Leases on running tasks, shared by every server of a deployment (a durable work queue, e.g.
   * `RedisTaskLeases` from `anywire/redis`). Default: the server's `stores.taskLeases`, else none
   * (one process: a task dies with it). With leases, a task whose server stopped is `failed` once
   * its lease runs out, or run again on the server that claimed it when its tool is idempotent
   * (`annotations.idempotentHint: true`).
   */
  leases?: TaskLeases;
  /** How long a task's lease lasts unless renewed, in ms (>= 30); renewed every third of it. Default 15 000. */
  leaseMs?: number;
  /** How often this server looks for leases that ran out, in ms (>= 10). Default 5 000. */
  leaseSweepIntervalMs?: number;
  /** Most expired leases one sweep claims (>= 1). Default 16. */
  maxLeaseClaimsPerSweep?: number;
  /**
   * Most runs of one task in all, the first included (>= 1): a task whose server stopped this many
   * times is failed rather than run again. Default 3.
   */
  maxTaskAttempts?: number;
  /**
   * Largest stored `tools/call` of a re-runnable task, in bytes of JSON (>= 256): a bigger call is not
   * stored, and its task is failed, not re-run, when its server stops. Default 65 536.
   */
  maxStoredRequestBytes?: number;
  /** This server's name as a lease holder. Default: the server's `stores.nodeId`, else a random UUID per runner. */
  nodeId?: string;
}

/** How long a task's lease lasts unless renewed, by default (ms). */
export const DEFAULT_TASK_LEASE_MS = 15_000;
/** How often a server sweeps for expired leases, by default (ms). */
export const DEFAULT_LEASE_SWEEP_INTERVAL_MS = 5_000;
/** Most runs of one task, by default (the first included). */
export const DEFAULT_MAX_TASK_ATTEMPTS = 3;
/** Largest stored re-run request, by default (bytes of JSON). */
export const DEFAULT_MAX_STORED_REQUEST_BYTES = 65_536;
/** What a task whose server stopped says when it is failed rather than re-run. */
export const NODE_LOST_MESSAGE = 'the node running this task stopped before it finished';

/**
 * How a stored call is run again (the extension provides it: the tool's own handler, with a
 * request-less context).
 */
export interface TaskRerunner {
  /** True when the tool may be run again: registered, enabled, and declared idempotent. */
  canRerun(tool: string): boolean;
  /** Runs the stored call as the task. */
  run(taskId: string, request: TaskRunRequest, task: TaskBackend): Promise<JsonObject>;
}

interface Pending {
  request: InputRequest;
  resolve: (answer: unknown) => void;
}

interface Running {
  owner: string;
  controller: AbortController;
  pending: Map<string, Pending>;
  answered: Set<string>;
}

const invalid = (message: string) => new JsonRpcError(ErrorCode.InvalidParams, message);

function checkOption(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min))
    throw new RangeError(`anywire: tasks.${name} must be an integer >= ${min}, got ${value}`);
}

/** The `Task` wire shape of a record, with its status-specific field (`DetailedTask`). */
export function detailedTask(t: TaskRecord): JsonObject {
  const v: JsonObject = {
    taskId: t.taskId,
    status: t.status,
    createdAt: t.createdAt,
    lastUpdatedAt: t.lastUpdatedAt,
    ttlMs: t.ttl,
  };
  if (t.pollInterval !== undefined) v.pollIntervalMs = t.pollInterval;
  if (t.statusMessage !== undefined) v.statusMessage = t.statusMessage;
  if (t.status === 'completed' && t.outcome && 'result' in t.outcome) v.result = t.outcome.result;
  if (t.status === 'failed' && t.outcome && 'error' in t.outcome) v.error = t.outcome.error;
  if (t.status === 'input_required') v.inputRequests = { ...(t.inputRequests ?? {}) };
  return v;
}

/** Tasks of one server. */
export class TaskExtensionRunner {
  #store: TaskStore | undefined;
  readonly #ttlMs: number;
  readonly #pollIntervalMs: number;
  readonly #maxRunning: number;
  readonly #running = new Map<string, Running>();
  #bus: NotificationBus | undefined;
  #report: (e: unknown) => void = () => {};
  #unsubscribe: (() => void) | undefined;
  readonly #options: TaskExtensionOptions;
  #keeper: LeaseKeeper | undefined;
  #rerun: TaskRerunner | undefined;

  /** @throws RangeError for an out-of-range option */
  constructor(options: TaskExtensionOptions = {}) {
    checkOption('ttlMs', options.ttlMs, 1);
    checkOption('pollIntervalMs', options.pollIntervalMs, 1);
    checkOption('maxRunningTasks', options.maxRunningTasks, 1);
    checkOption('leaseMs', options.leaseMs, 30);
    checkOption('leaseSweepIntervalMs', options.leaseSweepIntervalMs, 10);
    checkOption('maxLeaseClaimsPerSweep', options.maxLeaseClaimsPerSweep, 1);
    checkOption('maxTaskAttempts', options.maxTaskAttempts, 1);
    checkOption('maxStoredRequestBytes', options.maxStoredRequestBytes, 256);
    if (options.nodeId !== undefined && (typeof options.nodeId !== 'string' || options.nodeId === ''))
      throw new RangeError('anywire: tasks.nodeId must be a non-empty string');
    this.#options = options;
    this.#store = options.store;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TASK_TTL_MS;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_TASK_POLL_INTERVAL_MS;
    this.#maxRunning = options.maxRunningTasks ?? DEFAULT_MAX_RUNNING_TASKS;
  }

  /**
   * Where tasks live: the `store` option, else the `defaultStore` given to {@link attach}, else an
   * in-memory store (fixed from the first read on).
   */
  get store(): TaskStore {
    return (this.#store ??= new InMemoryTaskStore());
  }

  /**
   * Connects the runner to the server's bus (`notifications/tasks` out; `task_cancelled` and
   * `task_input` in: a task running here that was cancelled or answered through another server) and
   * error reporting, and
   * starts the lease sweep when there are leases.
   * @param defaultStore the store to use when the `store` option was unset (the server's
   *   `stores.taskStore`); ignored once a store is in use
   * @param durable the server's `stores.taskLeases` (used when the `leases` option is unset), how
   *   to run a stored call again, and the server's `stores.nodeId` (the lease holder's name when the
   *   `nodeId` option is unset)
   */
  attach(
    bus: NotificationBus,
    report: (e: unknown) => void,
    defaultStore?: TaskStore,
    durable: { leases?: TaskLeases; rerun?: TaskRerunner; nodeId?: string } = {},
  ): void {
    this.#store ??= defaultStore;
    this.#bus = bus;
    this.#report = report;
    this.#rerun = durable.rerun;
    this.#unsubscribe?.();
    this.#unsubscribe = bus.subscribe((event) => {
      if (event.type === 'task_cancelled') this.#abortHere(event.taskId, 'task cancelled', true);
      else if (event.type === 'task_input') void this.#applyInputs(event.taskId, event.inputResponses);
    });
    const leases = this.#options.leases ?? durable.leases;
    if (leases && !this.#keeper) {
      const o = this.#options;
      this.#keeper = new LeaseKeeper(
        leases,
        {
          nodeId: o.nodeId ?? durable.nodeId ?? globalThis.crypto.randomUUID(),
          leaseMs: o.leaseMs ?? DEFAULT_TASK_LEASE_MS,
          sweepIntervalMs: o.leaseSweepIntervalMs ?? DEFAULT_LEASE_SWEEP_INTERVAL_MS,
          maxClaimsPerSweep: o.maxLeaseClaimsPerSweep ?? 16,
        },
        {
          lost: (taskId) => this.#abortHere(taskId, 'another node took this task over', false),
          claimed: (claim) => this.#claimed(claim),
          hasRoom: () => this.#running.size < this.#maxRunning,
          report: (e) => this.#report(e),
        },
      );
    }
    this.#keeper?.start();
  }

  /** The lease keeper, when the runner has leases (tests and operators: `sweep()`, `settings`). */
  get leases(): LeaseKeeper | undefined {
    return this.#keeper;
  }

  /** Tasks running on this server now. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Creates a task owned by `owner` and starts `work` as it (on a later turn). Resolves to the
   * `CreateTaskResult` once the task is stored (a `tasks/get` for it succeeds from then on);
   * `onCreated` receives the task's backend synchronously before that.
   * @throws JsonRpcError -32603 past `maxRunningTasks`
   */
  async start(
    owner: string,
    work: (task: TaskBackend) => Promise<JsonObject>,
    onCreated?: (task: TaskBackend) => void,
    request?: TaskRunRequest,
  ): Promise<JsonObject> {
    if (this.#running.size >= this.#maxRunning)
      throw new JsonRpcError(ErrorCode.InternalError, 'Internal error: too many tasks running; retry later');
    const now = new Date().toISOString();
    const record: TaskRecord = {
      taskId: globalThis.crypto.randomUUID(),
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttl: this.#ttlMs,
      pollInterval: this.#pollIntervalMs,
      owner,
    };
    const running: Running = {
      owner,
      controller: new AbortController(),
      pending: new Map(),
      answered: new Set(),
    };
    this.#running.set(record.taskId, running);
    const keeper = this.#keeper;
    try {
      // The lease first: a task stored without one would stay `working` if this server died now.
      await keeper?.hold(record.taskId, this.#storable(request), this.#ttlMs);
      await this.store.create(record);
    } catch (e) {
      this.#running.delete(record.taskId);
      if (keeper) void keeper.drop(record.taskId);
      throw e;
    }
    const backend = this.#backend(record.taskId, running);
    this.#publish(record);
    onCreated?.(backend);
    // Run on a later turn, after the CreateTaskResult went out.
    setTimeout(() => this.#run(record.taskId, () => work(backend)), 0);
    return { resultType: 'task', ...detailedTask(record) };
  }

  #backend(taskId: string, running: Running): TaskBackend {
    return {
      signal: running.controller.signal,
      status: (message) => void this.#patch(taskId, { statusMessage: message }),
      ask: (request, key) => this.#ask(taskId, running, request, key),
    };
  }

  #run(taskId: string, work: () => Promise<JsonObject>): void {
    let done: Promise<JsonObject>;
    try {
      done = work();
    } catch (error) {
      done = Promise.reject(error);
    }
    done.then(
      (result) => this.#finish(taskId, { status: 'completed', outcome: { result } }),
      (error) => this.#finish(taskId, failure(error)),
    );
  }

  /** The request to store with the lease: only for a tool that may run again, and small enough. */
  #storable(request: TaskRunRequest | undefined): TaskRunRequest | undefined {
    if (!request || !this.#rerun?.canRerun(request.tool)) return undefined;
    const max = this.#options.maxStoredRequestBytes ?? DEFAULT_MAX_STORED_REQUEST_BYTES;
    let bytes: number;
    try {
      bytes = new TextEncoder().encode(JSON.stringify(request)).length;
    } catch {
      return undefined;
    }
    return bytes <= max ? request : undefined;
  }

  /**
   * This server won the expired lease of a task: the task ended (release it), still runs here (the
   * lease ran out while this server stalled: keep it), may run again (run it here), or is failed.
   */
  async #claimed(claim: TaskLeaseClaim): Promise<void> {
    const keeper = this.#keeper!;
    const { taskId, request } = claim;
    const t = await this.store.get(taskId);
    if (!t || TERMINAL_STATUSES.has(t.status)) return keeper.drop(taskId);
    if (this.#running.has(taskId)) return keeper.track(taskId);
    const max = this.#options.maxTaskAttempts ?? DEFAULT_MAX_TASK_ATTEMPTS;
    const rerun = this.#rerun;
    if (
      !request ||
      !rerun ||
      claim.attempt > max ||
      !rerun.canRerun(request.tool) ||
      principalOf(request.auth) !== (t.owner ?? '')
    ) {
      const message = `${NODE_LOST_MESSAGE[0]!.toUpperCase()}${NODE_LOST_MESSAGE.slice(1)}`;
      return this.#finish(taskId, {
        status: 'failed',
        statusMessage: message,
        outcome: {
          error: {
            code: ErrorCode.InternalError,
            message: `Internal error: ${NODE_LOST_MESSAGE}`,
            data: { attempts: claim.attempt - 1 },
          },
        },
      });
    }
    const running: Running = {
      owner: t.owner ?? '',
      controller: new AbortController(),
      pending: new Map(),
      answered: new Set(),
    };
    this.#running.set(taskId, running);
    keeper.track(taskId, true);
    await this.#patch(taskId, {
      status: 'working',
      inputRequests: undefined,
      statusMessage: `Running again after its node stopped (attempt ${claim.attempt} of ${max})`,
    });
    const backend = this.#backend(taskId, running);
    this.#run(taskId, () => rerun.run(taskId, request, backend));
  }

  /**
   * Stops a task running here without writing its outcome: it was cancelled through another server
   * (`release`: the lease goes too), or another server took it over.
   */
  #abortHere(taskId: string, reason: string, release: boolean): void {
    const running = this.#running.get(taskId);
    if (!running) return;
    for (const p of running.pending.values()) p.resolve(undefined);
    running.pending.clear();
    this.#running.delete(taskId);
    running.controller.abort(new Error(reason));
    if (release) void this.#keeper?.drop(taskId);
    else this.#keeper?.forget(taskId);
  }

  /**
   * `tasks/get`.
   * @throws JsonRpcError -32602 for an unknown, expired or foreign task
   */
  async get(params: JsonObject, owner: string): Promise<JsonObject> {
    return { resultType: 'complete', ...detailedTask(await this.#load(params, owner)) };
  }

  /**
   * `tasks/update`: answers outstanding input requests by key; unknown or already answered keys
   * are ignored (SEP-2663). A partial answer keeps the task in `input_required`.
   * @throws JsonRpcError -32602 for an unknown or foreign task, bad `inputResponses`, or a task that
   *   has ended
   */
  async update(params: JsonObject, owner: string): Promise<JsonObject> {
    const record = await this.#load(params, owner);
    const responses = params.inputResponses;
    if (typeof responses !== 'object' || responses === null || Array.isArray(responses))
      throw invalid('Invalid params: inputResponses must be an object');
    if (TERMINAL_STATUSES.has(record.status))
      throw invalid(`Invalid params: task ${record.taskId} is ${record.status} and takes no input`);
    const answers = responses as JsonObject;
    if (this.#running.has(record.taskId)) await this.#applyInputs(record.taskId, answers);
    else if (record.status === 'input_required' && this.#bus) {
      // Running on another server: the answers reach it on the bus.
      try {
        await this.#bus.publish({ type: 'task_input', taskId: record.taskId, inputResponses: answers });
      } catch (e) {
        throw new JsonRpcError(
          ErrorCode.InternalError,
          `Internal error: the answers could not be passed to the server running task ${record.taskId}: ${(e as Error)?.message ?? e}`,
        );
      }
    }
    return { resultType: 'complete' };
  }

  /** Hands answers to the task's parked input requests (a task running here; else nothing). */
  async #applyInputs(taskId: string, responses: JsonObject): Promise<void> {
    const running = this.#running.get(taskId);
    if (!running) return;
    for (const [key, answer] of Object.entries(responses)) {
      const pending = running.pending.get(key);
      if (!pending || !answerFits(pending.request.method, answer)) continue;
      running.pending.delete(key);
      running.answered.add(key);
      pending.resolve(answer);
    }
    await this.#publishInputs(taskId, running);
  }

  /**
   * `tasks/cancel`: acknowledges at once; a running task's signal aborts and it becomes
   * `cancelled` (a task already terminal keeps its status; the ack is the same).
   * @throws JsonRpcError -32602 for an unknown or foreign task
   */
  async cancel(params: JsonObject, owner: string): Promise<JsonObject> {
    const record = await this.#load(params, owner);
    if (!TERMINAL_STATUSES.has(record.status)) {
      const running = this.#running.get(record.taskId);
      await this.#finish(record.taskId, { status: 'cancelled', statusMessage: 'Cancelled by the client' });
      running?.controller.abort(new Error('task cancelled'));
      // The server running it, if another one, aborts it when it hears this.
      if (!running && this.#bus)
        publishSafely(this.#bus, { type: 'task_cancelled', taskId: record.taskId }, this.#report);
    }
    return { resultType: 'complete' };
  }

  /** Whether `owner` may see `taskId` (for listen filters). */
  async owns(taskId: string, owner: string): Promise<boolean> {
    const t = await this.store.get(taskId);
    return t !== undefined && (t.owner ?? '') === owner;
  }

  /**
   * Server shutdown: aborts every running task. A task another server may run again (leases, and
   * its tool is idempotent) is handed over: its lease runs out at once and the next sweep elsewhere
   * claims it. The others end `cancelled` ("The server shut down"). Stops the lease sweep.
   */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const ids = [...this.#running.keys()];
    const keeper = this.#keeper;
    await Promise.all(
      ids.map(async (id) => {
        if (keeper?.rerunnable(id)) {
          this.#abortHere(id, 'server shutting down; another server runs this task again', false);
          await keeper.expireNow(id);
          return;
        }
        await this.#finish(id, { status: 'cancelled', statusMessage: 'The server shut down' }).catch(
          () => {},
        );
      }),
    );
    for (const r of this.#running.values()) r.controller.abort(new Error('server shutting down'));
    this.#running.clear();
    this.#keeper?.stop();
  }

  async #load(params: JsonObject, owner: string): Promise<TaskRecord> {
    const taskId = params.taskId;
    if (typeof taskId !== 'string') throw invalid('Invalid params: taskId must be a string');
    const t = await this.store.get(taskId);
    // Another principal's task is answered exactly like an unknown one.
    if (!t || (t.owner ?? '') !== owner) throw invalid(`Failed to retrieve task: Task not found`);
    return t;
  }

  #ask(taskId: string, running: Running, request: InputRequest, key: string): Promise<unknown> {
    if (running.answered.has(key) || running.pending.has(key))
      key = `${key}_${running.answered.size + running.pending.size + 1}`; // keys are never reused
    return new Promise((resolve) => {
      running.pending.set(key, { request, resolve });
      void this.#publishInputs(taskId, running);
    });
  }

  async #publishInputs(taskId: string, running: Running): Promise<void> {
    if (running.pending.size > 0) {
      const inputRequests: Record<string, InputRequest> = {};
      for (const [k, p] of running.pending) inputRequests[k] = p.request;
      await this.#patch(taskId, { status: 'input_required', inputRequests });
    } else {
      await this.#patch(taskId, { status: 'working', inputRequests: undefined });
    }
  }

  /** Applies a non-terminal change, unless the task already ended. */
  async #patch(taskId: string, patch: Partial<TaskRecord>): Promise<void> {
    try {
      const current = await this.store.get(taskId);
      if (!current || TERMINAL_STATUSES.has(current.status)) return;
      const next = await this.store.update(taskId, patch);
      if (next.ok) this.#publish(next.record);
    } catch (e) {
      this.#report(e);
    }
  }

  /**
   * Moves the task to a terminal status once: the first terminal status wins. The lease is released
   * once the outcome is stored; when the store failed, it is kept (not renewed), so it runs out and
   * the task is claimed again rather than left `working`.
   */
  async #finish(taskId: string, patch: Partial<TaskRecord>): Promise<void> {
    const running = this.#running.get(taskId);
    if (running) {
      for (const p of running.pending.values()) p.resolve(undefined);
      running.pending.clear();
    }
    let stored = true;
    try {
      const current = await this.store.get(taskId);
      if (current && !TERMINAL_STATUSES.has(current.status)) {
        const next = await this.store.update(taskId, { ...patch, inputRequests: undefined });
        if (next.ok) this.#publish(next.record);
      }
    } catch (e) {
      stored = false;
      this.#report(e);
    } finally {
      this.#running.delete(taskId);
      if (this.#keeper) {
        if (stored) await this.#keeper.drop(taskId);
        else this.#keeper.forget(taskId);
      }
    }
  }

  #publish(record: TaskRecord): void {
    const bus = this.#bus;
    if (!bus) return;
    try {
      const p = bus.publish({
        type: 'task_status',
        taskId: record.taskId,
        task: detailedTask(record),
        owner: record.owner ?? '',
      });
      if (p && typeof (p as Promise<void>).catch === 'function') (p as Promise<void>).catch(this.#report);
    } catch (e) {
      this.#report(e);
    }
  }
}

function failure(error: unknown): Partial<TaskRecord> {
  if (error instanceof JsonRpcError) {
    const e: { code: number; message: string; data?: unknown } = { code: error.code, message: error.message };
    if (error.data !== undefined) e.data = error.data;
    return { status: 'failed', statusMessage: error.message, outcome: { error: e } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    status: 'failed',
    statusMessage: message,
    outcome: { error: { code: ErrorCode.InternalError, message: `Internal error: ${message}` } },
  };
}
