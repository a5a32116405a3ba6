/**
 * The 2025-11-25 experimental Tasks extension.
 * @module
 */
export type { TasksExtension } from './extension.js';
export { createTasksExtension, TASKS_EXTENSION_NAME } from './extension.js';
export type { TasksOptions } from './runner.js';
export { TaskRunner, taskView } from './runner.js';
