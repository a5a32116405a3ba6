/**
 * The Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) for protocol revision
 * 2026-07-28, as a server extension: `server.extend(createTaskExtension())`.
 *
 * - Advertised under `capabilities.extensions` in `server/discover`.
 * - A tool opts in with `taskSupport: 'optional' | 'required'` (or `execution.taskSupport`). A
 *   `tools/call` from a client that declares the extension in its per-request capabilities answers
 *   `resultType: "task"` (`CreateTaskResult`) once the task is stored; `taskCreation: 'handler'`
 *   lets the handler gather input over multi round-trip requests first and call
 *   `startTask(ctx)` when it goes asynchronous. A required-task tool called without the extension
 *   is refused with -32021 and `requiredCapabilities`.
 * - `tasks/get`, `tasks/update`, `tasks/cancel`, each refused with -32021 for a client that did not
 *   declare the extension, -32602 for an unknown or another principal's task.
 * - `notifications/tasks` on `subscriptions/listen` streams that name the task (`taskIds`).
 * - Durable with task leases (`leases` option or `stores.taskLeases`): a task whose server stopped
 *   is failed once its lease runs out, or run again elsewhere when its tool is declared idempotent
 *   (`annotations.idempotentHint: true`; see {@link TaskExtensionOptions}).
 * - Modern era only: 2025-era clients keep the 2025-11-25 tasks (`McpServer` option `tasks`); the
 *   removed `tasks/result` and `tasks/list` answer -32601 to a 2026-07-28 request.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import { principalOf } from '../protocol/auth.js';
import type { JsonObject } from '../protocol/types.js';
import type { HandlerContext } from '../server/context.js';
import type { Extension, ExtensionHost } from '../server/extension.js';
import { TASKS_EXTENSION_ID } from './constants.js';
import type { TaskExtensionOptions } from './runner.js';
import { TaskExtensionRunner } from './runner.js';
import { callTool } from '../server/tools.js';
import type { ToolEntry } from '../server/tools.js';
import type { TaskRunRequest } from '../protocol/task-leases.js';
import type { TaskRerunner } from './runner.js';
import { RerunContext } from './rerun-context.js';
import { TaskContext } from './task-context.js';

/** The Tasks extension with its runner (for tests and operators). */
export interface TaskExtension extends Extension {
  readonly runner: TaskExtensionRunner;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function declared(ctx: HandlerContext): boolean {
  const ext = (ctx.clientCapabilities as JsonObject).extensions;
  return isObject(ext) && Object.hasOwn(ext, TASKS_EXTENSION_ID) && isObject(ext[TASKS_EXTENSION_ID]);
}

function missingCapability(what: string): JsonRpcError {
  return new JsonRpcError(
    ErrorCode.MissingRequiredClientCapability,
    `Missing required client capability: ${what} needs the ${TASKS_EXTENSION_ID} extension`,
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
  );
}

/** How a tool takes part in tasks: its `taskSupport` and when its task is created. */
function taskMode(host: ExtensionHost | undefined, name: unknown) {
  const tool = typeof name === 'string' ? host?.tools.get(name) : undefined;
  if (!tool?.enabled) return undefined;
  const support = (tool.listing.execution as { taskSupport?: unknown } | undefined)?.taskSupport;
  const creation = (tool as { config?: { taskCreation?: unknown } }).config?.taskCreation;
  return {
    support: support === 'optional' || support === 'required' ? support : 'forbidden',
    creation: creation === 'handler' ? 'handler' : 'immediate',
  } as const;
}

/** What a task stores to run again elsewhere: the call, the identity (never the token), the client. */
function runRequest(params: JsonObject, ctx: HandlerContext): TaskRunRequest {
  const r: TaskRunRequest = {
    tool: String(params.name),
    arguments: isObject(params.arguments) ? params.arguments : {},
    protocolVersion: ctx.protocolVersion,
    clientCapabilities: ctx.clientCapabilities as JsonObject,
  };
  const a = ctx.authInfo;
  if (a) {
    r.auth = {};
    if (a.subject !== undefined) r.auth.subject = a.subject;
    if (a.clientId !== undefined) r.auth.clientId = a.clientId;
    if (a.scopes !== undefined) r.auth.scopes = [...a.scopes];
  }
  if (ctx.clientInfo) r.clientInfo = ctx.clientInfo;
  return r;
}

/** Runs stored calls again: the registered tool's own handler, for tools declared idempotent. */
function rerunner(host: ExtensionHost): TaskRerunner {
  const entry = (name: string) => {
    const tool = host.tools.get(name) as ToolEntry | undefined;
    return tool?.enabled && taskMode(host, name)?.support !== 'forbidden' ? tool : undefined;
  };
  return {
    canRerun: (name) => entry(name)?.listing.annotations?.idempotentHint === true,
    run: async (taskId, request, task) => {
      const tool = entry(request.tool);
      if (!tool)
        throw new JsonRpcError(ErrorCode.InternalError, `Internal error: tool ${request.tool} is gone`);
      const tctx = new TaskContext(new RerunContext(taskId, request, task.signal));
      tctx.attach(task);
      return (await callTool(tool, request.arguments, tctx)) as JsonObject;
    },
  };
}

/**
 * Builds the Tasks extension.
 * @throws RangeError for an out-of-range option (see {@link TaskExtensionOptions})
 */
export function createTaskExtension(options: TaskExtensionOptions = {}): TaskExtension {
  const runner = new TaskExtensionRunner(options);
  let host: ExtensionHost | undefined;
  const owner = (ctx: HandlerContext) => principalOf(ctx.authInfo);
  const gated =
    (method: 'get' | 'update' | 'cancel') =>
    (params: JsonObject, ctx: HandlerContext): Promise<JsonObject> => {
      if (!declared(ctx)) throw missingCapability(`tasks/${method}`);
      return runner[method](params, owner(ctx));
    };

  return {
    name: TASKS_EXTENSION_ID,
    runner,
    eras: ['modern'],
    settings: {},
    methods: {
      'tasks/get': gated('get'),
      'tasks/update': gated('update'),
      'tasks/cancel': gated('cancel'),
      'tools/call': (params, ctx, previous) => {
        const mode = taskMode(host, params.name);
        if (!mode || mode.support === 'forbidden') return previous(params, ctx);
        if (!declared(ctx)) {
          if (mode.support === 'required') throw missingCapability(`tool ${String(params.name)}`);
          return previous(params, ctx);
        }
        if (mode.creation === 'immediate') {
          return runner.start(
            owner(ctx),
            (task) => {
              const tctx = new TaskContext(ctx);
              tctx.attach(task);
              return previous(params, tctx);
            },
            undefined,
            runner.leases ? runRequest(params, ctx) : undefined,
          );
        }
        // The handler decides: it runs within the request (multi round-trip input included) until
        // it calls startTask(ctx); from then on it runs as the task.
        return new Promise<JsonObject>((resolve, reject) => {
          let escalated = false;
          const handler: { run?: Promise<JsonObject> } = {};
          const tctx: TaskContext = new TaskContext(ctx, async () => {
            const created = await runner.start(
              owner(ctx),
              () => handler.run!,
              (task) => tctx.attach(task),
              runner.leases ? runRequest(params, ctx) : undefined,
            );
            escalated = true;
            resolve(created);
          });
          handler.run = previous(params, tctx);
          handler.run.then(
            (result) => {
              if (!escalated) resolve(result);
            },
            (error: unknown) => {
              if (!escalated) reject(error);
            },
          );
        });
      },
      'subscriptions/listen': async (params, ctx, previous) => {
        const filter = params.notifications;
        if (!isObject(filter) || filter.taskIds === undefined) return previous(params, ctx);
        if (!declared(ctx)) throw missingCapability('subscriptions/listen with taskIds');
        if (!Array.isArray(filter.taskIds))
          throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: taskIds must be an array');
        const mine: string[] = [];
        for (const id of filter.taskIds) {
          if (typeof id === 'string' && (await runner.owns(id, owner(ctx)))) mine.push(id);
        }
        return previous({ ...params, notifications: { ...filter, taskIds: mine } }, ctx);
      },
    },
    start(h) {
      host = h;
      runner.attach(h.bus, (e) => h.reportError(e), h.stores.taskStore, {
        leases: h.stores.taskLeases,
        rerun: rerunner(h),
        ...(h.stores.nodeId !== undefined ? { nodeId: h.stores.nodeId } : {}),
      });
    },
    stop() {
      return runner.stop();
    },
  };
}
