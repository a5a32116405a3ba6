/**
 * The experimental Tasks of revision 2025-11-25 (basic/utilities/tasks, SEP-1686) for `tools/call`:
 * a task-augmented call (`params.task: { ttl }`) answers at once with a `CreateTaskResult` while the
 * tool runs on; `tasks/get`, `tasks/result` (waits), `tasks/list` (paginated) and `tasks/cancel`
 * follow it. Tasks live in a {@link TaskStore} (in-memory by default): its compare-and-set keeps the
 * first terminal state when a cancel races a completion, a cancel is signalled on the notification
 * bus so the process running the task aborts it, and expired tasks are swept in the background.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../../../jsonrpc/errors.js';
import { META } from '../../../protocol/constants.js';
import type { NotificationBus } from '../../../protocol/notification-bus.js';
import { publishSafely } from '../../../protocol/notification-bus.js';
import { checkIntegerOption } from '../../../protocol/option-checks.js';
import { InboundCall } from '../../../protocol/peer.js';
import type { TaskRecord, TaskStore } from '../../../protocol/task-store.js';
import { InMemoryTaskStore, TERMINAL_TASK_STATUSES } from '../../../protocol/task-store.js';
import type { JsonObject } from '../../../protocol/types.js';

/** Retention of a task when the client asks for none, by default (1 h). */
export const DEFAULT_TASK_TTL_MS = 3_600_000;
/** The longest retention granted, by default (24 h). */
export const DEFAULT_MAX_TASK_TTL_MS = 86_400_000;
/** The polling interval suggested to clients, by default. */
export const DEFAULT_TASK_POLL_INTERVAL_MS = 1000;
/** Tasks per `tasks/list` page, by default. */
export const DEFAULT_TASK_PAGE_SIZE = 100;
/** How often expired tasks are swept, by default (1 min). */
export const DEFAULT_TASK_SWEEP_INTERVAL_MS = 60_000;

/** Options of task support (`McpServerOptions.tasks`). */
export interface TasksOptions {
  /** Where tasks live. Default: the server's `stores.taskStore` (resolved at start), else in memory. */
  store?: TaskStore;
  /** Retention when the client asks for none, in ms (>= 1). Default {@link DEFAULT_TASK_TTL_MS}. */
  defaultTtlMs?: number;
  /** Longest retention granted, in ms (>= 1). Default {@link DEFAULT_MAX_TASK_TTL_MS}. */
  maxTtlMs?: number;
  /** Suggested polling interval, in ms (>= 1). Default {@link DEFAULT_TASK_POLL_INTERVAL_MS}. */
  pollIntervalMs?: number;
  /** Tasks per `tasks/list` page (>= 1). Default {@link DEFAULT_TASK_PAGE_SIZE}. */
  pageSize?: number;
  /** Interval of the expiry sweep, in ms (>= 1). Default {@link DEFAULT_TASK_SWEEP_INTERVAL_MS}. */
  sweepIntervalMs?: number;
}

/** The wire shape of a task (`Task`). */
export function taskView(t: TaskRecord): JsonObject {
  const v: JsonObject = {
    taskId: t.taskId,
    status: t.status,
    createdAt: t.createdAt,
    lastUpdatedAt: t.lastUpdatedAt,
    ttl: t.ttl,
  };
  if (t.pollInterval !== undefined) v.pollInterval = t.pollInterval;
  if (t.statusMessage !== undefined) v.statusMessage = t.statusMessage;
  return v;
}

const unknownTask = (taskId: unknown) =>
  new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: unknown task ${String(taskId)}`);

/** Runs and tracks task-augmented tool calls for one server. */
export class TaskRunner {
  #store: TaskStore | undefined;
  #opts: TasksOptions;
  #running = new Map<string, { call: InboundCall; done: Promise<void> }>();
  #bus: NotificationBus | undefined;
  #report: (error: unknown) => void = () => {};
  #unsubscribe: (() => void) | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** @throws RangeError when a numeric option is out of range (the message names it) */
  constructor(options: TasksOptions) {
    for (const name of ['defaultTtlMs', 'maxTtlMs', 'pollIntervalMs', 'pageSize', 'sweepIntervalMs'] as const)
      checkIntegerOption('McpServer', `tasks.${name}`, options[name], 1);
    this.#opts = options;
    this.#store = options.store;
  }

  /**
   * Where tasks live: the `store` option, else the `defaultStore` given to {@link attach}, else an
   * in-memory store (fixed from the first read on).
   */
  get store(): TaskStore {
    return (this.#store ??= new InMemoryTaskStore());
  }

  /** Capabilities to declare. */
  static capabilities(): JsonObject {
    return { list: {}, cancel: {}, requests: { tools: { call: {} } } };
  }

  /**
   * Starts background work: hears cancel signals on `bus` and sweeps expired tasks.
   * @param report receives background failures (a store that rejects)
   * @param defaultStore the store to use when the `store` option was unset (the server's
   *   `stores.taskStore`); ignored once a store is in use
   */
  attach(bus: NotificationBus, report: (error: unknown) => void, defaultStore?: TaskStore): void {
    this.#store ??= defaultStore;
    this.#bus = bus;
    this.#report = report;
    this.#unsubscribe = bus.subscribe((event) => {
      if (event.type === 'task_cancelled')
        this.#running.get(event.taskId)?.call.cancel('task cancelled by the client');
    });
    const every = this.#opts.sweepIntervalMs ?? DEFAULT_TASK_SWEEP_INTERVAL_MS;
    this.#sweeper = setInterval(() => this.sweep(), every);
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  /** Stops background work (the sweep and the bus subscription). Running tasks run on. */
  detach(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Deletes expired tasks now; failures are reported, never thrown. */
  async sweep(): Promise<number> {
    try {
      return await this.store.sweep();
    } catch (error) {
      this.#report(error);
      return 0;
    }
  }

  /**
   * Starts `run` as a task owned by `owner` and returns the `CreateTaskResult`.
   * @param run the tool's work; receives the task's own call (its `signal` aborts on `tasks/cancel`)
   */
  async start(
    requestedTtl: unknown,
    owner: string | undefined,
    run: (call: InboundCall) => Promise<JsonObject>,
  ): Promise<JsonObject> {
    const max = this.#opts.maxTtlMs ?? DEFAULT_MAX_TASK_TTL_MS;
    const ttl =
      typeof requestedTtl === 'number' && requestedTtl >= 0
        ? Math.min(requestedTtl, max)
        : (this.#opts.defaultTtlMs ?? DEFAULT_TASK_TTL_MS);
    const now = new Date().toISOString();
    const taskId = globalThis.crypto.randomUUID();
    const record: TaskRecord = {
      taskId,
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttl,
      pollInterval: this.#opts.pollIntervalMs ?? DEFAULT_TASK_POLL_INTERVAL_MS,
    };
    if (owner !== undefined) record.owner = owner;
    await this.store.create(record);
    const call = new InboundCall(taskId, 'tools/call');
    // The first terminal state wins (the store's terminal-state guard); a lost race changes nothing.
    const finish = (patch: Partial<TaskRecord>) =>
      this.store.update(taskId, patch).then(undefined, (error: unknown) => this.#report(error));
    const done = run(call).then(
      async (result) => {
        if (call.cancelled) return;
        await finish({ status: result.isError === true ? 'failed' : 'completed', outcome: { result } });
      },
      async (error: unknown) => {
        if (call.cancelled) return;
        const e =
          error instanceof JsonRpcError
            ? error.toObject()
            : { code: ErrorCode.InternalError, message: String((error as Error)?.message ?? error) };
        await finish({ status: 'failed', statusMessage: e.message, outcome: { error: e } });
      },
    );
    this.#running.set(taskId, { call, done });
    void done.finally(() => this.#running.delete(taskId));
    return { task: taskView({ ...record, version: 1 }) };
  }

  async #get(taskId: unknown, owner: string | undefined): Promise<TaskRecord> {
    const t = typeof taskId === 'string' ? await this.store.get(taskId) : undefined;
    if (!t || (t.owner !== undefined && t.owner !== owner)) throw unknownTask(taskId);
    return t;
  }

  /** `tasks/get`. @throws JsonRpcError -32602 for an unknown task */
  async get(params: JsonObject, owner: string | undefined): Promise<JsonObject> {
    return taskView(await this.#get(params.taskId, owner));
  }

  /** `tasks/result`: waits for a terminal state, then answers with the tool's result or error. */
  async result(params: JsonObject, owner: string | undefined, signal: AbortSignal): Promise<JsonObject> {
    let t = await this.#get(params.taskId, owner);
    if (!TERMINAL_TASK_STATUSES.has(t.status)) {
      const running = this.#running.get(t.taskId);
      if (running)
        await Promise.race([
          running.done,
          new Promise((r) => signal.addEventListener('abort', r, { once: true })),
        ]);
      else
        while (!TERMINAL_TASK_STATUSES.has(t.status) && !signal.aborted) {
          await new Promise((r) => setTimeout(r, t.pollInterval ?? DEFAULT_TASK_POLL_INTERVAL_MS));
          t = await this.#get(params.taskId, owner);
        }
      t = await this.#get(params.taskId, owner);
    }
    const related = { [META.relatedTask]: { taskId: t.taskId } };
    if (t.outcome && 'error' in t.outcome)
      throw new JsonRpcError(t.outcome.error.code, t.outcome.error.message, t.outcome.error.data);
    if (t.status === 'cancelled')
      throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: task ${t.taskId} was cancelled`);
    const result = { ...(t.outcome?.result ?? {}) };
    result._meta = { ...(result._meta as JsonObject | undefined), ...related };
    return result;
  }

  /** `tasks/list`, one page. @throws JsonRpcError -32602 for a bad cursor */
  async list(owner: string | undefined, cursor: unknown): Promise<JsonObject> {
    if (cursor !== undefined && typeof cursor !== 'string')
      throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: cursor must be a string');
    let page;
    try {
      page = await this.store.list({
        owner,
        cursor,
        limit: this.#opts.pageSize ?? DEFAULT_TASK_PAGE_SIZE,
      });
    } catch (error) {
      if (error instanceof RangeError)
        throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: invalid cursor');
      throw error;
    }
    const result: JsonObject = { tasks: page.tasks.map(taskView) };
    if (page.nextCursor !== undefined) result.nextCursor = page.nextCursor;
    return result;
  }

  /**
   * `tasks/cancel`: stores `cancelled` unless the task already reached a terminal state, then aborts
   * the run here and signals the other processes on the bus.
   * @throws JsonRpcError -32602 for an unknown or finished task
   */
  async cancel(params: JsonObject, owner: string | undefined): Promise<JsonObject> {
    const t = await this.#get(params.taskId, owner);
    const updated = await this.store.update(t.taskId, {
      status: 'cancelled',
      statusMessage: 'Cancelled by the client',
    });
    if (!updated.ok) {
      if (updated.reason === 'missing') throw unknownTask(t.taskId);
      throw new JsonRpcError(
        ErrorCode.InvalidParams,
        `Invalid params: task ${t.taskId} is already ${updated.record?.status ?? 'finished'}`,
      );
    }
    this.#running.get(t.taskId)?.call.cancel('task cancelled by the client');
    if (this.#bus) publishSafely(this.#bus, { type: 'task_cancelled', taskId: t.taskId }, this.#report);
    return taskView(updated.record);
  }
}
