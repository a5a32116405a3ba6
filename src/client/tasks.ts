/**
 * The client side of the Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663): following a
 * task from its `CreateTaskResult` to the end by polling `tasks/get` at the server's
 * `pollIntervalMs`, answering `input_required` through the client's handlers with `tasks/update`
 * (each key once), and turning an aborted signal into `tasks/cancel`.
 * @module
 */
import { JsonRpcError } from '../jsonrpc/errors.js';
import { McpError } from '../protocol/errors.js';
import type { CallToolResult, InputRequest, JsonObject } from '../protocol/types.js';
import { sleep } from '../protocol/sleep.js';

/** The extension identifier the client declares in its per-request capabilities. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** Fastest polling the client does whatever the server suggests, in ms. */
export const MIN_TASK_POLL_INTERVAL_MS = 50;
/** Slowest polling the client does whatever the server suggests, in ms. */
export const MAX_TASK_POLL_INTERVAL_MS = 30_000;

/** A task as `tasks/get` and `notifications/tasks` describe it (`DetailedTask`). */
export interface TaskState {
  taskId: string;
  status: 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number | null;
  pollIntervalMs?: number;
  result?: JsonObject;
  error?: { code: number; message: string; data?: unknown };
  inputRequests?: Record<string, InputRequest>;
}

/** Options of following a task. */
export interface TaskFollowOptions {
  /** Aborting sends `tasks/cancel` and rejects with McpError `REQUEST_CANCELLED`. */
  signal?: AbortSignal;
  /** Receives every state observed (status, `statusMessage`), the first included. */
  ontask?: (task: TaskState) => void;
}

/** What following a task needs from the client. */
export interface TaskChannel {
  request(method: string, params: JsonObject, options?: { signal?: AbortSignal }): Promise<JsonObject>;
  fulfil(method: string, params: JsonObject, signal: AbortSignal | undefined): Promise<JsonObject>;
}

/** A task the caller controls (`client.startTask`). */
export interface TaskHandle {
  /** The task id, or `undefined` when the server answered at once without a task. */
  readonly taskId: string | undefined;
  /** The last state observed. */
  readonly state: TaskState | undefined;
  /** Follows the task to its end and resolves to the tool result (as `callTool` would). */
  wait(options?: TaskFollowOptions): Promise<CallToolResult>;
  /** Reads the task's state now (`tasks/get`). */
  get(): Promise<TaskState>;
  /** Asks the server to cancel it (`tasks/cancel`; cooperative). */
  cancel(): Promise<void>;
}

const interval = (t: TaskState) =>
  Math.min(MAX_TASK_POLL_INTERVAL_MS, Math.max(MIN_TASK_POLL_INTERVAL_MS, t.pollIntervalMs ?? 1000));

/**
 * Follows a task to its end.
 * @returns the tool result of a `completed` task (tool errors included, as `isError` results)
 * @throws JsonRpcError the task's error when it `failed`; McpError `REQUEST_CANCELLED` when it was
 *   cancelled or `signal` aborted (then `tasks/cancel` was sent)
 */
export async function followTask(
  channel: TaskChannel,
  first: TaskState,
  options: TaskFollowOptions = {},
): Promise<CallToolResult> {
  const { signal, ontask } = options;
  const answered = new Set<string>();
  let task = first;
  for (;;) {
    ontask?.(task);
    if (task.status === 'completed') return (task.result ?? { content: [] }) as unknown as CallToolResult;
    if (task.status === 'failed') {
      const e = task.error ?? { code: -32603, message: 'Internal error: the task failed' };
      throw new JsonRpcError(e.code, e.message, e.data);
    }
    if (task.status === 'cancelled')
      throw new McpError('REQUEST_CANCELLED', `task ${task.taskId} was cancelled`);
    if (signal?.aborted) {
      await channel.request('tasks/cancel', { taskId: task.taskId }).catch(() => {});
      throw new McpError('REQUEST_CANCELLED', `task ${task.taskId} cancelled by the caller`);
    }
    if (task.status === 'input_required') {
      const answers: JsonObject = {};
      for (const [key, req] of Object.entries(task.inputRequests ?? {})) {
        if (answered.has(key)) continue;
        answered.add(key);
        answers[key] = await channel.fulfil(req.method, (req.params ?? {}) as JsonObject, signal);
      }
      if (Object.keys(answers).length > 0)
        await channel.request('tasks/update', { taskId: task.taskId, inputResponses: answers });
    }
    await sleep(interval(task), signal);
    if (signal?.aborted) continue;
    task = (await channel.request('tasks/get', { taskId: task.taskId })) as unknown as TaskState;
  }
}

/** Builds a {@link TaskHandle} for a `tools/call` answer (a task, or a result given at once). */
export function taskHandle(channel: TaskChannel, answer: JsonObject): TaskHandle {
  if (answer.resultType !== 'task') {
    const result = answer as unknown as CallToolResult;
    return {
      taskId: undefined,
      state: undefined,
      wait: async () => result,
      get: () => Promise.reject(new McpError('PROTOCOL_ERROR', 'the server answered without a task')),
      cancel: async () => {},
    };
  }
  let state = answer as unknown as TaskState;
  const taskId = state.taskId;
  return {
    taskId,
    get state() {
      return state;
    },
    wait: (options = {}) =>
      followTask(channel, state, {
        ...options,
        ontask: (t) => {
          state = t;
          options.ontask?.(t);
        },
      }),
    get: async () => {
      state = (await channel.request('tasks/get', { taskId })) as unknown as TaskState;
      return state;
    },
    cancel: async () => {
      await channel.request('tasks/cancel', { taskId });
    },
  };
}
