/**
 * The experimental Tasks of revision 2025-11-25 (basic/utilities/tasks, SEP-1686) for `tools/call`:
 * a task-augmented call (`params.task: { ttl }`) answers at once with a `CreateTaskResult` while the
 * tool runs on; `tasks/get`, `tasks/result` (waits), `tasks/list` and `tasks/cancel` follow it.
 * Tasks live in a {@link TaskStore} (in-memory by default). Legacy era only: 2026-07-28 moved tasks
 * into an extension with another shape.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../../../jsonrpc/errors.js';
import { META } from '../../../protocol/constants.js';
import { checkIntegerOption } from '../../../protocol/option-checks.js';
import { InboundCall } from '../../../protocol/peer.js';
import { InMemoryTaskStore } from '../../../protocol/stores.js';
import type { TaskRecord, TaskStore } from '../../../protocol/stores.js';
import type { JsonObject } from '../../../protocol/types.js';

/** Retention of a task when the client asks for none, by default (1 h). */
export const DEFAULT_TASK_TTL_MS = 3_600_000;
/** The longest retention granted, by default (24 h). */
export const DEFAULT_MAX_TASK_TTL_MS = 86_400_000;
/** The polling interval suggested to clients, by default. */
export const DEFAULT_TASK_POLL_INTERVAL_MS = 1000;

/** Options of task support (`McpServerOptions.tasks`). */
export interface TasksOptions {
  /** Where tasks live. Default: in memory. */
  store?: TaskStore;
  /** Retention when the client asks for none, in ms (>= 1). Default {@link DEFAULT_TASK_TTL_MS}. */
  defaultTtlMs?: number;
  /** Longest retention granted, in ms (>= 1). Default {@link DEFAULT_MAX_TASK_TTL_MS}. */
  maxTtlMs?: number;
  /** Suggested polling interval, in ms (>= 1). Default {@link DEFAULT_TASK_POLL_INTERVAL_MS}. */
  pollIntervalMs?: number;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

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

/** Runs and tracks task-augmented tool calls for one server. */
export class TaskRunner {
  readonly store: TaskStore;
  #opts: TasksOptions;
  #running = new Map<string, { call: InboundCall; done: Promise<void> }>();

  /** @throws RangeError when a numeric option is out of range (the message names it) */
  constructor(options: TasksOptions) {
    for (const name of ['defaultTtlMs', 'maxTtlMs', 'pollIntervalMs'] as const)
      checkIntegerOption('McpServer', `tasks.${name}`, options[name], 1);
    this.#opts = options;
    this.store = options.store ?? new InMemoryTaskStore();
  }

  /** Capabilities to declare. */
  static capabilities(): JsonObject {
    return { list: {}, cancel: {}, requests: { tools: { call: {} } } };
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
    const done = run(call).then(
      async (result) => {
        if (call.cancelled) return;
        const failed = result.isError === true;
        await this.store.update(taskId, { status: failed ? 'failed' : 'completed', outcome: { result } });
      },
      async (error: unknown) => {
        if (call.cancelled) return;
        const e =
          error instanceof JsonRpcError
            ? error.toObject()
            : { code: ErrorCode.InternalError, message: String((error as Error)?.message ?? error) };
        await this.store.update(taskId, {
          status: 'failed',
          statusMessage: e.message,
          outcome: { error: e },
        });
      },
    );
    this.#running.set(taskId, { call, done });
    void done.finally(() => this.#running.delete(taskId));
    return { task: taskView(record) };
  }

  async #get(taskId: unknown, owner: string | undefined): Promise<TaskRecord> {
    const t = typeof taskId === 'string' ? await this.store.get(taskId) : undefined;
    if (!t || (t.owner !== undefined && t.owner !== owner)) {
      throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid params: unknown task ${String(taskId)}`);
    }
    return t;
  }

  /** `tasks/get`. @throws JsonRpcError -32602 for an unknown task */
  async get(params: JsonObject, owner: string | undefined): Promise<JsonObject> {
    return taskView(await this.#get(params.taskId, owner));
  }

  /** `tasks/result`: waits for a terminal state, then answers with the tool's result or error. */
  async result(params: JsonObject, owner: string | undefined, signal: AbortSignal): Promise<JsonObject> {
    let t = await this.#get(params.taskId, owner);
    if (!TERMINAL.has(t.status)) {
      const running = this.#running.get(t.taskId);
      if (running)
        await Promise.race([
          running.done,
          new Promise((r) => signal.addEventListener('abort', r, { once: true })),
        ]);
      else
        while (!TERMINAL.has(t.status) && !signal.aborted) {
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

  /** `tasks/list`. */
  async list(owner: string | undefined): Promise<JsonObject> {
    return { tasks: (await this.store.list(owner)).map(taskView) };
  }

  /** `tasks/cancel`. @throws JsonRpcError -32602 for an unknown or finished task */
  async cancel(params: JsonObject, owner: string | undefined): Promise<JsonObject> {
    const t = await this.#get(params.taskId, owner);
    if (TERMINAL.has(t.status))
      throw new JsonRpcError(
        ErrorCode.InvalidParams,
        `Invalid params: task ${t.taskId} is already ${t.status}`,
      );
    this.#running.get(t.taskId)?.call.cancel('task cancelled by the client');
    const updated = await this.store.update(t.taskId, {
      status: 'cancelled',
      statusMessage: 'Cancelled by the client',
    });
    return taskView(updated ?? t);
  }
}
