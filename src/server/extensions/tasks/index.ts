/**
 * The 2025-11-25 experimental Tasks extension.
 * @module
 */
export type { TasksExtension } from './extension.js';
export { createTasksExtension, TASKS_EXTENSION_NAME } from './extension.js';
export type { TasksOptions } from './runner.js';
export {
  DEFAULT_MAX_TASK_TTL_MS,
  DEFAULT_TASK_PAGE_SIZE,
  DEFAULT_TASK_POLL_INTERVAL_MS,
  DEFAULT_TASK_SWEEP_INTERVAL_MS,
  DEFAULT_TASK_TTL_MS,
  TaskRunner,
  taskView,
} from './runner.js';
