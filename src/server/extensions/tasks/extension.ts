/**
 * The 2025-11-25 experimental Tasks (basic/utilities/tasks, SEP-1686) as a server extension: the
 * `tasks/*` methods, the `tasks` capability, and a wrapper of the built-in `tools/call` that runs a
 * task-augmented call as a task and enforces each tool's `execution.taskSupport`. Legacy era only:
 * 2026-07-28 moved tasks into an extension of another shape.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../../../jsonrpc/errors.js';
import type { JsonObject } from '../../../protocol/types.js';
import type { HandlerContext } from '../../context.js';
import { contextInternals, createHandlerContext } from '../../context.js';
import type { Extension, ExtensionHost } from '../../extension.js';
import type { TasksOptions } from './runner.js';
import { TaskRunner } from './runner.js';

/** The extension's name. */
export const TASKS_EXTENSION_NAME = 'anywire/tasks-2025-11-25';

/** The tasks extension, with its runner (for tests and operators). */
export interface TasksExtension extends Extension {
  readonly runner: TaskRunner;
}

/** The principal or session a task belongs to: the legacy session id, else the auth subject. */
function ownerOf(ctx: HandlerContext): string | undefined {
  return contextInternals(ctx).scope.session?.id ?? ctx.authInfo?.subject;
}

/**
 * Builds the tasks extension (`server.extend(createTasksExtension(options))`; the server option
 * `tasks` does this for you).
 * @throws RangeError for a bad numeric option (see {@link TasksOptions})
 */
export function createTasksExtension(options: TasksOptions = {}): TasksExtension {
  const runner = new TaskRunner(options);
  let host: ExtensionHost | undefined;
  return {
    name: TASKS_EXTENSION_NAME,
    runner,
    eras: ['legacy'],
    capabilities: { tasks: TaskRunner.capabilities() },
    methods: {
      'tasks/get': (params, ctx) => runner.get(params, ownerOf(ctx)),
      'tasks/result': (params, ctx) => runner.result(params, ownerOf(ctx), ctx.signal),
      'tasks/list': (params, ctx) => runner.list(ownerOf(ctx), params.cursor),
      'tasks/cancel': (params, ctx) => runner.cancel(params, ownerOf(ctx)),
      'tools/call': (params, ctx, previous) => {
        const tool = typeof params.name === 'string' ? host?.tools.get(params.name) : undefined;
        const support =
          (tool?.listing.execution as { taskSupport?: string } | undefined)?.taskSupport ?? 'forbidden';
        if (params.task !== undefined && tool?.enabled) {
          if (support === 'forbidden') {
            throw new JsonRpcError(
              ErrorCode.MethodNotFound,
              `Method not found: tool ${tool.name} does not support task-augmented execution`,
            );
          }
          const { scope, info } = contextInternals(ctx);
          // The task outlives this request: it runs on its own call, cancelled only by tasks/cancel.
          return runner.start((params.task as JsonObject | null)?.ttl, ownerOf(ctx), (call) =>
            previous(params, createHandlerContext({ ...scope, call }, info)),
          );
        }
        if (support === 'required') {
          throw new JsonRpcError(
            ErrorCode.MethodNotFound,
            `Method not found: tool ${String(params.name)} must be called as a task`,
          );
        }
        return previous(params, ctx);
      },
    },
    start(h) {
      host = h;
      runner.attach(h.bus, (error) => h.reportError(error), h.stores.taskStore);
    },
    stop: () => runner.detach(),
  };
}
