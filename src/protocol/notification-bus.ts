/**
 * The notification bus (2026-07-28 basic/patterns/subscriptions; legacy `list_changed` and
 * `resources/updated` too; the experimental Tasks' cancel signal): server events that every process
 * serving the same definition should hear.
 * @module
 */
import type { JsonObject } from './types.js';

/** An event every server instance should hear. */
export type ServerEvent =
  /**
   * A list changed. `id` names this one broadcast on every process (set by the publishing server):
   * a legacy session served by several processes stores it on its GET stream once.
   */
  | { type: 'list_changed'; list: 'tools' | 'prompts' | 'resources'; id?: string }
  /** A subscribed resource changed; `id` as for `list_changed`. */
  | { type: 'resource_updated'; uri: string; id?: string }
  /** A task changed (`task` is its `DetailedTask`); `owner` is the principal it belongs to. */
  | { type: 'task_status'; taskId: string; task: JsonObject; owner?: string }
  /** A task was cancelled (by `tasks/cancel` on any process): the process running it aborts it. */
  | { type: 'task_cancelled'; taskId: string }
  /**
   * Answers to a task's input requests (`tasks/update` served by another process than the one
   * running the task, 2026-07-28 Tasks extension): the process running it hands them over.
   */
  | { type: 'task_input'; taskId: string; inputResponses: JsonObject }
  /**

   * An Events occurrence (SEP-3415) logged in a shared log, at `cursor`: every process pushes it to
   * its own `events/stream` subscribers. `event` is the `EmittedEvent`; `principal` marks a targeted
   * emit; `origin` names the Events extension instance that logged it (which pushed it already).
   */
  | { type: 'event_occurred'; origin: string; cursor: string; event: JsonObject; principal?: string };

/**
 * Fans server events out to every instance (and, in each, to every listen stream, legacy session
 * and task runner). The contract every implementation keeps (`test/contracts/notification-bus.contract.ts`):
 * - **Delivery.** Every listener subscribed when an event is published receives it (on a shared
 *   bus: on every process, eventually); events of one publisher arrive in publish order. A bus is
 *   at-most-once: nothing is replayed to a listener that subscribes later.
 * - **Isolation.** A listener that throws never stops delivery to the others; its error goes to
 *   `onerror` (dropped when unset).
 * - **Unsubscribe.** The function `subscribe` returns stops delivery to that listener; calling it
 *   twice is harmless.
 * - **Errors.** `publish` may reject (a backend outage). Callers never let that escape: `McpServer`
 *   reports it to its `onerror` and keeps serving (nothing crashes, no unhandled rejection).
 */
export interface NotificationBus {
  publish(event: ServerEvent): Promise<void> | void;
  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: (event: ServerEvent) => void): () => void;
  /** Receives the errors thrown by listeners. */
  onerror?: (error: unknown) => void;
}

/** In-process {@link NotificationBus}: synchronous delivery, each listener isolated. */
export class InMemoryNotificationBus implements NotificationBus {
  #listeners = new Set<(event: ServerEvent) => void>();
  onerror?: (error: unknown) => void;

  publish(event: ServerEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch (error) {
        this.onerror?.(error);
      }
    }
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    // One registration per subscribe call, even for the same function.
    const wrapper = (event: ServerEvent) => listener(event);
    this.#listeners.add(wrapper);
    return () => this.#listeners.delete(wrapper);
  }
}

/**
 * Publishes without letting a failure escape: a throw or a rejection goes to `report`.
 * (`void bus.publish(...)` would turn a rejecting bus into an unhandled rejection.)
 */
export function publishSafely(
  bus: NotificationBus,
  event: ServerEvent,
  report: (error: unknown) => void,
): void {
  try {
    const done = bus.publish(event);
    if (done && typeof (done as Promise<void>).then === 'function')
      (done as Promise<void>).then(undefined, report);
  } catch (error) {
    report(error);
  }
}
