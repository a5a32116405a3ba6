/**
 * `anywire/tasks`: the Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) for protocol
 * revision 2026-07-28. Runtime-neutral.
 * @module
 */
export {
  DEFAULT_MAX_RUNNING_TASKS,
  DEFAULT_TASK_POLL_INTERVAL_MS,
  DEFAULT_TASK_TTL_MS,
  TASKS_EXTENSION_ID,
} from './constants.js';
export type { TaskExtension } from './extension.js';
export { createTaskExtension } from './extension.js';
export type { TaskExtensionOptions } from './runner.js';
export { detailedTask, TaskExtensionRunner } from './runner.js';
export { startTask } from './task-context.js';
