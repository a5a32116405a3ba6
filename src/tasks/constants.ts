/**
 * Names and defaults of the Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663, for
 * protocol revision 2026-07-28).
 * @module
 */

/** The extension identifier, under `capabilities.extensions` on both sides. */
export const TASKS_EXTENSION_ID = 'io.modelcontextprotocol/tasks';
/** How long a task is kept after creation when nothing else is configured, in ms (1 hour). */
export const DEFAULT_TASK_TTL_MS = 3_600_000;
/** The polling interval suggested to clients, in ms. */
export const DEFAULT_TASK_POLL_INTERVAL_MS = 1000;
/** Most tasks one server runs at once (tools/call past it answers -32603 rather than queue). */
export const DEFAULT_MAX_RUNNING_TASKS = 10_000;
/** Statuses after which a task never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);
