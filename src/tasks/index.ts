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
export type { LeaseKeeper, LeaseSettings } from './lease-keeper.js';
export type { TaskExtensionOptions, TaskRerunner } from './runner.js';
export {
  DEFAULT_LEASE_SWEEP_INTERVAL_MS,
  DEFAULT_MAX_STORED_REQUEST_BYTES,
  DEFAULT_MAX_TASK_ATTEMPTS,
  DEFAULT_TASK_LEASE_MS,
  detailedTask,
  NODE_LOST_MESSAGE,
  TaskExtensionRunner,
} from './runner.js';
export { startTask } from './task-context.js';
